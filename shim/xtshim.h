/*
 * xtshim.h - the one public header of libxtshim, a Xen-compatible time ABI
 * for guests running on KVM.
 *
 * Units are part of every name or comment:
 *   _ns      nanoseconds (Xen system time, UTC)
 *   _tsc     guest TSC ticks (arm64: guest counter ticks), unless "host"
 *   host_tsc host TSC ticks (arm64: host physical counter ticks)
 *   _hz/_khz frequencies
 * No floating point is used anywhere in the time path.  Functions returning
 * int give 0 or a negative errno (<errno.h>); they never change their output
 * arguments or the state they are given when they fail.
 */
#ifndef XTSHIM_H
#define XTSHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00   /* vcpu_time_info.flags exists */
#elif __XEN_INTERFACE_VERSION__ < 0x00040600
#error "xtshim.h needs __XEN_INTERFACE_VERSION__ >= 0x00040600"
#endif
#include <xen/xen.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Guest layouts: which shared_info / vcpu_info / runstate layout a guest uses.
 * ====================================================================== */
enum xts_layout_id {
	XTS_LAYOUT_X86_64 = 0,
	XTS_LAYOUT_X86_32 = 1,
	XTS_LAYOUT_ARM64  = 2,
};

/* ======================================================================
 * Scale and the guest's pvclock formula
 * ====================================================================== */

/*
 * Xen's set_time_scale(): the (mul, shift) that turn ticks of a counter
 * running at hz into ns, as the guest applies them.  hz must be in
 * in [1 kHz, 2^40 Hz]; -EINVAL for 0, -ERANGE outside that range (shifts
 * no guest was ever tested with).
 */
int xts_scale_from_hz(uint64_t hz, uint32_t *mul, int8_t *shift);

/* The guest's scaling of a tick delta: ((delta <<>> shift) * mul) >> 32, mod 2^64. */
uint64_t xts_scale_delta(uint64_t delta_tsc, uint32_t mul, int8_t shift);

/*
 * The guest's formula on one record: system_time + scale(tsc - tsc_timestamp).
 * Reads the record as it is (no version check); see xts_pvclock_read_stable().
 */
uint64_t xts_pvclock_read(const struct vcpu_time_info *t, uint64_t tsc);

/*
 * A guest's read loop over a live, concurrently published record: retry
 * while the version is odd or changed; `read_tsc` is called inside the loop.
 */
uint64_t xts_pvclock_read_stable(const volatile struct vcpu_time_info *t,
				 uint64_t (*read_tsc)(void *), void *arg,
				 struct vcpu_time_info *snapshot);

/* ======================================================================
 * Time lines: Xen system time as a function of one guest TSC.
 *
 * A line is exactly what a vcpu_time_info record encodes (anchor tsc,
 * system time at the anchor, mul, shift).  The guest's formula is not
 * linear (it truncates twice), so a line can only be re-published at anchors
 * where truncation adds nothing: multiples of xts_line_period() ticks after
 * the original anchor.  Records produced at those anchors give the same
 * value as the original at every TSC at or after them.
 * ====================================================================== */
struct xts_line {
	uint64_t tsc;        /* anchor, guest TSC ticks */
	uint64_t system_ns;  /* Xen system time at the anchor */
	uint32_t mul;        /* tsc_to_system_mul */
	int8_t shift;        /* tsc_shift */
};

/* -EINVAL unless mul != 0 and -31 <= shift <= 31. */
int xts_line_check(const struct xts_line *l);
/* Value of the line at `tsc` (the guest formula; tsc >= anchor). */
uint64_t xts_line_at(const struct xts_line *l, uint64_t tsc);
/* Lattice step in ticks: a power of two, at most 2^63; 0 for an invalid line. */
uint64_t xts_line_period(const struct xts_line *l);
/*
 * The latest exact re-anchoring of `l` at or before `tsc` (ticks >= anchor);
 * -ERANGE if tsc is before the anchor.
 */
int xts_line_advance(const struct xts_line *l, uint64_t tsc, struct xts_line *out);
/*
 * The first guest TSC at or after the anchor at which the line reaches
 * `ns` (turns a Xen-system-time deadline into a TSC deadline).  A deadline
 * at or before the anchor's value gives the anchor; -ERANGE if reaching it
 * takes 2^63 ticks or more.
 */
int xts_line_tsc_at_ns(const struct xts_line *l, uint64_t ns, uint64_t *tsc);

/* ======================================================================
 * The clock model of one guest.
 *
 *   guest_tsc(vcpu) = ((host_tsc * tsc_ratio) >> XTS_TSC_RATIO_FRAC_BITS)
 *                     + tsc_offset + vcpu_tsc_skew[vcpu]            (mod 2^64)
 *   system_ns       = line evaluated at vCPU 0's guest TSC
 *   utc_ns          = wc (UTC at system time 0) + system_ns
 *
 * For arm64, "TSC" is the generic-timer counter and tsc_ratio is 1.0.
 * ====================================================================== */
#define XTS_MAX_VCPUS            128
#define XTS_TSC_RATIO_FRAC_BITS  48
#define XTS_TSC_RATIO_ONE        (1ULL << XTS_TSC_RATIO_FRAC_BITS)

enum xts_tsc_mode {              /* CPUID base+3 EBX, as Xen numbers them */
	XTS_TSC_MODE_DEFAULT        = 0,
	XTS_TSC_MODE_ALWAYS_EMULATE = 1,
	XTS_TSC_MODE_NEVER_EMULATE  = 2,
};

enum xts_arch { XTS_ARCH_X86 = 0, XTS_ARCH_ARM64 = 1 };

/* Clock flags (struct xts_clock.flags) */
#define XTS_CLOCK_TSC_STABLE        (1u << 0)  /* publish XEN_PVCLOCK_TSC_STABLE_BIT */
#define XTS_CLOCK_HOST_TSC_RELIABLE (1u << 1)  /* CPUID base+3 EAX bit 1 */
#define XTS_CLOCK_HOST_RDTSCP       (1u << 2)  /* CPUID base+3 EAX bit 2: the host has RDTSCP */

struct xts_clock {
	enum xts_arch arch;
	uint32_t nr_vcpus;
	/* This host (changes when the guest moves). */
	uint32_t host_tsc_khz;        /* CPUID base+3 subleaf 2 EAX */
	uint64_t tsc_ratio;           /* guest ticks per host tick, 16.48 fixed point */
	uint64_t tsc_offset;          /* added after scaling, ticks mod 2^64 */
	/* The guest (travels with it). */
	uint32_t guest_tsc_khz;       /* CPUID base+3 ECX */
	uint32_t tsc_mode;            /* enum xts_tsc_mode */
	uint32_t incarnation;         /* CPUID base+3 EDX: 1 when new, +1 per restore */
	uint32_t flags;               /* XTS_CLOCK_* */
	struct xts_line line;         /* Xen system time over vCPU 0's guest TSC */
	int64_t vcpu_tsc_skew[XTS_MAX_VCPUS]; /* vCPU i TSC minus vCPU 0 TSC, ticks */
	uint64_t wc_sec;              /* UTC at system time 0 */
	uint32_t wc_nsec;
	uint64_t stopped_pending[XTS_MAX_VCPUS / 64]; /* GUEST_STOPPED to publish, per vCPU */
};

/* A host instant: both values taken as close together as possible. */
struct xts_host_sample {
	uint64_t host_tsc;      /* host TSC ticks */
	uint64_t realtime_ns;   /* CLOCK_REALTIME, ns since the Unix epoch */
};

struct xts_clock_params {
	enum xts_arch arch;
	uint32_t nr_vcpus;            /* 1 .. XTS_MAX_VCPUS */
	uint32_t host_tsc_khz;        /* this host's TSC rate */
	uint32_t guest_tsc_khz;       /* 0: the host rate */
	uint64_t tsc_ratio;           /* 0: 1.0; otherwise what the backend programs */
	uint64_t start_tsc;           /* guest TSC at `now` on every vCPU */
	uint32_t tsc_mode;            /* enum xts_tsc_mode */
	uint32_t flags;               /* XTS_CLOCK_* */
};

/* (a) A new guest: system time 0 and guest TSC start_tsc at `now`; wallclock = now. */
int xts_clock_new(struct xts_clock *c, const struct xts_clock_params *p,
		  const struct xts_host_sample *now);

/*
 * (b) Continue the line of a record the guest saw on `vcpu` (even version,
 * mul != 0, sane shift): records produced afterwards give the same system
 * time as `seen` at every guest TSC at or after seen->tsc_timestamp.
 */
int xts_clock_continue(struct xts_clock *c, unsigned vcpu, const struct vcpu_time_info *seen);

/*
 * (c) Re-anchoring with no step.
 * set_frequency: from vCPU 0's guest TSC `switch_tsc` on, system time
 *   advances at new_hz per tick; the value at switch_tsc is unchanged.
 * set_host: this host's reference changes (migration, new TSC rate or ratio):
 *   guest TSC on vCPU 0 reads guest_tsc_now at `now`.
 */
int xts_clock_set_frequency(struct xts_clock *c, uint64_t switch_tsc, uint64_t new_hz);
int xts_clock_set_host(struct xts_clock *c, const struct xts_host_sample *now,
		       uint64_t guest_tsc_now, uint32_t host_tsc_khz, uint64_t tsc_ratio);

