/*
 * The clock model of one guest: host TSC -> guest TSC -> Xen system time ->
 * UTC, and how that chain is carried from one host to another.
 *
 * Every function validates into locals and writes the model only at the
 * end, so a failed call leaves it untouched.
 */
#include <errno.h>
#include <string.h>
#include "shim/xtshim.h"

#define NSEC_PER_SEC 1000000000ULL

static uint64_t host_to_guest0(const struct xts_clock *c, uint64_t host_tsc)
{
	return (uint64_t)(((unsigned __int128)host_tsc * c->tsc_ratio) >> XTS_TSC_RATIO_FRAC_BITS) +
	       c->tsc_offset;
}

uint64_t xts_clock_guest_tsc(const struct xts_clock *c, unsigned vcpu, uint64_t host_tsc)
{
	int64_t skew = vcpu < XTS_MAX_VCPUS ? c->vcpu_tsc_skew[vcpu] : 0;

	return host_to_guest0(c, host_tsc) + (uint64_t)skew;
}

uint64_t xts_clock_system_ns(const struct xts_clock *c, uint64_t host_tsc)
{
	return xts_line_at(&c->line, host_to_guest0(c, host_tsc));
}

/* The line a guest TSC rate implies: Xen scales by the guest's kHz * 1000. */
static int line_for_khz(uint32_t khz, uint64_t tsc, uint64_t system_ns, struct xts_line *l)
{
	int rc = xts_scale_from_hz((uint64_t)khz * 1000, &l->mul, &l->shift);

	l->tsc = tsc;
	l->system_ns = system_ns;
	return rc;
}

static int check_params(const struct xts_clock_params *p)
{
	if (p->arch != XTS_ARCH_X86 && p->arch != XTS_ARCH_ARM64)
		return -EINVAL;
	if (p->nr_vcpus == 0 || p->nr_vcpus > XTS_MAX_VCPUS)
		return -EINVAL;
	if (p->host_tsc_khz == 0 || p->tsc_mode > XTS_TSC_MODE_NEVER_EMULATE)
		return -EINVAL;
	if (p->flags & ~(XTS_CLOCK_TSC_STABLE | XTS_CLOCK_HOST_TSC_RELIABLE | XTS_CLOCK_HOST_RDTSCP))
		return -EINVAL;
	/* The arm64 counter cannot be scaled by KVM. */
	if (p->arch == XTS_ARCH_ARM64 && p->tsc_ratio && p->tsc_ratio != XTS_TSC_RATIO_ONE)
		return -EINVAL;
	return 0;
}

int xts_clock_new(struct xts_clock *c, const struct xts_clock_params *p,
		  const struct xts_host_sample *now)
{
	struct xts_clock n;
	int rc = check_params(p);

	if (rc)
		return rc;
	memset(&n, 0, sizeof(n));
	n.arch = p->arch;
	n.nr_vcpus = p->nr_vcpus;
	n.host_tsc_khz = p->host_tsc_khz;
	n.tsc_ratio = p->tsc_ratio ? p->tsc_ratio : XTS_TSC_RATIO_ONE;
	n.guest_tsc_khz = p->guest_tsc_khz ? p->guest_tsc_khz : p->host_tsc_khz;
	n.tsc_mode = p->tsc_mode;
	n.incarnation = 1;
	n.flags = p->flags;
	n.tsc_offset = 0;
	n.tsc_offset = p->start_tsc - host_to_guest0(&n, now->host_tsc);
	rc = line_for_khz(n.guest_tsc_khz, p->start_tsc, 0, &n.line);
	if (rc)
		return rc;
	n.wc_sec = now->realtime_ns / NSEC_PER_SEC;
	n.wc_nsec = (uint32_t)(now->realtime_ns % NSEC_PER_SEC);
	*c = n;
	return 0;
}

int xts_clock_continue(struct xts_clock *c, unsigned vcpu, const struct vcpu_time_info *seen)
{
	struct xts_line l = {
		.system_ns = seen->system_time,
		.mul = seen->tsc_to_system_mul,
		.shift = seen->tsc_shift,
	};

	if (vcpu >= c->nr_vcpus || (seen->version & 1))
		return -EINVAL;
	if (xts_line_check(&l))
		return -EINVAL;
	/* The model's line runs over vCPU 0's TSC: undo this vCPU's skew. */
	l.tsc = seen->tsc_timestamp - (uint64_t)c->vcpu_tsc_skew[vcpu];
	c->line = l;
	return 0;
}

