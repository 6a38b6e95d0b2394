/*
 * pvclock: the vcpu_time_info record every vCPU reads.
 *  - The record is Xen-shaped: even version once read, a multiplier
 *    normalised as Xen's set_time_scale() leaves it (>= 2^31).
 *  - Its scale is Xen's set_time_scale() of the CPUID base+3 kHz,
 *    recomputed in the guest from the Xen source.
 *  - System time over 200 ms of LAPIC time (lib/refclock.c, a clock the
 *    hypervisor does not derive from the record) advances by the LAPIC ns.
 *  - The hypervisor's own clock (HVMOP_get_time) lies between two reads of
 *    the record around the call.
 *  - The library's scaling equals a shift-and-add recomputation (a check
 *    of the test library the rest relies on).
 *  - Reads never go backwards: on one vCPU in sequence, and with 2 vCPUs
 *    >= 10^6 reads interleaved under a lock (so each read is ordered in
 *    real time against the last one published), with the largest backward
 *    step reported as a figure.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "pvclock: system time from vcpu_time_info";

#define SEQ_READS     2000u
#define GET_TIME_REPS 100u
#define SLACK_NS      1000u       /* rounding between the record and the host's clock */
#define ODD_LIMIT_TSC 200000000ULL /* ~0.1 s at 2 GHz: a version stuck odd */
#define LAPIC_WINDOW_NS 200000000ULL /* 200 ms of LAPIC time */
#define LAPIC_PPM     10000u      /* 1 %: see check_against_lapic() */
#define MAX_READ_PPM  2000u       /* LAPIC read brackets: retry the window above */
#define XEN_SCALE_PPM 1000u       /* Xen without TSC scaling: calibrated vs boot kHz */

/* (delta * mul) >> 32 by shift-and-add over mul's bits in a 128-bit hi:lo pair. */
static uint64_t ref_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	delta = shift < 0 ? delta >> -shift : delta << shift;
	uint64_t lo = 0, hi = 0;
	for (unsigned i = 0; i < 32; i++) {
		if (!((mul >> i) & 1))
			continue;
		uint64_t add_lo = delta << i, add_hi = i ? delta >> (64 - i) : 0;
		lo += add_lo;
		hi += add_hi + (lo < add_lo);
	}
	return hi << 32 | lo >> 32;
}

struct reading {
	struct vcpu_time_info t;
	uint64_t tsc, ns;
};

static volatile uint64_t odd_seen[MAX_CPUS];

/* One read under the version protocol; false if the version stays odd. */
static bool read_clock(unsigned cpu, struct reading *r)
{
	volatile struct vcpu_time_info *src = &xen_vcpu_info(cpu)->time;
	uint64_t first_odd = 0;
	for (;;) {
		uint32_t v = src->version;
		barrier();
		if (v & 1) {
			uint64_t now = rdtsc();
			odd_seen[cpu]++;
			if (!first_odd)
				first_odd = now;
			else if (now - first_odd > ODD_LIMIT_TSC)
				return false;
			cpu_relax();
			continue;
		}
		r->t.version = v;
		r->t.tsc_timestamp = src->tsc_timestamp;
		r->t.system_time = src->system_time;
		r->t.tsc_to_system_mul = src->tsc_to_system_mul;
		r->t.tsc_shift = src->tsc_shift;
		r->t.flags = src->flags;
		r->tsc = rdtsc_ordered();
		barrier();
		if (src->version == v)
			break;
	}
	r->ns = pvclock_at(&r->t, r->tsc);
	return true;
}