/*
 * For a KVM that ignores TSC offsets (every vCPU reads the host TSC):
 * offset and skews become 0 and the line's anchor moves with them, so system
 * time as a function of the host TSC stays exactly what it was.  *jump_tsc
 * is how far vCPU 0's TSC steps (mod 2^64).  -ENOTSUP unless x86 with a
 * ratio of 1.0; the model is unchanged then.
 */
int xts_clock_follow_host_tsc(struct xts_clock *c, int64_t *jump_tsc);

/* Queries: pure functions of the model and a host TSC. */
uint64_t xts_clock_guest_tsc(const struct xts_clock *c, unsigned vcpu, uint64_t host_tsc);
uint64_t xts_clock_system_ns(const struct xts_clock *c, uint64_t host_tsc);
/* The host TSC at which system time first reaches deadline_ns; -ERANGE past it. */
int xts_clock_host_tsc_at_ns(const struct xts_clock *c, uint64_t deadline_ns, uint64_t *host_tsc);

/*
 * The record to publish for `vcpu` at `host_tsc` (version left 0): the
 * latest exact anchor of the line, flags from the policy, and GUEST_STOPPED
 * if one was requested for this vCPU (consumed by this call).
 */
int xts_clock_vcpu_record(struct xts_clock *c, unsigned vcpu, uint64_t host_tsc,
			  struct vcpu_time_info *out);
/* Ask for XEN_PVCLOCK_GUEST_STOPPED in every vCPU's next record. */
void xts_clock_request_guest_stopped(struct xts_clock *c);

/* (d) Wallclock and CPUID. */
/* UTC at system time 0 becomes now.realtime - system time at now. */
int xts_clock_set_wallclock(struct xts_clock *c, const struct xts_host_sample *now);
/* CPUID base+3 for subleaf 0, 1, 2 (regs = eax, ebx, ecx, edx); -EINVAL otherwise. */
int xts_clock_cpuid_timing(const struct xts_clock *c, uint32_t subleaf, uint32_t regs[4]);

/* ======================================================================
 * Saving and restoring the time state (migration between hosts)
 * ====================================================================== */
enum xts_policy {
	XTS_POLICY_FREEZE    = 0, /* guest TSC and system time resume where they stopped */
	XTS_POLICY_TRACK     = 1, /* both advance by the real elapsed time */
	XTS_POLICY_THRESHOLD = 2, /* track up to threshold_ns, freeze beyond */
};

/* Restore flags */
#define XTS_RESTORE_ACCEPT_RATE_CHANGE (1u << 0) /* allow a guest TSC rate change */

/* KVM runs an unscaled guest TSC within this many ppm of the requested rate. */
#define XTS_TSC_TOLERANCE_PPM 250

/* The time state that travels with a guest: self-contained, host-independent. */
struct xts_time_state {
	uint32_t arch;                     /* enum xts_arch */
	uint32_t nr_vcpus;
	uint64_t guest_tsc[XTS_MAX_VCPUS]; /* every vCPU's TSC at one instant */
	uint64_t saved_realtime_ns;        /* UTC at that instant */
	uint32_t guest_tsc_khz;
	uint32_t tsc_mode;
	uint32_t incarnation;
	uint32_t flags;                    /* XTS_CLOCK_* */
	struct xts_line line;              /* over vCPU 0's guest TSC */
	uint64_t wc_sec;
	uint32_t wc_nsec;
};

struct xts_restore_params {
	enum xts_policy policy;
	uint64_t threshold_ns;             /* XTS_POLICY_THRESHOLD */
	uint32_t flags;                    /* XTS_RESTORE_* */
	uint32_t host_tsc_khz;             /* the destination host */
	bool host_can_scale;               /* KVM_CAP_TSC_CONTROL */
};

/* What a restore decided (for logs and tests). */
struct xts_restore_result {
	enum xts_policy applied;           /* FREEZE or TRACK */
	uint64_t elapsed_ns;               /* realtime between save and restore (0 if negative) */
	uint64_t tsc_ratio;                /* what the backend must program */
	bool rate_changed;                 /* guest TSC rate changed (explicitly accepted) */
};

int xts_clock_save(const struct xts_clock *c, const struct xts_host_sample *now,
		   struct xts_time_state *st);
/*
 * Validate `st` and rebuild the model on this host at `now` under the
 * policy.  -EINVAL for an inconsistent state, -ERANGE when the guest's TSC
 * rate cannot be kept here and XTS_RESTORE_ACCEPT_RATE_CHANGE is not set.
 * The incarnation is increased by one.
 */
int xts_clock_restore(struct xts_clock *c, const struct xts_time_state *st,
		      const struct xts_restore_params *p, const struct xts_host_sample *now,
		      struct xts_restore_result *res);

/* ======================================================================
 * Guest memory: the only way libxtshim touches guest RAM.
 * ====================================================================== */
#define XTS_GMEM_MAX_REGIONS 8
#define XTS_PAGE_SIZE        4096ULL

struct xts_gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct xts_gmem {
	unsigned nr;
	struct xts_gmem_region r[XTS_GMEM_MAX_REGIONS];
};

/* -EINVAL for size 0, wrap-around, overlap with another region or a full table. */
int xts_gmem_add(struct xts_gmem *m, uint64_t gpa, uint64_t size, void *hva);

#define XTS_GMEM_NO_PAGE_CROSS (1u << 0)  /* the range must sit inside one 4 KiB page */

/*
 * Host address of [gpa, gpa + len): NULL unless len > 0 and the whole range
 * is inside one region (no wrap-around, no crossing into another region
 * even an adjacent one, and with XTS_GMEM_NO_PAGE_CROSS inside one page).
 */
void *xts_gmem_ptr(const struct xts_gmem *m, uint64_t gpa, uint64_t len, unsigned flags);
/* Copy in/out; -EFAULT where xts_gmem_ptr() would be NULL (nothing copied). */
int xts_gmem_read(const struct xts_gmem *m, uint64_t gpa, void *buf, uint64_t len);
int xts_gmem_write(const struct xts_gmem *m, uint64_t gpa, const void *buf, uint64_t len);

/* ======================================================================
 * Publication into guest memory (version protocol, ordered for x86 and arm64)
 * ====================================================================== */

/*
 * Write `rec`'s body into the live record `dst` (4-byte aligned at least):
 * version goes odd, body, version goes even; the new version follows the
 * one already in guest memory, whatever rec->version says.  Returns the
 * odd version it used (the record ends at that + 1).
 */
uint32_t xts_publish_time(volatile struct vcpu_time_info *dst, const struct vcpu_time_info *rec);
/*
 * The same with the version given: `odd` during the update, `odd + 1`
 * after (Xen's secondary time areas take the primary record's version).
 */
void xts_publish_time_version(volatile struct vcpu_time_info *dst,
			      const struct vcpu_time_info *rec, uint32_t odd);
/* xts_publish_time() at a guest physical address: 8-byte aligned, inside one page. */
int xts_publish_time_gpa(const struct xts_gmem *m, uint64_t gpa, const struct vcpu_time_info *rec);

/*
 * The wallclock in the shared_info page at `shared_info_gpa` (page aligned)
 * in the given layout, with wc_sec_hi for dates past 2106.
 */
int xts_publish_wallclock(const struct xts_gmem *m, uint64_t shared_info_gpa,
			  enum xts_layout_id layout, uint64_t sec, uint32_t nsec);
/* Read it back as a guest would (retry while the version is odd). */
int xts_read_wallclock(const struct xts_gmem *m, uint64_t shared_info_gpa,
		       enum xts_layout_id layout, uint64_t *sec, uint32_t *nsec);

/* Offset of the time record inside vcpu_info in a layout (x86: 32, arm64: 16). */
int xts_layout_vcpu_time_offset(enum xts_layout_id layout, uint32_t *off);

/* ==== [section: hypercalls] (hypercalls/) ====
 * A Xen domain as the hypercall layer sees it.  The VMM owns vCPU threads,
 * KVM and host timers, and reaches the domain only through these calls; the
 * domain reaches the VMM only through struct xts_platform_ops.  Everything
 * here is independent of KVM, so it is unit-tested on simulated guest memory.
 */
struct xts_domain;

/*
 * What the domain asks of its VMM.  Callbacks may run on any thread.
 * inject_upcall, kick, arm_timer, console_write, host_sample and
 * translate_gva are called with the domain lock held and must not call back
 * into the domain; vcpu_initialise, vcpu_up, vcpu_down and shutdown are
 * called without it and may.
 */