int xts_clock_set_frequency(struct xts_clock *c, uint64_t switch_tsc, uint64_t new_hz)
{
	struct xts_line l;
	int rc;

	if ((int64_t)(switch_tsc - c->line.tsc) < 0)
		return -ERANGE;
	rc = xts_scale_from_hz(new_hz, &l.mul, &l.shift);
	if (rc)
		return rc;
	l.tsc = switch_tsc;
	l.system_ns = xts_line_at(&c->line, switch_tsc);
	c->line = l;
	return 0;
}

int xts_clock_set_host(struct xts_clock *c, const struct xts_host_sample *now,
		       uint64_t guest_tsc_now, uint32_t host_tsc_khz, uint64_t tsc_ratio)
{
	struct xts_clock n = *c;

	if (host_tsc_khz == 0)
		return -EINVAL;
	if (tsc_ratio == 0)
		tsc_ratio = XTS_TSC_RATIO_ONE;
	if (c->arch == XTS_ARCH_ARM64 && tsc_ratio != XTS_TSC_RATIO_ONE)
		return -EINVAL;
	n.host_tsc_khz = host_tsc_khz;
	n.tsc_ratio = tsc_ratio;
	n.tsc_offset = 0;
	n.tsc_offset = guest_tsc_now - host_to_guest0(&n, now->host_tsc);
	*c = n;
	return 0;
}

int xts_clock_follow_host_tsc(struct xts_clock *c, int64_t *jump_tsc)
{
	/* guest0(h) = h + offset before, h after: the anchor moves by -offset. */
	uint64_t jump = -c->tsc_offset;

	if (c->arch != XTS_ARCH_X86 || c->tsc_ratio != XTS_TSC_RATIO_ONE)
		return -ENOTSUP;
	c->line.tsc += jump;
	c->tsc_offset = 0;
	memset(c->vcpu_tsc_skew, 0, sizeof(c->vcpu_tsc_skew));
	*jump_tsc = (int64_t)jump;
	return 0;
}

int xts_clock_host_tsc_at_ns(const struct xts_clock *c, uint64_t deadline_ns, uint64_t *host_tsc)
{
	unsigned __int128 h;
	uint64_t g, scaled;
	int rc = xts_line_tsc_at_ns(&c->line, deadline_ns, &g);

	if (rc)
		return rc;
	/* Smallest host h with (h * ratio) >> 48 >= scaled: a ceiling division. */
	scaled = g - c->tsc_offset;
	h = (((unsigned __int128)scaled << XTS_TSC_RATIO_FRAC_BITS) + c->tsc_ratio - 1) / c->tsc_ratio;
	if (h > UINT64_MAX)
		return -ERANGE;
	*host_tsc = (uint64_t)h;
	return 0;
}

int xts_clock_vcpu_record(struct xts_clock *c, unsigned vcpu, uint64_t host_tsc,
			  struct vcpu_time_info *out)
{
	struct xts_line a;
	uint64_t bit, word;
	int rc;

	if (vcpu >= c->nr_vcpus)
		return -EINVAL;
	rc = xts_line_advance(&c->line, host_to_guest0(c, host_tsc), &a);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->tsc_timestamp = a.tsc + (uint64_t)c->vcpu_tsc_skew[vcpu];
	out->system_time = a.system_ns;
	out->tsc_to_system_mul = a.mul;
	out->tsc_shift = a.shift;
	if (c->flags & XTS_CLOCK_TSC_STABLE)
		out->flags |= XEN_PVCLOCK_TSC_STABLE_BIT;
	bit = 1ULL << (vcpu % 64);
	word = __atomic_fetch_and(&c->stopped_pending[vcpu / 64], ~bit, __ATOMIC_RELAXED);
	if (word & bit)
		out->flags |= XEN_PVCLOCK_GUEST_STOPPED;
	return 0;
}

void xts_clock_request_guest_stopped(struct xts_clock *c)
{
	unsigned i;

	for (i = 0; i < c->nr_vcpus; i++)
		__atomic_fetch_or(&c->stopped_pending[i / 64], 1ULL << (i % 64), __ATOMIC_RELAXED);
}

int xts_clock_set_wallclock(struct xts_clock *c, const struct xts_host_sample *now)
{
	uint64_t sys = xts_clock_system_ns(c, now->host_tsc);
	uint64_t wc;

	if (now->realtime_ns < sys)
		return -ERANGE;
	wc = now->realtime_ns - sys;
	c->wc_sec = wc / NSEC_PER_SEC;
	c->wc_nsec = (uint32_t)(wc % NSEC_PER_SEC);
	return 0;
}

