/*
 * The arm64 generic-timer counter in the clock model.
 *
 * The guest reads CNTVCT_EL0 = host counter - a VM-wide offset, at the
 * host's CNTFRQ_EL0, with no way for KVM to scale it.  So an arm64 model is
 * the x86 one with tsc_ratio fixed at 1.0, all vCPU skews 0, and a counter
 * rate that must be identical on both ends of a move.  This file keeps the
 * conversions between the model and KVM's / Xen's offset conventions, the
 * restore pre-flight, and the import of a Xen on Arm domain's counter.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "abi/xen-abi.h"
#include "shim/xtshim.h"

#define NSEC_PER_SEC 1000000000ULL

/* CNTFRQ in Hz -> the model's kHz; 0 when it does not fit the model. */
static uint32_t cntfrq_to_khz(uint64_t hz)
{
	if (hz == 0 || hz % 1000 || hz / 1000 > UINT32_MAX)
		return 0;
	return (uint32_t)(hz / 1000);
}

int xts_arm64_clock_params(struct xts_clock_params *p, uint32_t nr_vcpus,
			   uint64_t cntfrq_hz, uint64_t start_counter)
{
	uint32_t khz = cntfrq_to_khz(cntfrq_hz);

	if (!khz || nr_vcpus == 0 || nr_vcpus > XTS_MAX_VCPUS)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->arch = XTS_ARCH_ARM64;
	p->nr_vcpus = nr_vcpus;
	p->host_tsc_khz = khz;
	p->guest_tsc_khz = khz;
	p->tsc_ratio = XTS_TSC_RATIO_ONE;
	p->start_tsc = start_counter;
	p->tsc_mode = XTS_TSC_MODE_DEFAULT;
	return 0;
}

int xts_arm64_restore_params(struct xts_restore_params *p, enum xts_policy policy,
			     uint64_t threshold_ns, uint32_t flags, uint64_t host_cntfrq_hz)
{
	uint32_t khz = cntfrq_to_khz(host_cntfrq_hz);

	if (!khz || policy > XTS_POLICY_THRESHOLD || (flags & ~XTS_RESTORE_ACCEPT_RATE_CHANGE))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->policy = policy;
	p->threshold_ns = threshold_ns;
	p->flags = flags;
	p->host_tsc_khz = khz;
	p->host_can_scale = false;   /* no uAPI scales the arm64 counter */
	return 0;
}

int xts_arm64_check_state(const struct xts_time_state *st, uint64_t host_cntfrq_hz,
			  uint32_t flags, char *msg, size_t msg_len)
{
	uint64_t guest_hz;
	uint32_t i;

	if (msg && msg_len)
		msg[0] = '\0';
	if (st->arch != XTS_ARCH_ARM64) {
		if (msg)
			snprintf(msg, msg_len, "arm64: time state arch %" PRIu32 " is not arm64", st->arch);
		return -EINVAL;
	}
	if (st->nr_vcpus == 0 || st->nr_vcpus > XTS_MAX_VCPUS) {
		if (msg)
			snprintf(msg, msg_len, "arm64: time state nr_vcpus %" PRIu32 " outside 1..%u",
				 st->nr_vcpus, XTS_MAX_VCPUS);
		return -EINVAL;
	}
	if (!cntfrq_to_khz(host_cntfrq_hz)) {
		if (msg)
			snprintf(msg, msg_len, "arm64: host CNTFRQ %" PRIu64 " Hz is not a whole number "
				 "of kHz below 2^32 kHz", host_cntfrq_hz);
		return -EINVAL;
	}
	for (i = 1; i < st->nr_vcpus; i++) {
		if (st->guest_tsc[i] != st->guest_tsc[0]) {
			if (msg)
				snprintf(msg, msg_len, "arm64: time state guest_tsc[%" PRIu32 "] = %" PRIu64
					 " differs from vCPU 0's %" PRIu64 ", but the counter is VM-wide",
					 i, st->guest_tsc[i], st->guest_tsc[0]);
			return -EINVAL;
		}
	}
	guest_hz = (uint64_t)st->guest_tsc_khz * 1000;
	if (guest_hz == host_cntfrq_hz)
		return 0;
	if (flags & XTS_RESTORE_ACCEPT_RATE_CHANGE) {
		if (msg)
			snprintf(msg, msg_len, "arm64: guest counter rate changes from %" PRIu64
				 " Hz to %" PRIu64 " Hz (accepted by the operator)", guest_hz, host_cntfrq_hz);
		return 0;
	}
	if (msg)
		snprintf(msg, msg_len, "arm64: refusing restore: the guest counter ran at %" PRIu64
			 " Hz (guest_tsc_khz, the saving host's CNTFRQ) but this host's CNTFRQ is %" PRIu64
			 " Hz; KVM cannot scale the arm64 counter and the guest reads CNTFRQ_EL0 "
			 "itself. Use a host with the same CNTFRQ, or accept the change with "
			 "XTS_RESTORE_ACCEPT_RATE_CHANGE", guest_hz, host_cntfrq_hz);
	return -ERANGE;
}