struct xts_platform_ops {
	/* Deliver the event-channel upcall to `vcpu` as interrupt `vector`. */
	void (*inject_upcall)(void *opaque, unsigned vcpu, uint8_t vector);
	/* Wake `vcpu` if it is blocked (SCHEDOP_block / poll). */
	void (*kick)(void *opaque, unsigned vcpu);
	/*
	 * Call xts_domain_timer_fired(d, vcpu) when the host TSC reaches
	 * host_tsc_deadline; 0 disarms.  Firing late is allowed, early is not
	 * required to be avoided (the domain re-checks and re-arms).
	 */
	void (*arm_timer)(void *opaque, unsigned vcpu, uint64_t host_tsc_deadline);
	/* vCPU bring-up; ctx is NULL for VCPUOP_up of an initialised vCPU. */
	int (*vcpu_initialise)(void *opaque, unsigned vcpu, const void *vcpu_hvm_context, size_t len);
	int (*vcpu_up)(void *opaque, unsigned vcpu);
	int (*vcpu_down)(void *opaque, unsigned vcpu);
	/* SCHEDOP_shutdown: reason as in xen/sched.h (SHUTDOWN_poweroff, ...). */
	void (*shutdown)(void *opaque, unsigned reason);
	/* Guest console output (console_io write, PV console ring, port 0xe9). */
	void (*console_write)(void *opaque, const char *buf, size_t len);
	/* Current host TSC and realtime (a test supplies a simulated clock). */
	void (*host_sample)(void *opaque, struct xts_host_sample *now);
	/*
	 * Optional: the guest physical address of guest virtual `gva` as
	 * `vcpu` (the caller, on its own thread) sees it now; -EFAULT when it
	 * is not mapped.  NULL: virtual addresses are taken as physical (paging
	 * off, or an identity-mapped guest).  Hypercall arguments are virtual
	 * addresses.  A runstate area registered by virtual address (VCPUOP 5)
	 * is translated once, at registration; a time area (VCPUOP 13) again
	 * whenever it is written in a hypercall of its own vCPU, as Xen walks
	 * the page tables at each write.  It is never called for a vCPU from
	 * another thread, so writes made elsewhere use the last translation.
	 */
	int (*translate_gva)(void *opaque, unsigned vcpu, uint64_t gva, uint64_t *gpa);
	/*
	 * External records only (xts_domain_config.external_records), called
	 * with the domain lock held:
	 *  - send_event (required there): raise event channel `port` on
	 *    `vcpu` through the record keeper (KVM_XEN_HVM_EVTCHN_SEND), which
	 *    owns the pending bitmaps' delivery, the upcall and SCHEDOP_poll
	 *    wake-ups; the domain no longer writes them for sends;
	 *  - ipi_port (optional): an IPI port was bound (bound = true) or is
	 *    being closed, so the keeper may handle EVTCHNOP_send on it without
	 *    asking the domain.  A non-zero return on bind only means the
	 *    keeper does not know the port: sends keep coming to the domain.
	 */
	void (*send_event)(void *opaque, unsigned vcpu, uint32_t port);
	int (*ipi_port)(void *opaque, uint32_t port, unsigned vcpu, bool bound);
	/*
	 * Optional, external records: the keeper's runstate of `vcpu` as
	 * VCPUOP_get_runstate_info(vcpu) from `caller` reports it; non-zero
	 * when the keeper cannot say (the domain's own accounting is used).
	 */
	int (*read_runstate)(void *opaque, unsigned caller, unsigned vcpu, uint32_t *state,
			     uint64_t *entry_ns, uint64_t time_ns[4]);
	/*
	 * Optional, external records: Xen system time (ns) as the keeper
	 * publishes it, and the host TSC of that instant (kvmclock from
	 * KVM_GET_CLOCK).  The keeper's line is what the guest reads in its
	 * records; it agrees with the model only at load, so HVMOP_get_time,
	 * set_timer_op and the periodic timers must use it instead.  Non-zero:
	 * the keeper cannot say, the model is used.
	 */
	int (*system_time)(void *opaque, uint64_t *ns, uint64_t *host_tsc);
	/*
	 * Optional, called with the domain lock held: make an NMI pending on
	 * `vcpu` (VCPUOP_send_nmi), to be taken when it next runs, whether
	 * or not it is running now.  NULL: VCPUOP_send_nmi is -ENOSYS.
	 */
	void (*inject_nmi)(void *opaque, unsigned vcpu);
};

/*
 * How a hypercall-page stub reaches the hypervisor.  IOPORT: `out` to a
 * port the VMM traps (userspace backend; the stub itself answers -EPERM at
 * CPL > 0, where `out` would fault).  VMCALL / VMMCALL: Xen's own stubs, for
 * KVM's in-kernel Xen support (KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL).
 */
enum xts_hcall_transport {
	XTS_TRANSPORT_IOPORT  = 0,
	XTS_TRANSPORT_VMCALL  = 1,
	XTS_TRANSPORT_VMMCALL = 2,
};

struct xts_domain_config {
	const struct xts_gmem *mem;        /* guest RAM; must outlive the domain */
	struct xts_clock *clock;           /* the time model; must outlive the domain */
	uint32_t nr_vcpus;                 /* == clock->nr_vcpus */
	uint16_t domid;
	uint32_t xen_version;              /* major << 16 | minor: 4.17 = 0x40011 */
	const struct xts_platform_ops *ops;
	void *opaque;                      /* passed to every op */
	enum xts_hcall_transport transport; /* what the hypercall page stubs do */
	uint16_t hcall_io_port;            /* XTS_TRANSPORT_IOPORT: the trapping port, <= 0xff */
	/*
	 * PV console and xenstore rings (HVM_PARAM_CONSOLE_PFN / STORE_PFN):
	 * guest frames inside RAM the VMM reserves (e820) for them, cleared by
	 * xts_domain_create(); 0: none.  Their event channels are allocated by
	 * the domain and reported by HVMOP_get_param.
	 */
	uint64_t console_pfn;
	uint64_t store_pfn;
	/*
	 * Another writer keeps the records (the kernel backend: KVM writes
	 * vcpu_time_info, the wallclock and runstate from kvmclock, and runs
	 * singleshot timers once VIRQ_TIMER's port is mirrored).  The domain
	 * then never publishes those records, sends events through
	 * ops->send_event, and refuses registrations the keeper cannot take
	 * (-EINVAL: a runstate area registered by virtual address over two
	 * physically discontiguous pages).  The VMM mirrors registrations
	 * with xts_domain_get_areas().
	 */
	bool external_records;
};

/* Fill a 4 KiB hypercall page: 128 stubs of 32 bytes, stub nr at nr * 32. */
void xts_hypercall_page_fill(uint8_t *page, enum xts_hcall_transport t, uint16_t io_port);

/* One hypercall as the guest made it, read by the VMM from the vCPU. */
struct xts_hcall {
	uint32_t nr;
	uint64_t args[6];                  /* 32-bit callers: zero-extended */
	uint8_t cpl;                       /* guest CPL at the call */
	bool long_mode;                    /* 64-bit caller */
};

enum xts_hcall_action {
	XTS_HCALL_DONE  = 0,               /* put *ret in RAX and resume */
	XTS_HCALL_BLOCK = 1,               /* put *ret in RAX, then sleep until
					      xts_domain_vcpu_runnable() */
};

int xts_domain_create(const struct xts_domain_config *cfg, struct xts_domain **out);
void xts_domain_destroy(struct xts_domain *d);
enum xts_hcall_action xts_hypercall(struct xts_domain *d, unsigned vcpu,
				    const struct xts_hcall *h, int64_t *ret);
/* CPUID leaves 0x40000000..0x400000ff: true and regs filled; false otherwise. */
bool xts_domain_cpuid(struct xts_domain *d, unsigned vcpu, uint32_t leaf,
		      uint32_t subleaf, uint32_t regs[4]);
/*
 * The guest wrote the hypercall MSR: validate, fill the page with `stub`
 * generator output, latch the shared_info layout from long_mode.
 * Returns -EINVAL (the VMM injects #GP) for a bad value.
 */
int xts_domain_write_hypercall_msr(struct xts_domain *d, unsigned vcpu,
				   uint64_t value, bool long_mode);
/* A host timer armed through ops->arm_timer expired. */
void xts_domain_timer_fired(struct xts_domain *d, unsigned vcpu);
/*
 * May a vCPU that returned XTS_HCALL_BLOCK run again (event, timer, poll
 * timeout)?  With external records the keeper delivers events the domain
 * does not see (KVM's timers, IPIs it handles in-kernel): an upcall pending
 * in the vCPU's vcpu_info then also ends SCHEDOP_block, so a VMM waiting
 * for this must re-check it now and then (and at the keeper's timer).
 */
bool xts_domain_vcpu_runnable(struct xts_domain *d, unsigned vcpu);
/* Re-publish every registered time record and the wallclock (after clock changes). */
void xts_domain_update_time(struct xts_domain *d);
/* Raise a virtual IRQ (e.g. VIRQ_TIMER) on a vCPU through its bound event channel. */
void xts_domain_send_virq(struct xts_domain *d, unsigned vcpu, unsigned virq);
/*
 * Runstate: the VMM reports when a vCPU thread starts/stops executing guest
 * code (not needed around each exit).  After XTS_HCALL_BLOCK the vCPU is
 * blocked, then runnable once woken, until the VMM reports it running again.
 * That report is also where a periodic timer stopped while the vCPU was
 * blocked or down starts again (Xen runs it when it switches the vCPU in),
 * so a VMM using periodic timers must make it before resuming the vCPU.
 */
void xts_domain_vcpu_running(struct xts_domain *d, unsigned vcpu, bool running);
/* Name of a hypercall number ("xen_version", ...), "unknown" if none (for logs). */
const char *xts_hypercall_name(uint32_t nr);

/*
 * What the guest has registered, for a backend that lets KVM maintain the
 * records (KVM_XEN_*_ATTR): read it after a hypercall and forward what
 * changed.  generation increases with every change of any field.
 */
