/*
 * Time state of a Xen stream -> xtshim clock model, export and round trip.
 * Expected values come from the generator's inputs and from independent
 * formulas (Xen's set_time_scale and the guest's pvclock formula written
 * out here), never from the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim/xtshim.h"
#include "shim/tests/xen-stream-gen.h"

#define NS 1000000000ull

/* Xen's set_time_scale(), from its description. */
static void ref_scale(uint64_t hz, uint32_t *mul, int8_t *shift)
{
	int s = 0;
	uint64_t t = hz;
	uint32_t t32;

	while (t > 2000000000ull) {
		t >>= 1;
		s--;
	}
	t32 = (uint32_t)t;
	while (t32 <= 1000000000u) {
		t32 <<= 1;
		s++;
	}
	*mul = (uint32_t)((1000000000ull << 32) / t32);
	*shift = (int8_t)s;
}

static int mfd(void)
{
	int fd = memfd_create("s", 0);
	assert_true(fd >= 0);
	return fd;
}

static void read_gen(const struct gen_opts *o, const struct xts_xen_import_opts *io,
		     struct xts_xen_time *x)
{
	struct gen g;
	struct xts_stream_error err;
	int fd = mfd();

	gen_stream(&g, o);
	assert_int_equal(write(fd, g.b, g.len), (ssize_t)g.len);
	lseek(fd, 0, SEEK_SET);
	if (xts_xen_read_time(fd, io, NULL, x, NULL, &err))
		fail_msg("%s", err.msg);
	close(fd);
	free(g.b);
}

