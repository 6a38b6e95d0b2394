/*
 * Internal state of a Xen domain as the hypercall layer keeps it.  Not
 * installed: the VMM sees only the [section: hypercalls] API of xtshim.h.
 *
 * Locking: one mutex per domain (d->lock) serialises every hypercall, timer
 * callback and VMM notification.  Guest memory shared with running vCPUs
 * (event channel bitmaps, upcall_pending) is changed with atomic operations
 * only, because the guest modifies it concurrently without our lock.
 * Platform ops that must not call back into the domain (inject_upcall,
 * kick, arm_timer, console_write, host_sample, translate_gva) are called
 * with the lock held; the ones that may (vcpu_initialise, vcpu_up,
 * vcpu_down, shutdown) are called after it is dropped.
 */
#ifndef XTS_HYPERCALLS_HCALL_H
#define XTS_HYPERCALLS_HCALL_H

#include <pthread.h>
#include "abi/xen-abi.h"
#include "abi/layout.h"
#include "shim/xtshim.h"
#include <xen/arch-x86/cpuid.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

/* Sub-ops and feature bits newer than Debian's Xen 4.17 headers (Xen 4.18). */
#define XTS_VCPUOP_register_runstate_phys_area  14
#define XTS_VCPUOP_register_vcpu_time_phys_area 15
#define XTS_XENFEAT_runstate_phys_area          18
#define XTS_XENFEAT_vcpu_time_phys_area         19

#define XTS_NO_GPA       XTS_NO_AREA
#define XTS_NR_PORTS     4096          /* 2-level ABI on a 64-bit layout */
#define XTS_NR_WATCHDOGS 2             /* Xen: NR_DOMAIN_WATCHDOG_TIMERS */
#define XTS_POLL_MAX     128           /* Xen's limit on SCHEDOP_poll ports */
#define XTS_MS           1000000ULL
#define XTS_STIME_DELTA_MAX ((1ULL << 62) - 1) /* Xen: STIME_DELTA_MAX, xen/include/xen/time.h */
#define XTS_XEN_4_18     0x40012u
#define XTS_MEMOP_CMD_MASK 0x3f        /* Xen: (1 << MEMOP_EXTENT_SHIFT) - 1 */

/*
 * Hypercall argument structures whose layout depends on the caller's width
 * (the rest are identical for 32- and 64-bit callers).  Asserted natively
 * in hypercalls/hcall-abi.c and for i386 by hypercalls/i386/abi-check.c.
 */
struct xts_hcall_abi {
	uint32_t ulong_bytes;                         /* xen_ulong_t, guest handle */
	uint32_t atp_size, atp_idx, atp_gpfn;         /* struct xen_add_to_physmap */
	uint32_t poll_size, poll_nr_ports, poll_timeout; /* struct sched_poll */
};
#define XTS_X86_64_ATP_SIZE       24
#define XTS_X86_64_ATP_IDX        8
#define XTS_X86_64_ATP_GPFN       16
#define XTS_X86_64_POLL_SIZE      24
#define XTS_X86_64_POLL_NR_PORTS  8
#define XTS_X86_64_POLL_TIMEOUT   16
#define XTS_X86_32_ATP_SIZE       16
#define XTS_X86_32_ATP_IDX        8
#define XTS_X86_32_ATP_GPFN       12
#define XTS_X86_32_POLL_SIZE      16
#define XTS_X86_32_POLL_NR_PORTS  4
#define XTS_X86_32_POLL_TIMEOUT   8
const struct xts_hcall_abi *xts_hcall_abi(bool long_mode);

/* An event channel (the ABI state lives in shared_info; this is the binding). */
enum xts_port_state {
	XTS_PORT_FREE = 0,
	XTS_PORT_RESERVED,      /* port 0 */
	XTS_PORT_UNBOUND,
	XTS_PORT_INTERDOMAIN,   /* connected to an xtshim backend (console, xenstore) */
	XTS_PORT_VIRQ,
	XTS_PORT_IPI,
};

enum xts_backend { XTS_BACKEND_NONE = 0, XTS_BACKEND_CONSOLE, XTS_BACKEND_STORE };

struct xts_port {
	uint8_t state;          /* enum xts_port_state */
	uint8_t backend;        /* enum xts_backend, for XTS_PORT_INTERDOMAIN */
	uint16_t remote_dom;    /* unbound / interdomain peer */
	uint32_t vcpu;          /* notify vCPU */
	uint32_t virq;
	bool offloaded;         /* IPI the external record keeper handles (ops->ipi_port) */
};

/*
 * A guest area registered by address: [0, len0) at gpa[0] and the rest at
 * gpa[1] (a virtually contiguous area may be split over two guest pages).
 */
struct xts_garea {
	bool set;
	uint64_t gpa[2];
	uint32_t len0, size;
};