#define XTS_NO_AREA UINT64_MAX
struct xts_vcpu_areas {
	uint64_t vcpu_info_gpa;       /* registered vcpu_info, XTS_NO_AREA: legacy slot */
	uint64_t time_gpa;            /* VCPUOP 13/15 secondary record */
	uint64_t runstate_gpa[2];     /* [1]: second page of a straddling area, or XTS_NO_AREA */
	uint32_t runstate_len0;       /* bytes at runstate_gpa[0] */
	uint8_t upcall_vector;        /* HVMOP_set_evtchn_upcall_vector, 0: none */
	uint32_t timer_port;          /* event channel bound to VIRQ_TIMER, 0: none */
};
struct xts_domain_areas {
	uint64_t generation;
	uint64_t shared_info_gpa;     /* XTS_NO_AREA until mapped */
	uint64_t shared_info_maps;    /* XENMEM_add_to_physmap(shared_info) calls: a remap in place counts */
	bool long_mode;               /* latched shared_info / runstate layout */
	uint8_t callback_vector;      /* HVM_PARAM_CALLBACK_IRQ vector type, 0: none */
	bool runstate_update_flag;    /* VMASST_TYPE_runstate_update_flag */
};
int xts_domain_get_areas(struct xts_domain *d, struct xts_domain_areas *dom,
			 unsigned vcpu, struct xts_vcpu_areas *v);

/* ==== [section: backends] (shim/ KVM backends) ==== */
/*
 * x86 KVM helpers (shim/x86/) for a VMM that owns its KVM file descriptors
 * and threads.  Userspace backend: xtshim maintains every Xen record itself,
 * KVM only runs the vCPUs; the guest TSC is set exactly through the vCPU TSC
 * offset attribute.  Nothing here creates threads except the host timers.
 */
struct kvm_regs;
struct kvm_sregs;
struct kvm_cpuid2;
struct kvm_cpuid_entry2;

/* Host TSC ticks (rdtsc). */
uint64_t xts_host_tsc(void);
/* Host TSC and CLOCK_REALTIME taken as close together as a few tries allow. */
void xts_host_sample_now(struct xts_host_sample *now);

/* KVM_GET_TSC_KHZ on a vCPU fd: the rate KVM runs the guest TSC at. */
int xts_kvm_tsc_khz(int vcpu_fd, uint32_t *khz);
/*
 * The KVM TSC offset that makes vCPU `vcpu` read the model's guest TSC
 * (guest = host + offset, mod 2^64); -ENOTSUP unless tsc_ratio is 1.0.
 */
int xts_kvm_tsc_offset(const struct xts_clock *c, unsigned vcpu, uint64_t *offset);
/*
 * Program it (KVM_SET_DEVICE_ATTR KVM_VCPU_TSC_CTRL / KVM_VCPU_TSC_OFFSET)
 * and read it back: -EOPNOTSUPP when KVM kept another offset (PVM ignores
 * the attribute and runs guests on the host TSC: model the guest TSC as the
 * host TSC, tsc_offset 0, there).
 */
int xts_kvm_apply_tsc(int vcpu_fd, const struct xts_clock *c, unsigned vcpu);

/*
 * CPUID for one vCPU: the host table (KVM_GET_SUPPORTED_CPUID) without any
 * hypervisor leaf (0x40000000..0x4fffffff: no KVM signature, so guests do
 * not pick kvmclock), APIC ids set to `vcpu`, plus the leaves `xen` answers
 * from 0x40000000 up to the maximum its base leaf reports.  Leaves with
 * subleaves (base+3) are enumerated while `xen` answers.  -E2BIG when `max`
 * entries are not enough.
 */
typedef bool (*xts_cpuid_fn)(void *arg, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
int xts_x86_cpuid_merge(const struct kvm_cpuid_entry2 *host, unsigned nr_host,
			unsigned vcpu, xts_cpuid_fn xen, void *arg,
			struct kvm_cpuid_entry2 *out, unsigned max, unsigned *nr_out);
/* The same from KVM and a domain, ready for KVM_SET_CPUID2 (free() it). */
int xts_kvm_cpuid(int kvm_fd, struct xts_domain *d, unsigned vcpu, struct kvm_cpuid2 **out);

/*
 * Make guest writes to `msr` exit to userspace (KVM_EXIT_X86_WRMSR):
 * KVM_CAP_X86_USER_SPACE_MSR with the filter reason plus a one-MSR filter.
 */
int xts_kvm_trap_msr_write(int vm_fd, uint32_t msr);

/* Xen's view of the caller's mode: 64-bit only with EFER.LMA and CS.L. */
bool xts_x86_long_mode(const struct kvm_sregs *s);
/*
 * A hypercall as Xen reads it from the registers (64-bit: RAX; RDI RSI RDX
 * R10 R8 R9.  32-bit: EAX; EBX ECX EDX ESI EDI EBP).  CPL is SS.DPL; real
 * and virtual-8086 mode callers are reported as CPL 3 (Xen: -EPERM).
 */
void xts_x86_hcall_decode(const struct kvm_regs *r, const struct kvm_sregs *s,
			  struct xts_hcall *h);
/* Put a hypercall result in RAX as the caller's mode sees it. */
void xts_x86_hcall_result(struct kvm_regs *r, bool long_mode, int64_t ret);

/*
 * Host timers with host-TSC deadlines (one thread for `nr` timers), for
 * xts_platform_ops.arm_timer.  `fire(opaque, idx)` runs on the timer
 * thread, never before the host TSC reaches the deadline.
 */
struct xts_host_timers;
int xts_host_timers_create(unsigned nr, uint32_t host_tsc_khz,
			   void (*fire)(void *opaque, unsigned idx), void *opaque,
			   struct xts_host_timers **out);
/* 0 disarms; re-arming replaces the previous deadline. */
void xts_host_timers_arm(struct xts_host_timers *t, unsigned idx, uint64_t host_tsc_deadline);
void xts_host_timers_destroy(struct xts_host_timers *t);
/*
 * How late the timer thread called fire() after each deadline (host side
 * only): bucket i counts lateness in [2^i, 2^(i+1)) ns, bucket 0 also 0 ns.
 */
#define XTS_HOST_TIMERS_BUCKETS 40
struct xts_host_timers_stats {
	uint64_t fired;
	uint64_t late_log2_ns[XTS_HOST_TIMERS_BUCKETS];
	uint64_t max_late_ns;
};
void xts_host_timers_stats(struct xts_host_timers *t, struct xts_host_timers_stats *s);
/* The smallest bucket bound (2^(i+1) ns) at or above the given per-mille of fires; 0 if none. */
uint64_t xts_host_timers_quantile_ns(const struct xts_host_timers_stats *s, unsigned permille);


/* ---- x86 kernel backend: KVM's in-kernel Xen support (KVM_CAP_XEN_HVM) ----
 * (shim/x86/kvm-xen.c; docs/kernel-backend.md.)  Two separate choices:
 *   transport: how a guest's hypercall reaches xts_hypercall(): the
 *     userspace IOPORT stubs, or KVM's INTERCEPT_HCALL exits (KVM_EXIT_XEN),
 *     which also catch a direct vmcall/vmmcall (Linux after the XSA-466
 *     fixes no longer calls through the hypercall page);
 *   records: who writes vcpu_time_info, the wallclock and runstate: xtshim
 *     (the model's exact line; KVM only transports) or KVM (kvmclock-based
 *     records, KVM's own timers and runstate accounting).
 * Every KVM call goes through xts_kvm_xen_ops.ioctl so tests can record it.
 */
#define XTS_KVM_XEN_HYPERCALL_MSR (1u << 0)   /* KVM_XEN_HVM_CONFIG_* capability bits */
#define XTS_KVM_XEN_INTERCEPT_HCALL (1u << 1)
#define XTS_KVM_XEN_SHARED_INFO   (1u << 2)
#define XTS_KVM_XEN_RUNSTATE      (1u << 3)
#define XTS_KVM_XEN_EVTCHN_2LEVEL (1u << 4)
#define XTS_KVM_XEN_EVTCHN_SEND   (1u << 5)
#define XTS_KVM_XEN_RUNSTATE_UPDATE_FLAG (1u << 6)
#define XTS_KVM_XEN_PVCLOCK_TSC_UNSTABLE (1u << 7)
#define XTS_KVM_XEN_SHARED_INFO_HVA (1u << 8)
/* What KVM-maintained records need at least. */
#define XTS_KVM_XEN_RECORDS_NEED  (XTS_KVM_XEN_HYPERCALL_MSR | XTS_KVM_XEN_INTERCEPT_HCALL | \
				   XTS_KVM_XEN_SHARED_INFO)
#define XTS_KVM_XEN_NO_GPA        UINT64_MAX  /* KVM_XEN_INVALID_GPA / _GFN */

struct xts_kvm_xen_ops {
	/* ioctl(2): its non-negative result, or -errno. */
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	/* Host TSC + realtime now; NULL: xts_host_sample_now(). */
	void (*host_sample)(void *ctx, struct xts_host_sample *now);
};
/* ioctl(2) itself, for xts_kvm_xen_ops.ioctl. */
int xts_kvm_xen_sys_ioctl(void *ctx, int fd, unsigned long req, void *arg);