static bool check_record(struct reading *rp)
{
	struct reading r;
	if (!check(read_clock(0, &r), "vCPU 0: time record version stuck odd"))
		return false;
	*rp = r;
	printk("record: version %u tsc_timestamp %llu system_time %llu mul %#x shift %d flags %#x\n",
	       r.t.version, (unsigned long long)r.t.tsc_timestamp,
	       (unsigned long long)r.t.system_time, r.t.tsc_to_system_mul, r.t.tsc_shift,
	       r.t.flags);
	check(!(r.t.version & 1), "version %u is odd after a complete read", r.t.version);
	check(r.t.version != 0, "version 0: the record was never published");
	check(r.t.tsc_to_system_mul >= 0x80000000u,
	      "tsc_to_system_mul %#x is not normalised (Xen keeps it >= 2^31)",
	      r.t.tsc_to_system_mul);
	check(r.t.tsc_shift >= -31 && r.t.tsc_shift <= 31, "tsc_shift %d out of range",
	      r.t.tsc_shift);
	check(!(r.t.flags & ~(XEN_PVCLOCK_TSC_STABLE_BIT | XEN_PVCLOCK_GUEST_STOPPED)),
	      "unknown flags %#x", r.t.flags);
	return true;
}

/*
 * The record's scale against Xen's: the guest recomputes set_time_scale()
 * (xen/arch/x86/time.c, lib/refclock.c) from the CPUID base+3 kHz.  Xen
 * publishes d->arch.vtsc_to_ns, that very scale of gtsc_khz * 1000, when it
 * emulates or scales the TSC (__update_vcpu_system_time()), and xtshim
 * always does (with --backend kernel KVM writes the record from
 * kvm_get_time_scale(), which normalises GHz rates the same way); without
 * TSC scaling Xen publishes the pCPU's calibrated
 * t->tsc_scale instead, so on peer=xen the two need only agree within
 * XEN_SCALE_PPM (as ns per 2^32 ticks).
 */
static void check_scale(const struct reading *r, uint32_t khz, bool on_xen)
{
	uint32_t mul;
	int shift;
	xen_time_scale((uint64_t)khz * 1000, &mul, &shift);
	if (!on_xen) {
		check(r->t.tsc_to_system_mul == mul && r->t.tsc_shift == shift,
		      "record scale %#x/%d; Xen's set_time_scale(%u kHz) is %#x/%d",
		      r->t.tsc_to_system_mul, r->t.tsc_shift, khz, mul, shift);
		return;
	}
	uint64_t a = ref_scale(1ULL << 32, r->t.tsc_to_system_mul, r->t.tsc_shift);
	uint64_t e = ref_scale(1ULL << 32, mul, (int8_t)shift);
	uint64_t d = (a > e ? a - e : e - a) * 1000000 / e;
	report_figure("scale_vs_cpuid_khz", d, "ppm");
	check(d <= XEN_SCALE_PPM, "record scale %#x/%d is %llu ppm from set_time_scale(%u kHz)",
	      r->t.tsc_to_system_mul, r->t.tsc_shift, (unsigned long long)d, khz);
}

/*
 * System time over a window of LAPIC time (lib/refclock.c: a clock KVM
 * runs from the host's ktime, not from the record or the TSC) advances by
 * the LAPIC ns: a wrong scale, a wrong kHz behind it, or a record that
 * jumps inside the window fails.  Tolerance LAPIC_PPM (1 %; emulated
 * exits make each LAPIC read cost a varying time) plus the TSC brackets
 * around the two LAPIC reads, converted with the record's own scale (a
 * window with brackets over MAX_READ_PPM is retried, never judged).
 */
static struct vcpu_time_info win_rec[2];
static void win_before(void) { xen_time_snapshot(0, &win_rec[0]); }
static void win_after(void) { xen_time_snapshot(0, &win_rec[1]); }

