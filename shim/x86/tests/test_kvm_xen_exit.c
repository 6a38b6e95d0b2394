/*
 * Kernel backend, guest side: KVM_EXIT_XEN decoding for 64- and 32-bit
 * callers and CPL 3, results written back through a real xtshim domain (the
 * dispatcher the userspace backend uses), and the Xen-system-time ->
 * kvmclock timer conversion against the guest's own pvclock formula.
 */
#include "shim/x86/tests/test_kvm_xen_fake.h"

#define RAM_SIZE  (4ULL << 20)
#define HOST_KHZ  2294686u                 /* facts §2: mul 0xdf1fcc33, shift -1 */
#define T0        900000000000ULL
#define R0        1700000000000000000ULL
#define START_TSC 77777ULL
#define XENVER    0x40011u

struct env {
	uint8_t *ram;
	struct xts_gmem mem;
	struct xts_clock clock;
	struct xts_domain *d;
	uint64_t host_tsc;
};

static void p_inject(void *o, unsigned vcpu, uint8_t vector) {}
static void p_kick(void *o, unsigned vcpu) {}
static void p_arm(void *o, unsigned vcpu, uint64_t deadline) {}
static void p_console(void *o, const char *buf, size_t len) {}
static void p_sample(void *o, struct xts_host_sample *now)
{
	struct env *e = o;
	now->host_tsc = e->host_tsc;
	now->realtime_ns = R0;
}

static const struct xts_platform_ops p_ops = {
	.inject_upcall = p_inject, .kick = p_kick, .arm_timer = p_arm,
	.console_write = p_console, .host_sample = p_sample,
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	e->ram = aligned_alloc(4096, RAM_SIZE);
	memset(e->ram, 0, RAM_SIZE);
	assert_int_equal(xts_gmem_add(&e->mem, 0, RAM_SIZE, e->ram), 0);
	struct xts_clock_params p = {
		.arch = XTS_ARCH_X86, .nr_vcpus = 2, .host_tsc_khz = HOST_KHZ, .start_tsc = START_TSC,
	};
	struct xts_host_sample now = { .host_tsc = T0, .realtime_ns = R0 };
	assert_int_equal(xts_clock_new(&e->clock, &p, &now), 0);
	e->host_tsc = T0 + 1000;
	struct xts_domain_config cfg = {
		.mem = &e->mem, .clock = &e->clock, .nr_vcpus = 2, .domid = 1,
		.xen_version = XENVER, .ops = &p_ops, .opaque = e,
		.transport = XTS_TRANSPORT_VMCALL,
	};
	assert_int_equal(xts_domain_create(&cfg, &e->d), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	xts_domain_destroy(e->d);
	free(e->ram);
	free(e);
	return 0;
}

static void xen_exit(struct kvm_run *run, bool lm, uint32_t cpl, uint64_t input,
		     uint64_t p0, uint64_t p1, uint64_t p2)
{
	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_XEN;
	run->xen.type = KVM_EXIT_XEN_HCALL;
	run->xen.u.hcall.longmode = lm;
	run->xen.u.hcall.cpl = cpl;
	run->xen.u.hcall.input = input;
	run->xen.u.hcall.params[0] = p0;
	run->xen.u.hcall.params[1] = p1;
	run->xen.u.hcall.params[2] = p2;
	run->xen.u.hcall.params[3] = 0x1111111122222222ULL;
	run->xen.u.hcall.params[4] = 0x3333333344444444ULL;
	run->xen.u.hcall.params[5] = 0x5555555566666666ULL;
	run->xen.u.hcall.result = 0xbadbadbadULL;
}

/* ---- decoding ---- */

static void test_decode_64(void **state)
{
	struct kvm_run run;
	struct xts_hcall h;
	xen_exit(&run, true, 0, __HYPERVISOR_vcpu_op, 0xffffffff00000008ULL, 1, 0x7fff00001000ULL);
	assert_int_equal(xts_kvm_xen_decode_exit(&run, &h), 0);
	assert_true(h.long_mode);
	assert_int_equal(h.cpl, 0);
	assert_int_equal(h.nr, 24);
	/* 64-bit callers keep all 64 bits of every argument (RDI RSI RDX R10 R8 R9). */
	assert_int_equal(h.args[0], 0xffffffff00000008ULL);
	assert_int_equal(h.args[1], 1);
	assert_int_equal(h.args[2], 0x7fff00001000ULL);
	assert_int_equal(h.args[3], 0x1111111122222222ULL);
	assert_int_equal(h.args[4], 0x3333333344444444ULL);
	assert_int_equal(h.args[5], 0x5555555566666666ULL);

	/* A number above 32 bits is no hypercall, not a truncated one. */
	xen_exit(&run, true, 0, 0x100000000ULL + __HYPERVISOR_xen_version, 0, 0, 0);
	assert_int_equal(xts_kvm_xen_decode_exit(&run, &h), 0);
	assert_int_equal(h.nr, UINT32_MAX);
}

static void test_decode_32_and_cpl(void **state)
{
	struct kvm_run run;
	struct xts_hcall h;
	xen_exit(&run, false, 3, 0xdead000000000000ULL | __HYPERVISOR_sched_op,
		 0xaaaaaaaa00000001ULL, 0xffffffffffffffffULL, 7);
	assert_int_equal(xts_kvm_xen_decode_exit(&run, &h), 0);
	assert_false(h.long_mode);
	assert_int_equal(h.cpl, 3);
	assert_int_equal(h.nr, 29);
	/* EBX ECX EDX ESI EDI EBP: 32 bits each, whatever KVM left above them. */
	assert_int_equal(h.args[0], 1);
	assert_int_equal(h.args[1], 0xffffffffULL);
	assert_int_equal(h.args[2], 7);
	assert_int_equal(h.args[3], 0x22222222ULL);
	assert_int_equal(h.args[4], 0x44444444ULL);
	assert_int_equal(h.args[5], 0x66666666ULL);

	/* CPL is 0..3; anything else is treated as user mode. */
	xen_exit(&run, true, 7, 17, 0, 0, 0);
	assert_int_equal(xts_kvm_xen_decode_exit(&run, &h), 0);
	assert_int_equal(h.cpl, 3);
	xen_exit(&run, true, 1, 17, 0, 0, 0);
	assert_int_equal(xts_kvm_xen_decode_exit(&run, &h), 0);
	assert_int_equal(h.cpl, 1);
}

static void test_decode_rejects(void **state)
{
	struct env *e = *state;
	struct kvm_run run;
	struct xts_hcall h;
	enum xts_hcall_action act = (enum xts_hcall_action)77;

	xen_exit(&run, true, 0, 17, 0, 0, 0);
	run.exit_reason = KVM_EXIT_HYPERCALL;
	assert_int_equal(xts_kvm_xen_decode_exit(&run, &h), -EINVAL);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 0, &run, &act), -EINVAL);
	assert_int_equal(run.xen.u.hcall.result, 0xbadbadbadULL);   /* untouched */
	assert_int_equal(act, 77);
	xen_exit(&run, true, 0, 17, 0, 0, 0);
	run.xen.type = 2;
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 0, &run, &act), -EINVAL);
	assert_int_equal(run.xen.u.hcall.result, 0xbadbadbadULL);
	assert_int_equal(xts_kvm_xen_decode_exit(NULL, &h), -EINVAL);
}

