/*
 * The `xl migrate` receiver against a sender that follows
 * tools/xl/xl_migrate.c (migrate_domain) step by step, over pipes.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim/xtshim.h"
#include "shim/tests/xen-stream-gen.h"

/* xl's messages, spelled out again here (xl.h) */
#define BANNER "xl migration receiver ready, send binary domain data.\n"
#define READY  "domain received, ready to unpause"
#define GO     "domain is yours, you are cleared to unpause"
#define REPORT "my copy unpause results are as follows"

struct sender {
	int to_rx, from_rx;       /* our ends */
	struct gen g;
	bool corrupt_go;
	/* what happened */
	int stage;                /* 1 banner ok, 2 ready ok, 3 report read, 4 permission read */
	int status;
};

static bool read_msg(int fd, const char *msg, size_t n)
{
	char buf[128];
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return !memcmp(buf, msg, n);
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	uint8_t st;

	if (!read_msg(s->from_rx, BANNER, sizeof(BANNER) - 1))      /* no NUL */
		goto out;
	s->stage = 1;
	if (write(s->to_rx, s->g.b, s->g.len) != (ssize_t)s->g.len)
		goto out;
	if (!read_msg(s->from_rx, READY, sizeof(READY)))            /* with NUL */
		goto out;
	s->stage = 2;
	if (s->corrupt_go) {
		if (write(s->to_rx, "domain is yours, you are cleared to unpauseX", sizeof(GO)) !=
		    (ssize_t)sizeof(GO))
			goto out;
	} else if (write(s->to_rx, GO, sizeof(GO)) != (ssize_t)sizeof(GO)) {
		goto out;
	}
	if (!read_msg(s->from_rx, REPORT, sizeof(REPORT)) || read(s->from_rx, &st, 1) != 1)
		goto out;
	s->stage = 3;
	s->status = st;
	if (st && read_msg(s->from_rx, GO, sizeof(GO)))
		s->stage = 4;
out:
	close(s->to_rx);
	return NULL;
}

struct vmm { int start_rc; int started, destroyed; uint64_t tsc0; };

static int v_start(void *o, const struct xts_xen_time *x, const struct xts_stream_info *i)
{
	struct vmm *v = o;
	v->started++;
	v->tsc0 = x->vcpu[0].tsc;
	return v->start_rc;
}

static void v_destroy(void *o)
{
	((struct vmm *)o)->destroyed++;
}

static int run(struct sender *s, struct vmm *v, struct xts_stream_error *err)
{
	int a[2], b[2], rc;
	pthread_t t;
	struct xts_xl_receiver_ops ops = { v, NULL, NULL, v_start, v_destroy };
	struct xts_xen_time *x = calloc(1, sizeof(*x));

	assert_int_equal(pipe(a), 0);     /* sender -> receiver */
	assert_int_equal(pipe(b), 0);     /* receiver -> sender */
	s->to_rx = a[1];
	s->from_rx = b[0];
	assert_int_equal(pthread_create(&t, NULL, sender_main, s), 0);
	rc = xts_xl_migrate_receive(a[0], b[1], &ops, x, NULL, err);
	close(b[1]);                      /* the receiver process would exit here */
	close(a[0]);
	pthread_join(t, NULL);
	close(b[0]);
	free(x);
	return rc;
}

static void make_stream(struct sender *s)
{
	struct gen_opts o;
	memset(s, 0, sizeof(*s));
	gen_opts_default(&o);
	o.nr_pages = 64;                  /* more than a pipe holds */
	gen_stream(&s->g, &o);
}

static void test_success(void **state)
{
	struct sender s;
	struct vmm v = { 0 };
	struct xts_stream_error err;

	make_stream(&s);
	assert_int_equal(run(&s, &v, &err), 0);
	assert_int_equal(s.stage, 3);
	assert_int_equal(s.status, 0);
	assert_int_equal(v.started, 1);
	assert_int_equal(v.destroyed, 0);
	assert_int_equal(v.tsc0, 987654321098ull);
	free(s.g.b);
}

static void test_start_fails(void **state)
{
	struct sender s;
	struct vmm v = { .start_rc = -ENOMEM };
	struct xts_stream_error err;

	make_stream(&s);
	assert_int_equal(run(&s, &v, &err), -ENOMEM);
	assert_int_equal(s.stage, 4);                 /* got its domain back */
	assert_int_equal(s.status, ENOMEM);
	assert_int_equal(v.destroyed, 1);
	free(s.g.b);
}

static void test_bad_go(void **state)
{
	struct sender s;
	struct vmm v = { 0 };
	struct xts_stream_error err;

	make_stream(&s);
	s.corrupt_go = true;
	assert_int_equal(run(&s, &v, &err), -EPROTO);
	assert_int_equal(v.started, 0);               /* never ran without permission */
	assert_int_equal(s.stage, 4);
	assert_true(s.status != 0);
	free(s.g.b);
}

static void test_bad_stream(void **state)
{
	struct sender s;
	struct vmm v = { 0 };
	struct xts_stream_error err;
	const struct gen_rec *r;

	make_stream(&s);
	r = gen_find(&s.g, 2, 8, 0);
	set_int(s.g.b + r->offset + 4, 20, 4, false);
	assert_int_equal(run(&s, &v, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "X86_TSC_INFO"));
	assert_int_equal(s.stage, 1);                 /* no ready: the sender resumes */
	assert_int_equal(v.started, 0);
	free(s.g.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_start_fails),
		cmocka_unit_test(test_bad_go),
		cmocka_unit_test(test_bad_stream),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