static void check_against_lapic(void)
{
	struct ref_window w;
	if (!refclock_measure(LAPIC_WINDOW_NS, MAX_READ_PPM, &w, win_before, win_after))
		return;
	uint64_t s0 = pvclock_at(&win_rec[0], w.tsc0), s1 = pvclock_at(&win_rec[1], w.tsc1);
	if (!check(s1 >= s0, "system time went back inside a LAPIC window: %llu -> %llu",
		   (unsigned long long)s0, (unsigned long long)s1))
		return;
	uint64_t sys = s1 - s0;
	uint64_t err = 2 * pvclock_scale(w.tsc_err, win_rec[0].tsc_to_system_mul,
					 win_rec[0].tsc_shift);
	uint64_t off = sys > w.ns ? sys - w.ns : w.ns - sys;
	uint64_t allowed = w.ns / 1000000 * LAPIC_PPM + err;
	printk("over %llu us of LAPIC time system time advanced %llu us (reads +-%llu ns)\n",
	       (unsigned long long)(w.ns / NS_PER_US), (unsigned long long)(sys / NS_PER_US),
	       (unsigned long long)(err / 2));
	report_figure("system_time_vs_lapic", off * 1000000 / (w.ns ? w.ns : 1), "ppm");
	check(w.ns >= LAPIC_WINDOW_NS, "the LAPIC timer stopped after %llu ns",
	      (unsigned long long)w.ns);
	check(off <= allowed, "system time advanced %llu ns over %llu ns of LAPIC time "
	      "(%llu ns off, allowed %llu)", (unsigned long long)sys, (unsigned long long)w.ns,
	      (unsigned long long)off, (unsigned long long)allowed);
}

/*
 * The library's pvclock_scale() (which every read above and every other
 * test uses) against shift-and-add, for deltas up to hours (2^44 ticks,
 * the high half of the product): a check of the test library, not of
 * the hypervisor.
 */
static void check_library_formula(const struct reading *r)
{
	for (unsigned b = 0; b <= 44; b += 4) {
		uint64_t d = (1ULL << b) + 12345;
		uint64_t a = pvclock_scale(d, r->t.tsc_to_system_mul, r->t.tsc_shift);
		uint64_t e = ref_scale(d, r->t.tsc_to_system_mul, r->t.tsc_shift);
		check(a == e, "delta %llu ticks: %llu ns, shift-and-add %llu ns",
		      (unsigned long long)d, (unsigned long long)a, (unsigned long long)e);
	}
}

/*
 * HVMOP_get_time (the hypervisor's NOW(), xen/arch/x86/hvm/hvm.c: a
 * second path into the hypervisor's clock, not the record) lies between
 * two reads of the record around the call.  Xen's NOW() and the record
 * are one line (the record is a snapshot of it), so this proves that the
 * record the guest extrapolates agrees with the clock the hypervisor uses
 * for its own timers at that instant: not that either runs at the right
 * rate (check_against_lapic() does that).
 */
static void check_against_hypervisor(void)
{
	uint64_t worst = 0;
	for (unsigned i = 0; i < GET_TIME_REPS; i++) {
		struct reading a, b;
		struct xen_hvm_get_time gt = { 0 };
		read_clock(0, &a);
		long rc = hvm_op(HVMOP_get_time, &gt);
		read_clock(0, &b);
		if (!expect_rc(rc, 0, "HVMOP_get_time"))
			return;
		if (gt.now + SLACK_NS < a.ns || gt.now > b.ns + SLACK_NS) {
			xfail("HVMOP_get_time %llu outside the guest's reads [%llu, %llu]",
			      (unsigned long long)gt.now, (unsigned long long)a.ns,
			      (unsigned long long)b.ns);
			return;
		}
		uint64_t dev = gt.now < a.ns ? a.ns - gt.now : gt.now > b.ns ? gt.now - b.ns : 0;
		if (dev > worst)
			worst = dev;
	}
	report_figure("get_time_outside_reads_max", worst, "ns");
}

static void check_sequential(void)
{
	struct reading r;
	uint64_t last = 0, back = 0;
	unsigned backs = 0;
	for (unsigned i = 0; i < SEQ_READS; i++) {
		if (!read_clock(0, &r)) {
			xfail("vCPU 0: time record version stuck odd");
			return;
		}
		if (r.ns < last) {
			backs++;
			if (last - r.ns > back)
				back = last - r.ns;
		}
		last = r.ns;
	}
	check(!backs, "vCPU 0: %u of %u sequential reads went backwards, by up to %llu ns",
	      backs, SEQ_READS, (unsigned long long)back);
}

