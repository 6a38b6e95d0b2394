/* Constants shared by the guest library's assembly and C. */
#ifndef COMPAT_LIB_LAYOUT_H
#define COMPAT_LIB_LAYOUT_H

#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18

#define MAX_CPUS   8
#define STACK_SIZE 16384

#define HEARTBEAT_VECTOR 0xf0   /* LAPIC timer: wakes every hlt loop now and then */
#define UPCALL_VECTOR   0xf3
#define SPURIOUS_VECTOR 0xff

#endif
