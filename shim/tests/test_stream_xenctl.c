/*
 * xtshim-xen-export's logic (xts_xen_read_domain) through its libxenctrl
 * seam: a fake domain built from the independent stream generator.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim/xtshim.h"
#include "shim/tests/xen-stream-gen.h"

#define NS 1000000000ull

struct fake {
	struct gen_opts o;
	uint8_t *ctx;
	uint32_t ctx_len;
	uint8_t shinfo[4096];
	int tsc_rc;
	unsigned ctx_calls;
};

static int f_tsc(void *p, uint32_t domid, uint32_t *mode, uint64_t *ns, uint32_t *khz,
		 uint32_t *inc)
{
	struct fake *f = p;
	assert_int_equal(domid, 7);
	*mode = f->o.tsc_mode;
	*ns = f->o.tsc_nsec;
	*khz = f->o.tsc_khz;
	*inc = f->o.incarnation;
	return f->tsc_rc;
}

static int f_ctx(void *p, uint32_t domid, uint8_t *buf, uint32_t size)
{
	struct fake *f = p;
	f->ctx_calls++;
	if (!buf)
		return (int)f->ctx_len;
	assert_true(size >= f->ctx_len);
	memcpy(buf, f->ctx, f->ctx_len);
	return (int)f->ctx_len;
}

static int f_param(void *p, uint32_t domid, uint32_t index, uint64_t *v)
{
	switch (index) {
	case 1: *v = 0xfeffc; return 0;          /* STORE_PFN */
	case 17: *v = 0xfefff; return 0;         /* CONSOLE_PFN */
	case 38: return -EINVAL;                 /* MCA_CAP unknown to this Xen */
	default: *v = 0; return 0;
	}
}

static int f_shinfo(void *p, uint32_t domid, void *page)
{
	memcpy(page, ((struct fake *)p)->shinfo, 4096);
	return 0;
}

/* A domain as the generator describes it; vCPU 0's record `age` ticks old. */
static void fake_init(struct fake *f, unsigned vcpus, uint64_t age, bool dup)
{
	struct gen g;
	const struct gen_rec *r;

	memset(f, 0, sizeof(*f));
	gen_opts_default(&f->o);
	f->o.nr_vcpus = vcpus;
	f->o.dup_cpu = dup;
	gen_stream(&g, &f->o);
	r = gen_find(&g, 2, 9, 0);
	f->ctx_len = r->length;
	f->ctx = malloc(r->length);
	memcpy(f->ctx, g.b + r->offset + 8, r->length);
	free(g.b);
	gen_time_info(f->shinfo + 32, 10, f->o.tsc0 - age, f->o.sys0, f->o.mul, f->o.shift);
	set_int(f->shinfo + 3072, 4, 4, false);                  /* wc_version */
	set_int(f->shinfo + 3076, (uint32_t)f->o.wc_sec, 4, false);
	set_int(f->shinfo + 3080, f->o.wc_nsec, 4, false);
	set_int(f->shinfo + 3084, f->o.wc_sec >> 32, 4, false);
}

