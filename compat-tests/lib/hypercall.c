/*
 * Calls through the hypercall page: stub `nr` at hypercall_page + nr * 32.
 * Every argument register is an in/out operand because Xen (debug builds)
 * and the stubs may change them.
 */
#include "compat-tests/lib/guest.h"

long hypercall(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3,
	       unsigned long a4, unsigned long a5)
{
	long ret = (long)(uintptr_t)(hypercall_page + (nr % 128) * 32);
#ifdef __x86_64__
	register unsigned long r10 __asm__("r10") = a4;
	register unsigned long r8 __asm__("r8") = a5;
	__asm__ __volatile__("call *%%rax"
			     : "+a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
			     :: "memory", "rcx", "r9", "r11");
#else
	__asm__ __volatile__("call *%%eax"
			     : "+a"(ret), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4), "+D"(a5)
			     :: "memory");
#endif
	return ret;
}

long xen_version(int cmd, void *arg) { return HYPERCALL2(__HYPERVISOR_xen_version, cmd, arg); }
long sched_op(int cmd, void *arg) { return HYPERCALL2(__HYPERVISOR_sched_op, cmd, arg); }
long evtchn_op(int cmd, void *arg) { return HYPERCALL2(__HYPERVISOR_event_channel_op, cmd, arg); }
long hvm_op(int cmd, void *arg) { return HYPERCALL2(__HYPERVISOR_hvm_op, cmd, arg); }
long memory_op(int cmd, void *arg) { return HYPERCALL2(__HYPERVISOR_memory_op, cmd, arg); }

long vcpu_op(int cmd, unsigned vcpu, void *arg)
{
	return HYPERCALL3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg);
}

long console_io_write(const char *buf, size_t len)
{
	return HYPERCALL3(__HYPERVISOR_console_io, CONSOLEIO_write, len, buf);
}

long set_timer_op(uint64_t timeout_ns)
{
#ifdef __x86_64__
	return HYPERCALL1(__HYPERVISOR_set_timer_op, timeout_ns);
#else
	/* i386: the 64-bit timeout is split over two argument registers. */
	return HYPERCALL2(__HYPERVISOR_set_timer_op, (uint32_t)timeout_ns,
			  (uint32_t)(timeout_ns >> 32));
#endif
}