enum xts_kvm_xen_transport {
	XTS_KVM_XEN_TRANSPORT_IOPORT = 0,  /* userspace stubs trapping to a port */
	XTS_KVM_XEN_TRANSPORT_KVM    = 1,  /* INTERCEPT_HCALL: KVM_EXIT_XEN */
};
enum xts_kvm_xen_records {
	XTS_KVM_XEN_RECORDS_XTSHIM = 0,    /* the model's exact line, written by libxtshim */
	XTS_KVM_XEN_RECORDS_KVM    = 1,    /* kvmclock-based, written by KVM */
};
/* What the operator asked for (`xtshim run --backend`). */
enum xts_kvm_xen_want {
	XTS_KVM_XEN_WANT_AUTO        = 0,  /* KVM transport if present, xtshim records */
	XTS_KVM_XEN_WANT_USERSPACE   = 1,  /* IOPORT + xtshim records */
	XTS_KVM_XEN_WANT_KERNEL      = 2,  /* KVM transport + KVM records */
	XTS_KVM_XEN_WANT_KVM_TRANSPORT = 3, /* KVM transport + xtshim records */
};

/* A decision, with what KVM will and will not do under it. */
struct xts_kvm_xen_plan {
	enum xts_kvm_xen_transport transport;
	enum xts_kvm_xen_records records;
	uint32_t caps;             /* KVM_CHECK_EXTENSION(KVM_CAP_XEN_HVM), 0 if absent */
	uint32_t config_flags;     /* KVM_XEN_HVM_CONFIG.flags to program */
	bool kvm_runstate;         /* KVM records: runstate attrs exist (RUNSTATE) */
	bool kvm_timers;           /* KVM records: TIMER / VCPU_ID / per-vCPU vector (EVTCHN_SEND) */
	bool kvm_xen_version;      /* KVM records: XEN_VERSION attr (EVTCHN_SEND) */
	bool tsc_stable_forced;    /* KVM records: KVM will set TSC_STABLE although not asked */
};

/* KVM_CHECK_EXTENSION(KVM_CAP_XEN_HVM) on the /dev/kvm (or VM) fd; a negative answer is 0. */
uint32_t xts_kvm_xen_probe(const struct xts_kvm_xen_ops *ops, void *ctx, int kvm_fd);
/*
 * Decide transport and records for `want` on a host with `caps`.  tsc_stable:
 * the model publishes XEN_PVCLOCK_TSC_STABLE (XTS_CLOCK_TSC_STABLE).  -ENOTSUP
 * with a sentence in why (naming the missing KVM_XEN_HVM_CONFIG_* bits) when
 * `want` cannot be met; AUTO never fails.  why is always terminated.
 */
int xts_kvm_xen_plan(uint32_t caps, enum xts_kvm_xen_want want, bool tsc_stable,
		     struct xts_kvm_xen_plan *plan, char *why, size_t why_len);
/* The hypercall-page stub the domain should use with the KVM transport (vendor's instruction). */
enum xts_hcall_transport xts_kvm_xen_stub_transport(void);

/* One VM under the kernel backend. */
struct xts_kvm_xen {
	const struct xts_kvm_xen_ops *ops; /* NULL: ioctl(2), xts_host_sample_now() */
	void *ctx;
	int vm_fd;
	uint32_t nr_vcpus;
	const int *vcpu_fds;               /* nr_vcpus entries (not needed by setup_vm) */
	struct xts_kvm_xen_plan plan;
	uint32_t xen_version;              /* major << 16 | minor (XEN_VERSION attr) */
	/* What KVM has been told, updated only by ioctls that succeeded. */
	bool configured;                   /* KVM_XEN_HVM_CONFIG done */
	bool clock_set;                    /* KVM_SET_CLOCK done */
	bool long_mode;
	uint64_t shared_info_gfn;          /* XTS_KVM_XEN_NO_GPA: none */
};

/* The Xen state KVM must hold (records = KVM): boot (nothing registered) or restore. */
struct xts_kvm_xen_vm_state {
	bool long_mode;                    /* latched shared_info layout */
	uint64_t shared_info_gfn;          /* XTS_KVM_XEN_NO_GPA: not mapped yet */
	uint8_t upcall_vector;             /* HVM_PARAM_CALLBACK_IRQ vector type; 0: none */
	bool runstate_update_flag;         /* VMASST_TYPE_runstate_update_flag */
};
struct xts_kvm_xen_vcpu_state {
	uint32_t xen_vcpu_id;              /* the guest's vCPU number (normally the index) */
	uint64_t vcpu_info_gpa;            /* NO_GPA: the slot in shared_info (id < 32) or none */
	uint64_t time_info_gpa;            /* VCPUOP_register_vcpu_time_*; NO_GPA: none */
	uint64_t runstate_gpa;             /* VCPUOP_register_runstate_*; NO_GPA: none */
	bool runstate_valid;               /* restore runstate_* below (else: state only) */
	uint32_t runstate_state;           /* RUNSTATE_running .. RUNSTATE_offline */
	uint64_t runstate_entry_ns;        /* Xen system time */
	uint64_t runstate_time_ns[4];      /* sum must equal runstate_entry_ns (KVM checks) */
	uint8_t upcall_vector;             /* HVMOP_set_evtchn_upcall_vector; 0: none */
	uint32_t timer_port;               /* event channel bound to VIRQ_TIMER; 0: none */
	uint64_t timer_deadline_ns;        /* Xen system time; 0: no timer pending */
};

/* Where a multi-ioctl call stopped: steps before failed_step were applied. */
struct xts_kvm_xen_report {
	unsigned steps_done;               /* ioctls that succeeded, in order */
	int failed_step;                   /* -1: none */
	int err;                           /* -errno of the failing step */
	char what[96];                     /* e.g. "KVM_XEN_VCPU_SET_ATTR VCPU_INFO (vCPU 3)" */
};

/*
 * Right after KVM_CREATE_VM: KVM_XEN_HVM_CONFIG {flags = plan.config_flags
 * (INTERCEPT_HCALL, + PVCLOCK_TSC_UNSTABLE unless the stable flag is asked
 * for and where supported), msr = 0x40000000}; with KVM records also the
 * XEN_VERSION attr.  Nothing for the IOPORT transport.
 */
int xts_kvm_xen_setup_vm(struct xts_kvm_xen *k, struct xts_kvm_xen_report *rep);

/*
 * Load the clock and the Xen state into KVM in the order that works
 * (facts §8): per vCPU KVM_SET_TSC_KHZ and the TSC offset (read back;
 * -EOPNOTSUPP when KVM ignores it, as PVM does); with KVM records
 * then KVM_SET_CLOCK (kvmclock := the model's system time now), LONG_MODE,
 * SHARED_INFO, UPCALL_VECTOR, RUNSTATE_UPDATE_FLAG; per vCPU VCPU_ID,
 * VCPU_INFO (every vCPU), VCPU_TIME_INFO, UPCALL_VECTOR; per vCPU
 * RUNSTATE_DATA (or _CURRENT) then RUNSTATE_ADDR; KVM_GET_CLOCK; per vCPU
 * TIMER (deadline converted to kvmclock).  Everything is validated first
 * (-EINVAL / -ENOTSUP with rep->what naming the field, no ioctl issued).
 * vcpus: k->nr_vcpus entries (ignored unless records = KVM; may be NULL then).
 */
int xts_kvm_xen_load(struct xts_kvm_xen *k, const struct xts_clock *c,
		     const struct xts_kvm_xen_vm_state *vm,
		     const struct xts_kvm_xen_vcpu_state *vcpus,
		     struct xts_kvm_xen_report *rep);
/*
 * One vCPU's registrations (records = KVM), e.g. after the guest's
 * VCPUOP_register_* or a hot-plugged vCPU: VCPU_ID, VCPU_INFO, TIME_INFO,
 * UPCALL_VECTOR, runstate, TIMER, in that order.
 */
int xts_kvm_xen_setup_vcpu(struct xts_kvm_xen *k, const struct xts_clock *c, unsigned vcpu,
			   const struct xts_kvm_xen_vcpu_state *st, struct xts_kvm_xen_report *rep);
/* XENMEM_add_to_physmap(shared_info) / layout latch (records = KVM): LONG_MODE then SHARED_INFO. */
int xts_kvm_xen_set_shared_info(struct xts_kvm_xen *k, bool long_mode, uint64_t gfn,
				struct xts_kvm_xen_report *rep);
/*
 * KVM writes the wallclock only when SHARED_INFO or LONG_MODE is set, not
 * after KVM_SET_CLOCK: call this after every clock change (re-sets
 * LONG_MODE).  0 and no ioctl when no shared_info is mapped or records are
 * xtshim's.
 */
int xts_kvm_xen_refresh_wallclock(struct xts_kvm_xen *k, struct xts_kvm_xen_report *rep);

/*
 * Mirror the guest's registrations as they change (records = KVM): `has`
 * is what KVM holds (updated after each attribute KVM accepted), `want`
 * what the domain now reports (xts_domain_get_areas()).  Only attributes
 * that differ are set, because some have side effects: LONG_MODE and
 * SHARED_INFO rewrite the wallclock, RUNSTATE_ADDR writes KVM's runstate,
 * TIMER stops KVM's timer.  For a vCPU, has->vcpu_info_gpa is the address
 * KVM was given (the registered one or the slot in shared_info, from
 * k->shared_info_gfn); want's id, runstate data and deadline must be
 * those of the last load.  A vCPU's attributes need its own thread (or the
 * vCPU out of KVM_RUN): KVM takes the vCPU mutex.
 */
