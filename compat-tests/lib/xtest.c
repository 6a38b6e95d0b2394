/* Shared helpers of the compat tests (see xtest.h). */
#include "compat-tests/lib/xtest.h"

static const char *const errno_names[] = {
#define XEN_ERRNO(name, value) [value] = #name,
#include <xen/errno.h>
};

const char *xen_errno_name(long rc)
{
	if (rc == 0)
		return "0";
	if (rc < 0 && -rc < (long)ARRAY_SIZE(errno_names) && errno_names[-rc])
		return errno_names[-rc];
	return "?";
}

static void vfail(const char *fmt, va_list ap, const char *tail)
{
	char buf[160];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	xfail("%s%s", buf, tail);
}

bool expect_rc(long got, long want, const char *fmt, ...)
{
	if (got == want)
		return true;
	char tail[64];
	snprintf(tail, sizeof(tail), ": got %ld (%s), want %ld (%s)", got, xen_errno_name(got),
		 want, xen_errno_name(want));
	va_list ap;
	va_start(ap, fmt);
	vfail(fmt, ap, tail);
	va_end(ap);
	return false;
}

bool check(bool cond, const char *fmt, ...)
{
	if (cond)
		return true;
	va_list ap;
	va_start(ap, fmt);
	vfail(fmt, ap, "");
	va_end(ap);
	return false;
}

bool cmdline_u64(const char *key, uint64_t *out)
{
	char buf[24];
	const char *end;
	if (!cmdline_arg(key, buf, sizeof(buf)) || !buf[0])
		return false;
	*out = strtou64(buf, &end);
	return *end == '\0';
}

bool xtest_setup(unsigned steps)
{
	int rc = 0;
	const char *what = "";

	if (!xen_detect()) {
		xskip("no Xen CPUID leaves: not running on Xen or xtshim");
		return false;
	}
	if ((steps & SETUP_HCALL) && (rc = xen_install_hypercall_page()))
		what = "installing the hypercall page";
	else if ((steps & SETUP_SHINFO) && (rc = xen_map_shared_info()))
		what = "XENMEM_add_to_physmap(shared_info)";
	else if ((steps & SETUP_VCPU_INFO) && (rc = xen_register_vcpu_info(0)))
		what = "VCPUOP_register_vcpu_info for vCPU 0";
	else if ((steps & SETUP_UPCALL) && (rc = xen_set_upcall_vector(0)) &&
		 (rc = xen_set_callback_vector()))
		what = "setting an upcall vector (per vCPU and CALLBACK_IRQ)";
	if (rc) {
		xerror("set-up: %s: %d (%s)", what, rc, xen_errno_name(rc));
		return false;
	}
	return true;
}

int timer_bind(unsigned cpu, evtchn_handler_t fn, void *arg, evtchn_port_t *port)
{
	int rc = xen_set_upcall_vector(cpu);
	if (rc && cpu == 0)
		rc = xen_set_callback_vector();
	if (rc)
		return rc;
	return evtchn_bind_virq(VIRQ_TIMER, cpu, fn, arg, port);
}

bool wait_count(volatile unsigned *counter, unsigned seen, uint64_t limit_ns)
{
	bool moved;
	local_irq_enable();
	while (!(moved = (*counter != seen)) && xen_system_time() < limit_ns)
		cpu_relax();
	local_irq_disable();
	return moved || *counter != seen;
}

bool halt_count(volatile unsigned *counter, unsigned seen, uint64_t limit_ns)
{
	/* sti; hlt per round: the library's LAPIC heartbeat bounds each sleep. */
	while (*counter == seen && xen_system_time() < limit_ns)
		safe_halt();
	local_irq_disable();
	return *counter != seen;
}

void delay_ns(uint64_t ns)
{
	uint64_t end = xen_system_time() + ns;
	while (xen_system_time() < end)
		cpu_relax();
}

static volatile bool smp_done[MAX_CPUS];
static void (*volatile smp_fn[MAX_CPUS])(unsigned cpu);

static void smp_trampoline(unsigned cpu)
{
	smp_fn[cpu](cpu);
	__atomic_store_n(&smp_done[cpu], true, __ATOMIC_SEQ_CST);
}

bool smp_start(unsigned cpu, void (*fn)(unsigned cpu))
{
	if (cpu == 0 || cpu >= MAX_CPUS) {
		xerror("smp_start: no vCPU %u in this library", cpu);
		return false;
	}
	smp_fn[cpu] = fn;
	smp_done[cpu] = false;
	int rc = smp_start_cpu(cpu, smp_trampoline);
	if (rc) {
		xerror("starting vCPU %u: %d (%s)", cpu, rc, xen_errno_name(rc));
		return false;
	}
	return true;
}

bool smp_wait(unsigned cpu, uint64_t timeout_ns)
{
	uint64_t limit = xen_system_time() + timeout_ns;
	while (!__atomic_load_n(&smp_done[cpu], __ATOMIC_SEQ_CST) && xen_system_time() < limit)
		cpu_relax();
	if (!smp_done[cpu]) {
		xfail("vCPU %u did not finish within %llu ms", cpu,
		      (unsigned long long)(timeout_ns / NS_PER_MS));
		return false;
	}
	return true;
}

bool smp_run(unsigned cpu, void (*fn)(unsigned cpu), uint64_t timeout_ns)
{
	return smp_start(cpu, fn) && smp_wait(cpu, timeout_ns);
}

void sort_u64(uint64_t *v, unsigned n)
{
	/* Shell sort: no recursion, fine for the few thousand samples a test keeps. */
	for (unsigned gap = n / 2; gap; gap /= 2)
		for (unsigned i = gap; i < n; i++) {
			uint64_t x = v[i];
			unsigned j = i;
			for (; j >= gap && v[j - gap] > x; j -= gap)
				v[j] = v[j - gap];
			v[j] = x;
		}
}

uint64_t percentile(const uint64_t *sorted, unsigned n, unsigned pct)
{
	if (!n)
		return 0;
	unsigned rank = (unsigned)(((uint64_t)n * pct + 99) / 100);   /* nearest rank, 1-based */
	return sorted[rank ? rank - 1 : 0];
}