/* ---- through the dispatcher ---- */

static void test_handle_exit_results(void **state)
{
	struct env *e = *state;
	struct kvm_run run;
	enum xts_hcall_action act;

	/* xen_version(XENVER_version): the configured version, for both widths. */
	xen_exit(&run, true, 0, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 0, &run, &act), 0);
	assert_int_equal(act, XTS_HCALL_DONE);
	assert_int_equal(run.xen.u.hcall.result, XENVER);
	xen_exit(&run, false, 0, __HYPERVISOR_xen_version, 0xffffffff00000000ULL | XENVER_version, 0, 0);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 1, &run, &act), 0);
	assert_int_equal(run.xen.u.hcall.result, XENVER);

	/* CPL 3: -EPERM, as a 64-bit value or as EAX zero-extended. */
	xen_exit(&run, true, 3, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 0, &run, &act), 0);
	assert_int_equal(run.xen.u.hcall.result, (uint64_t)(int64_t)-XEN_EPERM);
	xen_exit(&run, false, 3, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 0, &run, &act), 0);
	assert_int_equal(run.xen.u.hcall.result, (uint64_t)(uint32_t)-XEN_EPERM);

	/* Unknown numbers, and one above 32 bits: -ENOSYS. */
	xen_exit(&run, true, 0, 99, 0, 0, 0);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 0, &run, &act), 0);
	assert_int_equal(run.xen.u.hcall.result, (uint64_t)(int64_t)-XEN_ENOSYS);
	xen_exit(&run, true, 0, 0x100000000ULL + __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 0, &run, &act), 0);
	assert_int_equal(run.xen.u.hcall.result, (uint64_t)(int64_t)-XEN_ENOSYS);

}