int xts_kvm_xen_update_vm(struct xts_kvm_xen *k, struct xts_kvm_xen_vm_state *has,
			  const struct xts_kvm_xen_vm_state *want, struct xts_kvm_xen_report *rep);
int xts_kvm_xen_update_vcpu(struct xts_kvm_xen *k, unsigned vcpu, struct xts_kvm_xen_vcpu_state *has,
			    const struct xts_kvm_xen_vcpu_state *want,
			    struct xts_kvm_xen_report *rep);
/*
 * Raise event channel `port` on `vcpu` from userspace (KVM_XEN_HVM_EVTCHN_SEND):
 * KVM sets the pending bits, raises the upcall and wakes its SCHEDOP_poll.
 */
int xts_kvm_xen_evtchn_send(struct xts_kvm_xen *k, uint32_t port, unsigned vcpu);
/*
 * Let KVM answer EVTCHNOP_send on IPI `port` (bound to `vcpu`) itself
 * (KVM_XEN_HVM_SET_ATTR EVTCHN, loop-back to the same port), or forget it.
 */
int xts_kvm_xen_ipi_port(struct xts_kvm_xen *k, uint32_t port, unsigned vcpu, bool assign);
/* What KVM holds for a vCPU (KVM_XEN_VCPU_GET_ATTR TIMER and RUNSTATE_DATA). */
struct xts_kvm_xen_vcpu_readback {
	uint32_t timer_port;
	uint64_t timer_expires_ns;         /* kvmclock; 0: no timer pending */
	bool runstate_valid;               /* plan.kvm_runstate */
	uint32_t runstate_state;
	uint64_t runstate_entry_ns;
	uint64_t runstate_time_ns[4];
};
int xts_kvm_xen_read_vcpu(struct xts_kvm_xen *k, unsigned vcpu, struct xts_kvm_xen_vcpu_readback *out);
/*
 * KVM counts a vCPU that left KVM_RUN as running (the VMM works for it);
 * a VMM that really blocks it (SCHEDOP_block) says so: RUNSTATE_CURRENT.
 */
int xts_kvm_xen_set_runstate(struct xts_kvm_xen *k, unsigned vcpu, uint32_t state);

/* kvmclock and the host TSC at one instant (KVM_GET_CLOCK). */
struct xts_kvm_clock_sample {
	uint64_t kvmclock_ns;
	uint64_t host_tsc;
	bool exact;                        /* KVM_CLOCK_HOST_TSC: host_tsc is KVM's own */
};
int xts_kvm_xen_clock_sample(struct xts_kvm_xen *k, struct xts_kvm_clock_sample *s);
/*
 * A Xen-system-time deadline as KVM's absolute kvmclock expiry:
 * deadline - system_ns(s.host_tsc) + s.kvmclock_ns, exact at the sample
 * instant; an already-due deadline becomes s.kvmclock_ns (fires at once),
 * never 0 (0 means "no timer" to KVM).  slack_ppm (0: none) adds
 * ceil(remaining * slack_ppm / 1e6) ns so a kvmclock running up to that
 * much faster than the model cannot fire early.  -ERANGE on overflow.
 */
int xts_kvm_xen_timer_expiry(const struct xts_clock *c, uint64_t deadline_ns,
			     const struct xts_kvm_clock_sample *s, uint32_t slack_ppm,
			     uint64_t *expires_ns);

/*
 * A KVM_EXIT_XEN exit (struct kvm_run *run): the hypercall goes to
 * xts_hypercall() like the userspace backend's, and its result is put in
 * run->xen.u.hcall.result (KVM moves it to RAX on the next KVM_RUN).
 * *action tells the VMM whether to block the vCPU first.  -EINVAL for an
 * exit that is not KVM_EXIT_XEN / KVM_EXIT_XEN_HCALL (nothing done).
 */
struct kvm_run;
int xts_kvm_xen_handle_exit(struct xts_domain *d, unsigned vcpu, struct kvm_run *run,
			    enum xts_hcall_action *action);
/* Decode only (for logs and tests). */
int xts_kvm_xen_decode_exit(const struct kvm_run *run, struct xts_hcall *h);

/* ==== [section: migration] (Xen stream import/export) ====
 * Reading `xl save` files / `xl migrate` streams (xl -> libxl -> libxc,
 * or a bare libxl or libxc stream, libxc v2 or v3, either byte order) from
 * a file descriptor as a stream: page data is passed through, never held.
 * Every field is validated; the first error stops the parse and names the
 * layer, record index, record type and byte offset.  See
 * docs/migration-from-xen.md.
 */
enum xts_stream_layer {
	XTS_STREAM_XL    = 0,   /* xl save-file header */
	XTS_STREAM_LIBXL = 1,   /* libxl records */
	XTS_STREAM_LIBXC = 2,   /* libxc records */
	XTS_STREAM_HVM   = 3,   /* entries inside an HVM_CONTEXT record */
};

struct xts_stream_error {
	int err;                /* -EINVAL malformed, -EIO read error, -ENOMEM,
				   -ENOTSUP valid but not supported, or a visitor's value */
	uint32_t layer;         /* enum xts_stream_layer */
	int64_t index;          /* record (HVM: entry) index in its layer; -1: a header */
	uint32_t type;          /* record type / HVM typecode */
	uint64_t offset;        /* byte offset of that record's header in the stream */
	char msg[384];          /* full context, outermost record first */
};

/* What the headers said (a field is 0 when its layer is absent). */
struct xts_stream_info {
	bool has_xl, has_libxl, has_libxc;
	bool xl_big_endian;
	uint32_t xl_mandatory_flags, xl_optional_flags, xl_optional_data_len;
	uint32_t xl_config_len;       /* JSON config bytes in the optional data */
	uint32_t libxl_version, libxl_options;
	uint32_t libxc_version;       /* 2 or 3 */
	uint32_t libxc_options;
	uint32_t dom_type;            /* 1 x86 PV, 2 x86 HVM (PVH is saved as HVM) */
	uint32_t page_shift, xen_major, xen_minor;
	uint64_t nr_records[3];       /* per layer: xl (0), libxl, libxc */
	uint64_t nr_pages;            /* pages carrying data */
	uint64_t bytes;               /* stream bytes consumed, up to the last END */
	uint64_t read_past_end;       /* bytes the reader had already taken beyond it
					 (a file's tail; 0 on an `xl migrate` pipe, whose
					 sender waits for the receiver after END) */
	uint32_t nr_checkpoints;
};

/* One record (or HVM context entry) as the parser met it. */
struct xts_stream_record {
	uint32_t layer;               /* enum xts_stream_layer */
	uint64_t index;
	uint32_t type;                /* record type, or HVM typecode */
	uint32_t instance;            /* HVM entries: instance (vCPU for per-vCPU types) */
	uint32_t length;              /* body bytes */
	uint64_t offset;              /* of the record header */
	const char *name;             /* "HVM_CONTEXT", "CPU", or "unknown" */
	bool optional;                /* bit 31 of a libxc/libxl type */
	bool big_endian;              /* byte order of the body's fields */
	const void *body;             /* stream byte order; NULL for bodies streamed past
					 (PAGE_DATA, emulator state, opaque records) */
};

/* Callbacks return 0 to go on; anything else stops the parse with that error. */
struct xts_stream_visitor {
	void *opaque;
	int (*record)(void *opaque, const struct xts_stream_record *r);
	/* Each page with data (page_size bytes), in stream order; NULL skips them. */
	int (*page)(void *opaque, uint64_t pfn, const void *data, uint32_t page_size);
};

/* Parse a whole stream, up to its final END (nothing after it is read). */
int xts_stream_parse(int fd, const struct xts_stream_visitor *v,
		     struct xts_stream_info *info, struct xts_stream_error *err);

/* ---- the guest's clock state inside a Xen stream ---- */
#define XTS_XEN_VCPU_CPU        (1u << 0)  /* HVM CPU record seen */
#define XTS_XEN_VCPU_LAPIC      (1u << 1)
#define XTS_XEN_VCPU_TSC_ADJUST (1u << 2)

struct xts_xen_vcpu_time {
	uint32_t present;             /* XTS_XEN_VCPU_* */
	uint64_t tsc;                 /* guest TSC at the save instant (same for all records) */
	uint64_t tsc_adjust;          /* IA32_TSC_ADJUST */
	uint64_t apic_base_msr;
	uint64_t tdt_msr;             /* TSC deadline, guest TSC ticks; 0 = disarmed */
};

#define XTS_XEN_HAVE_TSC_INFO   (1u << 0)
#define XTS_XEN_HAVE_HVM_HEADER (1u << 1)
#define XTS_XEN_HAVE_RTC        (1u << 2)
#define XTS_XEN_HAVE_PARAMS     (1u << 3)
#define XTS_XEN_HAVE_SHARED_INFO (1u << 4) /* PV: pv_time[] and wc_* valid */
#define XTS_XEN_HAVE_PVCLOCK    (1u << 5)  /* pvclock/pvclock_vcpu valid: named by the
					      operator, or an XTSHIM_TIME record */
