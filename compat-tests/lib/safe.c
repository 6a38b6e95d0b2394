/*
 * Instructions that may fault, for tests that expect a #GP: the faulting
 * instruction has a label, and the trap hook resumes after it with the
 * vector recorded instead of panicking.
 */
#include "compat-tests/lib/xtest.h"
#include "compat-tests/lib/internal.h"

extern const uint8_t wrmsr_safe_insn[], wrmsr_safe_next[];
static volatile long fault_vec[MAX_CPUS];
static bool (*next_hook)(struct cpu_regs *regs);

static bool safe_hook(struct cpu_regs *regs)
{
	if (regs->ip != (uintptr_t)wrmsr_safe_insn)
		return next_hook ? next_hook(regs) : false;
	fault_vec[this_cpu()] = (long)regs->vec;
	regs->ip = (uintptr_t)wrmsr_safe_next;
	return true;
}

int wrmsr_safe(uint32_t msr, uint64_t v)
{
	unsigned cpu = this_cpu();
	if (trap_hook != safe_hook) {      /* chained: other hooks keep working */
		next_hook = trap_hook;
		trap_hook = safe_hook;
	}
	fault_vec[cpu] = -1;
	__asm__ __volatile__(".global wrmsr_safe_insn, wrmsr_safe_next\n"
			     "wrmsr_safe_insn: wrmsr\n"
			     "wrmsr_safe_next:"
			     :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
	return (int)fault_vec[cpu];
}
