/*
 * Ring 3 for the tests (user_call() in usermode.S): a GDT with user
 * segments, the fast system call MSRs, and (64-bit) the user bit on the
 * identity map under the image.  Only vCPU 0 is prepared.
 */
#include "compat-tests/lib/xtest.h"
#include "compat-tests/lib/usermode.h"
#include "compat-tests/lib/internal.h"

extern void user_return(void);
extern uint8_t sysenter_stack[];

#define MSR_EFER         0xc0000080
#define MSR_STAR         0xc0000081
#define MSR_LSTAR        0xc0000082
#define MSR_FMASK        0xc0000084
#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define PTE_USER         0x4ULL

static uint64_t gdt[] __attribute__((aligned(16))) = {
	0,
	0x00cf9b000000ffffULL,            /* 0x08 SEL_CODE32 */
	0x00cf93000000ffffULL,            /* 0x10 SEL_DATA */
#ifdef __x86_64__
	0x00af9b000000ffffULL,            /* 0x18 SEL_CODE64 */
	0x00cf93000000ffffULL,            /* 0x20 SEL_KDATA2: syscall's SS */
	0x00cff3000000ffffULL,            /* 0x28 SEL_UDATA, DPL 3 */
	0x00affb000000ffffULL,            /* 0x30 SEL_UCODE, DPL 3 */
	0, 0,                             /* 0x38 SEL_TSS (16 bytes), filled in */
#else
	0x00cffb000000ffffULL,            /* 0x18 SEL_UCODE, DPL 3 */
	0x00cff3000000ffffULL,            /* 0x20 SEL_UDATA, DPL 3 */
#endif
};

#ifdef __x86_64__
#define SEL_TSS 0x38
extern const uint8_t user_ud2[];
extern uintptr_t user_saved_sp;
/* A TSS with an I/O bitmap for ports 0..255 (all allowed), for hosts that
 * ignore IOPL in guest ring 3; ports above the bitmap stay refused. */
static struct __attribute__((packed)) {
	uint32_t rsvd0;
	uint64_t rsp[3];
	uint64_t rsvd1, ist[7], rsvd2;
	uint16_t rsvd3, iomap;
	uint8_t bitmap[32], end;
} tss __attribute__((aligned(16)));
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
static bool (*next_hook)(struct cpu_regs *regs);

/* The #UD that ends user code: resume at user_return in ring 0 (iretq frame). */
static bool user_hook(struct cpu_regs *regs)
{
	if (regs->vec != 6 || regs->ip != (uintptr_t)user_ud2)
		return next_hook ? next_hook(regs) : false;
	unsigned long *frame = &regs->ip;          /* ip, cs, flags, sp, ss */
	frame[0] = (uintptr_t)user_return;
	frame[1] = SEL_CODE64;
	frame[3] = user_saved_sp;
	frame[4] = SEL_DATA;
	return true;
}

static void load_tss(void)
{
	uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;
	tss.rsp[0] = (uintptr_t)ring0_stack + sizeof(ring0_stack);
	tss.iomap = offsetof(__typeof__(tss), bitmap);
	memset(tss.bitmap, 0, sizeof(tss.bitmap));
	tss.end = 0xff;
	gdt[SEL_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ULL << 40 |
			   ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[SEL_TSS / 8 + 1] = base >> 32;
	__asm__ __volatile__("ltr %w0" :: "r"(SEL_TSS));
}

/* User access to the whole identity map (a test guest has nothing to hide). */
static void map_user(void)
{
	uint64_t cr3;
	__asm__ __volatile__("mov %%cr3, %0" : "=r"(cr3));
	uint64_t *pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffULL);
	pml4[0] |= PTE_USER;
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & 0x000ffffffffff000ULL);
	for (unsigned i = 0; i < 4; i++) {
		pdpt[i] |= PTE_USER;
		uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[i] & 0x000ffffffffff000ULL);
		for (unsigned j = 0; j < 512; j++)
			pd[j] |= PTE_USER;
	}
	__asm__ __volatile__("mov %0, %%cr3" :: "r"(cr3) : "memory");
}
#endif

void usermode_init(void)
{
	struct __attribute__((packed)) { uint16_t limit; uintptr_t base; } ptr = {
		sizeof(gdt) - 1, (uintptr_t)gdt,
	};
	__asm__ __volatile__("lgdt %0" :: "m"(ptr));
#ifdef __x86_64__
	map_user();
	load_tss();
	if (trap_hook != user_hook) {
		next_hook = trap_hook;
		trap_hook = user_hook;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);            /* SCE */
	/* syscall: CS 0x18, SS 0x20; sysret: SS 0x20 + 8, CS 0x20 + 16 (both | 3). */
	wrmsr(MSR_STAR, (uint64_t)SEL_KDATA2 << 48 | (uint64_t)SEL_CODE64 << 32);
	wrmsr(MSR_LSTAR, (uintptr_t)user_return);
	wrmsr(MSR_FMASK, 0x200);                          /* IF off on the way in */
#else
	/* sysexit: CS 0x08 + 16, SS 0x08 + 24 (| 3); sysenter: CS 0x08, SS 0x10. */
	wrmsr(MSR_SYSENTER_CS, SEL_CODE32);
	wrmsr(MSR_SYSENTER_ESP, (uintptr_t)sysenter_stack + 256);
	wrmsr(MSR_SYSENTER_EIP, (uintptr_t)user_return);
#endif
}
