/*
 * Wallclock: UTC = wc_sec/wc_nsec (UTC at system time 0) + system time.
 *  - The guest prints "utc-window: NS" as early as it can; the runner checks
 *    NS against [host UTC taken before the VMM started, host UTC when the
 *    line arrived] +- 1 ms (both ends are true bounds on when the guest
 *    read the clock).  The guest itself checks NS >= utc_ns - 1 ms when
 *    the command line carries utc_ns= (this also works on real Xen).
 *  - The raw bytes sit where Xen puts them for this guest width: 64-bit
 *    wc_version/sec/nsec/sec_hi at 3072/3076/3080/3084; 32-bit at
 *    2304/2308/2312 with wc_sec_hi in arch at 2340, and nothing written
 *    at the 64-bit offsets.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "wallclock: shared_info wc + system time = UTC";

#define TOLERANCE_NS NS_PER_MS

struct wc_layout {
	unsigned version, sec, nsec, sec_hi;
};
#ifdef __x86_64__
static const struct wc_layout lay = { 3072, 3076, 3080, 3084 };
#define FOREIGN_WC 2304   /* where a 32-bit guest's wallclock would be */
#else
static const struct wc_layout lay = { 2304, 2308, 2312, 2340 };
#define FOREIGN_WC 3072   /* where a 64-bit guest's wallclock would be */
#endif
/* The numbers above are Xen's ABI; the native headers must agree. */
_Static_assert(offsetof(shared_info_t, wc_version) == (sizeof(long) == 8 ? 3072 : 2304), "");
_Static_assert(offsetof(shared_info_t, wc_sec) == (sizeof(long) == 8 ? 3076 : 2308), "");
_Static_assert(offsetof(shared_info_t, wc_nsec) == (sizeof(long) == 8 ? 3080 : 2312), "");
_Static_assert(offsetof(shared_info_t, xen_wc_sec_hi) == (sizeof(long) == 8 ? 3084 : 2340), "");

static uint32_t raw32(unsigned off)
{
	return *(volatile uint32_t *)((volatile uint8_t *)shared_info + off);
}

/* UTC in ns from one consistent read of the wallclock and this vCPU's record. */
static uint64_t read_utc(uint64_t *wc_ns, uint64_t *sys)
{
	uint64_t sec;
	uint32_t nsec;
	xen_wallclock(&sec, &nsec);
	*sys = xen_system_time();
	*wc_ns = sec * NS_PER_S + nsec;
	return *wc_ns + *sys;
}

static void check_layout(uint64_t utc_ns)
{
	uint32_t v = raw32(lay.version), sec = raw32(lay.sec), nsec = raw32(lay.nsec),
		 hi = raw32(lay.sec_hi);
	uint64_t full = (uint64_t)hi << 32 | sec;
	printk("raw: wc_version %u wc_sec %u wc_nsec %u wc_sec_hi %u (at %u/%u/%u/%u)\n", v, sec,
	       nsec, hi, lay.version, lay.sec, lay.nsec, lay.sec_hi);
	check(!(v & 1) && v != 0, "wc_version %u: odd or never written", v);
	check(nsec < NS_PER_S, "wc_nsec %u is not below 10^9", nsec);
	/* wc_sec_hi is 0 until 2106; the UTC read must match the raw fields. */
	uint64_t wc_ns = full * NS_PER_S + nsec;
	check(wc_ns <= utc_ns, "raw wallclock %llu ns is after UTC %llu ns",
	      (unsigned long long)wc_ns, (unsigned long long)utc_ns);
	check(hi == (uint32_t)(utc_ns / NS_PER_S >> 32), "wc_sec_hi %u for UTC second %llu", hi,
	      (unsigned long long)(utc_ns / NS_PER_S));
	bool foreign_clear = true;
	for (unsigned off = FOREIGN_WC; off < FOREIGN_WC + 16; off += 4)
		foreign_clear &= raw32(off) == 0 || off == lay.sec_hi;
#ifdef __x86_64__
	/* 2304..2319 is evtchn_mask in the 64-bit layout: only meaningful for 32-bit. */
	(void)foreign_clear;
#else
	check(foreign_clear, "bytes at the 64-bit wallclock offsets %u..%u are written in a "
	      "32-bit guest's shared_info", FOREIGN_WC, FOREIGN_WC + 15);
#endif
}

void test_main(void)
{
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO | SETUP_VCPU_INFO))
		return;
	uint64_t wc_ns, sys, utc = read_utc(&wc_ns, &sys);
	printk("utc-window: %llu\n", (unsigned long long)utc);
	printk("wallclock %llu.%09llu s + system time %llu ns\n",
	       (unsigned long long)(wc_ns / NS_PER_S), (unsigned long long)(wc_ns % NS_PER_S),
	       (unsigned long long)sys);

	uint64_t launch;
	if (cmdline_u64("utc_ns", &launch)) {
		check(utc + TOLERANCE_NS >= launch,
		      "UTC %llu ns is %llu ns before the host's UTC at launch %llu ns",
		      (unsigned long long)utc, (unsigned long long)(launch - utc),
		      (unsigned long long)launch);
	} else {
		printk("no utc_ns= on the command line: UTC not compared with the host\n");
	}
	check_layout(utc);

	/* UTC advances with system time; the wallclock itself holds still. */
	uint64_t wc2, sys2, utc2 = read_utc(&wc2, &sys2);
	check(utc2 >= utc, "UTC went back from %llu to %llu", (unsigned long long)utc,
	      (unsigned long long)utc2);
	check(wc2 == wc_ns, "the wallclock moved from %llu to %llu ns without a clock change",
	      (unsigned long long)wc_ns, (unsigned long long)wc2);
}
