/*
 * The compat-test guest library: a freestanding environment for small
 * Xen PVH guests (32- or 64-bit), built the same way for xtshim and for
 * real Xen.  A test is a folder with a main.c defining test_main(); the
 * library calls it on vCPU 0 with interrupts off, the console up, an IDT
 * installed and the LAPIC enabled.  Everything Xen-specific (discovery,
 * hypercall page, shared_info, vcpu_info, upcall) is done by the test
 * through the xen_*() calls, so a test can check each step.
 */
#ifndef COMPAT_LIB_GUEST_H
#define COMPAT_LIB_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/version.h>
#include <xen/vcpu.h>
#include <xen/sched.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/arch-x86/hvm/start_info.h>

#include "compat-tests/lib/layout.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define barrier() __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* ---- the test ---- */
void test_main(void);
extern const char test_title[];           /* printed before test_main() */

/* ---- boot ---- */
extern const struct hvm_start_info *start_info;
const char *cmdline(void);
/* The value of `key=...` on the command line (up to the next space), or NULL. */
const char *cmdline_arg(const char *key, char *buf, size_t len);
bool cmdline_has(const char *word);

/* ---- freestanding C ---- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t strtou64(const char *s, const char **end);

/* ---- console: port 0xe9 until the hypercall page is up, console_io after ---- */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_write(const char *buf, size_t len);
void console_write_e9(const char *buf, size_t len);

/* ---- report: every image ends with one "Test result:" line and powers off ---- */
void xfail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* FAILURE, go on */
void xerror(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* ERROR, go on */
void xskip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* SKIP, go on */
__attribute__((noreturn)) void report_and_exit(void);
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void xen_shutdown(unsigned reason);
/* A figure for the runner to quote: "figure: NAME VALUE UNIT". */
void report_figure(const char *name, uint64_t value, const char *unit);

/* ---- CPU ---- */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
static inline uint64_t rdtsc_ordered(void)
{
	__asm__ __volatile__("lfence" ::: "memory");
	return rdtsc();
}
static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "a"(leaf), "c"(sub));
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" :: "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void local_irq_enable(void) { __asm__ __volatile__("sti" ::: "memory"); }
static inline void local_irq_disable(void) { __asm__ __volatile__("cli" ::: "memory"); }
/* sti; hlt: wakes on the next interrupt without a window for losing it. */
static inline void safe_halt(void) { __asm__ __volatile__("sti; hlt" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ __volatile__("pause" ::: "memory"); }

/* The vCPU number, from the stack in use (each vCPU has its own). */
unsigned this_cpu(void);

/* ---- traps and the LAPIC ---- */
struct cpu_regs;
void traps_init(void);            /* per vCPU: load the IDT */
void lapic_init(void);            /* per vCPU: software-enable the LAPIC */
void lapic_eoi(void);
void lapic_heartbeat(void);       /* (re)start the periodic heartbeat timer */

/* ---- hypercalls (through the hypercall page) ---- */
extern uint8_t hypercall_page[4096];
long hypercall(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3,
	       unsigned long a4, unsigned long a5);
#define HYPERCALL1(nr, a) hypercall(nr, (unsigned long)(a), 0, 0, 0, 0)
#define HYPERCALL2(nr, a, b) hypercall(nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define HYPERCALL3(nr, a, b, c) \
	hypercall(nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), 0, 0)
long xen_version(int cmd, void *arg);
long vcpu_op(int cmd, unsigned vcpu, void *arg);
long sched_op(int cmd, void *arg);
long evtchn_op(int cmd, void *arg);
long hvm_op(int cmd, void *arg);
long memory_op(int cmd, void *arg);
long console_io_write(const char *buf, size_t len);
long set_timer_op(uint64_t timeout_ns);

/* ---- Xen discovery and set-up ---- */
extern uint32_t xen_cpuid_base;               /* 0 until xen_detect() */
extern volatile shared_info_t *shared_info;   /* NULL until xen_map_shared_info() */
bool xen_detect(void);                        /* CPUID scan for "XenVMMXenVMM" */
int xen_install_hypercall_page(void);         /* MSR from CPUID base+2 */
bool hypercall_page_ready(void);
int xen_map_shared_info(void);                /* XENMEM_add_to_physmap */
int xen_register_vcpu_info(unsigned cpu);     /* VCPUOP_register_vcpu_info */
volatile struct vcpu_info *xen_vcpu_info(unsigned cpu);
/* Per-vCPU upcall vector (HVMOP_set_evtchn_upcall_vector). */
int xen_set_upcall_vector(unsigned cpu);
/* Domain-wide vector through HVM_PARAM_CALLBACK_IRQ (type 2). */
int xen_set_callback_vector(void);

/* ---- event channels (2-level) ---- */
typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);
int evtchn_bind_virq(unsigned virq, unsigned cpu, evtchn_handler_t fn, void *arg,
		     evtchn_port_t *port);
int evtchn_unmask(evtchn_port_t port);
int evtchn_close(evtchn_port_t port);
/* Upcalls taken so far on a vCPU. */
uint64_t upcall_count(unsigned cpu);

/* ---- time ---- */
/* The record as read under its version protocol; returns the TSC it used. */
uint64_t xen_time_snapshot(unsigned cpu, struct vcpu_time_info *t);
uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift);
uint64_t pvclock_at(const struct vcpu_time_info *t, uint64_t tsc);
uint64_t xen_system_time(void);               /* this vCPU's record, now */
/* UTC (ns since the epoch) at system time 0, read under wc_version. */
void xen_wallclock(uint64_t *sec, uint32_t *nsec);

/* ---- timers ---- */
long xen_set_singleshot(unsigned cpu, uint64_t deadline_ns, uint32_t flags);
long xen_stop_singleshot(unsigned cpu);

/* ---- secondary vCPUs ---- */
/* Start vCPU `cpu` (VCPUOP_initialise + up): it sets itself up like vCPU 0
 * (IDT, LAPIC, vcpu_info, upcall vector) and runs fn(cpu). */
int smp_start_cpu(unsigned cpu, void (*fn)(unsigned cpu));
/*
 * The same through the LAPIC: INIT and SIPI to APIC id `cpu` (xtshim's
 * numbering; Xen HVM uses 2 * cpu), a real-mode trampoline at 0x9000.
 */
int smp_start_cpu_sipi(unsigned cpu, void (*fn)(unsigned cpu));
/* vCPUs the domain has (VCPUOP_is_up answers for them). */
unsigned smp_possible_cpus(void);

#endif
