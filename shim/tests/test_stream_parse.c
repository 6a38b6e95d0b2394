/*
 * Xen migration stream parser: valid fixture streams from the independent
 * generator (xen-stream-gen.h) in every wrapping, version and byte order,
 * and corrupted variants, each rejected with the record's index, type and
 * offset, and nothing handed back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim/xtshim.h"
#include "shim/tests/xen-stream-gen.h"

static int buf_fd(const void *b, size_t len)
{
	int fd = memfd_create("stream", 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static int parse(const void *b, size_t len, const struct xts_xen_import_opts *io,
		 struct xts_xen_time *x, struct xts_stream_info *info, struct xts_stream_error *err)
{
	int fd = buf_fd(b, len);
	int rc = xts_xen_read_time(fd, io, NULL, x, info, err);
	close(fd);
	return rc;
}

static struct xts_xen_time *xt_alloc(void)
{
	struct xts_xen_time *x = malloc(sizeof(*x));
	assert_non_null(x);
	memset(x, 0xa5, sizeof(*x));
	return x;
}

/* What the generator put in, read back field by field. */
static void check_hvm_extract(const struct gen_opts *o, const struct xts_xen_time *x)
{
	assert_int_equal(x->dom_type, 2);
	assert_int_equal(x->tsc_mode, o->tsc_mode);
	assert_int_equal(x->tsc_khz, o->tsc_khz);
	assert_int_equal(x->gtsc_khz, o->gtsc_khz);
	assert_int_equal(x->incarnation, o->incarnation);
	assert_int_equal(x->rtc_offset, o->rtc_offset);
	assert_int_equal(x->nr_vcpus, o->nr_vcpus);
	for (unsigned i = 0; i < o->nr_vcpus; i++) {
		assert_int_equal(x->vcpu[i].tsc, o->tsc0 + i * o->tsc_step);
		assert_int_equal(x->vcpu[i].tsc_adjust, o->tsc_adjust0 + i);
		assert_int_equal(x->vcpu[i].tdt_msr, o->tdt0 ? o->tdt0 + i : 0);
		assert_int_equal(x->vcpu[i].present, XTS_XEN_VCPU_CPU | XTS_XEN_VCPU_LAPIC |
				 XTS_XEN_VCPU_TSC_ADJUST);
	}
	assert_int_equal(x->nr_params, 3);
	assert_int_equal(x->params[0].index, 1);
	assert_int_equal(x->params[0].value, 0xfeffc);
	assert_int_equal(x->params[2].index, 17);
}

static void test_valid_matrix(void **state)
{
	static const unsigned vcpus[] = { 1, 2, 8, 128 };
	unsigned n = 0;

	for (int wrap = 0; wrap <= 2; wrap++)
	for (int ver = 2; ver <= 3; ver++)
	for (int be = 0; be <= 1; be++)
	for (unsigned vi = 0; vi < 4; vi++) {
		struct gen_opts o;
		struct gen g;
		struct xts_stream_info info;
		struct xts_stream_error err;
		struct xts_xen_time *x = xt_alloc();

		gen_opts_default(&o);
		o.wrap = wrap;
		o.version = ver;
		o.be = be;
		o.xl_be = be;
		o.nr_vcpus = vcpus[vi];
		o.params_first = (vi & 1);
		o.tdt0 = 5000000 + vi;
		o.tsc_adjust0 = vi * 7;
		gen_stream(&g, &o);
		int rc = parse(g.b, g.len, NULL, x, &info, &err);
		if (rc)
			fail_msg("wrap %d v%d be %d vcpus %u: %s", wrap, ver, be, vcpus[vi], err.msg);
		check_hvm_extract(&o, x);
		assert_int_equal(info.has_xl, wrap == 2);
		assert_int_equal(info.has_libxl, wrap >= 1);
		assert_int_equal(info.libxc_version, ver);
		assert_int_equal(info.libxc_options & 1, be);
		assert_int_equal(info.nr_pages, o.nr_pages);
		assert_int_equal(info.bytes, g.len);       /* read exactly up to the last END */
		if (wrap == 2)
			assert_int_equal(info.xl_config_len, strlen(o.config) + 1);
		free(x);
		free(g.b);
		n++;
	}
	assert_int_equal(n, 48);
}

