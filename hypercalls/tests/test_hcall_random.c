/*
 * Random hypercalls from random vCPUs and widths, with random guest memory
 * and pointers chosen to hit RAM, its edges, and far outside it; timers
 * firing at random host times in between.  Under SANITIZE=1 any access
 * outside the guest RAM buffer or any undefined behaviour aborts the test.
 * Every result must be success or a Xen errno the layer uses.
 * A fixed seed keeps it reproducible.
 */
#include "hypercalls/tests/fake.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t pick_ptr(void)
{
	static const uint64_t edges[] = {
		0, 8, 4096 - 4, RAM_SIZE - 64, RAM_SIZE - 8, RAM_SIZE - 1, RAM_SIZE,
		1ULL << 32, (1ULL << 32) - 4, UINT64_MAX, UINT64_MAX - 7, 1ULL << 63,
	};

	switch (next() % 4) {
	case 0:
		return edges[next() % (sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return next();
	default:
		return 0x100000 + (next() % 0x100000);   /* inside RAM, away from the rings */
	}
}

static bool is_known_result(int64_t r)
{
	static const int64_t ok[] = { -XEN_EPERM, -XEN_ENOENT, -XEN_ESRCH, -XEN_EFAULT,
				      -XEN_EBUSY, -XEN_EEXIST, -XEN_EINVAL, -XEN_ENOSPC,
				      -XEN_ENOSYS, -XEN_ETIME, -XEN_ENXIO, -XEN_EOPNOTSUPP,
				      -XEN_ENOMEM };
	unsigned i;

	if (r >= 0)
		return true;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (r == ok[i])
			return true;
	return false;
}

static void test_random_hypercalls(void **state)
{
	static const uint32_t nrs[] = {
		__HYPERVISOR_memory_op, __HYPERVISOR_set_timer_op, __HYPERVISOR_xen_version,
		__HYPERVISOR_console_io, __HYPERVISOR_grant_table_op, __HYPERVISOR_vm_assist,
		__HYPERVISOR_vcpu_op, __HYPERVISOR_sched_op, __HYPERVISOR_event_channel_op,
		__HYPERVISOR_hvm_op, 0, 127, 1000,
	};
	struct fake *f = fake_new(3);
	unsigned i, j;

	for (i = 0; i < 200000; i++) {
		struct xts_hcall h = { .nr = nrs[next() % (sizeof(nrs) / sizeof(nrs[0]))],
				       .long_mode = next() & 1, .cpl = (next() % 16) ? 0 : 3 };
		unsigned vcpu = next() % 3;
		int64_t ret = 0;

		/* Scribble over the argument area as a hostile guest would. */
		for (j = 0; j < 8; j++)
			((uint64_t *)gp(f, 0x100000 + (next() % 0x100000 & ~7ULL)))[0] = next();
		h.args[0] = next() % 24;                          /* sub-command */
		h.args[1] = (next() & 1) ? pick_ptr() : next() % 8;
		h.args[2] = pick_ptr();
		h.args[3] = next();
		xts_hypercall(f->d, vcpu, &h, &ret);
		if (!is_known_result(ret))
			fail_msg("hypercall %u cmd %llu returned %lld", h.nr,
				 (unsigned long long)h.args[0], (long long)ret);
		if (next() % 8 == 0) {
			f->host_tsc += next() % 10000000;
			xts_domain_timer_fired(f->d, next() % 3);
		}
		if (next() % 64 == 0)
			xts_domain_vcpu_running(f->d, next() % 3, next() & 1);
		if (next() % 256 == 0)
			xts_domain_update_time(f->d);
		if (next() % 512 == 0)
			xts_domain_write_hypercall_msr(f->d, 0, pick_ptr() & ~0xfffULL, next() & 1);
	}
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_hypercalls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
