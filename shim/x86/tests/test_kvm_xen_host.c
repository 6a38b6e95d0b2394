/*
 * Kernel backend against the real /dev/kvm of this machine (skipped without
 * it).  Hosts without in-kernel Xen (KVM_CAP_XEN_HVM = 0, like this nested
 * one) still exercise: the probe and the plan it leads to, KVM refusing
 * KVM_XEN_HVM_CONFIG and the report naming that step, the TSC steps of
 * xts_kvm_xen_load() on a real vCPU (read back through MSR_IA32_TSC), and
 * KVM_SET_CLOCK / KVM_GET_CLOCK as the KVM-records path issues them.
 * Assertions are orderings (values bracketed by host TSC reads), never
 * durations.
 */
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <x86intrin.h>

#include "shim/x86/tests/test_kvm_xen_fake.h"

#define MSR_IA32_TSC 0x10

struct host {
	int kvm, vm, vcpu;
	uint32_t caps;
	struct xts_clock clock;
	struct xts_kvm_xen k;
};

static int setup(void **state)
{
	struct host *h = calloc(1, sizeof(*h));
	h->kvm = h->vm = h->vcpu = -1;
	*state = h;
	h->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (h->kvm < 0)
		return 0;
	h->vm = ioctl(h->kvm, KVM_CREATE_VM, 0);
	if (h->vm >= 0)
		h->vcpu = ioctl(h->vm, KVM_CREATE_VCPU, 0);
	h->caps = xts_kvm_xen_probe(NULL, NULL, h->kvm);
	return 0;
}

static int teardown(void **state)
{
	struct host *h = *state;
	if (h->vcpu >= 0)
		close(h->vcpu);
	if (h->vm >= 0)
		close(h->vm);
	if (h->kvm >= 0)
		close(h->kvm);
	free(h);
	return 0;
}

static void need_kvm(struct host *h)
{
	if (h->kvm < 0) {
		print_message("SKIP: /dev/kvm not available (%s)\n", strerror(errno));
		skip();
	}
	if (h->vm < 0 || h->vcpu < 0) {
		print_message("SKIP: cannot create a KVM VM/vCPU here\n");
		skip();
	}
}

static void make_k(struct host *h, uint32_t caps, enum xts_kvm_xen_want want)
{
	char why[256];
	uint32_t khz;
	assert_int_equal(xts_kvm_tsc_khz(h->vcpu, &khz), 0);
	struct xts_clock_params p = {
		.arch = XTS_ARCH_X86, .nr_vcpus = 1, .host_tsc_khz = khz, .start_tsc = 1ULL << 40,
	};
	struct xts_host_sample now;
	xts_host_sample_now(&now);
	assert_int_equal(xts_clock_new(&h->clock, &p, &now), 0);
	memset(&h->k, 0, sizeof(h->k));
	h->k.vm_fd = h->vm;
	h->k.nr_vcpus = 1;
	h->k.vcpu_fds = &h->vcpu;
	h->k.xen_version = 0x40011;
	h->k.shared_info_gfn = XTS_KVM_XEN_NO_GPA;
	assert_int_equal(xts_kvm_xen_plan(caps, want, false, &h->k.plan, why, sizeof(why)), 0);
}

static void test_probe_and_plan(void **state)
{
	struct host *h = *state;
	need_kvm(h);
	struct xts_kvm_xen_plan p;
	char why[256];
	print_message("KVM_CAP_XEN_HVM = %#x on this host\n", h->caps);
	assert_int_equal(xts_kvm_xen_plan(h->caps, XTS_KVM_XEN_WANT_AUTO, false, &p, why, sizeof(why)), 0);
	print_message("auto: transport %d records %d: %s\n", p.transport, p.records, why);
	const uint32_t transport = XTS_KVM_XEN_HYPERCALL_MSR | XTS_KVM_XEN_INTERCEPT_HCALL;
	bool full = (h->caps & XTS_KVM_XEN_RECORDS_NEED) == XTS_KVM_XEN_RECORDS_NEED;
	assert_int_equal(p.transport == XTS_KVM_XEN_TRANSPORT_KVM,
			 (h->caps & transport) == transport);
	assert_int_equal(p.records, XTS_KVM_XEN_RECORDS_XTSHIM);
	int rc = xts_kvm_xen_plan(h->caps, XTS_KVM_XEN_WANT_KERNEL, false, &p, why, sizeof(why));
	assert_int_equal(rc, full ? 0 : -ENOTSUP);
	if (rc)
		print_message("--backend kernel would say: %s\n", why);
}

