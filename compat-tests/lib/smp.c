/*
 * Secondary vCPUs through VCPUOP_initialise + VCPUOP_up: a 64-bit guest
 * starts them directly in long mode on its own page tables, a 32-bit one in
 * flat protected mode; either way at ap_entry (head.S) on their own stack.
 */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/internal.h"

extern uint8_t cpu_stacks[];
extern void ap_entry(void);
extern const uint8_t sipi_tramp[], sipi_tramp_end[];
static void (*ap_fn[MAX_CPUS])(unsigned cpu);
/* Read by sipi_entry32 (head.S): one INIT/SIPI start at a time. */
volatile uint32_t sipi_cpu, sipi_stack;

#define SIPI_PAGE   0x9000u   /* RAM below 1 MiB in xtshim's memory map */
#define LAPIC_ICR_LO 0xfee00300u
#define LAPIC_ICR_HI 0xfee00310u
#define ICR_INIT    0x4500u   /* INIT, level assert */
#define ICR_SIPI    0x4600u   /* start-up, vector = page number */
#define ICR_BUSY    (1u << 12)

static void lapic_ipi(unsigned apic_id, uint32_t lo)
{
	volatile uint32_t *hi_reg = (volatile uint32_t *)(uintptr_t)LAPIC_ICR_HI;
	volatile uint32_t *lo_reg = (volatile uint32_t *)(uintptr_t)LAPIC_ICR_LO;
	*hi_reg = apic_id << 24;
	*lo_reg = lo;
	while (*lo_reg & ICR_BUSY)
		cpu_relax();
}

int smp_start_cpu_sipi(unsigned cpu, void (*fn)(unsigned cpu))
{
	if (cpu == 0 || cpu >= MAX_CPUS)
		return -XEN_EINVAL;
	memcpy((void *)(uintptr_t)SIPI_PAGE, sipi_tramp, (size_t)(sipi_tramp_end - sipi_tramp));
	ap_fn[cpu] = fn;
	sipi_cpu = cpu;
	sipi_stack = (uint32_t)((uintptr_t)cpu_stacks + (uintptr_t)(cpu + 1) * STACK_SIZE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_ipi(cpu, ICR_INIT);
	lapic_ipi(cpu, ICR_SIPI | (SIPI_PAGE >> 12));
	return 0;
}

unsigned this_cpu(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	return (unsigned)((sp - (uintptr_t)cpu_stacks) / STACK_SIZE);
}

unsigned smp_possible_cpus(void)
{
	unsigned n = 0;
	while (n < MAX_CPUS && vcpu_op(VCPUOP_is_up, n, NULL) >= 0)
		n++;
	return n;
}

int smp_start_cpu(unsigned cpu, void (*fn)(unsigned cpu))
{
	if (cpu == 0 || cpu >= MAX_CPUS)
		return -XEN_EINVAL;
	uintptr_t stack = (uintptr_t)cpu_stacks + (uintptr_t)(cpu + 1) * STACK_SIZE;
	vcpu_hvm_context_t ctx;
	memset(&ctx, 0, sizeof(ctx));
	unsigned long cr0, cr3, cr4;
	__asm__ __volatile__("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2"
			     : "=r"(cr0), "=r"(cr3), "=r"(cr4));
#ifdef __x86_64__
	ctx.mode = VCPU_HVM_MODE_64B;
	ctx.cpu_regs.x86_64 = (struct vcpu_hvm_x86_64){
		.rip = (uintptr_t)ap_entry, .rsp = stack, .rdi = cpu, .rflags = 2,
		.cr0 = cr0, .cr3 = cr3, .cr4 = cr4, .efer = rdmsr(0xc0000080),
	};
#else
	ctx.mode = VCPU_HVM_MODE_32B;
	ctx.cpu_regs.x86_32 = (struct vcpu_hvm_x86_32){
		.eip = (uintptr_t)ap_entry, .esp = stack, .ebx = cpu, .eflags = 2,
		.cr0 = cr0, .cr3 = cr3, .cr4 = cr4,
		.cs_limit = 0xffffffff, .ds_limit = 0xffffffff,
		.ss_limit = 0xffffffff, .es_limit = 0xffffffff,
		.cs_ar = 0xc9b, .ds_ar = 0xc93, .ss_ar = 0xc93, .es_ar = 0xc93,
		.tr_limit = 0x67, .tr_ar = 0x8b,    /* Xen wants a busy TSS in TR */
	};
#endif
	ap_fn[cpu] = fn;
	long rc = vcpu_op(VCPUOP_initialise, cpu, &ctx);
	if (!rc)
		rc = vcpu_op(VCPUOP_up, cpu, NULL);
	return (int)rc;
}

void ap_start(unsigned cpu)
{
	traps_init();
	lapic_init();
	if (shared_info) {
		int rc = xen_register_vcpu_info(cpu);
		if (rc)
			xerror("vCPU %u: register_vcpu_info: %d", cpu, rc);
	}
	if (cpu < MAX_CPUS && ap_fn[cpu])
		ap_fn[cpu](cpu);
	for (;;)
		safe_halt();
}