/* A stream through a pipe, written in small pieces by another process. */
static void test_pipe(void **state)
{
	struct gen_opts o;
	struct gen g;
	struct xts_xen_time *x = xt_alloc();
	struct xts_stream_error err;
	int pfd[2];
	pid_t pid;

	gen_opts_default(&o);
	o.nr_pages = 300;                       /* more than one reader buffer */
	gen_stream(&g, &o);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t off = 0;
		close(pfd[0]);
		while (off < g.len) {
			size_t n = off < 4096 ? 7 : 65536;   /* odd-sized first writes */
			if (n > g.len - off)
				n = g.len - off;
			if (write(pfd[1], g.b + off, n) != (ssize_t)n)
				_exit(1);
			off += n;
		}
		/* the migration socket stays open after the stream */
		sleep(0);
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(xts_xen_read_time(pfd[0], NULL, NULL, x, NULL, &err), 0);
	check_hvm_extract(&o, x);
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	free(x);
	free(g.b);
}

static void test_pv_stream(void **state)
{
	for (unsigned width = 4; width <= 8; width += 4)
	for (int ver = 2; ver <= 3; ver++) {
		struct gen_opts o;
		struct gen g;
		struct xts_xen_time *x = xt_alloc();
		struct xts_stream_error err;

		gen_opts_default(&o);
		o.pv = true;
		o.pv_width = width;
		o.version = ver;
		o.nr_vcpus = 3;
		o.wc_sec = 0x1a0000000ull;             /* past 2106: needs wc_sec_hi */
		gen_stream(&g, &o);
		if (parse(g.b, g.len, NULL, x, NULL, &err))
			fail_msg("%s", err.msg);
		assert_int_equal(x->dom_type, 1);
		assert_int_equal(x->guest_width, width);
		assert_int_equal(x->nr_vcpus, 3);
		assert_int_equal(x->wc_sec, o.wc_sec);
		assert_int_equal(x->wc_nsec, o.wc_nsec);
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(x->pv_time[i].version, 2 * i + 2);
			assert_int_equal(x->pv_time[i].tsc_timestamp, o.tsc0 - 1000 + i);
			assert_int_equal(x->pv_time[i].system_time, o.sys0 + i);
			assert_int_equal(x->pv_time[i].tsc_to_system_mul, o.mul);
			assert_int_equal(x->pv_time[i].tsc_shift, o.shift);
		}
		free(x);
		free(g.b);
	}
}

/* ---- corrupted variants ---- */

struct bad {
	struct gen g;
	struct gen_opts o;
	struct xts_stream_error err;
	struct xts_xen_time *x;
	struct xts_xen_time before;
	int rc;
};

static void bad_make(struct bad *b, void (*tweak)(struct gen_opts *))
{
	gen_opts_default(&b->o);
	if (tweak)
		tweak(&b->o);
	gen_stream(&b->g, &b->o);
}

static void bad_run(struct bad *b)
{
	b->x = xt_alloc();
	memcpy(&b->before, b->x, sizeof(b->before));
	b->rc = parse(b->g.b, b->g.len, NULL, b->x, NULL, &b->err);
	/* Nothing applied: the output is byte-for-byte what it was. */
	assert_memory_equal(b->x, &b->before, sizeof(b->before));
	free(b->x);
}

static void bad_done(struct bad *b)
{
	free(b->g.b);
}

static void expect(struct bad *b, int rc, uint32_t layer, int64_t index, uint32_t type,
		   uint64_t offset, const char *needle)
{
	if (b->rc != rc || !strstr(b->err.msg, needle))
		fail_msg("rc %d (want %d), message \"%s\" (want \"%s\")", b->rc, rc, b->err.msg, needle);
	assert_int_equal(b->err.err, rc);
	assert_int_equal(b->err.layer, layer);
	assert_int_equal(b->err.index, index);
	assert_int_equal(b->err.type, type);
	assert_int_equal(b->err.offset, offset);
}