int xts_clock_cpuid_timing(const struct xts_clock *c, uint32_t subleaf, uint32_t regs[4])
{
	struct xts_line l;

	switch (subleaf) {
	case 0:
		/*
		 * Bit 0 (TSC emulated) stays clear even in always_emulate mode:
		 * xtshim never traps RDTSC, and saying otherwise would lie.
		 * Bit 2 is the host's RDTSCP, as Xen reports boot_cpu_has().
		 */
		regs[0] = ((c->flags & XTS_CLOCK_HOST_TSC_RELIABLE) ? 2 : 0) |
			  ((c->flags & XTS_CLOCK_HOST_RDTSCP) ? 4 : 0);
		regs[1] = c->tsc_mode;
		regs[2] = c->guest_tsc_khz;
		regs[3] = c->incarnation;
		return 0;
	case 1:
		/*
		 * The scale is Xen's vtsc_to_ns.  The offset is Xen's
		 * d->arch.vtsc_offset (arch/x86/traps.c cpuid_hypervisor_leaves,
		 * when not emulating): tsc_set_info() (arch/x86/time.c) sets it
		 * to the system time at which the domain's elapsed time was 0,
		 * i.e. at domain build, and never_emulate keeps that build-time
		 * value.  xtshim's system time is 0 at xts_clock_new() and
		 * continues across restores, so that instant is 0 here.  A Xen
		 * restore in native mode instead subtracts X86_TSC_INFO's nsec,
		 * which tsc_get_info() took from the source host's rdtsc(): a
		 * value tied to no clock the guest has, not carried over.
		 */
		if (line_for_khz(c->guest_tsc_khz, 0, 0, &l))
			return -EINVAL;
		regs[0] = 0;
		regs[1] = 0;
		regs[2] = l.mul;
		regs[3] = (uint32_t)(int32_t)l.shift;
		return 0;
	case 2:
		regs[0] = c->host_tsc_khz;
		regs[1] = regs[2] = regs[3] = 0;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---------------------------------------------------------------------- */
/* Save and restore                                                        */

int xts_clock_save(const struct xts_clock *c, const struct xts_host_sample *now,
		   struct xts_time_state *st)
{
	unsigned i;

	if (c->nr_vcpus == 0 || c->nr_vcpus > XTS_MAX_VCPUS)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->arch = c->arch;
	st->nr_vcpus = c->nr_vcpus;
	for (i = 0; i < c->nr_vcpus; i++)
		st->guest_tsc[i] = xts_clock_guest_tsc(c, i, now->host_tsc);
	st->saved_realtime_ns = now->realtime_ns;
	st->guest_tsc_khz = c->guest_tsc_khz;
	st->tsc_mode = c->tsc_mode;
	st->incarnation = c->incarnation;
	st->flags = c->flags;
	st->line = c->line;
	st->wc_sec = c->wc_sec;
	st->wc_nsec = c->wc_nsec;
	return 0;
}

static int check_state(const struct xts_time_state *st)
{
	if (st->arch != XTS_ARCH_X86 && st->arch != XTS_ARCH_ARM64)
		return -EINVAL;
	if (st->nr_vcpus == 0 || st->nr_vcpus > XTS_MAX_VCPUS)
		return -EINVAL;
	if (st->guest_tsc_khz == 0 || st->tsc_mode > XTS_TSC_MODE_NEVER_EMULATE)
		return -EINVAL;
	if (st->flags & ~(XTS_CLOCK_TSC_STABLE | XTS_CLOCK_HOST_TSC_RELIABLE | XTS_CLOCK_HOST_RDTSCP))
		return -EINVAL;
	if (st->wc_nsec >= NSEC_PER_SEC || st->incarnation == UINT32_MAX)
		return -EINVAL;
	if (xts_line_check(&st->line))
		return -EINVAL;
	/* The guest must already have been past the line's anchor when saved. */
	if ((int64_t)(st->guest_tsc[0] - st->line.tsc) < 0)
		return -EINVAL;
	/* The arm64 counter is VM-wide: every vCPU must have read the same value. */
	if (st->arch == XTS_ARCH_ARM64) {
		unsigned i;

		for (i = 1; i < st->nr_vcpus; i++)
			if (st->guest_tsc[i] != st->guest_tsc[0])
				return -EINVAL;
	}
	return 0;
}

/* |a - b| <= XTS_TSC_TOLERANCE_PPM parts per million of a. */
static bool within_tolerance(uint32_t a, uint32_t b)
{
	uint64_t diff = a > b ? a - b : b - a;

	return diff * 1000000ULL <= (uint64_t)XTS_TSC_TOLERANCE_PPM * a;
}

int xts_clock_restore(struct xts_clock *c, const struct xts_time_state *st,
		      const struct xts_restore_params *p, const struct xts_host_sample *now,
		      struct xts_restore_result *res)
{
	struct xts_restore_result r = { 0 };
	struct xts_clock n;
	uint64_t g0, sys_saved, sys_resume;
	__int128 wc;
	unsigned i;
	int rc;

	rc = check_state(st);
	if (rc)
		return rc;
	if (p->host_tsc_khz == 0 || p->policy > XTS_POLICY_THRESHOLD ||
	    (p->flags & ~XTS_RESTORE_ACCEPT_RATE_CHANGE))
		return -EINVAL;

	/* Can this host keep the guest's TSC rate? */
	r.tsc_ratio = XTS_TSC_RATIO_ONE;
	if (st->guest_tsc_khz == p->host_tsc_khz) {
		/* same rate */
	} else if (st->arch == XTS_ARCH_X86 && p->host_can_scale) {
		r.tsc_ratio = (uint64_t)(((unsigned __int128)st->guest_tsc_khz << XTS_TSC_RATIO_FRAC_BITS) /
					 p->host_tsc_khz);
	} else if (st->arch == XTS_ARCH_X86 && within_tolerance(st->guest_tsc_khz, p->host_tsc_khz)) {
		/* KVM runs it unscaled; the guest keeps its advertised kHz. */
	} else if (p->flags & XTS_RESTORE_ACCEPT_RATE_CHANGE) {
		r.rate_changed = true;
	} else {
		return -ERANGE;
	}

	if (now->realtime_ns > st->saved_realtime_ns)
		r.elapsed_ns = now->realtime_ns - st->saved_realtime_ns;
	r.applied = p->policy;
	if (p->policy == XTS_POLICY_THRESHOLD)
		r.applied = r.elapsed_ns <= p->threshold_ns ? XTS_POLICY_TRACK : XTS_POLICY_FREEZE;

	/* vCPU 0's guest TSC at `now`: where it stopped, or advanced by the gap. */
	g0 = st->guest_tsc[0];
	if (r.applied == XTS_POLICY_TRACK)
		g0 += (uint64_t)((unsigned __int128)r.elapsed_ns * st->guest_tsc_khz / 1000000ULL);

	memset(&n, 0, sizeof(n));
	n.arch = st->arch;
	n.nr_vcpus = st->nr_vcpus;
	n.host_tsc_khz = p->host_tsc_khz;
	n.tsc_ratio = r.tsc_ratio;
	n.tsc_offset = g0 - (uint64_t)(((unsigned __int128)now->host_tsc * r.tsc_ratio) >>
				       XTS_TSC_RATIO_FRAC_BITS);
	n.guest_tsc_khz = st->guest_tsc_khz;
	n.tsc_mode = st->tsc_mode;
	n.incarnation = st->incarnation + 1;
	n.flags = st->flags;
	n.line = st->line;
	for (i = 0; i < st->nr_vcpus; i++)
		n.vcpu_tsc_skew[i] = (int64_t)(st->guest_tsc[i] - st->guest_tsc[0]);

	if (r.rate_changed) {
		/* The guest TSC now ticks at the host rate: re-scale with no step at g0. */
		n.guest_tsc_khz = p->host_tsc_khz;
		rc = xts_clock_set_frequency(&n, g0, (uint64_t)p->host_tsc_khz * 1000);
		if (rc)
			return rc;
	}

	/*
	 * UTC keeps its relation to real time: the wallclock absorbs whatever
	 * part of the gap system time did not (all of it when frozen).
	 */
	sys_saved = xts_line_at(&st->line, st->guest_tsc[0]);
	sys_resume = xts_line_at(&n.line, g0);
	wc = (__int128)st->wc_sec * NSEC_PER_SEC + st->wc_nsec + r.elapsed_ns -
	     (__int128)(sys_resume - sys_saved);
	if (wc < 0 || wc / NSEC_PER_SEC > UINT64_MAX)
		return -ERANGE;
	n.wc_sec = (uint64_t)(wc / NSEC_PER_SEC);
	n.wc_nsec = (uint32_t)(wc % NSEC_PER_SEC);

	*c = n;
	/* A frozen guest was stopped: tell its watchdogs through GUEST_STOPPED. */
	if (r.applied == XTS_POLICY_FREEZE && r.elapsed_ns)
		xts_clock_request_guest_stopped(c);
	if (res)
		*res = r;
	return 0;
}