#define XTS_XEN_HAVE_WALLCLOCK  (1u << 6)  /* wc_* valid (PV SHARED_INFO or XTSHIM_TIME) */
#define XTS_XEN_MAX_PARAMS      64
#define XTS_XEN_PV_VCPUS        32         /* vcpu_info slots in shared_info */

struct xts_xen_time {
	uint32_t have;                /* XTS_XEN_HAVE_* */
	uint32_t dom_type;            /* 1 PV, 2 HVM */
	/* X86_TSC_INFO */
	uint32_t tsc_mode;            /* 0 default, 1 always emulate, 2 never emulate */
	uint32_t tsc_khz;
	uint64_t tsc_nsec;            /* Xen's elapsed ns for an emulated TSC */
	uint32_t incarnation;
	/* HVM_CONTEXT */
	uint32_t gtsc_khz;            /* HEADER */
	uint32_t hvm_cpuid;           /* HEADER: CPUID[1].EAX of the saving host */
	uint64_t changeset;
	int64_t rtc_offset;           /* RTC: guest UTC minus host UTC, seconds */
	uint32_t nr_vcpus;            /* highest vCPU with a record, + 1 */
	struct xts_xen_vcpu_time vcpu[XTS_MAX_VCPUS];
	/* HVM_PARAMS (non-zero ones, as sent) */
	uint32_t nr_params;
	struct { uint64_t index, value; } params[XTS_XEN_MAX_PARAMS];
	/* PV: SHARED_INFO */
	uint32_t guest_width;         /* 4 or 8 */
	struct vcpu_time_info pv_time[XTS_XEN_PV_VCPUS];
	/* Wallclock: PV SHARED_INFO, or HVM via an XTSHIM_TIME record */
	uint64_t wc_sec;
	uint32_t wc_nsec, wc_version;
	/* The last pvclock record a vCPU saw: found at the operator-named GPA,
	 * or carried by an XTSHIM_TIME record (the operator's wins). */
	uint32_t pvclock_vcpu;
	struct vcpu_time_info pvclock;
};

/* Where the last record a guest saw can be found (HVM: in its RAM). */
struct xts_xen_import_opts {
	bool pvclock_given;
	uint32_t pvclock_vcpu;        /* whose record it is */
	uint64_t pvclock_gpa;         /* GPA of its vcpu_time_info (vcpu_info + 32) */
};

/*
 * Parse a stream and extract its time state.  `chain` (may be NULL) sees
 * every record too (inspect prints with it).  *out and *info change only
 * on success.
 */
int xts_xen_read_time(int fd, const struct xts_xen_import_opts *opts,
		      const struct xts_stream_visitor *chain, struct xts_xen_time *out,
		      struct xts_stream_info *info, struct xts_stream_error *err);

/*
 * A page visitor (struct xts_stream_visitor.page) that restores the
 * stream's memory into guest RAM through xts_gmem_write(): opaque is a
 * struct xts_xen_mem_sink.  A page outside guest RAM stops the parse
 * (-EFAULT, naming the page).  Pages land as they stream (a migration
 * stream is larger than any buffer): the VMM restores into a guest that
 * has not run yet and discards it if the parse fails.  HVM entries (CPU
 * registers: struct hvm_hw_cpu, LAPIC_REGS, XSAVE, MSRs, MTRR) reach the
 * same visitor's record callback with layer XTS_STREAM_HVM and the body.
 */
struct xts_xen_mem_sink {
	const struct xts_gmem *mem;
	uint64_t pages;               /* pages written */
};
int xts_xen_page_to_gmem(void *sink, uint64_t pfn, const void *data, uint32_t page_size);

enum xts_xen_line_source {
	XTS_XEN_LINE_NEW       = 0, /* no record: system time = guest TSC 0 -> ns */
	XTS_XEN_LINE_PV_SHARED = 1, /* vCPU 0's record in the PV SHARED_INFO */
	XTS_XEN_LINE_PVCLOCK   = 2, /* the operator-named record, or XTSHIM_TIME's */
};

/*
 * Translate into the clock model.  save_realtime_ns is UTC at the save
 * instant as well as it is known (file mtime, or the receive time for a
 * live stream).  why (may be NULL) receives the reason of a failure.
 * -EINVAL for an inconsistent state, -ENOTSUP for what xtshim cannot keep
 * (TSC mode 3).  vCPUs without a CPU record (down when saved) get the TSC
 * of the first vCPU that has one.  A PV guest's TSC is not in its stream:
 * the newest tsc_timestamp of its records stands in.
 */
int xts_xen_time_to_state(const struct xts_xen_time *x, uint64_t save_realtime_ns,
			  struct xts_time_state *st, enum xts_xen_line_source *src,
			  char *why, size_t why_len);

/*
 * The reverse: the Xen view of a saved xtshim guest (x86 HVM), ready for
 * xts_xen_write().  vCPU LAPIC/TSC_ADJUST entries are left zero/absent.
 */
int xts_xen_time_from_state(const struct xts_time_state *st, struct xts_xen_time *x);

struct xts_xen_export_opts {
	const struct xts_gmem *mem;   /* non-NULL: PAGE_DATA for every region (full save) */
	const char *config_json;      /* xl domain config for the xl header; NULL: none */
	bool bare_libxc;              /* write only the libxc stream (no xl/libxl wrapping) */
	uint32_t libxc_version;       /* 0 or 3 (default); 2 for old receivers */
	uint32_t xen_major, xen_minor; /* domain header; 0: 4.17 */
	const void *cpu_records;      /* NULL, or nr_vcpus x 1032-byte struct hvm_hw_cpu
					 (registers; their tsc is replaced by the time
					 state's): written instead of zeroed registers */
	const void *lapic_regs;       /* NULL, or nr_vcpus x 1024-byte LAPIC register
					 pages (struct hvm_hw_lapic_regs = KVM's
					 kvm_lapic_state): LAPIC_REGS for each vCPU
					 that has a LAPIC entry */
};

/*
 * Write an x86 HVM stream, little-endian: [STATIC_DATA_END (v3)],
 * [PAGE_DATA...], X86_TSC_INFO, HVM_CONTEXT (HEADER, CPU, LAPIC,
 * [LAPIC_REGS], RTC when known, TSC_ADJUST, END), [XTSHIM_TIME when a
 * pvclock record is known], [HVM_PARAMS], END; wrapped as an `xl save` file (xl header + config,
 * libxl header, LIBXC_CONTEXT, libxc stream, libxl END) unless bare.
 * CPU records carry the TSC only (other registers zero) unless
 * o->cpu_records gives them.
 */
int xts_xen_write(int fd, const struct xts_xen_time *x, const struct xts_xen_export_opts *o,
		  struct xts_stream_error *err);

/*
 * The receiving end of `xl migrate` (tools/xl/xl_migrate.c), byte for byte:
 * banner -> the xl save stream on in_fd -> "ready" -> the sender's "go" ->
 * ops->start() -> report + status byte -> on failure ops->destroy() and
 * permission for the sender to resume its copy.  The guest must not run
 * before start() is called.  Returns 0 when the guest was started; a
 * stream error (nothing more is written: the sender resumes its copy when
 * the pipe closes), -EPROTO for a sender that broke the protocol, or
 * start()'s error.
 */
struct xts_xl_receiver_ops {
	void *opaque;
	const struct xts_stream_visitor *visitor;  /* sees the stream as it arrives */
	const struct xts_xen_import_opts *import;
	int (*start)(void *opaque, const struct xts_xen_time *x, const struct xts_stream_info *info);
	void (*destroy)(void *opaque);
};
int xts_xl_migrate_receive(int in_fd, int out_fd, const struct xts_xl_receiver_ops *ops,
			   struct xts_xen_time *x, struct xts_stream_info *info,
			   struct xts_stream_error *err);

/*
 * Reading a running Xen domain's time state (xtshim-xen-export, on the Xen
 * host).  The calls are a seam over libxenctrl so the logic is tested
 * without Xen; each returns 0 or a negative errno.
 */
struct xts_xenctl_ops {
	void *opaque;
	/* xc_domain_get_tsc_info() */
	int (*get_tsc_info)(void *opaque, uint32_t domid, uint32_t *mode, uint64_t *elapsed_nsec,
			    uint32_t *khz, uint32_t *incarnation);
	/* xc_domain_hvm_getcontext(): buf NULL asks for the size (returned >= 0);
	 * otherwise fills up to size bytes and returns the length */
	int (*get_hvm_context)(void *opaque, uint32_t domid, uint8_t *buf, uint32_t size);
	/* xc_hvm_param_get() */
	int (*get_param)(void *opaque, uint32_t domid, uint32_t index, uint64_t *value);
	/* The 4 KiB shared_info page (xc_map_foreign_range of its frame); may be NULL */
	int (*get_shared_info)(void *opaque, uint32_t domid, void *page);
};

/*
 * Fill *x for domain `domid` (x86 HVM, paused by the caller so every value
 * belongs to one instant).  The HVM context goes through the same
 * validation as a stream.  vCPU 0's shared_info time record and the
 * wallclock are kept (as an XTSHIM_TIME record on export) when the record
 * is current: written within 2 s of guest TSC before the saved TSC.
 * `why` receives the reason of a failure or what was left out.
 */