static void test_truncated_everywhere(void **state)
{
	struct bad b;
	size_t cut;

	bad_make(&b, NULL);
	/* Every proper prefix fails, and says it was truncated. */
	for (cut = 0; cut < b.g.len; cut += (cut < 200 ? 1 : 37)) {
		int fd = buf_fd(b.g.b, cut);
		struct xts_stream_error err;
		struct xts_xen_time *x = xt_alloc();
		int rc = xts_xen_read_time(fd, NULL, NULL, x, NULL, &err);
		close(fd);
		if (rc != -EINVAL || !strstr(err.msg, "truncated"))
			fail_msg("prefix %zu of %zu: rc %d \"%s\"", cut, b.g.len, rc, err.msg);
		free(x);
	}
	bad_done(&b);
}

static void test_truncated_names_record(void **state)
{
	struct bad b;
	const struct gen_rec *r;

	bad_make(&b, NULL);
	r = gen_find(&b.g, 2, 9, 0);                 /* HVM_CONTEXT */
	b.g.len = r->offset + 8 + 100;
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 9, r->offset, "truncated");
	assert_non_null(strstr(b.err.msg, "HVM_CONTEXT"));
	bad_done(&b);
}

static void test_bad_magics(void **state)
{
	struct bad b;

	/* xl magic */
	bad_make(&b, NULL);
	b.g.b[3] ^= 1;
	bad_run(&b);
	expect(&b, -EINVAL, 0, -1, 0, 0, "not a Xen migration stream");
	bad_done(&b);

	bad_make(&b, NULL);
	b.g.b[31] = 'x';                              /* the tail of the 32-byte magic */
	/* (the first 8 bytes still say "xl", so the whole magic is checked) */
	bad_run(&b);
	expect(&b, -EINVAL, 0, -1, 0, 0, "bad magic");
	bad_done(&b);

	/* libxc id inside an xl file: the image header follows LIBXC_CONTEXT */
	bad_make(&b, NULL);
	size_t img = gen_find(&b.g, 1, 1, 0)->offset + 8;
	b.g.b[img + 8] = 'Y';
	bad_run(&b);
	expect(&b, -EINVAL, 2, -1, 0, img, "id 0x59454e46");
	bad_done(&b);

	/* libxl ident of a bare libxl stream */
	bad_make(&b, NULL);
	b.o.wrap = 1;
	free(b.g.b);
	gen_stream(&b.g, &b.o);
	b.g.b[3] ^= 0x20;
	bad_run(&b);
	expect(&b, -EINVAL, 0, -1, 0, 0, "not a Xen migration stream");
	bad_done(&b);
}

static void set_o(struct gen_opts *o) { o->wrap = 1; }

static void test_wrong_versions(void **state)
{
	struct bad b;
	size_t img;

	bad_make(&b, NULL);
	img = gen_find(&b.g, 1, 1, 0)->offset + 8;
	set_int(b.g.b + img + 12, 4, 4, true);
	bad_run(&b);
	expect(&b, -EINVAL, 2, -1, 0, img, "version 4, expected 2 or 3");
	bad_done(&b);

	bad_make(&b, set_o);                          /* bare libxl */
	set_int(b.g.b + 8, 3, 4, true);
	bad_run(&b);
	expect(&b, -EINVAL, 1, -1, 0, 0, "version 3, expected 2");
	bad_done(&b);

	bad_make(&b, NULL);                           /* xl: unknown mandatory flag */
	set_int(b.g.b + 36, 2 | 1 | 0x100, 4, false);
	bad_run(&b);
	expect(&b, -EINVAL, 0, -1, 0, 0, "unknown mandatory flags 0x00000100");
	bad_done(&b);
}