/* ---- 2 vCPUs: reads ordered by a lock, compared with the last one published ---- */
static volatile unsigned lock;
static volatile uint64_t last_ns, reads, max_back, backs;
static uint64_t smp_reads = 1000000;   /* reads=N on the command line */
static volatile unsigned per_cpu_reads[MAX_CPUS];
static volatile bool go, stuck, ap_ready, done;
static volatile uint64_t stop_ns;      /* system time by which both must have read */

static void interleave(unsigned cpu)
{
	struct reading r;
	/*
	 * Both vCPUs start together: on a loaded host (nested KVM under TCG)
	 * vCPU 1 can take longer to come up than vCPU 0 needs for all its
	 * reads, and "did not interleave" would then measure the host's
	 * scheduler, not the clock.
	 */
	if (cpu) {
		ap_ready = true;
		while (!go)
			cpu_relax();
	} else {
		uint64_t give_up = xen_system_time() + 10 * NS_PER_S;
		while (!ap_ready && xen_system_time() < give_up)
			cpu_relax();
		stop_ns = xen_system_time() + 10 * NS_PER_S;
		go = true;    /* if vCPU 1 never came, the interleave check says so */
	}
	for (;;) {
		while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
			cpu_relax();
		/*
		 * The count is a floor, not the end: reads go on until each vCPU
		 * has its share (1%), so a vCPU the host left unscheduled for the
		 * first 10^6 reads still takes part.  After 10 s of system time
		 * the check below reports whatever shares there are.
		 */
		if (!done && reads >= smp_reads &&
		    ((per_cpu_reads[0] > smp_reads / 100 && per_cpu_reads[1] > smp_reads / 100) ||
		     last_ns > stop_ns))
			done = true;
		if (done) {
			__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
			break;
		}
		if (!read_clock(cpu, &r)) {
			stuck = true;
			done = true;
		} else {
			if (r.ns < last_ns) {
				backs++;
				if (last_ns - r.ns > max_back)
					max_back = last_ns - r.ns;
			} else {
				last_ns = r.ns;
			}
			reads++;
			per_cpu_reads[cpu]++;
		}
		__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
	}
}

static void check_interleaved(unsigned n)
{
	if (n < 2) {
		printk("1 vCPU: no cross-vCPU reads\n");
		return;
	}
	if (!smp_start(1, interleave))
		return;
	uint64_t t0 = xen_system_time();
	interleave(0);
	uint64_t t1 = xen_system_time();
	if (!smp_wait(1, 10 * NS_PER_S))
		return;
	printk("%llu reads in %llu ms: vCPU 0 %u, vCPU 1 %u\n", (unsigned long long)reads,
	       (unsigned long long)((t1 - t0) / NS_PER_MS), per_cpu_reads[0], per_cpu_reads[1]);
	check(!stuck, "a time record version stayed odd");
	check(per_cpu_reads[0] > smp_reads / 100 && per_cpu_reads[1] > smp_reads / 100,
	      "the reads did not interleave: vCPU 0 %u, vCPU 1 %u", per_cpu_reads[0],
	      per_cpu_reads[1]);
	check(!backs, "%llu of %llu interleaved reads went backwards, by up to %llu ns",
	      (unsigned long long)backs, (unsigned long long)reads, (unsigned long long)max_back);
	report_figure("interleaved_reads", reads, "");
	report_figure("max_backward_step", max_back, "ns");
}

void test_main(void)
{
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO | SETUP_VCPU_INFO))
		return;
	struct reading r;
	uint32_t cpuid[4];
	cpuid_count(xen_cpuid_base + 3, 0, cpuid);
	if (check_record(&r)) {
		check_scale(&r, cpuid[2], cmdline_has("peer=xen"));
		check_library_formula(&r);
	}
	check_against_lapic();
	check_against_hypervisor();
	check_sequential();
	cmdline_u64("reads", &smp_reads);
	check_interleaved(smp_possible_cpus());
	report_figure("odd_versions_seen", odd_seen[0] + odd_seen[1], "");
}