static void test_export_domain(void **state)
{
	struct fake f;
	struct xts_xenctl_ops ops = { &f, f_tsc, f_ctx, f_param, f_shinfo };
	struct xts_xen_time *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	struct xts_time_state st;
	enum xts_xen_line_source src;
	struct xts_stream_error err;
	char why[512];
	int fd = memfd_create("e", 0);

	fake_init(&f, 4, 1000, false);
	if (xts_xen_read_domain(&ops, 7, x, why, sizeof(why)))
		fail_msg("%s", why);
	assert_int_equal(x->tsc_khz, f.o.tsc_khz);
	assert_int_equal(x->incarnation, f.o.incarnation);
	assert_int_equal(x->nr_vcpus, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(x->vcpu[i].tsc, f.o.tsc0 + i * f.o.tsc_step);
	assert_int_equal(x->rtc_offset, f.o.rtc_offset);
	assert_int_equal(x->nr_params, 2);                        /* zeros and failures left out */
	assert_int_equal(x->params[0].index, 1);
	assert_int_equal(x->params[1].index, 17);
	assert_int_equal(x->have & (XTS_XEN_HAVE_PVCLOCK | XTS_XEN_HAVE_WALLCLOCK),
			 XTS_XEN_HAVE_PVCLOCK | XTS_XEN_HAVE_WALLCLOCK);
	assert_int_equal(x->wc_sec, f.o.wc_sec);

	/* What the exporter writes, the importer reads back unchanged. */
	assert_int_equal(xts_xen_write(fd, x, NULL, &err), 0);
	lseek(fd, 0, SEEK_SET);
	if (xts_xen_read_time(fd, NULL, NULL, y, NULL, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(y->have, x->have);
	assert_memory_equal(&y->pvclock, &x->pvclock, sizeof(x->pvclock));
	assert_int_equal(y->wc_sec, x->wc_sec);
	assert_int_equal(y->wc_nsec, x->wc_nsec);

	/* On KVM: the guest's own line continues, and its own wallclock. */
	assert_int_equal(xts_xen_time_to_state(y, 1763700000ull * NS, &st, &src, why, sizeof(why)), 0);
	assert_int_equal(src, XTS_XEN_LINE_PVCLOCK);
	assert_int_equal(st.wc_sec, f.o.wc_sec);
	assert_int_equal(st.wc_nsec, f.o.wc_nsec);
	for (uint64_t t = f.o.tsc0; t < f.o.tsc0 + 100000000000ull; t += 1234567891ull)
		assert_int_equal(xts_line_at(&st.line, t),
				 ref_pvclock(f.o.tsc0 - 1000, f.o.sys0, f.o.mul, f.o.shift, t));
	close(fd);
	free(f.ctx);
	free(x);
	free(y);
}

static void test_stale_or_torn_record(void **state)
{
	struct fake f;
	struct xts_xenctl_ops ops = { &f, f_tsc, f_ctx, f_param, f_shinfo };
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_time_state st;
	enum xts_xen_line_source src;
	char why[512];

	/* 3 s of ticks old: a registered vcpu_info elsewhere left it stale */
	fake_init(&f, 2, 2294686ull * 3000, false);   /* default 2294686 kHz */
	assert_int_equal(xts_xen_read_domain(&ops, 7, x, why, sizeof(why)), 0);
	assert_false(x->have & XTS_XEN_HAVE_PVCLOCK);
	assert_non_null(strstr(why, "not current"));
	assert_int_equal(xts_xen_time_to_state(x, 1763700000ull * NS, &st, &src, NULL, 0), 0);
	assert_int_equal(src, XTS_XEN_LINE_NEW);
	free(f.ctx);

	fake_init(&f, 2, 1000, false);
	set_int(f.shinfo + 32, 11, 4, false);                   /* odd version */
	assert_int_equal(xts_xen_read_domain(&ops, 7, x, why, sizeof(why)), 0);
	assert_false(x->have & XTS_XEN_HAVE_PVCLOCK);
	free(f.ctx);

	fake_init(&f, 2, 1000, false);                           /* no shared_info at all */
	ops.get_shared_info = NULL;
	assert_int_equal(xts_xen_read_domain(&ops, 7, x, why, sizeof(why)), 0);
	assert_false(x->have & XTS_XEN_HAVE_PVCLOCK);
	free(f.ctx);
	free(x);
}

static void test_failures_change_nothing(void **state)
{
	struct fake f;
	struct xts_xenctl_ops ops = { &f, f_tsc, f_ctx, f_param, f_shinfo };
	struct xts_xen_time *x = malloc(sizeof(*x)), *before = malloc(sizeof(*x));
	char why[512];

	memset(x, 0x3c, sizeof(*x));
	memcpy(before, x, sizeof(*x));

	fake_init(&f, 2, 1000, true);                            /* duplicate CPU record */
	assert_int_equal(xts_xen_read_domain(&ops, 7, x, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "duplicate CPU entry for instance 0"));
	assert_memory_equal(x, before, sizeof(*x));
	free(f.ctx);

	fake_init(&f, 2, 1000, false);
	f.tsc_rc = -EPERM;
	assert_int_equal(xts_xen_read_domain(&ops, 7, x, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "xc_domain_get_tsc_info"));
	assert_memory_equal(x, before, sizeof(*x));
	f.tsc_rc = 0;
	f.ctx_len = 0;                                           /* a PV domain has none */
	assert_int_equal(xts_xen_read_domain(&ops, 7, x, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "HVM/PVH"));
	assert_memory_equal(x, before, sizeof(*x));
	free(f.ctx);
	free(x);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_domain),
		cmocka_unit_test(test_stale_or_torn_record),
		cmocka_unit_test(test_failures_change_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