static void test_wrong_lengths(void **state)
{
	struct bad b;
	const struct gen_rec *r;

	bad_make(&b, NULL);
	r = gen_find(&b.g, 2, 8, 0);                 /* X86_TSC_INFO: 24 -> 16 */
	set_int(b.g.b + r->offset + 4, 16, 4, false);
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 8, r->offset, "body length 16, expected 24");
	bad_done(&b);

	bad_make(&b, NULL);
	r = gen_find(&b.g, 2, 1, 1);                 /* PAGE_DATA one page short */
	set_int(b.g.b + r->offset + 4, r->length - 8, 4, false);
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 1, r->offset, "expected 4112");
	bad_done(&b);

	bad_make(&b, NULL);                          /* HVM_PARAMS count vs length */
	r = gen_find(&b.g, 2, 10, 0);
	set_int(b.g.b + r->offset + 8, 4, 4, false);
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 10, r->offset, "4 params need 72 bytes");
	bad_done(&b);

	bad_make(&b, NULL);                          /* an HVM entry's length */
	const struct gen_hvm_ent *e = &b.g.ent[1];   /* CPU 0 */
	set_int(b.g.b + e->offset + 4, 1000, 4, false);
	bad_run(&b);
	r = gen_find(&b.g, 2, 9, 0);
	expect(&b, -EINVAL, 3, 1, 2, e->offset, "length 1000, expected 1016..1032");
	assert_non_null(strstr(b.err.msg, "HVM_CONTEXT"));
	bad_done(&b);
}

static void opt_unknown(struct gen_opts *o) { o->unknown_optional = true; }
static void mand_unknown(struct gen_opts *o) { o->unknown_mandatory = true; }

static void test_padding(void **state)
{
	struct bad b;
	const struct gen_rec *r;

	bad_make(&b, opt_unknown);
	r = gen_find(&b.g, 2, 0x80001234u, 0);
	b.g.b[r->offset + 8 + 5 + 1] = 0x01;          /* second padding byte */
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 0x80001234u, r->offset, "padding byte 2 of 3");
	bad_done(&b);
}

static void test_unknown_records(void **state)
{
	struct bad b;
	const struct gen_rec *r;

	bad_make(&b, opt_unknown);                    /* optional: skipped, accepted */
	struct xts_xen_time *x = xt_alloc();
	struct xts_stream_error err;
	if (parse(b.g.b, b.g.len, NULL, x, NULL, &err))
		fail_msg("%s", err.msg);
	check_hvm_extract(&b.o, x);
	free(x);
	bad_done(&b);

	bad_make(&b, mand_unknown);
	r = gen_find(&b.g, 2, 0x7f, 0);
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 0x7f, r->offset, "unknown mandatory record type 0x7f");
	bad_done(&b);
}

static void dup_cpu(struct gen_opts *o) { o->dup_cpu = true; }

static void test_duplicate_cpu(void **state)
{
	struct bad b;
	const struct gen_hvm_ent *e = NULL;

	bad_make(&b, dup_cpu);
	for (unsigned i = 0; i < b.g.nent; i++)      /* the second CPU instance 0 */
		if (b.g.ent[i].code == 2 && b.g.ent[i].inst == 0 && i > 1)
			e = &b.g.ent[i];
	assert_non_null(e);
	bad_run(&b);
	expect(&b, -EINVAL, 3, e->index, 2, e->offset, "duplicate CPU entry for instance 0");
	bad_done(&b);
}

static void test_oversized(void **state)
{
	struct bad b;
	const struct gen_rec *r;

	bad_make(&b, NULL);
	r = gen_find(&b.g, 2, 1, 0);
	set_int(b.g.b + r->offset + 4, (128u << 20) + 8, 4, false);
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 1, r->offset, "exceeds the 128 MiB record limit");
	bad_done(&b);
}

static void test_hvm_context_rules(void **state)
{
	struct bad b;
	const struct gen_hvm_ent *e;

	bad_make(&b, NULL);                           /* HEADER magic */
	e = &b.g.ent[0];
	b.g.b[e->offset + 8] ^= 0xff;
	bad_run(&b);
	expect(&b, -EINVAL, 3, 0, 1, e->offset, "magic");
	bad_done(&b);

	bad_make(&b, NULL);                           /* vendor typecode */
	e = &b.g.ent[b.g.nent - 2];                   /* last TSC_ADJUST */
	set_int(b.g.b + e->offset, 25, 2, false);
	bad_run(&b);
	expect(&b, -ENOTSUP, 3, e->index, 25, e->offset, "vendor");
	bad_done(&b);

	bad_make(&b, NULL);                           /* an empty HVM_CONTEXT (fuzzer find) */
	const struct gen_rec *r = gen_find(&b.g, 2, 9, 0);
	set_int(b.g.b + r->offset + 4, 0, 4, false);
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 9, r->offset, "ends without an END entry after 0 entries");
	bad_done(&b);

	bad_make(&b, NULL);                           /* END replaced by an unknown code */
	e = &b.g.ent[b.g.nent - 1];
	set_int(b.g.b + e->offset, 21, 2, false);
	bad_run(&b);
	expect(&b, -EINVAL, 3, e->index, 21, e->offset, "unknown typecode 21");
	bad_done(&b);
}