static void test_new_line(void **state)
{
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_time_state st;
	enum xts_xen_line_source src;
	uint64_t save = 1763700000ull * NS + 42;
	uint32_t mul;
	int8_t shift;

	gen_opts_default(&o);
	o.nr_vcpus = 4;
	o.rtc_offset = -7200;
	read_gen(&o, NULL, x);
	assert_int_equal(xts_xen_time_to_state(x, save, &st, &src, NULL, 0), 0);
	assert_int_equal(src, XTS_XEN_LINE_NEW);
	assert_int_equal(st.arch, XTS_ARCH_X86);
	assert_int_equal(st.nr_vcpus, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(st.guest_tsc[i], o.tsc0 + i * o.tsc_step);
	assert_int_equal(st.guest_tsc_khz, o.tsc_khz);
	assert_int_equal(st.tsc_mode, o.tsc_mode);
	assert_int_equal(st.incarnation, o.incarnation);
	assert_int_equal(st.saved_realtime_ns, save);
	ref_scale((uint64_t)o.tsc_khz * 1000, &mul, &shift);
	assert_int_equal(st.line.mul, mul);
	assert_int_equal(st.line.shift, shift);
	assert_int_equal(st.line.tsc, o.tsc0);
	assert_int_equal(st.line.system_ns,
			 (uint64_t)((unsigned __int128)o.tsc0 * 1000000 / o.tsc_khz));
	/* UTC at the save instant = host UTC + RTC offset, exactly. */
	uint64_t sys = ref_pvclock(st.line.tsc, st.line.system_ns, st.line.mul, st.line.shift,
				   st.guest_tsc[0]);
	assert_int_equal(st.wc_sec * NS + st.wc_nsec + sys, save - 7200 * NS);
	assert_true(st.wc_nsec < NS);
	free(x);
}

static void test_khz_sources(void **state)
{
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_time_state st;
	char why[200];

	gen_opts_default(&o);
	o.tsc_khz = 0;
	o.gtsc_khz = 3000000;
	read_gen(&o, NULL, x);
	assert_int_equal(xts_xen_time_to_state(x, 100 * NS, &st, NULL, why, sizeof(why)), 0);
	assert_int_equal(st.guest_tsc_khz, 3000000);
	x->gtsc_khz = 0;
	memset(&st, 0x5a, sizeof(st));
	struct xts_time_state before = st;
	assert_int_equal(xts_xen_time_to_state(x, 100 * NS, &st, NULL, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "rate unknown"));
	assert_memory_equal(&st, &before, sizeof(st));
	x->gtsc_khz = 3000000;
	x->tsc_mode = 3;
	assert_int_equal(xts_xen_time_to_state(x, 100 * NS, &st, NULL, why, sizeof(why)), -ENOTSUP);
	x->tsc_mode = 0;
	/* Every vCPU down: no TSC at all (test_down_vcpu_tsc has the rest). */
	x->vcpu[0].present &= ~XTS_XEN_VCPU_CPU;
	x->vcpu[1].present &= ~XTS_XEN_VCPU_CPU;
	assert_int_equal(xts_xen_time_to_state(x, 100 * NS, &st, NULL, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "no vCPU has a CPU record"));
	free(x);
}

/*
 * A vCPU that was down has no CPU record.  Xen (arch/x86/hvm/hvm.c,
 * hvm/domain.c) brings it up on vCPU 0's TSC offset; vCPU 0 down itself
 * keeps the offset hvm_vcpu_initialise gave it, TSC 0 at domain build.
 * System time on the vCPUs that ran does not depend on either.
 */
static void test_down_vcpu_tsc(void **state)
{
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_time_state st;
	char why[200];
	uint64_t t1;

	gen_opts_default(&o);
	o.nr_vcpus = 4;
	read_gen(&o, NULL, x);
	t1 = o.tsc0 + o.tsc_step;

	/* vCPU 0 up, 2 down: 2 runs on vCPU 0's TSC, not on 1's. */
	x->vcpu[2].present &= ~XTS_XEN_VCPU_CPU;
	assert_int_equal(xts_xen_time_to_state(x, 100 * NS, &st, NULL, why, sizeof(why)), 0);
	assert_int_equal(st.guest_tsc[0], o.tsc0);
	assert_int_equal(st.guest_tsc[1], t1);
	assert_int_equal(st.guest_tsc[2], o.tsc0);
	assert_int_equal(st.guest_tsc[3], o.tsc0 + 3 * o.tsc_step);

	/* vCPU 0 and 2 down: both on vCPU 0's TSC as Xen rebuilds it, from 0. */
	x->vcpu[0].present &= ~XTS_XEN_VCPU_CPU;
	assert_int_equal(xts_xen_time_to_state(x, 100 * NS, &st, NULL, why, sizeof(why)), 0);
	assert_int_equal(st.guest_tsc[0], 0);
	assert_int_equal(st.guest_tsc[1], t1);
	assert_int_equal(st.guest_tsc[2], 0);
	assert_int_equal(st.guest_tsc[3], o.tsc0 + 3 * o.tsc_step);
	/*
	 * The new line still reads ns of vCPU 1's TSC on vCPU 1 at the save
	 * instant (the line runs over vCPU 0's TSC: vCPU 1 minus its skew).
	 */
	assert_int_equal(ref_pvclock(st.line.tsc, st.line.system_ns, st.line.mul, st.line.shift,
				     st.guest_tsc[0]),
			 (uint64_t)((unsigned __int128)t1 * 1000000 / o.tsc_khz));

	/*
	 * A named record of the down vCPU 0 was written over a TSC the stream
	 * lacks: it is taken over vCPU 1's, the first up vCPU.
	 */
	x->have |= XTS_XEN_HAVE_PVCLOCK;
	x->pvclock_vcpu = 0;
	x->pvclock = (struct vcpu_time_info){ .version = 6, .tsc_timestamp = t1 - 5000,
					      .system_time = 4242424242ull,
					      .tsc_to_system_mul = o.mul, .tsc_shift = o.shift };
	assert_int_equal(xts_xen_time_to_state(x, 100 * NS, &st, NULL, why, sizeof(why)), 0);
	for (uint64_t t = t1; t < t1 + 100000000000ull; t += 7919ull * 1013 * 17)
		assert_int_equal(xts_line_at(&st.line, t - (st.guest_tsc[1] - st.guest_tsc[0])),
				 ref_pvclock(t1 - 5000, 4242424242ull, o.mul, o.shift, t));
	free(x);
}

/*
 * The operator names vCPU 1's pvclock record in guest RAM: after a restore
 * on KVM, the records xtshim publishes for vCPU 1 give the same system time
 * as the guest's last record at every later TSC of that vCPU.
 */
static void test_pvclock_continued(void **state)
{
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_xen_import_opts io = { true, 1, 0x1000 + 64 + 32 };
	struct xts_time_state st;
	enum xts_xen_line_source src;
	struct xts_clock *c = calloc(1, sizeof(*c));
	struct xts_restore_params rp = { .policy = XTS_POLICY_FREEZE, .host_can_scale = true };
	struct xts_host_sample now = { 5000000000ull, 1763700000ull * NS };
	struct xts_restore_result res;
	uint64_t rec_ts, t1;

	gen_opts_default(&o);
	o.nr_pages = 3;
	o.pvclock_gpa = io.pvclock_gpa;
	read_gen(&o, &io, x);
	assert_true(x->have & XTS_XEN_HAVE_PVCLOCK);
	rec_ts = o.tsc0 - 5000;                       /* what the generator stored */
	assert_int_equal(x->pvclock.tsc_timestamp, rec_ts);
	assert_int_equal(xts_xen_time_to_state(x, now.realtime_ns - NS, &st, &src, NULL, 0), 0);
	assert_int_equal(src, XTS_XEN_LINE_PVCLOCK);

	/* In the state: vCPU 0's line, at vCPU 1's TSC minus the skew. */
	for (uint64_t k = 0; k < 2000; k++) {
		uint64_t t0 = st.guest_tsc[0] + k * 7919 * 1013;
		t1 = t0 + o.tsc_step;
		assert_int_equal(xts_line_at(&st.line, t0),
				 ref_pvclock(rec_ts, o.sys0, o.mul, o.shift, t1));
	}

	rp.host_tsc_khz = o.tsc_khz;
	assert_int_equal(xts_clock_restore(c, &st, &rp, &now, &res), 0);
	assert_int_equal(c->incarnation, o.incarnation + 1);
	for (uint64_t h = now.host_tsc; h < now.host_tsc + 50000000000ull; h += 999999937ull) {
		struct vcpu_time_info r;
		assert_int_equal(xts_clock_vcpu_record(c, 1, h, &r), 0);
		t1 = xts_clock_guest_tsc(c, 1, h);
		assert_int_equal(ref_pvclock(r.tsc_timestamp, r.system_time, r.tsc_to_system_mul,
					     r.tsc_shift, t1),
				 ref_pvclock(rec_ts, o.sys0, o.mul, o.shift, t1));
	}
	/* Freeze: vCPU 1 resumes at exactly its saved TSC. */
	assert_int_equal(xts_clock_guest_tsc(c, 1, now.host_tsc), o.tsc0 + o.tsc_step);

	/* A GPA whose page is not in the stream, and a misaligned one. */
	struct gen g;
	struct xts_stream_error err;
	int fd = mfd();
	gen_stream(&g, &o);
	assert_int_equal(write(fd, g.b, g.len), (ssize_t)g.len);
	io.pvclock_gpa = 0x100000;
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(xts_xen_read_time(fd, &io, NULL, x, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no PAGE_DATA carries the page of GPA 0x100000"));
	io.pvclock_gpa = 0x1004;
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(xts_xen_read_time(fd, &io, NULL, x, NULL, &err), -EINVAL);
	close(fd);
	free(g.b);
	free(c);
	free(x);
}

static void test_pv_line(void **state)
{
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_time_state st;
	enum xts_xen_line_source src;
	char why[200];

	gen_opts_default(&o);
	o.pv = true;
	o.nr_vcpus = 3;
	read_gen(&o, NULL, x);
	assert_int_equal(xts_xen_time_to_state(x, 7 * NS, &st, &src, why, sizeof(why)), 0);
	assert_int_equal(src, XTS_XEN_LINE_PV_SHARED);
	assert_int_equal(st.line.tsc, o.tsc0 - 1000);
	assert_int_equal(st.line.system_ns, o.sys0);
	assert_int_equal(st.line.mul, o.mul);
	assert_int_equal(st.line.shift, o.shift);
	for (unsigned i = 0; i < 3; i++)                 /* newest record's TSC */
		assert_int_equal(st.guest_tsc[i], o.tsc0 - 1000 + 2);
	assert_int_equal(st.wc_sec, o.wc_sec);
	assert_int_equal(st.wc_nsec, o.wc_nsec);

	x->pv_time[0].version = 5;                       /* caught mid-update */
	assert_int_equal(xts_xen_time_to_state(x, 7 * NS, &st, &src, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "odd"));
	free(x);
}

static void same_xen_time(const struct xts_xen_time *a, const struct xts_xen_time *b)
{
	assert_int_equal(a->have, b->have);
	assert_int_equal(a->dom_type, b->dom_type);
	assert_int_equal(a->tsc_mode, b->tsc_mode);
	assert_int_equal(a->tsc_khz, b->tsc_khz);
	assert_int_equal(a->tsc_nsec, b->tsc_nsec);
	assert_int_equal(a->incarnation, b->incarnation);
	assert_int_equal(a->gtsc_khz, b->gtsc_khz);
	assert_int_equal(a->hvm_cpuid, b->hvm_cpuid);
	assert_int_equal(a->changeset, b->changeset);
	assert_int_equal(a->rtc_offset, b->rtc_offset);
	assert_int_equal(a->nr_vcpus, b->nr_vcpus);
	assert_memory_equal(a->vcpu, b->vcpu, sizeof(a->vcpu[0]) * a->nr_vcpus);
	assert_int_equal(a->nr_params, b->nr_params);
	assert_memory_equal(a->params, b->params, sizeof(a->params[0]) * a->nr_params);
}

/* export -> parse gives the identical time state, in every output form. */
static void test_round_trip(void **state)
{
	static const unsigned vcpus[] = { 1, 8, 64 };

	for (unsigned vi = 0; vi < 3; vi++)
	for (int form = 0; form < 3; form++) {
		struct gen_opts o;
		struct xts_xen_time *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
		struct xts_time_state s1, s2;
		struct xts_xen_export_opts eo = { 0 };
		struct xts_stream_info info;
		struct xts_stream_error err;
		int fd = mfd();

		gen_opts_default(&o);
		o.nr_vcpus = vcpus[vi];
		o.tdt0 = 777777;
		o.tsc_adjust0 = 3;
		o.tsc_nsec = 99;
		read_gen(&o, NULL, x);
		eo.bare_libxc = form == 2;
		eo.libxc_version = form == 1 ? 2 : 0;
		eo.config_json = form == 0 ? "{}" : NULL;
		if (xts_xen_write(fd, x, &eo, &err))
			fail_msg("%s", err.msg);
		lseek(fd, 0, SEEK_SET);
		if (xts_xen_read_time(fd, NULL, NULL, y, &info, &err))
			fail_msg("form %d: %s", form, err.msg);
		same_xen_time(x, y);
		assert_int_equal(info.has_xl, form != 2);
		assert_int_equal(info.libxc_version, form == 1 ? 2 : 3);
		assert_int_equal(xts_xen_time_to_state(x, 5 * NS, &s1, NULL, NULL, 0), 0);
		assert_int_equal(xts_xen_time_to_state(y, 5 * NS, &s2, NULL, NULL, 0), 0);
		assert_memory_equal(&s1, &s2, sizeof(s1));
		close(fd);
		free(x);
		free(y);
	}
}

/* An xtshim guest's saved clock -> Xen stream -> back: TSCs and UTC agree. */
static void test_from_state(void **state)
{
	struct xts_clock *c = calloc(1, sizeof(*c));
	struct xts_clock_params p = { .arch = XTS_ARCH_X86, .nr_vcpus = 3, .host_tsc_khz = 2500000,
				      .start_tsc = 1000 };
	struct xts_host_sample t0 = { 1000000, 1763700000ull * NS + 123 };
	struct xts_host_sample t1 = { 1000000 + 2500000ull * 3600 * 1000, 1763703600ull * NS + 123 };
	struct xts_time_state st, back;
	struct xts_xen_time *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	struct xts_stream_error err;
	int fd = mfd();

	assert_int_equal(xts_clock_new(c, &p, &t0), 0);
	assert_int_equal(xts_clock_save(c, &t1, &st), 0);
	assert_int_equal(xts_xen_time_from_state(&st, x), 0);
	assert_int_equal(xts_xen_write(fd, x, NULL, &err), 0);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(xts_xen_read_time(fd, NULL, NULL, y, NULL, &err), 0);
	assert_int_equal(xts_xen_time_to_state(y, st.saved_realtime_ns, &back, NULL, NULL, 0), 0);
	assert_int_equal(back.nr_vcpus, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(back.guest_tsc[i], st.guest_tsc[i]);
	assert_int_equal(back.guest_tsc_khz, 2500000);
	assert_int_equal(back.incarnation, st.incarnation);
	/* Guest UTC at the save instant, to the whole second Xen's RTC offset keeps. */
	__int128 u1 = (__int128)st.wc_sec * NS + st.wc_nsec +
		      ref_pvclock(st.line.tsc, st.line.system_ns, st.line.mul, st.line.shift,
				  st.guest_tsc[0]);
	__int128 u2 = (__int128)back.wc_sec * NS + back.wc_nsec +
		      ref_pvclock(back.line.tsc, back.line.system_ns, back.line.mul,
				  back.line.shift, back.guest_tsc[0]);
	__int128 d = u1 - u2;
	assert_true(d <= (__int128)NS / 2 && d >= -(__int128)NS / 2);
	close(fd);
	free(c);
	free(x);
	free(y);
}

struct pages { unsigned n; uint64_t pfn[16]; bool ok; };

static int on_page(void *o, uint64_t pfn, const void *data, uint32_t size)
{
	struct pages *p = o;
	const uint8_t *b = data;
	if (p->n < 16)
		p->pfn[p->n] = pfn;
	p->n++;
	for (unsigned i = 0; i < size; i++)
		if (b[i] != (uint8_t)(pfn * 3 + i))
			p->ok = false;
	return 0;
}

static void test_export_memory(void **state)
{
	uint8_t *ram = malloc(5 * 4096);
	struct xts_gmem m = { 0 };
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	struct xts_xen_export_opts eo = { 0 };
	struct pages pg = { .ok = true };
	struct xts_stream_visitor v = { &pg, NULL, on_page };
	struct xts_stream_error err;
	int fd = mfd();

	/* two regions: pfns 0-1 and 0x100-0x102 */
	for (unsigned i = 0; i < 5 * 4096; i++) {
		uint64_t pfn = i / 4096 < 2 ? i / 4096 : 0x100 + i / 4096 - 2;
		ram[i] = (uint8_t)(pfn * 3 + i % 4096);
	}
	assert_int_equal(xts_gmem_add(&m, 0, 2 * 4096, ram), 0);
	assert_int_equal(xts_gmem_add(&m, 0x100000, 3 * 4096, ram + 2 * 4096), 0);
	gen_opts_default(&o);
	read_gen(&o, NULL, x);
	eo.mem = &m;
	assert_int_equal(xts_xen_write(fd, x, &eo, &err), 0);
	lseek(fd, 0, SEEK_SET);
	if (xts_xen_read_time(fd, NULL, &v, y, NULL, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(pg.n, 5);
	assert_true(pg.ok);
	assert_int_equal(pg.pfn[0], 0);
	assert_int_equal(pg.pfn[2], 0x100);
	assert_int_equal(pg.pfn[4], 0x102);
	same_xen_time(x, y);
	close(fd);
	free(ram);
	free(x);
	free(y);
}

/* The stream's memory restored into guest RAM through the page sink. */
static void test_restore_memory(void **state)
{
	uint8_t *src = malloc(6 * 4096), *dst = calloc(1, 6 * 4096);
	struct xts_gmem m = { 0 }, d = { 0 }, small = { 0 };
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	struct xts_xen_export_opts eo = { 0 };
	struct xts_xen_mem_sink sink = { &d, 0 }, sink2 = { &small, 0 };
	struct xts_stream_visitor v = { &sink, NULL, xts_xen_page_to_gmem };
	struct xts_stream_error err;
	int fd = mfd();

	for (unsigned i = 0; i < 6 * 4096; i++)
		src[i] = (uint8_t)(i * 7 + i / 4096);
	assert_int_equal(xts_gmem_add(&m, 0x200000, 6 * 4096, src), 0);
	assert_int_equal(xts_gmem_add(&d, 0x200000, 6 * 4096, dst), 0);
	gen_opts_default(&o);
	read_gen(&o, NULL, x);
	eo.mem = &m;
	assert_int_equal(xts_xen_write(fd, x, &eo, &err), 0);
	lseek(fd, 0, SEEK_SET);
	if (xts_xen_read_time(fd, NULL, &v, y, NULL, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(sink.pages, 6);
	assert_memory_equal(src, dst, 6 * 4096);

	/* RAM one page short: the last page is refused and named. */
	assert_int_equal(xts_gmem_add(&small, 0x200000, 5 * 4096, dst), 0);
	v.opaque = &sink2;
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(xts_xen_read_time(fd, NULL, &v, y, NULL, &err), -EFAULT);
	assert_non_null(strstr(err.msg, "page 0x205 refused by the consumer: Bad address"));
	assert_int_equal(err.type, 1);
	close(fd);
	free(src);
	free(dst);
	free(x);
	free(y);
}

/* The host cannot keep the guest's TSC rate: refused unless accepted. */
static void test_rate_refusal(void **state)
{
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_time_state st;
	struct xts_clock *c = calloc(1, sizeof(*c));
	struct xts_restore_params rp = { .policy = XTS_POLICY_FREEZE, .host_tsc_khz = 3000000 };
	struct xts_host_sample now = { 1, 1763700000ull * NS };
	struct xts_restore_result res;

	gen_opts_default(&o);
	read_gen(&o, NULL, x);
	assert_int_equal(xts_xen_time_to_state(x, now.realtime_ns, &st, NULL, NULL, 0), 0);
	assert_int_equal(xts_clock_restore(c, &st, &rp, &now, &res), -ERANGE);
	rp.flags = XTS_RESTORE_ACCEPT_RATE_CHANGE;
	assert_int_equal(xts_clock_restore(c, &st, &rp, &now, &res), 0);
	assert_true(res.rate_changed);
	rp.flags = 0;
	rp.host_can_scale = true;
	assert_int_equal(xts_clock_restore(c, &st, &rp, &now, &res), 0);
	assert_false(res.rate_changed);
	free(c);
	free(x);
}

static void test_write_errors(void **state)
{
	struct gen_opts o;
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_stream_error err;
	int pfd[2];

	gen_opts_default(&o);
	read_gen(&o, NULL, x);
	assert_int_equal(pipe(pfd), 0);
	close(pfd[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(xts_xen_write(pfd[1], x, NULL, &err), -EIO);
	assert_non_null(strstr(err.msg, "xl header"));
	close(pfd[1]);
	x->dom_type = 1;
	assert_int_equal(xts_xen_write(1, x, NULL, &err), -ENOTSUP);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_line),
		cmocka_unit_test(test_khz_sources),
		cmocka_unit_test(test_down_vcpu_tsc),
		cmocka_unit_test(test_pvclock_continued),
		cmocka_unit_test(test_pv_line),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_from_state),
		cmocka_unit_test(test_export_memory),
		cmocka_unit_test(test_restore_memory),
		cmocka_unit_test(test_rate_refusal),
		cmocka_unit_test(test_write_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
