/*
 * Interrupt and exception entry: one stub per vector pushes a dummy error
 * code where the CPU does not, then the vector, and joins trap_common,
 * which saves the general registers as struct cpu_regs and calls
 * trap_handler().
 */
#include "compat-tests/lib/layout.h"

#ifdef __x86_64__
# define PTR .quad
#else
# define PTR .long
#endif

	.text
.macro STUB vec
	.align 16
stub_\vec:
	/* Vectors where the CPU pushes an error code itself. */
	.if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	push $0
	.endif
	push $\vec
	jmp trap_common
.endm

.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	STUB \v
.endr

	.align 16
stub_upcall:
	push $0
	push $UPCALL_VECTOR
	jmp trap_common
	.align 16
stub_heartbeat:
	push $0
	push $HEARTBEAT_VECTOR
	jmp trap_common
	.align 16
stub_spurious:
	push $0
	push $SPURIOUS_VECTOR
	jmp trap_common

trap_common:
#ifdef __x86_64__
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call trap_handler
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq
#else
	pusha
	push %esp
	cld
	call trap_handler
	add $4, %esp
	popa
	add $8, %esp
	/*
	 * Return as iret would at the same privilege level: [esp] = eip,
	 * cs, eflags becomes eflags, eip for popf; ret.  KVM's instruction
	 * emulator cannot do a protected-mode iret, and hosts that emulate
	 * all non-long-mode guest code (PVM) would stop here.
	 */
	push %eax
	mov 4(%esp), %eax         /* eip */
	xchg %eax, 12(%esp)       /* eip over eflags, eflags in eax */
	mov %eax, 8(%esp)         /* eflags over cs */
	pop %eax
	add $4, %esp
	popf
	ret
#endif

	.section .rodata
	.global trap_stubs
trap_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	PTR stub_\v
.endr
	.global trap_stub_upcall, trap_stub_spurious, trap_stub_heartbeat
trap_stub_upcall:
	PTR stub_upcall
trap_stub_spurious:
	PTR stub_spurious
trap_stub_heartbeat:
	PTR stub_heartbeat
