/*
 * PVH entry and per-vCPU entry for the compat-test guests.
 *
 * The PVH ABI enters at the PHYS32_ENTRY note in 32-bit flat protected mode
 * with paging off and %ebx = hvm_start_info.  The 32-bit environment stays
 * there; the 64-bit one identity-maps the low 4 GiB with 2 MiB pages (the
 * LAPIC at 0xfee00000 included) and enters long mode.  Secondary vCPUs
 * start from a VCPUOP_initialise context at ap_entry with the cpu number in
 * %ebx (32-bit) or %rdi (64-bit) and the stack already set.
 */
#include "compat-tests/lib/layout.h"

	.pushsection .note.Xen, "a", @note
	.align 4
	.long 4, 4, 18            /* namesz "Xen\0", descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.align 4
	.long _start
	.align 4
	.popsection

/* Flat data segments everywhere (clobbers %eax). */
.macro LOAD_DATA_SEGS
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
.endm

#ifdef __x86_64__
/* PAE, CR3 = the identity map, EFER.LME, then PG: long mode, still 32-bit
 * code until the far jump (clobbers %eax %ecx %edx). */
.macro ENABLE_PAGING_LM
	mov %cr4, %eax
	or $0x20, %eax            /* PAE */
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx     /* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax      /* PG | PE */
	mov %eax, %cr0
.endm
#endif

	.section .text.head, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	mov %ebx, %esi            /* hvm_start_info, kept across the set-up */
	lgdt gdt_ptr
	ljmp $SEL_CODE32, $1f
1:	LOAD_DATA_SEGS
	mov $(cpu_stacks + STACK_SIZE), %esp

#ifdef __x86_64__
	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	mov $(pdpt + 3), %eax
	mov %eax, pml4
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $12, %eax
	add $(pd + 3), %eax
	mov %eax, pdpt(, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jne 2b
	xor %ecx, %ecx
3:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax            /* present, writable, 2 MiB */
	mov %eax, pd(, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 3b

	ENABLE_PAGING_LM
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	mov $(cpu_stacks + STACK_SIZE), %rsp
	mov %esi, %edi
	call guest_start
	ud2

	.global ap_entry
ap_entry:                         /* %rdi = cpu, %rsp = its stack, long mode on */
	lgdt gdt_ptr
	push %rdi
	pushq $SEL_CODE64
	lea 1f(%rip), %rax
	push %rax
	lretq
1:	pop %rdi
	LOAD_DATA_SEGS
	call ap_start
	ud2
#else
	push %esi
	call guest_start
	ud2

	.global ap_entry
ap_entry:                         /* %ebx = cpu, %esp = its stack */
	lgdt gdt_ptr
	ljmp $SEL_CODE32, $1f
1:	LOAD_DATA_SEGS
	push %ebx
	call ap_start
	ud2
#endif

/*
 * INIT/SIPI bring-up.  sipi_tramp is copied below 1 MiB and started by a
 * SIPI in real mode with CS = its page; it loads the GDT, enters protected
 * mode and jumps to sipi_entry32 with the stack and cpu number the starting
 * vCPU left in sipi_stack / sipi_cpu.
 */
	.code16
	.global sipi_tramp, sipi_tramp_end
sipi_tramp:
	cli
	mov %cs, %ax
	mov %ax, %ds
	lgdtl sipi_gdt_ptr - sipi_tramp
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $SEL_CODE32, $sipi_entry32
	.align 4
sipi_gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
sipi_tramp_end:

	.code32
sipi_entry32:
	LOAD_DATA_SEGS
	mov sipi_stack, %esp
	mov sipi_cpu, %ebx
#ifdef __x86_64__
	ENABLE_PAGING_LM
	ljmp $SEL_CODE64, $sipi_entry64
	.code64
sipi_entry64:
	movl %esp, %esp           /* upper halves are undefined after the switch */
	movl %ebx, %edi
	jmp ap_entry
#else
	jmp ap_entry
#endif

	.section .rodata
	.align 16
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff  /* SEL_CODE32: flat 32-bit code */
	.quad 0x00cf93000000ffff  /* SEL_DATA: flat data */
	.quad 0x00af9b000000ffff  /* SEL_CODE64 */
gdt_end:
	.global gdt_ptr
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
	.long 0

	.section .bss.page_aligned, "aw", @nobits
	.align 4096
	.global hypercall_page
hypercall_page:
	.skip 4096
#ifdef __x86_64__
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4 * 4096
#endif
	.global cpu_stacks
cpu_stacks:
	.skip STACK_SIZE * MAX_CPUS