int xts_xen_read_domain(const struct xts_xenctl_ops *ops, uint32_t domid,
			struct xts_xen_time *x, char *why, size_t why_len);

/* ==== [section: arm64] ==== */
/*
 * arm64 guests (shim/arm64-*.c; shim/arm64/ for what only runs on arm64).
 * The model's "TSC" is the generic-timer counter the guest reads
 * (CNTVCT_EL0), host_tsc is the host's physical counter, and the kHz fields
 * hold CNTFRQ_EL0 / 1000.  KVM cannot scale the counter: tsc_ratio is 1.0,
 * and the counter is VM-wide, so every vCPU reads the same value.
 *
 * Offset conventions (converted in one place, xts_arm64_kvm_offset()):
 *   model:  guest = host + tsc_offset                 (mod 2^64)
 *   KVM:    guest = host - counter_offset             (KVM_ARM_SET_COUNTER_OFFSET)
 *   Xen:    guest = host - virt_timer_base.offset     (CNTVOFF_EL2)
 * hence counter_offset = -tsc_offset (mod 2^64).
 *
 * An arm64 VMM uses the same calls as an x86 one: xts_clock_new(),
 * xts_clock_save(), xts_clock_restore() (with the parameters below), then
 * xts_arm64_apply_counter() where x86 calls xts_kvm_apply_tsc().
 * On an arm64 build xts_host_tsc() reads CNTVCT_EL0 (equal to the physical
 * counter in a Linux host, whose own virtual offset is 0) and
 * xts_host_sample_now() pairs it with CLOCK_REALTIME.
 */

/*
 * Parameters for a new arm64 guest whose counter reads start_counter at
 * the `now` given to xts_clock_new().  cntfrq_hz is the host's CNTFRQ_EL0;
 * it must be a whole number of kHz below 2^32 kHz (every frequency in use
 * is: 19.2, 24, 25, 50, 62.5 MHz, 1 GHz); -EINVAL otherwise.
 */
int xts_arm64_clock_params(struct xts_clock_params *p, uint32_t nr_vcpus,
			   uint64_t cntfrq_hz, uint64_t start_counter);
/* Restore parameters for a destination host with counter rate host_cntfrq_hz. */
int xts_arm64_restore_params(struct xts_restore_params *p, enum xts_policy policy,
			     uint64_t threshold_ns, uint32_t flags, uint64_t host_cntfrq_hz);
/*
 * Operator pre-flight for restoring `st` on a host whose CNTFRQ is
 * host_cntfrq_hz with restore `flags`: 0 if xts_clock_restore() can keep
 * the guest's counter rate (or the change is accepted), otherwise a
 * negative errno and a message naming the field in `msg` (always
 * terminated when msg_len > 0).  -ERANGE: the rates differ and
 * XTS_RESTORE_ACCEPT_RATE_CHANGE is not set (KVM has no way to scale the
 * arm64 counter, and the guest reads CNTFRQ_EL0 from the hardware).
 * -EINVAL: not an arm64 state, or vCPU counters that differ (impossible
 * for the VM-wide arm64 counter).
 */
int xts_arm64_check_state(const struct xts_time_state *st, uint64_t host_cntfrq_hz,
			  uint32_t flags, char *msg, size_t msg_len);
/*
 * KVM's VM counter offset for the model (guest = host - *counter_offset).
 * -EINVAL unless the model is arm64 with tsc_ratio 1.0 and no vCPU skew.
 */
int xts_arm64_kvm_offset(const struct xts_clock *c, uint64_t *counter_offset);

/* ---- KVM backend: how the offset reaches KVM ---- */

/* The seam to KVM, so a test can record the exact ioctl sequence. */
struct xts_arm64_kvm_ops {
	/* ioctl(2): its non-negative result, or -errno. */
	int (*ioctl)(void *opaque, int fd, unsigned long request, void *arg);
	/* Host physical counter ticks, read right before each one-reg write. */
	uint64_t (*host_counter)(void *opaque);
	/* Between -EBUSY retries (attempt counts from 1); NULL: sched_yield(). */
	void (*busy_wait)(void *opaque, unsigned attempt);
};

/* ioctl(2) itself, for xts_arm64_kvm_ops.ioctl (any build). */
int xts_arm64_sys_ioctl(void *opaque, int fd, unsigned long request, void *arg);

enum xts_arm64_counter_path {
	XTS_ARM64_COUNTER_NONE      = 0,
	XTS_ARM64_COUNTER_VM_OFFSET = 1, /* KVM_ARM_SET_COUNTER_OFFSET (Linux >= 6.4): exact */
	XTS_ARM64_COUNTER_ONE_REG   = 2, /* KVM_SET_ONE_REG(KVM_REG_ARM_TIMER_CNT) per vCPU */
};

#define XTS_ARM64_BUSY_RETRIES 100   /* default -EBUSY retries of the VM ioctl */

struct xts_arm64_kvm {
	const struct xts_arm64_kvm_ops *ops;
	void *opaque;                    /* passed to every op */
	int vm_fd;
	uint32_t nr_vcpus;               /* == clock->nr_vcpus */
	const int *vcpu_fds;             /* nr_vcpus entries (one-reg path) */
	uint32_t busy_retries;           /* 0: XTS_ARM64_BUSY_RETRIES */
};

struct xts_arm64_apply_report {
	enum xts_arm64_counter_path path; /* what was used (or tried, on failure) */
	uint64_t counter_offset;          /* host ticks: guest = host - counter_offset */
	uint32_t busy_retries;            /* -EBUSY answers before the result */
	uint32_t vcpus_written;           /* one-reg path: vCPUs done */
};

/*
 * Program the model's counter into KVM: KVM_ARM_SET_COUNTER_OFFSET on the VM
 * when KVM_CHECK_EXTENSION(KVM_CAP_COUNTER_OFFSET) says so (retrying while
 * it answers -EBUSY, i.e. a vCPU ioctl is in flight: pause the vCPUs
 * first), otherwise KVM_SET_ONE_REG of the counter on every vCPU (exact up
 * to the ticks between host_counter() and the kernel's own read).  `rep`
 * (optional) says which path ran.  -EINVAL for a model KVM cannot run
 * (see xts_arm64_kvm_offset()) or a vCPU count that does not match;
 * otherwise the first failing ioctl's -errno.
 */
int xts_arm64_apply_counter(const struct xts_arm64_kvm *k, const struct xts_clock *c,
			    struct xts_arm64_apply_report *rep);
const char *xts_arm64_counter_path_name(enum xts_arm64_counter_path path);

#if defined(__aarch64__)
/* This host's CNTFRQ_EL0, Hz. */
uint64_t xts_arm64_host_cntfrq_hz(void);
/* Ops for a real KVM: ioctl(2), CNTVCT_EL0, 1 ms sleeps between -EBUSY retries. */
extern const struct xts_arm64_kvm_ops xts_arm64_kvm_host_ops;
#endif

/* ---- Xen on Arm: the virtual counter offset of a saved domain ---- */

/*
 * Xen 4.17's public xen/arch-arm/hvm/save.h is empty: Xen on Arm has no
 * upstream save format.  xtshim reads the timer record of the Arm
 * save/restore series (typecode 3, one VIRT and one PHYS record per vCPU)
 * inside the usual HVM context framing (struct hvm_save_descriptor).
 */
#define XTS_XEN_ARM_TIMER_TYPECODE 3
#define XTS_XEN_ARM_TIMER_VIRT     0
#define XTS_XEN_ARM_TIMER_PHYS     1

struct xts_xen_arm_timer {
	uint64_t vtb_offset;  /* Xen's virt_timer_base.offset: host counter ticks */
	uint32_t ctl;         /* CNT{V,P}_CTL */
	uint32_t pad0;
	uint64_t cval;        /* CNT{V,P}_CVAL */
	uint32_t type;        /* XTS_XEN_ARM_TIMER_VIRT / _PHYS */
	uint32_t pad1;
};

/*
 * The virtual counter offset of a domain from its HVM context blob: every
 * vCPU's VIRT timer record must carry the same vtb_offset (Xen keeps one
 * per domain) and every vCPU below nr_vcpus must have one.  -EINVAL with a
 * bounded walk: truncated descriptors, a timer record of the wrong length,
 * an instance >= nr_vcpus, or offsets that disagree.
 */
int xts_arm64_xen_timer_offset(const void *ctx, size_t len, uint32_t nr_vcpus,
			       uint64_t *vtb_offset);

/* What a Xen on Arm save gives the model (besides the timer offset). */
struct xts_arm64_xen_import {
	uint64_t vtb_offset;          /* from xts_arm64_xen_timer_offset() */
	uint64_t source_counter;      /* source host physical counter at the save instant */
	uint64_t saved_realtime_ns;   /* UTC at that instant */
	uint64_t cntfrq_hz;           /* source host CNTFRQ */
	uint32_t nr_vcpus;
};

/*
 * A time state as if xts_clock_save() had run on the Xen host: every vCPU's
 * counter is source_counter - vtb_offset; system time is that counter in ns
 * (Xen on Arm guests count from domain creation, where Xen sampled
 * vtb_offset), and the wallclock makes wc + system time = saved UTC.
 */
int xts_arm64_state_from_xen(const struct xts_arm64_xen_import *in, struct xts_time_state *st);

#ifdef __cplusplus
}
#endif
#endif /* XTSHIM_H */
