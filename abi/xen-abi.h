/*
 * The Xen public ABI as xtshim uses it: the real Xen public headers from
 * libxen-dev, included once, in the right order, with the right interface
 * version.  Nothing here re-declares what those headers define.
 */
#ifndef XTS_ABI_XEN_ABI_H
#define XTS_ABI_XEN_ABI_H

/* Xen's headers use uint*_t without including <stdint.h>. */
#include <stdint.h>
#include <stddef.h>

/*
 * With the default interface version (0) vcpu_time_info has pad1[3] instead
 * of `flags`; 0x00040e00 (Xen 4.14) is the newest Debian's 4.17 headers know.
 */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#elif __XEN_INTERFACE_VERSION__ < 0x00040600
#error "xtshim needs __XEN_INTERFACE_VERSION__ >= 0x00040600 (vcpu_time_info.flags)"
#endif

#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/vcpu.h>
#include <xen/sched.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/version.h>
#include <xen/elfnote.h>
#include <xen/grant_table.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/hvm/save.h>          /* needs -std=gnu11: anonymous unions */
/* x86 save records are stream data on any host; an Arm build got Arm's (empty) save.h above. */
#if !defined(__i386__) && !defined(__x86_64__)
#include <xen/arch-x86/hvm/save.h>
#endif
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/foreign/x86_32.h>
#include <xen/foreign/x86_64.h>
#include <xen/foreign/arm64.h>

/* Hypercall numbers, ops and flags the public headers spell differently or not at all. */
#define XTS_NR_HYPERCALLS        128   /* stubs in a hypercall page */
#define XTS_HYPERCALL_STUB_SIZE  32
#define XTS_XEN_CPUID_BASE       0x40000000u
#define XTS_XEN_HYPERCALL_MSR    0x40000000u

#endif