int xts_arm64_kvm_offset(const struct xts_clock *c, uint64_t *counter_offset)
{
	uint32_t i;

	if (c->arch != XTS_ARCH_ARM64 || c->tsc_ratio != XTS_TSC_RATIO_ONE)
		return -EINVAL;
	if (c->nr_vcpus == 0 || c->nr_vcpus > XTS_MAX_VCPUS)
		return -EINVAL;
	for (i = 0; i < c->nr_vcpus; i++)
		if (c->vcpu_tsc_skew[i])
			return -EINVAL;
	/* model: guest = host + tsc_offset;  KVM: guest = host - counter_offset */
	*counter_offset = 0 - c->tsc_offset;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Xen on Arm                                                              */

_Static_assert(sizeof(struct xts_xen_arm_timer) == 32, "Arm timer save record");
_Static_assert(sizeof(struct hvm_save_descriptor) == 8, "HVM save descriptor");

#define HVM_SAVE_END 0   /* typecode of the closing record */

int xts_arm64_xen_timer_offset(const void *ctx, size_t len, uint32_t nr_vcpus,
			       uint64_t *vtb_offset)
{
	const uint8_t *p = ctx;
	uint64_t seen[XTS_MAX_VCPUS / 64] = { 0 };
	uint64_t off = 0;
	bool have = false, ended = false;
	size_t pos = 0;
	uint32_t i;

	if (nr_vcpus == 0 || nr_vcpus > XTS_MAX_VCPUS || (!ctx && len))
		return -EINVAL;
	/* HVM context records are little-endian like both hosts that make them. */
	while (!ended && len - pos >= sizeof(struct hvm_save_descriptor)) {
		struct hvm_save_descriptor d;
		struct xts_xen_arm_timer t;

		memcpy(&d, p + pos, sizeof(d));
		pos += sizeof(d);
		if (d.length > len - pos)
			return -EINVAL;
		if (d.typecode == HVM_SAVE_END) {
			ended = true;
		} else if (d.typecode == XTS_XEN_ARM_TIMER_TYPECODE) {
			if (d.length != sizeof(t))
				return -EINVAL;
			memcpy(&t, p + pos, sizeof(t));
			if (t.type == XTS_XEN_ARM_TIMER_VIRT) {
				uint64_t bit = 1ULL << (d.instance % 64);

				if (d.instance >= nr_vcpus || (seen[d.instance / 64] & bit))
					return -EINVAL;
				if (have && t.vtb_offset != off)
					return -EINVAL;
				seen[d.instance / 64] |= bit;
				off = t.vtb_offset;
				have = true;
			} else if (t.type != XTS_XEN_ARM_TIMER_PHYS) {
				return -EINVAL;
			}
		}
		pos += d.length;
	}
	/* Bytes after END are ignored; without END the blob must end on a record. */
	if (!ended && pos != len)
		return -EINVAL;
	for (i = 0; i < nr_vcpus; i++)
		if (!(seen[i / 64] & (1ULL << (i % 64))))
			return -EINVAL;
	*vtb_offset = off;
	return 0;
}

int xts_arm64_state_from_xen(const struct xts_arm64_xen_import *in, struct xts_time_state *st)
{
	struct xts_time_state s;
	uint32_t khz = cntfrq_to_khz(in->cntfrq_hz);
	uint64_t counter, sys, wc;
	uint32_t i;
	int rc;

	if (!khz || in->nr_vcpus == 0 || in->nr_vcpus > XTS_MAX_VCPUS)
		return -EINVAL;
	/* Xen sampled vtb_offset from this same counter when it built the domain. */
	if (in->source_counter < in->vtb_offset)
		return -EINVAL;
	counter = in->source_counter - in->vtb_offset;

	memset(&s, 0, sizeof(s));
	s.arch = XTS_ARCH_ARM64;
	s.nr_vcpus = in->nr_vcpus;
	for (i = 0; i < in->nr_vcpus; i++)
		s.guest_tsc[i] = counter;
	s.saved_realtime_ns = in->saved_realtime_ns;
	s.guest_tsc_khz = khz;
	s.tsc_mode = XTS_TSC_MODE_DEFAULT;
	s.incarnation = 1;
	/* System time: the guest counter since domain creation, scaled as Xen scales. */
	s.line.tsc = 0;
	s.line.system_ns = 0;
	rc = xts_scale_from_hz(in->cntfrq_hz, &s.line.mul, &s.line.shift);
	if (rc)
		return rc;
	if ((int64_t)counter < 0)
		return -ERANGE;   /* the model's line covers 2^63 ticks */
	sys = xts_line_at(&s.line, counter);
	if (in->saved_realtime_ns < sys)
		return -ERANGE;
	wc = in->saved_realtime_ns - sys;
	s.wc_sec = wc / NSEC_PER_SEC;
	s.wc_nsec = (uint32_t)(wc % NSEC_PER_SEC);
	*st = s;
	return 0;
}
