/*
 * Built with -m32 -fsyntax-only (hypercalls/build.mk): the i386 layouts of
 * the hypercall argument structures in hypercalls/hcall.h.
 */
#include "hypercalls/hcall.h"
#ifndef __i386__
#error "build this file with -m32"
#endif
_Static_assert(sizeof(struct xen_add_to_physmap) == XTS_X86_32_ATP_SIZE, "i386 add_to_physmap");
_Static_assert(offsetof(struct xen_add_to_physmap, idx) == XTS_X86_32_ATP_IDX, "i386 idx");
_Static_assert(offsetof(struct xen_add_to_physmap, gpfn) == XTS_X86_32_ATP_GPFN, "i386 gpfn");
_Static_assert(sizeof(struct sched_poll) == XTS_X86_32_POLL_SIZE, "i386 sched_poll");
_Static_assert(offsetof(struct sched_poll, nr_ports) == XTS_X86_32_POLL_NR_PORTS, "i386 nr_ports");
_Static_assert(offsetof(struct sched_poll, timeout) == XTS_X86_32_POLL_TIMEOUT, "i386 timeout");
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "i386 register_vcpu_info");
_Static_assert(sizeof(struct xen_hvm_param) == 16, "i386 xen_hvm_param");
_Static_assert(sizeof(struct evtchn_status) == 24, "i386 evtchn_status");
_Static_assert(offsetof(struct vcpu_set_singleshot_timer, flags) == 8, "i386 singleshot");
_Static_assert(sizeof(struct xen_vnuma_topology_info) == 40, "i386 vnuma_topology_info");
