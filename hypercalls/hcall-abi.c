/*
 * Per-width layouts of the hypercall argument structures that differ
 * between 32- and 64-bit callers, asserted against the Xen headers (the
 * i386 numbers by hypercalls/i386/abi-check.c, built with -m32).
 */
#include "hypercalls/hcall.h"

#define ASSERT_OFF(type, field, val) \
	_Static_assert(offsetof(type, field) == (val), #type "." #field)

#if defined(__x86_64__) || defined(__aarch64__)
_Static_assert(sizeof(struct xen_add_to_physmap) == XTS_X86_64_ATP_SIZE, "add_to_physmap");
ASSERT_OFF(struct xen_add_to_physmap, idx, XTS_X86_64_ATP_IDX);
ASSERT_OFF(struct xen_add_to_physmap, gpfn, XTS_X86_64_ATP_GPFN);
_Static_assert(sizeof(struct sched_poll) == XTS_X86_64_POLL_SIZE, "sched_poll");
ASSERT_OFF(struct sched_poll, nr_ports, XTS_X86_64_POLL_NR_PORTS);
ASSERT_OFF(struct sched_poll, timeout, XTS_X86_64_POLL_TIMEOUT);
#endif
/* Identical for both widths: read with one layout. */
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "register_vcpu_info");
_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param");
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size");
_Static_assert(offsetof(struct vcpu_set_singleshot_timer, flags) == 8, "singleshot");

static const struct xts_hcall_abi abi64 = {
	.ulong_bytes = 8,
	.atp_size = XTS_X86_64_ATP_SIZE, .atp_idx = XTS_X86_64_ATP_IDX,
	.atp_gpfn = XTS_X86_64_ATP_GPFN,
	.poll_size = XTS_X86_64_POLL_SIZE, .poll_nr_ports = XTS_X86_64_POLL_NR_PORTS,
	.poll_timeout = XTS_X86_64_POLL_TIMEOUT,
};

static const struct xts_hcall_abi abi32 = {
	.ulong_bytes = 4,
	.atp_size = XTS_X86_32_ATP_SIZE, .atp_idx = XTS_X86_32_ATP_IDX,
	.atp_gpfn = XTS_X86_32_ATP_GPFN,
	.poll_size = XTS_X86_32_POLL_SIZE, .poll_nr_ports = XTS_X86_32_POLL_NR_PORTS,
	.poll_timeout = XTS_X86_32_POLL_TIMEOUT,
};

const struct xts_hcall_abi *xts_hcall_abi(bool long_mode)
{
	return long_mode ? &abi64 : &abi32;
}