static void test_handle_exit_block(void **state)
{
	struct env *e = *state;
	struct kvm_run run;
	enum xts_hcall_action act = XTS_HCALL_DONE;

	/* SCHEDOP_block with nothing pending: result 0, and the VMM must block the vCPU. */
	xen_exit(&run, true, 0, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 1, &run, &act), 0);
	assert_int_equal(run.xen.u.hcall.result, 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	assert_false(xts_domain_vcpu_runnable(e->d, 1));
	/* A NULL action pointer is allowed (the result is still written). */
	xen_exit(&run, true, 0, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	assert_int_equal(xts_kvm_xen_handle_exit(e->d, 0, &run, NULL), 0);
	assert_int_equal(run.xen.u.hcall.result, XENVER);
}

/* ---- timer expiry ---- */

/* The guest's pvclock formula from facts §2, on the model's line, at host TSC h. */
static uint64_t ref_system_ns(const struct xts_clock *c, uint64_t h)
{
	uint64_t guest = h + c->tsc_offset;               /* ratio 1.0, vCPU 0 */
	uint64_t delta = guest - c->line.tsc;
	delta = c->line.shift < 0 ? delta >> -c->line.shift : delta << c->line.shift;
	return c->line.system_ns + (uint64_t)(((unsigned __int128)delta * c->line.mul) >> 32);
}

static void test_timer_expiry(void **state)
{
	struct env *e = *state;
	const struct xts_clock *c = &e->clock;
	uint64_t x;

	assert_int_equal(c->line.mul, 0xdf1fcc33u);
	assert_int_equal(c->line.shift, -1);

	const uint64_t hs[] = { T0, T0 + 1, T0 + 2294686000ULL, T0 + 987654321987ULL };
	const uint64_t ks[] = { 1, 123456789, 5000000000000ULL };
	for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		for (size_t j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
			struct xts_kvm_clock_sample s = { .kvmclock_ns = ks[j], .host_tsc = hs[i], .exact = true };
			uint64_t now = ref_system_ns(c, hs[i]);
			const uint64_t ahead[] = { 1, 999, 1000000, 10000000000ULL };
			uint64_t prev = 0;
			for (size_t a = 0; a < sizeof(ahead) / sizeof(ahead[0]); a++) {
				assert_int_equal(xts_kvm_xen_timer_expiry(c, now + ahead[a], &s, 0, &x), 0);
				assert_int_equal(x, ks[j] + ahead[a]);
				assert_true(x > prev);           /* later deadline, later expiry */
				prev = x;
				/* 100 ppm of slack: ceil(ahead * 100 / 1e6) later. */
				assert_int_equal(xts_kvm_xen_timer_expiry(c, now + ahead[a], &s, 100, &x), 0);
				assert_int_equal(x, ks[j] + ahead[a] + (ahead[a] * 100 + 999999) / 1000000);
			}
			/* Due now or in the past: at once (kvmclock now). */
			assert_int_equal(xts_kvm_xen_timer_expiry(c, now, &s, 0, &x), 0);
			assert_int_equal(x, ks[j]);
			if (now > 0) {
				assert_int_equal(xts_kvm_xen_timer_expiry(c, now - 1, &s, 50, &x), 0);
				assert_int_equal(x, ks[j]);
			}
		}
	}
	/* kvmclock 0 and a due deadline: still a timer (0 would mean none). */
	struct xts_kvm_clock_sample z = { .kvmclock_ns = 0, .host_tsc = T0 + 5000, .exact = true };
	assert_int_equal(xts_kvm_xen_timer_expiry(c, 1, &z, 0, &x), 0);
	assert_int_equal(x, 1);
	/* Beyond kvmclock's range. */
	struct xts_kvm_clock_sample big = { .kvmclock_ns = UINT64_MAX - 10, .host_tsc = T0, .exact = true };
	assert_int_equal(xts_kvm_xen_timer_expiry(c, 1000, &big, 0, &x), -ERANGE);
	assert_int_equal(xts_kvm_xen_timer_expiry(c, 1000, NULL, 0, &x), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_64),
		cmocka_unit_test(test_decode_32_and_cpl),
		cmocka_unit_test_setup_teardown(test_decode_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_exit_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_exit_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_expiry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
