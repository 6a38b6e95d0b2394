/*
 * `xtshim inspect`: exit status and output for acceptable and rejected
 * streams.  The command's source is compiled into this test so it runs
 * without the VMM binary (which needs /dev/kvm for other commands).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/inspect.c"
#include "shim/tests/xen-stream-gen.h"

/* Run inspect on a buffer (via a file path), capture stdout. */
static int run(const struct gen *g, const char *a1, char *out, size_t outlen)
{
	char path[] = "/tmp/xtshim-inspect-XXXXXX";
	int fd = mkstemp(path), cap = memfd_create("out", 0), saved, rc;
	char *argv[4] = { "inspect", (char *)a1, path, NULL };
	int argc = a1 ? 3 : 2;
	ssize_t n;

	assert_true(fd >= 0 && cap >= 0);
	if (!a1)
		argv[1] = path;
	assert_int_equal(write(fd, g->b, g->len), (ssize_t)g->len);
	close(fd);
	fflush(stdout);
	saved = dup(1);
	dup2(cap, 1);
	rc = xtshim__cmd_inspect(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	lseek(cap, 0, SEEK_SET);
	n = read(cap, out, outlen - 1);
	out[n > 0 ? n : 0] = 0;
	close(cap);
	unlink(path);
	return rc;
}

static void test_inspect_ok(void **state)
{
	struct gen_opts o;
	struct gen g;
	static char out[1 << 16];

	gen_opts_default(&o);
	o.nr_vcpus = 3;
	o.tsc0 = 111222333444ull;
	gen_stream(&g, &o);
	assert_int_equal(run(&g, NULL, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "X86_TSC_INFO: mode 0, 2294686 kHz"));
	assert_non_null(strstr(out, "111222333444"));              /* vCPU 0 TSC */
	assert_non_null(strstr(out, "111222335444"));              /* vCPU 2 TSC */
	assert_non_null(strstr(out, "incarnation 3 (4 after restore)"));
	assert_non_null(strstr(out, "\nacceptable\n"));
	assert_int_equal(run(&g, "--json", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"acceptable\": true"));
	assert_non_null(strstr(out, "\"guest_tsc\": [111222333444, 111222334444, 111222335444]"));
	free(g.b);
}

static void test_inspect_rejected(void **state)
{
	struct gen_opts o;
	struct gen g;
	static char out[1 << 16];
	const struct gen_rec *r;
	char want[64];

	gen_opts_default(&o);
	gen_stream(&g, &o);
	r = gen_find(&g, 2, 8, 0);
	set_int(g.b + r->offset + 4, 20, 4, false);
	assert_int_equal(run(&g, NULL, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "libxc record #%u (X86_TSC_INFO, type 0x8) at offset %zu",
		 r->index, r->offset);
	assert_non_null(strstr(out, "REJECTED: "));
	assert_non_null(strstr(out, want));
	assert_int_equal(run(&g, "--json", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "\"acceptable\": false"));
	snprintf(want, sizeof(want), "\"offset\": %zu, \"message\"", r->offset);
	assert_non_null(strstr(out, want));
	free(g.b);
}

static void test_inspect_usage(void **state)
{
	char *argv[] = { "inspect", "--bogus", NULL };
	char *argv2[] = { "inspect", "a", "b", NULL };
	int null = open("/dev/null", O_WRONLY), saved = dup(2), rc1, rc2;

	fflush(stderr);                       /* keep the usage text out of the log */
	dup2(null, 2);
	rc1 = xtshim__cmd_inspect(2, argv);
	rc2 = xtshim__cmd_inspect(3, argv2);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(null);
	assert_int_equal(rc1, 2);
	assert_int_equal(rc2, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inspect_ok),
		cmocka_unit_test(test_inspect_rejected),
		cmocka_unit_test(test_inspect_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
