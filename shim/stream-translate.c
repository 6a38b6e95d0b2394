/*
 * Xen's view of a guest's time (struct xts_xen_time, as found in a stream)
 * <-> xtshim's clock model (struct xts_time_state).
 *
 * What maps to what:
 *   guest TSC per vCPU   HVM CPU records' tsc (one host instant for all);
 *                        a vCPU that was down has none and gets vCPU 0's,
 *                        or 0 when vCPU 0 was down too (as Xen)
 *   guest TSC kHz        X86_TSC_INFO khz (the rate the guest TSC really ran
 *                        at), else HVM HEADER gtsc_khz
 *   tsc_mode, incarnation  X86_TSC_INFO (incarnation + 1 happens on restore)
 *   system-time line     the last pvclock record the guest saw, when it is
 *                        in the stream (PV SHARED_INFO, or an operator-named
 *                        record in guest RAM); otherwise a new line: guest
 *                        TSC scaled at the guest kHz, i.e. system time = ns
 *                        of guest TSC since TSC 0 (Xen itself gives a
 *                        migrated guest a different system time too)
 *   wallclock            PV: SHARED_INFO wc_*; HVM: the XTSHIM_TIME record's
 *                        wc_* when present, else UTC at the save instant
 *                        (host UTC + RTC rtc_offset) minus system time then
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include "shim/stream-internal.h"

#define NSEC_PER_SEC 1000000000ull

static int check_record(const struct vcpu_time_info *t, const char *what, char *w, size_t wl)
{
	struct xts_line l = { t->tsc_timestamp, t->system_time, t->tsc_to_system_mul, t->tsc_shift };

	if (t->version & 1)
		return xts_why(w, wl, -EINVAL, "%s: version %u is odd (caught mid-update)", what,
			   t->version);
	if (xts_line_check(&l))
		return xts_why(w, wl, -EINVAL, "%s: mul 0x%x shift %d is not a usable scale (never"
			   " written?)", what, t->tsc_to_system_mul, t->tsc_shift);
	return 0;
}

int xts_xen_time_to_state(const struct xts_xen_time *x, uint64_t save_realtime_ns,
			  struct xts_time_state *st, enum xts_xen_line_source *src,
			  char *w, size_t wl)
{
	struct xts_time_state s;
	enum xts_xen_line_source from = XTS_XEN_LINE_NEW;
	const struct vcpu_time_info *rec = NULL;
	unsigned rec_vcpu = 0;
	unsigned up = 0;                  /* the first vCPU that was up */
	uint32_t khz;
	int rc;

	memset(&s, 0, sizeof(s));
	if (!(x->have & XTS_XEN_HAVE_TSC_INFO))
		return xts_why(w, wl, -EINVAL, "no X86_TSC_INFO");
	if (x->tsc_mode == 3)
		return xts_why(w, wl, -ENOTSUP, "TSC mode 3 (pvrdtscp) was removed from Xen and is not"
			   " supported");
	if (x->tsc_mode > XTS_TSC_MODE_NEVER_EMULATE)
		return xts_why(w, wl, -EINVAL, "unknown TSC mode %u", x->tsc_mode);
	if (x->incarnation == UINT32_MAX)
		return xts_why(w, wl, -EINVAL, "incarnation %u cannot be increased", x->incarnation);
	khz = x->tsc_khz ? x->tsc_khz : x->gtsc_khz;
	if (!khz)
		return xts_why(w, wl, -EINVAL, "guest TSC rate unknown: X86_TSC_INFO khz and HVM"
			   " HEADER gtsc_khz are both 0");
	if (x->nr_vcpus == 0 || x->nr_vcpus > XTS_MAX_VCPUS)
		return xts_why(w, wl, -EINVAL, "%u vCPUs (need 1..%u)", x->nr_vcpus, XTS_MAX_VCPUS);

	s.arch = XTS_ARCH_X86;
	s.nr_vcpus = x->nr_vcpus;
	s.guest_tsc_khz = khz;
	s.tsc_mode = x->tsc_mode;
	s.incarnation = x->incarnation;
	s.flags = 0;                      /* Xen guests normally see TSC_STABLE clear */
	s.saved_realtime_ns = save_realtime_ns;

	if (x->dom_type == XTS_LIBXC_DOM_X86_HVM) {
		if (!(x->have & XTS_XEN_HAVE_HVM_HEADER))
			return xts_why(w, wl, -EINVAL, "no HVM context HEADER");
		/*
		 * Xen saves no CPU record for a vCPU that is down
		 * (hvm_save_cpu_ctxt; its LAPIC and TSC_ADJUST records are
		 * still there), and on the destination such a vCPU keeps the
		 * TSC offset it was built with.  When it comes up,
		 * hvm_vcpu_reset_state (INIT-SIPI) and arch_set_info_hvm_guest
		 * (VCPUOP_initialise) copy vCPU 0's offset: it runs on vCPU 0's
		 * TSC.  A vCPU 0 that is down itself keeps the one from
		 * hvm_vcpu_initialise, hvm_set_guest_tsc(v, 0): its TSC starts
		 * again from 0 on the destination.  xtshim leaves a vCPU's skew
		 * alone when it comes up, so it gets that TSC here and now.
		 */
		up = x->nr_vcpus;
		for (unsigned i = 0; i < x->nr_vcpus; i++)
			if (x->vcpu[i].present & XTS_XEN_VCPU_CPU) {
				s.guest_tsc[i] = x->vcpu[i].tsc;
				if (up == x->nr_vcpus)
					up = i;
			}
		if (up == x->nr_vcpus)
			return xts_why(w, wl, -EINVAL, "no vCPU has a CPU record");
		for (unsigned i = 0; i < x->nr_vcpus; i++)
			if (!(x->vcpu[i].present & XTS_XEN_VCPU_CPU))
				s.guest_tsc[i] = s.guest_tsc[0];
	} else if (x->dom_type == XTS_LIBXC_DOM_X86_PV) {
		uint64_t latest = 0;

		if (!(x->have & XTS_XEN_HAVE_SHARED_INFO))
			return xts_why(w, wl, -EINVAL, "the PV stream has no SHARED_INFO");
		/*
		 * A PV guest's TSC is not saved: the best lower bound is the
		 * newest tsc_timestamp among its records (all vCPUs share it).
		 */
		for (unsigned i = 0; i < x->nr_vcpus && i < XTS_XEN_PV_VCPUS; i++)
			if (x->pv_time[i].tsc_to_system_mul &&
			    x->pv_time[i].tsc_timestamp > latest)
				latest = x->pv_time[i].tsc_timestamp;
		for (unsigned i = 0; i < x->nr_vcpus; i++)
			s.guest_tsc[i] = latest;
		rec = &x->pv_time[0];
		from = XTS_XEN_LINE_PV_SHARED;
	} else {
		return xts_why(w, wl, -ENOTSUP, "domain type %u", x->dom_type);
	}

	if (x->have & XTS_XEN_HAVE_PVCLOCK) {
		if (x->pvclock_vcpu >= x->nr_vcpus)
			return xts_why(w, wl, -EINVAL, "the pvclock record names vCPU %u of %u",
				   x->pvclock_vcpu, x->nr_vcpus);
		rec = &x->pvclock;
		rec_vcpu = x->pvclock_vcpu;
		from = XTS_XEN_LINE_PVCLOCK;
	}

	if (rec) {
		/*
		 * Over vCPU 0's TSC, the same line starts earlier by this vCPU's
		 * skew.  A record of a vCPU that was down was written over a TSC
		 * the stream does not have: take it as the first up vCPU's.
		 */
		unsigned frame = x->dom_type != XTS_LIBXC_DOM_X86_HVM ||
				 (x->vcpu[rec_vcpu].present & XTS_XEN_VCPU_CPU) ? rec_vcpu : up;
		uint64_t skew = s.guest_tsc[frame] - s.guest_tsc[0];

		rc = check_record(rec, from == XTS_XEN_LINE_PVCLOCK ? "the named pvclock record"
				  : "vCPU 0's SHARED_INFO record", w, wl);
		if (rc)
			return rc;
		s.line = (struct xts_line){ rec->tsc_timestamp - skew, rec->system_time,
					    rec->tsc_to_system_mul, rec->tsc_shift };
		if ((int64_t)(s.guest_tsc[0] - s.line.tsc) < 0)
			return xts_why(w, wl, -EINVAL, "the pvclock record (tsc_timestamp %" PRIu64 ") is"
				   " newer than the saved TSC %" PRIu64, rec->tsc_timestamp,
				   s.guest_tsc[frame]);
	} else {
		rc = xts_scale_from_hz((uint64_t)khz * 1000, &s.line.mul, &s.line.shift);
		if (rc)
			return xts_why(w, wl, rc, "no scale for %u kHz", khz);
		/*
		 * System time is ns of the first up vCPU's TSC, whichever TSC a
		 * down vCPU 0 restarts on: the running vCPUs' time is the same.
		 */
		s.line.tsc = s.guest_tsc[0];
		s.line.system_ns = (uint64_t)((unsigned __int128)s.guest_tsc[up] * 1000000u / khz);
	}

	if (x->dom_type == XTS_LIBXC_DOM_X86_PV || (x->have & XTS_XEN_HAVE_WALLCLOCK)) {
		if (x->wc_version & 1)
			return xts_why(w, wl, -EINVAL, "wallclock wc_version %u is odd (mid-update)",
				   x->wc_version);
		if (x->wc_nsec >= NSEC_PER_SEC)
			return xts_why(w, wl, -EINVAL, "wallclock wc_nsec %u is not below 10^9",
				   x->wc_nsec);
		s.wc_sec = x->wc_sec;
		s.wc_nsec = x->wc_nsec;
	} else {
		/* Guest UTC at the save instant, minus system time then. */
		__int128 utc = (__int128)save_realtime_ns +
			       (__int128)((x->have & XTS_XEN_HAVE_RTC) ? x->rtc_offset : 0) *
			       (__int128)NSEC_PER_SEC;
		__int128 wc = utc - (__int128)xts_line_at(&s.line, s.guest_tsc[0]);

		if (wc < 0)
			return xts_why(w, wl, -ERANGE, "the guest's UTC at the save instant is before its"
				   " system time 0 (RTC offset %" PRId64 " s)", x->rtc_offset);
		s.wc_sec = (uint64_t)(wc / NSEC_PER_SEC);
		s.wc_nsec = (uint32_t)(wc % NSEC_PER_SEC);
	}

	*st = s;
	if (src)
		*src = from;
	return 0;
}