static void test_record_order(void **state)
{
	struct bad b;
	const struct gen_rec *r;

	/* v3: STATIC_DATA_END turned into VERIFY: PAGE_DATA now comes before it. */
	bad_make(&b, NULL);
	r = gen_find(&b.g, 2, 16, 0);
	set_int(b.g.b + r->offset, 13, 4, false);
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 13, r->offset, "record before STATIC_DATA_END");
	bad_done(&b);

	/* A second X86_TSC_INFO (the HVM_PARAMS record retyped, same length 56 != 24). */
	bad_make(&b, NULL);
	r = gen_find(&b.g, 2, 10, 0);
	set_int(b.g.b + r->offset, 8, 4, false);
	bad_run(&b);
	expect(&b, -EINVAL, 2, r->index, 8, r->offset, "a second X86_TSC_INFO");
	bad_done(&b);

	/* No HVM_CONTEXT at all: retype it to an optional record. */
	bad_make(&b, NULL);
	r = gen_find(&b.g, 2, 9, 0);
	set_int(b.g.b + r->offset, 0x80000009u, 4, false);
	const struct gen_rec *end = gen_find(&b.g, 2, 0, 0);
	bad_run(&b);
	expect(&b, -EINVAL, 2, end->index, 0, end->offset, "no HVM_CONTEXT");
	bad_done(&b);
}

/* Bytes after the final END are not part of the stream, and are reported. */
static void test_trailing_bytes(void **state)
{
	struct gen_opts o;
	struct gen g;
	struct xts_xen_time *x = xt_alloc();
	struct xts_stream_info info;
	struct xts_stream_error err;
	size_t len;

	gen_opts_default(&o);
	gen_stream(&g, &o);
	len = g.len;
	gen_raw(&g, "domain is yours", 15);
	if (parse(g.b, g.len, NULL, x, &info, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(info.bytes, len);
	assert_int_equal(info.read_past_end, 15);
	free(x);
	free(g.b);
}

/* A checkpointed (Remus-style) bare stream: the last checkpoint's state wins. */
static void test_checkpoint(void **state)
{
	struct gen_opts o;
	struct gen a, b;
	struct xts_xen_time *x = xt_alloc();
	struct xts_stream_info info;
	struct xts_stream_error err;
	const struct gen_rec *end, *pg;

	gen_opts_default(&o);
	o.wrap = 0;
	gen_stream(&a, &o);
	o.tsc0 += 5000000;
	o.incarnation = 9;
	gen_stream(&b, &o);
	end = gen_find(&a, 2, 0, 0);
	set_int(a.b + end->offset, 14, 4, false);          /* END -> CHECKPOINT */
	pg = gen_find(&b, 2, 1, 0);                       /* the second round's records */
	gen_raw(&a, b.b + pg->offset, b.len - pg->offset);
	if (parse(a.b, a.len, NULL, x, &info, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(info.nr_checkpoints, 1);
	assert_int_equal(x->vcpu[0].tsc, o.tsc0);
	assert_int_equal(x->incarnation, 9);
	free(x);
	free(a.b);
	free(b.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_matrix),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_pv_stream),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_truncated_names_record),
		cmocka_unit_test(test_bad_magics),
		cmocka_unit_test(test_wrong_versions),
		cmocka_unit_test(test_wrong_lengths),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_unknown_records),
		cmocka_unit_test(test_duplicate_cpu),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_hvm_context_rules),
		cmocka_unit_test(test_record_order),
		cmocka_unit_test(test_checkpoint),
		cmocka_unit_test(test_trailing_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