/* Without in-kernel Xen, KVM refuses the config: step 0 fails and nothing is claimed. */
static void test_config_refused_without_xen(void **state)
{
	struct host *h = *state;
	need_kvm(h);
	if (h->caps & XTS_KVM_XEN_INTERCEPT_HCALL) {
		print_message("SKIP: this host has in-kernel Xen; the refusal path needs one without\n");
		skip();
	}
	make_k(h, 0x1ff, XTS_KVM_XEN_WANT_KERNEL);     /* pretend the probe said yes */
	struct xts_kvm_xen_report rep;
	int rc = xts_kvm_xen_setup_vm(&h->k, &rep);
	print_message("setup_vm on this KVM: %d (%s), step %d: %s\n", rc, strerror(-rc),
		      rep.failed_step, rep.what);
	assert_true(rc < 0);
	assert_int_equal(rep.failed_step, 0);
	assert_int_equal(rep.steps_done, 0);
	assert_string_equal(rep.what, "KVM_XEN_HVM_CONFIG");
	assert_false(h->k.configured);
}

static uint64_t read_guest_tsc(int vcpu)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e.index = MSR_IA32_TSC;
	assert_int_equal(ioctl(vcpu, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

/* The TSC steps on a real vCPU: the guest TSC reads the model's value. */
static void test_tsc_steps(void **state)
{
	struct host *h = *state;
	need_kvm(h);
	make_k(h, 0x3, XTS_KVM_XEN_WANT_USERSPACE);   /* no Xen ioctls: TSC steps only */
	struct xts_kvm_xen_report rep;
	int rc = xts_kvm_xen_load(&h->k, &h->clock, NULL, NULL, &rep);
	if (rc == -EOPNOTSUPP) {
		/* PVM and the like: the refusal is what must happen, and it names the step. */
		assert_int_equal(rep.failed_step, 2);
		assert_non_null(strstr(rep.what, "KVM_VCPU_TSC_OFFSET ignored"));
		print_message("SKIP: this KVM ignores KVM_VCPU_TSC_OFFSET (refused as it should: "
			      "\"%s\"); no guest TSC to compare\n", rep.what);
		skip();
	}
	assert_int_equal(rc, 0);
	assert_int_equal(rep.steps_done, 3);
	uint64_t before = __rdtsc();
	uint64_t g = read_guest_tsc(h->vcpu);
	uint64_t after = __rdtsc();
	uint64_t lo = xts_clock_guest_tsc(&h->clock, 0, before);
	uint64_t hi = xts_clock_guest_tsc(&h->clock, 0, after);
	print_message("guest TSC %llu within [%llu, %llu]\n", (unsigned long long)g,
		      (unsigned long long)lo, (unsigned long long)hi);
	assert_in_range(g, lo, hi);
}

/*
 * The KVM-records path up to the first Xen attribute: KVM_SET_CLOCK runs on
 * any KVM, so kvmclock must then read at least the model's system time
 * that was set; LONG_MODE is refused here and reported as such.
 */
static void test_set_clock_then_refusal(void **state)
{
	struct host *h = *state;
	need_kvm(h);
	if (h->caps & XTS_KVM_XEN_SHARED_INFO) {
		print_message("SKIP: this host has in-kernel Xen; the refusal path needs one without\n");
		skip();
	}
	make_k(h, 0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	h->k.configured = true;                        /* as if KVM_XEN_HVM_CONFIG had worked */
	struct xts_kvm_xen_vm_state vm = { .long_mode = true, .shared_info_gfn = XTS_KVM_XEN_NO_GPA };
	struct xts_kvm_xen_vcpu_state vs = {
		.vcpu_info_gpa = XTS_KVM_XEN_NO_GPA, .time_info_gpa = XTS_KVM_XEN_NO_GPA,
		.runstate_gpa = XTS_KVM_XEN_NO_GPA,
	};
	uint64_t before = xts_clock_system_ns(&h->clock, __rdtsc());
	struct xts_kvm_xen_report rep;
	int rc = xts_kvm_xen_load(&h->k, &h->clock, &vm, &vs, &rep);
	print_message("load: %d, step %d: %s\n", rc, rep.failed_step, rep.what);
	if (rc == -EOPNOTSUPP && strstr(rep.what, "KVM_VCPU_TSC_OFFSET ignored")) {
		print_message("SKIP: this KVM ignores KVM_VCPU_TSC_OFFSET, so the KVM-records "
			      "path stops before KVM_SET_CLOCK\n");
		skip();
	}
	assert_true(rc < 0);
	assert_int_equal(rep.failed_step, 4);  /* TSC kHz, offset set + read-back, clock, LONG_MODE */
	assert_string_equal(rep.what, "KVM_XEN_HVM_SET_ATTR LONG_MODE");
	assert_true(h->k.clock_set);
	assert_false(h->k.long_mode);

	struct xts_kvm_clock_sample s;
	assert_int_equal(xts_kvm_xen_clock_sample(&h->k, &s), 0);
	uint64_t after = xts_clock_system_ns(&h->clock, __rdtsc());
	print_message("kvmclock %llu (HOST_TSC %s), model system time in [%llu, %llu]\n",
		      (unsigned long long)s.kvmclock_ns, s.exact ? "yes" : "no",
		      (unsigned long long)before, (unsigned long long)after);
	/* kvmclock only moves forward from the value set, which was at least `before`. */
	assert_true(s.kvmclock_ns >= before);
	/* An already-due deadline maps to kvmclock now; a later one, later. */
	uint64_t x;
	assert_int_equal(xts_kvm_xen_timer_expiry(&h->clock, before, &s, 0, &x), 0);
	assert_int_equal(x, s.kvmclock_ns ? s.kvmclock_ns : 1);
}

/* KVM_GET_CLOCK on a real VM: kvmclock and the host TSC it pairs with never go back. */
static void test_clock_sample(void **state)
{
	struct host *h = *state;
	need_kvm(h);
	make_k(h, 0, XTS_KVM_XEN_WANT_USERSPACE);
	struct xts_kvm_clock_sample a, b;
	uint64_t t0 = __rdtsc();
	assert_int_equal(xts_kvm_xen_clock_sample(&h->k, &a), 0);
	assert_int_equal(xts_kvm_xen_clock_sample(&h->k, &b), 0);
	uint64_t t1 = __rdtsc();
	print_message("kvmclock %llu -> %llu, host TSC %llu -> %llu (KVM_CLOCK_HOST_TSC: %s)\n",
		      (unsigned long long)a.kvmclock_ns, (unsigned long long)b.kvmclock_ns,
		      (unsigned long long)a.host_tsc, (unsigned long long)b.host_tsc,
		      a.exact ? "yes" : "no");
	assert_true(b.kvmclock_ns >= a.kvmclock_ns);
	assert_true(b.host_tsc >= a.host_tsc);
	if (!a.exact) {
		/* The fallback's midpoint lies between our own reads. */
		assert_in_range(a.host_tsc, t0, t1);
		assert_in_range(b.host_tsc, t0, t1);
	}
}

/* The stub instruction follows the CPU vendor, as /proc/cpuinfo names it. */
static void test_stub_transport(void **state)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f) {
		print_message("SKIP: /proc/cpuinfo: %s\n", strerror(errno));
		skip();
	}
	char line[256], vendor[64] = "";
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "vendor_id : %63s", vendor) == 1)
			break;
	fclose(f);
	print_message("vendor %s\n", vendor);
	bool amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
	assert_int_equal(xts_kvm_xen_stub_transport(),
			 amd ? XTS_TRANSPORT_VMMCALL : XTS_TRANSPORT_VMCALL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_and_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_refused_without_xen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tsc_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_clock_then_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_sample, setup, teardown),
		cmocka_unit_test(test_stub_transport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
