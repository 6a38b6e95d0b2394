/*
 * Compiled with -m32 -fsyntax-only by `make check`: the i386 runstate layout
 * (u64 aligned to 4 bytes) exists only in the native i386 header.
 */
#include "abi/xen-abi.h"
#include "abi/layout.h"
#ifndef __i386__
#error "build this file with -m32"
#endif
_Static_assert(sizeof(struct vcpu_runstate_info) == XTS_X86_32_RUNSTATE_SIZE, "i386 runstate size");
_Static_assert(offsetof(struct vcpu_runstate_info, state_entry_time) == XTS_X86_32_RUNSTATE_ENTRY, "i386 entry");
_Static_assert(offsetof(struct vcpu_runstate_info, time) == XTS_X86_32_RUNSTATE_TIME, "i386 time");
_Static_assert(sizeof(struct xen_add_to_physmap) == 16, "i386 add_to_physmap");