struct xts_vcpu {
	bool online;            /* not VPF_down */
	bool initialised;       /* VCPUOP_initialise done, or started by the VMM */
	bool running;           /* the VMM says guest code is executing */
	bool blocked;           /* in SCHEDOP_block or SCHEDOP_poll */
	bool polling;
	uint64_t vcpu_info_gpa; /* XTS_NO_GPA: legacy slot / shadow */
	/*
	 * Secondary time records, kept apart as Xen keeps them: the one given
	 * by physical address (VCPUOP 15) gets the updates while it is set,
	 * else the one given by virtual address (VCPUOP 13).  The latter is
	 * translated again whenever it is written on its own vCPU's thread;
	 * time_virt holds the last translation (not set: none valid).
	 */
	struct xts_garea time_phys;
	bool time_gva_set;
	uint64_t time_gva;
	struct xts_garea time_virt;
	struct xts_garea runstate_area;
	bool runstate_phys;     /* runstate_area came from VCPUOP 14 */
	/* Runstate, in Xen system time (ns). */
	uint32_t rs_state;
	uint64_t rs_entry_ns;
	uint64_t rs_time[4];
	/* Timers: deadlines in Xen system time (ns). */
	bool sshot_on;
	uint64_t sshot_ns;
	/*
	 * Periodic timer, as Xen's periodic_period / periodic_last_event /
	 * periodic_timer (xen/common/sched/core.c): periodic_on while Xen's
	 * timer would be set (it is stopped while the vCPU is descheduled:
	 * blocked, polling or down); periodic_last_ns starts at 0 and is kept
	 * across stop and set.
	 */
	uint64_t period_ns;     /* 0: no periodic timer */
	uint64_t periodic_last_ns;
	uint64_t periodic_next_ns;
	bool periodic_on;
	bool poll_timeout_on;
	uint64_t poll_timeout_ns;
	uint64_t armed_host_tsc; /* last value given to ops->arm_timer */
	uint32_t nr_poll;
	uint32_t poll_ports[XTS_POLL_MAX];
	uint8_t upcall_vector;  /* HVMOP_set_evtchn_upcall_vector, 0 none */
	uint32_t virq_port[NR_VIRQS];
	uint8_t dummy_vcpu_info[64] __attribute__((aligned(8))); /* vcpu_info of a vCPU >= 32 before registering */
};

struct xts_domain {
	pthread_mutex_t lock;
	struct xts_domain_config cfg;
	enum xts_layout_id layout_id;   /* latched shared_info layout */
	const struct xts_layout *lay;
	uint64_t shinfo_gpa;            /* XTS_NO_GPA until XENMEM_add_to_physmap */
	uint64_t shinfo_maps;           /* XENMEM_add_to_physmap(shared_info) done */
	uint8_t *shadow_shinfo;         /* 4 KiB, stands in until it is mapped */
	uint64_t hcall_page_gpa;
	uint64_t callback_param;        /* HVM_PARAM_CALLBACK_IRQ as set */
	uint8_t callback_vector;        /* 0: no vector callback */
	uint64_t params[HVM_NR_PARAMS];
	bool runstate_update_flag;      /* VMASST_TYPE_runstate_update_flag */
	uint64_t generation;            /* bumped on every registration change */
	bool store_broken, console_broken;
	/*
	 * The xenstore request being read: consumed from the ring as it comes
	 * (Linux's xb_write() notifies only when it finds the ring empty, so a
	 * header left in the ring would never be followed by a notify for its
	 * body), answered once whole.
	 */
	uint8_t store_msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	uint32_t store_have;
	/*
	 * SCHEDOP_watchdog: Xen's NR_DOMAIN_WATCHDOG_TIMERS (2) per domain,
	 * deadlines in Xen system time (ns), serviced with vCPU 0's host timer.
	 */
	uint8_t watchdog_inuse;         /* bit i: timer id i + 1 exists */
	uint64_t watchdog_ns[XTS_NR_WATCHDOGS];
	bool watchdog_expired;          /* shut down with SHUTDOWN_watchdog once unlocked */
	/* SCHEDOP_shutdown_code: the reason a later shutdown reports (Xen's d->shutdown_code). */
	bool shutdown_code_set;
	uint8_t shutdown_code;
	struct xts_port ports[XTS_NR_PORTS];
	struct xts_vcpu *v;
	/*
	 * External records: the model's system time minus the keeper's at the
	 * last xts_dom_now_ns() (ns, signed), so a deadline on the keeper's
	 * line becomes a host TSC through the model.
	 */
	int64_t keeper_skew_ns;
};

/*
 * One hypercall in flight.  Handlers run with d->lock held; what must
 * happen after it is dropped (ops that may re-enter) is recorded here.
 */
enum xts_deferred { XTS_DEFER_NONE = 0, XTS_DEFER_INIT, XTS_DEFER_UP, XTS_DEFER_DOWN,
		    XTS_DEFER_SHUTDOWN };

