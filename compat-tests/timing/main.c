/*
 * Timing leaf (CPUID base+3): the TSC mode, guest TSC kHz and incarnation
 * as the toolstack configured them (tsc_mode=, incarnation=, host_khz= on
 * the command line), subleaf 1's scale as Xen derives it from the kHz,
 * subleaf 2's host kHz, the same leaf on every vCPU, and the kHz against
 * the TSC rate measured over the pvclock.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "timing: CPUID base+3 (TSC mode, kHz, incarnation)";

#define WINDOW_NS     200000000ULL   /* 200 ms of system time for the rate */
#define RATE_PPM      200            /* Xen scales the calibrated Hz, CPUID shows kHz */
#define HOST_KHZ_PPM  1000           /* /proc/cpuinfo vs the host's TSC kHz */

static uint32_t leaf[MAX_CPUS][3][4];

static void read_leaf(unsigned cpu)
{
	for (unsigned sub = 0; sub < 3; sub++)
		cpuid_count(xen_cpuid_base + 3, sub, leaf[cpu][sub]);
}

/* Xen's set_time_scale(): ns = (ticks << shift) * mul >> 32, mul >= 2^31. */
static void xen_time_scale(uint64_t hz, uint32_t *mul, int *shift)
{
	int s = 0;
	while (hz > 2000000000ULL) {
		hz >>= 1;
		s--;
	}
	uint32_t t32 = (uint32_t)hz;
	while (t32 <= 1000000000u) {
		t32 <<= 1;
		s++;
	}
	*mul = (uint32_t)((1000000000ULL << 32) / t32);
	*shift = s;
}

/* |a - b| / b in parts per `unit` (10^6: ppm, 10^9: ppb). */
static uint64_t rel(uint64_t a, uint64_t b, uint64_t unit)
{
	return (a > b ? a - b : b - a) * unit / (b ? b : 1);
}
#define ppm(a, b) rel(a, b, 1000000)

static void check_config(const uint32_t (*l)[4])
{
	uint64_t want;
	printk("subleaf 0: flags %#x tsc_mode %u kHz %u incarnation %u\n", l[0][0], l[0][1],
	       l[0][2], l[0][3]);
	printk("subleaf 1: mul %#x shift %d; subleaf 2: host kHz %u\n", l[1][2], (int)l[1][3],
	       l[2][0]);
	if (cmdline_u64("tsc_mode", &want))
		check(l[0][1] == want, "tsc_mode %u, configured %llu", l[0][1], (unsigned long long)want);
	else
		xerror("no tsc_mode= on the command line to compare with");
	if (cmdline_u64("incarnation", &want))
		check(l[0][3] == want, "incarnation %u, expected %llu", l[0][3],
		      (unsigned long long)want);
	check(l[0][2] != 0, "guest TSC kHz is 0");
	/* never_emulate: Xen cannot have the TSC emulated. */
	check(!(l[0][1] == 2 && (l[0][0] & 1)), "never_emulate, yet EAX says the TSC is emulated");
	if (cmdline_u64("host_khz", &want)) {
		/* No TSC scaling configured: the guest runs at the host rate. */
		check(ppm(l[0][2], want) <= HOST_KHZ_PPM, "guest kHz %u, host %llu kHz", l[0][2],
		      (unsigned long long)want);
		check(ppm(l[2][0], want) <= HOST_KHZ_PPM, "subleaf 2 host kHz %u, host %llu kHz",
		      l[2][0], (unsigned long long)want);
	} else {
		printk("no host_khz= given: kHz not compared with the host\n");
	}
	uint32_t mul;
	int shift;
	xen_time_scale((uint64_t)l[0][2] * 1000, &mul, &shift);
	check(l[1][2] == mul && (int32_t)l[1][3] == shift,
	      "subleaf 1 scale %#x/%d, Xen's from %u kHz is %#x/%d", l[1][2], (int)l[1][3],
	      l[0][2], mul, shift);
}

/* The TSC rate over WINDOW_NS of pvclock time, in kHz. */
static void check_rate(uint32_t khz)
{
	struct vcpu_time_info a, b;
	uint64_t tsc_a = xen_time_snapshot(0, &a), ns_a = pvclock_at(&a, tsc_a);
	uint64_t tsc_b, ns_b;
	do {
		tsc_b = xen_time_snapshot(0, &b);
		ns_b = pvclock_at(&b, tsc_b);
	} while (ns_b - ns_a < WINDOW_NS);
	uint64_t rate = (tsc_b - tsc_a) * 1000000 / (ns_b - ns_a);
	printk("TSC rate over %llu ms of pvclock time: %llu kHz (CPUID %u kHz)\n",
	       (unsigned long long)((ns_b - ns_a) / NS_PER_MS), (unsigned long long)rate, khz);
	report_figure("tsc_rate_vs_cpuid", rel(rate, khz, 1000000000), "ppb");
	check(ppm(rate, khz) <= RATE_PPM, "TSC rate %llu kHz over the pvclock, CPUID says %u kHz",
	      (unsigned long long)rate, khz);
}

void test_main(void)
{
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO | SETUP_VCPU_INFO))
		return;
	uint32_t r[4];
	cpuid_count(xen_cpuid_base, 0, r);
	if (!check(r[0] >= xen_cpuid_base + 3, "no timing leaf: max leaf %#x", r[0]))
		return;
	read_leaf(0);
	check_config(leaf[0]);
	unsigned n = smp_possible_cpus();
	for (unsigned cpu = 1; cpu < n && cpu < MAX_CPUS; cpu++)
		if (smp_run(cpu, read_leaf, 2 * NS_PER_S))
			check(!memcmp(leaf[cpu], leaf[0], sizeof(leaf[0])),
			      "vCPU %u sees another timing leaf than vCPU 0", cpu);
	check_rate(leaf[0][0][2]);
}
