/* Constants shared by usermode.S and usermode.c (ring 3 for the tests). */
#ifndef COMPAT_LIB_USERMODE_H
#define COMPAT_LIB_USERMODE_H

#include "compat-tests/lib/layout.h"

/*
 * The GDT usermode_init() loads keeps head.S's selectors (0x08 code32,
 * 0x10 data, 0x18 code64) and adds, for 64-bit, a second kernel data
 * descriptor where syscall puts SS (STAR[47:32] + 8) and the user ones
 * where sysret puts them (STAR[63:48] + 8 and + 16); for 32-bit, the user
 * ones where sysexit puts them (SYSENTER_CS + 16 and + 24).
 */
#ifdef __x86_64__
#define SEL_KDATA2      0x20
#define SEL_UDATA       0x28
#define SEL_UCODE       0x30
#else
#define SEL_UCODE       0x18
#define SEL_UDATA       0x20
#endif
#define USER_STACK_SIZE 4096
#define USER_RFLAGS     0x3002    /* IOPL 3, interrupts off, bit 1 */

#endif
