/* Guest library internals shared between its files. */
#ifndef COMPAT_LIB_INTERNAL_H
#define COMPAT_LIB_INTERNAL_H

#include "compat-tests/lib/guest.h"

/* Saved by trap_common (entry.S), lowest address first. */
struct cpu_regs {
#ifdef __x86_64__
	unsigned long r15, r14, r13, r12, r11, r10, r9, r8;
	unsigned long bp, di, si, dx, cx, bx, ax;
#else
	unsigned long di, si, bp, sp_unused, bx, dx, cx, ax;
#endif
	unsigned long vec, err;
	unsigned long ip, cs, flags;   /* pushed by the CPU */
};

/* A test may take exceptions itself (return true when handled). */
extern bool (*trap_hook)(struct cpu_regs *regs);

void evtchn_upcall(unsigned cpu);
void trap_handler(struct cpu_regs *regs);
void guest_start(const struct hvm_start_info *si);
void ap_start(unsigned cpu);

#endif