struct xts_call {
	struct xts_domain *d;
	unsigned vcpu;
	const struct xts_hcall *h;
	const struct xts_hcall_abi *abi;
	enum xts_hcall_action action;
	enum xts_deferred defer;
	unsigned defer_vcpu;
	unsigned defer_reason;
	vcpu_hvm_context_t defer_ctx;
};

typedef int64_t (*xts_handler_fn)(struct xts_call *c);

/* Guest copies of hypercall arguments (guest virtual addresses). */
int xts_copy_from_guest(struct xts_call *c, uint64_t gva, void *buf, uint64_t len);
int xts_copy_to_guest(struct xts_call *c, uint64_t gva, const void *buf, uint64_t len);
int xts_check_guest(struct xts_call *c, uint64_t gva, uint64_t len);
/* Translate a guest-virtual area once, for registrations kept by address. */
int xts_garea_translate(struct xts_call *c, uint64_t gva, uint32_t size, struct xts_garea *a);
int xts_garea_write(const struct xts_domain *d, const struct xts_garea *a, uint32_t off,
		    const void *buf, uint32_t len);

/* Small helpers for the caller's word width. */
static inline uint64_t xts_ld(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* domain.c */
uint64_t xts_dom_host_tsc(struct xts_domain *d);
uint64_t xts_dom_now_ns(struct xts_domain *d);
int xts_dom_host_tsc_at_ns(struct xts_domain *d, uint64_t ns, uint64_t *host_tsc);
uint8_t *xts_dom_shinfo(struct xts_domain *d);
uint8_t *xts_dom_vcpu_info(struct xts_domain *d, unsigned vcpu);
/* c: the hypercall in progress, or NULL (not on any vCPU's thread). */
void xts_dom_publish_vcpu_time(struct xts_domain *d, struct xts_call *c, unsigned vcpu);
void xts_dom_publish_time_phys(struct xts_domain *d, unsigned vcpu);
void xts_dom_publish_wallclock(struct xts_domain *d);
void xts_dom_latch_layout(struct xts_domain *d, bool long_mode);
bool xts_dom_domid_ok(const struct xts_domain *d, uint16_t domid);
void xts_runstate_set(struct xts_domain *d, unsigned vcpu);
void xts_runstate_publish(struct xts_domain *d, unsigned vcpu);
void xts_runstate_read(struct xts_domain *d, unsigned vcpu, uint64_t now_ns,
		       uint32_t *state, uint64_t *entry, uint64_t time[4]);
void xts_runstate_encode(const struct xts_layout *lay, uint32_t state, uint64_t entry,
			 const uint64_t time[4], uint8_t *out);

/* sched-op.c: the watchdog deadlines and their expiry (d->lock held). */
bool xts_watchdog_earliest(const struct xts_domain *d, uint64_t *ns);
void xts_watchdog_service(struct xts_domain *d, uint64_t now);

/* evtchn.c */
void xts_evtchn_set_pending(struct xts_domain *d, uint32_t port);
void xts_evtchn_mark_events_pending(struct xts_domain *d, unsigned vcpu);
bool xts_evtchn_is_pending(struct xts_domain *d, uint32_t port);
int xts_evtchn_alloc_backend(struct xts_domain *d, enum xts_backend b, uint32_t *port);
void xts_evtchn_raise_virq(struct xts_domain *d, unsigned vcpu, unsigned virq);
void xts_vcpu_wake(struct xts_domain *d, unsigned vcpu);

/* timer.c */
void xts_timer_rearm(struct xts_domain *d, unsigned vcpu);
int xts_timer_set_singleshot(struct xts_domain *d, unsigned vcpu, uint64_t deadline_ns);
void xts_timer_stop_singleshot(struct xts_domain *d, unsigned vcpu);
void xts_timer_set_periodic(struct xts_domain *d, unsigned vcpu, uint64_t period_ns);
void xts_timer_vcpu_descheduled(struct xts_domain *d, unsigned vcpu);
void xts_timer_vcpu_scheduled(struct xts_domain *d, unsigned vcpu);

/* pvio.c: the PV console and xenstore ring backends */
void xts_pvio_init(struct xts_domain *d);
void xts_pvio_notify(struct xts_domain *d, enum xts_backend b, uint32_t port);

/* Handlers, one file per hypercall family. */
int64_t xts_do_xen_version(struct xts_call *c);
int64_t xts_do_memory_op(struct xts_call *c);
int64_t xts_do_vcpu_op(struct xts_call *c);
int64_t xts_do_set_timer_op(struct xts_call *c);
int64_t xts_do_sched_op(struct xts_call *c);
int64_t xts_do_event_channel_op(struct xts_call *c);
int64_t xts_do_hvm_op(struct xts_call *c);
int64_t xts_do_console_io(struct xts_call *c);
int64_t xts_do_grant_table_op(struct xts_call *c);
int64_t xts_do_vm_assist(struct xts_call *c);

#endif