int xts_xen_time_from_state(const struct xts_time_state *st, struct xts_xen_time *x)
{
	struct xts_xen_time n;
	__int128 guest_utc, off;

	if (st->arch != XTS_ARCH_X86 || st->nr_vcpus == 0 || st->nr_vcpus > XTS_MAX_VCPUS ||
	    st->guest_tsc_khz == 0 || st->tsc_mode > XTS_TSC_MODE_NEVER_EMULATE ||
	    st->wc_nsec >= NSEC_PER_SEC || xts_line_check(&st->line) ||
	    (int64_t)(st->guest_tsc[0] - st->line.tsc) < 0)
		return -EINVAL;

	memset(&n, 0, sizeof(n));
	n.have = XTS_XEN_HAVE_TSC_INFO | XTS_XEN_HAVE_HVM_HEADER | XTS_XEN_HAVE_RTC;
	n.dom_type = XTS_LIBXC_DOM_X86_HVM;
	n.tsc_mode = st->tsc_mode;
	n.tsc_khz = st->guest_tsc_khz;
	n.gtsc_khz = st->guest_tsc_khz;
	n.incarnation = st->incarnation;
	n.nr_vcpus = st->nr_vcpus;
	for (unsigned i = 0; i < st->nr_vcpus; i++) {
		n.vcpu[i].present = XTS_XEN_VCPU_CPU | XTS_XEN_VCPU_LAPIC | XTS_XEN_VCPU_TSC_ADJUST;
		n.vcpu[i].tsc = st->guest_tsc[i];
		/* xAPIC enabled at the architectural base; BSP flag on vCPU 0 */
		n.vcpu[i].apic_base_msr = 0xfee00000ull | (1u << 11) | (i == 0 ? 1u << 8 : 0);
	}
	/* Xen keeps the guest's UTC as host UTC + rtc_offset (whole seconds). */
	guest_utc = (__int128)st->wc_sec * NSEC_PER_SEC + st->wc_nsec +
		    xts_line_at(&st->line, st->guest_tsc[0]);
	off = guest_utc - (__int128)st->saved_realtime_ns;
	off += off < 0 ? -(__int128)(NSEC_PER_SEC / 2) : (__int128)(NSEC_PER_SEC / 2);
	n.rtc_offset = (int64_t)(off / (__int128)NSEC_PER_SEC);
	*x = n;
	return 0;
}
