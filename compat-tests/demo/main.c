/*
 * Demo (`make run`): every vCPU shows the Xen time it reads - system time
 * from its pvclock record, the TSC, and UTC from the shared_info wallclock -
 * twice a second for a few seconds (seconds=N on the command line, default
 * 3), woken by its own singleshot timer, then the guest powers off.
 */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/xtest.h"

const char test_title[] = "demo: Xen time on every vCPU";

#define TICK_NS 500000000ULL

static uint64_t end_ns;
static volatile bool done[MAX_CPUS];
static volatile unsigned ticks[MAX_CPUS];

static void on_timer(evtchn_port_t port, void *arg)
{
	ticks[this_cpu()]++;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (eras of 400 years). */
static void civil_date(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468;
	uint64_t era = z / 146097;
	uint64_t doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

static void show(unsigned cpu)
{
	struct vcpu_time_info t;
	uint64_t tsc = xen_time_snapshot(cpu, &t);
	uint64_t sys = pvclock_at(&t, tsc);
	uint64_t wc_sec;
	uint32_t wc_nsec;
	xen_wallclock(&wc_sec, &wc_nsec);
	uint64_t utc_ns = wc_sec * 1000000000ULL + wc_nsec + sys;
	uint64_t secs = utc_ns / 1000000000ULL;
	unsigned y, mo, d;
	civil_date(secs / 86400, &y, &mo, &d);
	unsigned sod = (unsigned)(secs % 86400);
	printk("vCPU %u: system time %6llu.%06llu ms  TSC %llu  UTC %04u-%02u-%02u %02u:%02u:%02u.%03u\n",
	       cpu, (unsigned long long)(sys / 1000000), (unsigned long long)(sys % 1000000),
	       (unsigned long long)tsc, y, mo, d, sod / 3600, sod / 60 % 60, sod % 60,
	       (unsigned)(utc_ns / 1000000 % 1000));
}

static void run(unsigned cpu)
{
	evtchn_port_t port;
	int rc = timer_bind(cpu, on_timer, NULL, &port);
	if (rc) {
		xerror("vCPU %u: binding VIRQ_TIMER with an upcall vector: %d", cpu, rc);
		goto out;
	}
	/* vCPUs take turns: vCPU n ticks n * 100 ms after vCPU 0. */
	uint64_t next = xen_system_time() + cpu * 100000000ULL;
	local_irq_enable();
	while (next < end_ns) {
		unsigned seen = ticks[cpu];
		if ((rc = (int)xen_set_singleshot(cpu, next, 0))) {
			xerror("vCPU %u: set_singleshot_timer: %d", cpu, rc);
			break;
		}
		while (ticks[cpu] == seen)
			safe_halt();
		show(cpu);
		next += TICK_NS;
	}
	local_irq_disable();
out:
	done[cpu] = true;
}

void test_main(void)
{
	char buf[16];
	int rc;
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO | SETUP_VCPU_INFO))
		return;
	uint64_t seconds = cmdline_arg("seconds", buf, sizeof(buf)) ? strtou64(buf, NULL) : 3;
	unsigned n = smp_possible_cpus();
	if (n > MAX_CPUS)
		n = MAX_CPUS;
	printk("Xen %ld.%ld, %u vCPU(s), %llu s\n", xen_version(XENVER_version, NULL) >> 16,
	       xen_version(XENVER_version, NULL) & 0xffff, n, (unsigned long long)seconds);
	end_ns = xen_system_time() + seconds * 1000000000ULL;
	for (unsigned cpu = 1; cpu < n; cpu++)
		if ((rc = smp_start_cpu(cpu, run)))
			xerror("starting vCPU %u: %d", cpu, rc);
		else
			done[cpu] = false;
	run(0);
	for (unsigned cpu = 1; cpu < n; cpu++)
		while (!done[cpu] && xen_system_time() < end_ns + 2000000000ULL)
			cpu_relax();
}
