/*
 * user_call(fn, arg): run fn(arg) at CPL 3 and come back.
 *
 * 64-bit: sysretq into ring 3 and a #UD back (through the TSS's RSP0;
 * user code runs with interrupts off and must not fault otherwise).  32-bit: sysexit and
 * sysenter, which a host that emulates non-long-mode code can do (KVM's
 * emulator has no protected-mode iret or outer-level far return).  In
 * both, ring 3 runs with IOPL 3 (and, 64-bit, a TSS I/O bitmap for ports
 * 0..255, for hosts that ignore IOPL there), so it may use port I/O.  The
 * GDT and MSRs are set by usermode_init() (usermode.c).
 */
#include "compat-tests/lib/usermode.h"

	.text
	.global user_call
#ifdef __x86_64__
user_call:                        /* %rdi = fn, %rsi = arg */
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	pushfq
	mov %rsp, user_saved_sp(%rip)
	mov %rdi, %r12
	mov %rsi, %r13
	lea user_entry(%rip), %rcx    /* sysret: RIP from %rcx, RFLAGS from %r11 */
	mov $(USER_RFLAGS), %r11
	lea (user_stack + USER_STACK_SIZE)(%rip), %rsp
	sysretq
user_entry:                       /* CPL 3 */
	mov $(SEL_UDATA | 3), %eax
	mov %eax, %ds
	mov %eax, %es
	mov %r13, %rdi
	call *%r12
	/*
	 * Back to ring 0 through #UD: the CPU switches to the TSS's RSP0 and
	 * the trap hook (usermode.c) resumes at user_return in ring 0.  (A
	 * syscall back would do without a TSS, but hosts that run the guest
	 * under PVM do not give ring 0 back on a guest's syscall.)
	 */
	.global user_ud2
user_ud2:
	ud2

	.global user_return
user_return:                      /* CPL 0, result in %rax */
	mov $SEL_DATA, %ecx
	mov %ecx, %ds
	mov %ecx, %es
	mov user_saved_sp(%rip), %rsp
	popfq
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
#else
user_call:                        /* 4(%esp) = fn, 8(%esp) = arg */
	push %ebp
	push %ebx
	push %esi
	push %edi
	pushf
	mov %esp, user_saved_sp
	mov 24(%esp), %esi
	mov 28(%esp), %edi
	push $(USER_RFLAGS)           /* sysexit keeps EFLAGS: set IOPL 3, IF 0 now */
	popf
	mov $user_entry, %edx         /* sysexit: EIP from %edx, ESP from %ecx */
	mov $(user_stack + USER_STACK_SIZE), %ecx
	sysexit
user_entry:                       /* CPL 3 */
	mov $(SEL_UDATA | 3), %eax
	mov %eax, %ds
	mov %eax, %es
	push %edi
	call *%esi
	add $4, %esp
	sysenter                      /* -> user_return, result in %eax */

	.global user_return
user_return:                      /* CPL 0 on the sysenter stack */
	mov $SEL_DATA, %ecx
	mov %ecx, %ds
	mov %ecx, %es
	mov user_saved_sp, %esp
	popf
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret
#endif

	.bss
	.align 16
	.global user_stack, sysenter_stack, user_saved_sp
user_saved_sp:
	.skip 8
user_stack:
	.skip USER_STACK_SIZE
sysenter_stack:
	.skip 256
