/*
 * Helpers the compat tests share on top of guest.h: the usual Xen set-up
 * in one call, errno-aware expectations, command-line numbers, VIRQ_TIMER
 * binding, waiting with a deadline, running code on another vCPU,
 * percentiles for figures, and a ring-3 environment (usermode.c).
 *
 * Failures are reported with xfail() and the test goes on, so one image
 * reports every broken check, not only the first.
 */
#ifndef COMPAT_LIB_XTEST_H
#define COMPAT_LIB_XTEST_H

#include "compat-tests/lib/guest.h"

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL

/* What xtest_setup() does, in this order (each step needs the previous). */
#define SETUP_HCALL     (1u << 0)   /* detect Xen, install the hypercall page */
#define SETUP_SHINFO    (1u << 1)   /* map shared_info */
#define SETUP_VCPU_INFO (1u << 2)   /* register vCPU 0's vcpu_info */
#define SETUP_UPCALL    (1u << 3)   /* per-vCPU upcall vector (CALLBACK_IRQ as fallback) */
#define SETUP_ALL       (SETUP_HCALL | SETUP_SHINFO | SETUP_VCPU_INFO | SETUP_UPCALL)
/* Report SKIP (no Xen) or ERROR (a set-up step failed) and return false. */
bool xtest_setup(unsigned steps);

/* "EINVAL" for -XEN_EINVAL, "0" for 0, "?" otherwise. */
const char *xen_errno_name(long rc);
/* xfail() unless got == want; the message names both values.  True if equal. */
bool expect_rc(long got, long want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* xfail(fmt) unless cond.  True if cond. */
bool check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A number from `key=N` on the command line (decimal or 0x..). */
bool cmdline_u64(const char *key, uint64_t *out);

/* A handler for a port the test bound to vCPU `cpu` itself (lib/evtchn.c). */
int evtchn_set_handler(evtchn_port_t port, unsigned cpu, evtchn_handler_t fn, void *arg);

/* The upcall vector for `cpu` and VIRQ_TIMER bound to it. */
int timer_bind(unsigned cpu, evtchn_handler_t fn, void *arg, evtchn_port_t *port);
/*
 * With interrupts on, spin until *counter differs from `seen` or system
 * time reaches limit_ns; interrupts are off again on return.  True when
 * the counter moved.  Spinning (not hlt) keeps a lost wake-up from
 * hanging the guest: the limit always ends the wait.
 */
bool wait_count(volatile unsigned *counter, unsigned seen, uint64_t limit_ns);
/* The same, halting between interrupts (the way a guest idles). */
bool halt_count(volatile unsigned *counter, unsigned seen, uint64_t limit_ns);
/* Busy-wait for `ns` of system time (interrupts as they are). */
void delay_ns(uint64_t ns);

/*
 * Start vCPU `cpu` on fn (it halts when fn returns), wait up to timeout_ns
 * for fn to return (xfail if it does not), or both.
 */
bool smp_start(unsigned cpu, void (*fn)(unsigned cpu));
bool smp_wait(unsigned cpu, uint64_t timeout_ns);
bool smp_run(unsigned cpu, void (*fn)(unsigned cpu), uint64_t timeout_ns);

/* Sort ascending, and the pct-th percentile (nearest rank) of a sorted array. */
void sort_u64(uint64_t *v, unsigned n);
uint64_t percentile(const uint64_t *sorted, unsigned n, unsigned pct);

/* wrmsr that returns the exception vector it raised (13 for #GP), or -1. */
int wrmsr_safe(uint32_t msr, uint64_t v);

/* ---- a reference clock: the LAPIC timer (refclock.c) ---- */
/*
 * The LAPIC timer counts its bus clock, which the hypervisor derives from
 * its own host clock (KVM: the host's hrtimer/ktime; Xen: its NOW()), not
 * from the guest TSC or the pvclock record: a second clock to measure
 * those against.  One count at divide-by-1 is refclock_bus_ns() ns: 1 on
 * KVM, 10 on Xen (peer=xen), or apic_bus_ns=N on the command line.
 *
 * refclock_window() borrows this vCPU's LAPIC timer (one-shot, LVT masked,
 * TMICT 0xffffffff) with interrupts off, spins until at least `ns` of it
 * have passed (ns < 4 s), and restarts the heartbeat before it returns;
 * the interrupts it held off are taken after.  Each end is a TMCCT read
 * bracketed by two rdtsc, the tightest of 8: the TSC at an end is their
 * midpoint, and `tsc_err` is half the wider bracket (how far the read
 * can be off).  refclock_measure() retries a window whose brackets are
 * wider than max_err_ppm of it (up to 3 windows) and returns false (the
 * caller reports an ERROR, not a verdict) if none was tight enough.
 * before/after, if set, run with interrupts off just before the first and
 * just after the last read (e.g. to read the pvclock record there).
 */
struct ref_window {
	uint64_t ns;            /* LAPIC time between the two reads */
	uint64_t tsc0, tsc1;    /* the TSC at the two reads */
	uint64_t tsc_err;       /* TSC ticks either way each end may be off */
};
unsigned refclock_bus_ns(void);
bool refclock_measure(uint64_t ns, uint64_t max_err_ppm, struct ref_window *w,
		      void (*before)(void), void (*after)(void));
void refclock_window(uint64_t ns, struct ref_window *w, void (*before)(void),
		     void (*after)(void));

/* Xen's set_time_scale() (xen/arch/x86/time.c), recomputed: ns = ((ticks << shift) * mul) >> 32. */
void xen_time_scale(uint64_t hz, uint32_t *mul, int *shift);

/* ---- ring 3 (usermode.c) ---- */
/*
 * Run fn(arg) at CPL 3 on a separate stack, allowed port I/O (IOPL 3 and,
 * 64-bit, a TSS I/O bitmap for ports 0..255: it may trap to the VMM's
 * hypercall port itself), and return its result at CPL 0.  Interrupts stay
 * off in ring 3; an exception there is fatal.  vCPU 0 only.
 */
long user_call(long (*fn)(void *arg), void *arg);
/* Once, on vCPU 0, before user_call(): user segments, MSRs, user pages. */
void usermode_init(void);

#endif
