/*
 * `xtshim run --from-xen FILE|-`: resume an x86 HVM/PVH guest from a Xen
 * migration stream (an `xl save` file, an `xl migrate` stream with
 * --xl-migrate-receive, or a bare libxl/libxc stream).
 *
 * Order, so that nothing is applied half-way:
 *  1. the VM and guest RAM (--mem) exist, no vCPU yet;
 *  2. the stream is parsed once, as it arrives: every record is validated
 *     by the library parser (errors name record index, type and offset),
 *     pages go straight into guest RAM through xts_gmem_write() (a pfn
 *     outside RAM stops the parse), HVM entries the VMM needs are copied;
 *  3. everything is checked and converted (time state, CPU records, LAPIC
 *     state) before the first vCPU ioctl;
 *  4. only then vCPUs, clock, domain and register state are created and
 *     set; the guest runs last.
 * A failure at any step discards the VM; it has never run.
 *
 * Not in a Xen HVM stream, and not restored: shared_info, vcpu_info / time
 * / runstate registrations, event channels, upcall vectors, CALLBACK_IRQ.
 * A cooperative guest re-registers them when SCHEDOP_shutdown(suspend)
 * returns 0 (the saved RAX), as after a Xen restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/xen-stream.h"
#include "shim/stream-cpu.h"
#include "vmm/vmm.h"

#define MSR_IA32_TSC_ADJUST   0x3b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define APIC_BASE_DEFAULT     0xfee00000ull
#define APIC_BASE_BSP         (1ull << 8)
#define APIC_BASE_ENABLE      (1ull << 11)
#define CR0_PE   (1ull << 0)
#define CR0_PG   (1ull << 31)
#define CR4_PAE  (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define DEFAULT_THRESHOLD_NS 1000000000ull

/* HVM entries the VMM applies itself; every other one is reported as dropped. */
enum { HVM_END = 0, HVM_HEADER = 1, HVM_CPU = 2, HVM_LAPIC = 5, HVM_LAPIC_REGS = 6,
       HVM_RTC = 11, HVM_TSC_ADJUST = 19 };

struct restore {
	struct vmm *v;
	struct xts_xen_mem_sink sink;
	bool bad_pfn_seen;
	uint64_t bad_pfn;
	/* Copies of the HVM entries the VMM applies (the last copy wins). */
	uint8_t *cpu[XTS_MAX_VCPUS];
	uint32_t cpu_len[XTS_MAX_VCPUS];
	struct kvm_lapic_state *lapic[XTS_MAX_VCPUS];
	/* Names of saved state nothing here emulates, each once. */
	char dropped[512];
	/* Converted, validated state (step 3). */
	struct xts_xen_time x;
	struct xts_stream_info info;
	struct xts_time_state st;
	enum xts_xen_line_source line_src;
	struct xts_xen_cpu_kvm *k[XTS_MAX_VCPUS];
	int64_t jump;                  /* guest TSC step on a KVM that ignores offsets */
	bool started;
};

int restore__parse_policy(const char *s, enum xts_policy *policy, uint64_t *threshold_ns)
{
	if (!strcmp(s, "freeze")) {
		*policy = XTS_POLICY_FREEZE;
		return 0;
	}
	if (!strcmp(s, "track")) {
		*policy = XTS_POLICY_TRACK;
		return 0;
	}
	if (!strncmp(s, "threshold", 9) && (s[9] == '\0' || s[9] == ':')) {
		uint64_t ns = DEFAULT_THRESHOLD_NS;
		if (s[9] == ':') {
			char *end;
			errno = 0;
			unsigned long long x = strtoull(s + 10, &end, 10);
			if (errno || end == s + 10 || *end || s[10] == '-') {
				fprintf(stderr, "xtshim run: --clock-policy threshold:NS wants a number "
					"of nanoseconds, not '%s'\n", s + 10);
				return -EINVAL;
			}
			ns = x;
		}
		*policy = XTS_POLICY_THRESHOLD;
		*threshold_ns = ns;
		return 0;
	}
	fprintf(stderr, "xtshim run: --clock-policy: '%s' is not freeze, track or "
		"threshold[:NS]\n", s);
	return -EINVAL;
}

int restore__parse_pvclock(const char *s, struct xts_xen_import_opts *o)
{
	char *end;
	errno = 0;
	unsigned long vcpu = strtoul(s, &end, 10);
	if (errno || end == s || *end != ':' || s[0] == '-' || vcpu >= XTS_MAX_VCPUS)
		goto bad;
	const char *g = end + 1;
	unsigned long long gpa = strtoull(g, &end, 0);
	if (errno || end == g || *end || g[0] == '-')
		goto bad;
	o->pvclock_given = true;
	o->pvclock_vcpu = (uint32_t)vcpu;
	o->pvclock_gpa = gpa;
	return 0;
bad:
	fprintf(stderr, "xtshim run: --pvclock wants VCPU:GPA (vCPU below %u, GPA of its "
		"vcpu_time_info), not '%s'\n", XTS_MAX_VCPUS, s);
	return -EINVAL;
}

/* ---- step 2: the parse ---- */

static void restore__note_dropped(struct restore *rs, const char *name)
{
	size_t len = strlen(rs->dropped), n = strlen(name);
	const char *p = rs->dropped;
	while ((p = strstr(p, name))) {
		bool start = p == rs->dropped || p[-1] == ' ';
		bool end = p[n] == ',' || p[n] == '\0';
		if (start && end)
			return;
		p += n;
	}
	if (len + n + 3 < sizeof(rs->dropped))
		snprintf(rs->dropped + len, sizeof(rs->dropped) - len, "%s%s", len ? ", " : "", name);
}

static int restore__keep(uint8_t **slot, uint32_t *slot_len, const void *body, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, body, len);
	free(*slot);
	*slot = copy;
	if (slot_len)
		*slot_len = len;
	return 0;
}

const char *restore__dropped_label(const struct xts_stream_record *r)
{
	if (r->layer == XTS_STREAM_HVM) {
		switch (r->type) {
		case HVM_END: case HVM_HEADER: case HVM_CPU: case HVM_LAPIC: case HVM_LAPIC_REGS:
		case HVM_TSC_ADJUST:
			return NULL;
		case HVM_RTC:
			return "RTC (registers; its offset sets the wallclock)";
		default:
			return r->name;
		}
	}
	if (r->layer == XTS_STREAM_LIBXL && (r->type == XTS_LIBXL_REC_EMULATOR_XENSTORE_DATA ||
					     r->type == XTS_LIBXL_REC_EMULATOR_CONTEXT))
		return r->name;
	if (r->layer == XTS_STREAM_LIBXC && (r->type == XTS_LIBXC_REC_X86_CPUID_POLICY ||
					     r->type == XTS_LIBXC_REC_X86_MSR_POLICY))
		return r->name;
	return NULL;
}

static int restore__on_record(void *opaque, const struct xts_stream_record *r)
{
	struct restore *rs = opaque;
	const char *dropped = restore__dropped_label(r);
	int rc = 0;

	if (r->layer == XTS_STREAM_HVM && r->type == HVM_CPU)
		rc = restore__keep(&rs->cpu[r->instance], &rs->cpu_len[r->instance], r->body,
				   r->length);
	else if (r->layer == XTS_STREAM_HVM && r->type == HVM_LAPIC_REGS)
		rc = restore__keep((uint8_t **)&rs->lapic[r->instance], NULL, r->body, r->length);
	if (dropped)
		restore__note_dropped(rs, dropped);
	return rc;
}

static int restore__on_page(void *opaque, uint64_t pfn, const void *data, uint32_t page_size)
{
	struct restore *rs = opaque;
	int r = xts_xen_page_to_gmem(&rs->sink, pfn, data, page_size);
	if (r == -EFAULT && !rs->bad_pfn_seen) {
		rs->bad_pfn_seen = true;
		rs->bad_pfn = pfn;
	}
	return r;
}

static void restore__report_parse_error(struct restore *rs, const struct xts_stream_error *e)
{
	fprintf(stderr, "xtshim run --from-xen: REJECTED: %s\n", e->msg);
	if (rs->bad_pfn_seen)
		fprintf(stderr, "xtshim run --from-xen: PAGE_DATA pfn %#" PRIx64 " lies outside "
			"guest RAM (--mem %" PRIu64 " MiB holds pfns 0..%#" PRIx64 "): give a larger "
			"--mem\n", rs->bad_pfn, rs->v->opts.mem_mib, (rs->v->ram_size >> 12) - 1);
}

/* ---- step 3: check and convert, no KVM calls ---- */

/*
 * UTC at the save instant, for the downtime and (streams without their own
 * wallclock) the guest's UTC: --save-time, else the file's mtime (xtshim
 * sets it to the save instant; `xl save` leaves the end of writing), else
 * now (a live stream was saved moments ago).
 */
static uint64_t restore__save_time_ns(const struct vmm_options *o)
{
	struct stat sb;
	struct xts_host_sample now;
	const char *path = o->from_xen;
	if (o->save_time_ns)
		return o->save_time_ns;
	if (strcmp(path, "-") && !stat(path, &sb))
		return (uint64_t)sb.st_mtim.tv_sec * 1000000000ull + (uint64_t)sb.st_mtim.tv_nsec;
	xts_host_sample_now(&now);       /* a live stream: it was saved just now */
	return now.realtime_ns;
}

static int restore__check_cpu(unsigned i, const struct xts_xen_cpu_kvm *k)
{
	const struct kvm_sregs *s = &k->sregs;
	const char *why = NULL;
	if (!k->regs.rflags && !k->regs.rip && !s->cr0 && !s->cs.present)
		why = "no register state (a time-only export, such as xtshim-xen-export writes "
		      "or xts_xen_write() without cpu_records): nothing to resume; `xtshim "
		      "inspect` reads its time state";
	else if ((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE))
		why = "CR0.PG without CR0.PE";
	else if ((s->efer & EFER_LMA) && (!(s->cr0 & CR0_PG) || !(s->cr4 & CR4_PAE) ||
					  !(s->efer & EFER_LME)))
		why = "EFER.LMA without paging, PAE and EFER.LME";
	else if (s->cs.l && !(s->efer & EFER_LMA))
		why = "a 64-bit CS outside long mode";
	else if (!(k->regs.rflags & 2))
		why = "RFLAGS bit 1 clear";
	if (why)
		fprintf(stderr, "xtshim run --from-xen: CPU record of vCPU %u: %s\n", i, why);
	return why ? -EINVAL : 0;
}

static int restore__convert(struct restore *rs)
{
	struct vmm *v = rs->v;
	const struct xts_xen_time *x = &rs->x;
	char why[256] = "";
	int r;

	if (rs->info.dom_type != XTS_LIBXC_DOM_X86_HVM) {
		fprintf(stderr, "xtshim run --from-xen: a PV guest cannot run on KVM (domain type "
			"%u); `xtshim inspect` still reads its time state\n", rs->info.dom_type);
		return -ENOTSUP;
	}
	if (v->opts.vcpus_given && v->opts.nr_vcpus != x->nr_vcpus) {
		fprintf(stderr, "xtshim run --from-xen: --vcpus %u, but the stream has %u vCPU(s)\n",
			v->opts.nr_vcpus, x->nr_vcpus);
		return -EINVAL;
	}
	if (x->tsc_mode == XTS_TSC_MODE_ALWAYS_EMULATE) {
		fprintf(stderr, "xtshim run --from-xen: X86_TSC_INFO mode 1 (always_emulate):"
			" not supported: it needs RDTSC exiting, which KVM does not let a VMM"
			" enable (docs/abi-coverage.md)\n");
		return -ENOTSUP;
	}
	r = xts_xen_time_to_state(x, restore__save_time_ns(&v->opts), &rs->st,
				  &rs->line_src, why, sizeof(why));
	if (r) {
		fprintf(stderr, "xtshim run --from-xen: time state: %s\n", why);
		return r;
	}
	if (!rs->cpu[0]) {
		fprintf(stderr, "xtshim run --from-xen: no CPU record for vCPU 0 (the boot vCPU "
			"must be up)\n");
		return -EINVAL;
	}
	for (unsigned i = 0; i < x->nr_vcpus; i++) {
		if (!rs->cpu[i])
			continue;        /* down when saved: stays in reset, as on Xen */
		rs->k[i] = calloc(1, sizeof(*rs->k[i]));
		if (!rs->k[i])
			return -ENOMEM;
		if (xts_xen_cpu_to_kvm(rs->cpu[i], rs->cpu_len[i], rs->k[i])) {
			fprintf(stderr, "xtshim run --from-xen: CPU record of vCPU %u: length %u\n", i,
				rs->cpu_len[i]);
			return -EINVAL;
		}
		if ((r = restore__check_cpu(i, rs->k[i])))
			return r;
	}
	for (unsigned i = x->nr_vcpus; i < XTS_MAX_VCPUS; i++)
		if (rs->cpu[i] || rs->lapic[i])
			return -EINVAL;      /* cannot happen: nr_vcpus covers every instance */
	/* Ring pages the guest knows from its params; only inside RAM. */
	v->console_pfn = v->store_pfn = 0;
	for (unsigned i = 0; i < x->nr_params; i++) {
		uint64_t *pfn = x->params[i].index == HVM_PARAM_CONSOLE_PFN ? &v->console_pfn :
				x->params[i].index == HVM_PARAM_STORE_PFN ? &v->store_pfn : NULL;
		if (pfn && x->params[i].value < (v->ram_size >> 12))
			*pfn = x->params[i].value;
	}
	return 0;
}

/* ---- step 4: apply ---- */

static int restore__clock(struct restore *rs)
{
	struct vmm *v = rs->v;
	struct xts_restore_result res;
	struct xts_host_sample now;
	uint32_t khz;
	int64_t jump = 0;
	int r;

	if ((r = xts_kvm_tsc_khz(v->cpus[0].fd, &khz))) {
		fprintf(stderr, "xtshim: KVM_GET_TSC_KHZ: %s\n", strerror(-r));
		return r;
	}
	/* The reference VMM does not program TSC scaling: a rate KVM cannot keep
	 * unscaled needs --accept-rate-change. */
	struct xts_restore_params p = {
		.policy = v->opts.clock_policy,
		.threshold_ns = v->opts.clock_threshold_ns,
		.flags = v->opts.accept_rate_change ? XTS_RESTORE_ACCEPT_RATE_CHANGE : 0,
		.host_tsc_khz = khz,
		.host_can_scale = false,
	};
	/* Facts about the host are this host's, not the source's. */
	rs->st.flags = (rs->st.flags & ~(XTS_CLOCK_HOST_TSC_RELIABLE | XTS_CLOCK_HOST_RDTSCP)) |
		       xen__host_clock_flags();
	xts_host_sample_now(&now);
	r = xts_clock_restore(&v->clock, &rs->st, &p, &now, &res);
	if (r == -ERANGE) {
		fprintf(stderr, "xtshim run --from-xen: the guest's TSC ran at %u kHz; this host runs "
			"%u kHz and the VMM does not scale: more than %u ppm apart.  "
			"--accept-rate-change resumes it at %u kHz (system time stays continuous)\n",
			rs->st.guest_tsc_khz, khz, XTS_TSC_TOLERANCE_PPM, khz);
		return r;
	}
	if (r) {
		fprintf(stderr, "xtshim run --from-xen: clock restore: %s\n", strerror(-r));
		return r;
	}
	r = xts_kvm_apply_tsc(v->cpus[0].fd, &v->clock, 0);
	if (r == -EOPNOTSUPP) {
		if ((r = xts_clock_follow_host_tsc(&v->clock, &jump)))
			return r;
		v->tsc_is_host_tsc = true;
		fprintf(stderr, "xtshim: guest TSC could not be restored on this KVM (offset "
			"ignored): TSC jumps by %" PRId64 " ticks; system time continues\n", jump);
	} else if (r) {
		fprintf(stderr, "xtshim: vCPU 0 TSC offset: %s\n", strerror(-r));
		return r;
	}
	uint64_t sys = xts_clock_system_ns(&v->clock, now.host_tsc);
	fprintf(stderr, "xtshim: clock: policy %s (%s), %" PRIu64 " ns since the save, guest TSC "
		"%u kHz%s, system time %" PRIu64 " ns (%s), incarnation %u\n",
		res.applied == XTS_POLICY_TRACK ? "track" : "freeze",
		v->opts.clock_policy == XTS_POLICY_THRESHOLD ? "threshold" : "as asked",
		res.elapsed_ns, v->clock.guest_tsc_khz, res.rate_changed ? " (rate changed)" : "",
		sys, rs->line_src == XTS_XEN_LINE_NEW ? "a new line: the stream has no pvclock record"
		: "the guest's own line continued", v->clock.incarnation);
	rs->jump = jump;
	return 0;
}

static int restore__set_cpu(struct restore *rs, unsigned i)
{
	struct vmm_cpu *c = &rs->v->cpus[i];
	const struct xts_xen_cpu_kvm *k = rs->k[i];
	const struct xts_xen_vcpu_time *t = &rs->x.vcpu[i];
	struct kvm_sregs s = k->sregs;
	struct kvm_regs regs = k->regs;
	const char *what;

	if (t->present & XTS_XEN_VCPU_LAPIC)
		s.apic_base = t->apic_base_msr;
	else
		s.apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (i == 0 ? APIC_BASE_BSP : 0);
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	regs.rflags |= 2;

#define SET(req, arg, name) do { what = name; \
	if (ioctl(c->fd, req, arg) < 0) goto fail; } while (0)
	SET(KVM_SET_SREGS, &s, "KVM_SET_SREGS");
	SET(KVM_SET_REGS, &regs, "KVM_SET_REGS");
	if (k->fpu_valid)
		SET(KVM_SET_FPU, &k->fpu, "KVM_SET_FPU");
	SET(KVM_SET_DEBUGREGS, &k->debugregs, "KVM_SET_DEBUGREGS");

	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[XTS_XEN_CPU_MSRS + 1];
	} m = { .h.nmsrs = 0 };
	for (unsigned j = 0; j < k->nr_msrs; j++)
		m.e[m.h.nmsrs++] = k->msrs[j];
	if (t->present & XTS_XEN_VCPU_TSC_ADJUST)
		m.e[m.h.nmsrs++] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC_ADJUST,
							   .data = t->tsc_adjust };
	int n = ioctl(c->fd, KVM_SET_MSRS, &m);
	if (n != (int)m.h.nmsrs) {
		fprintf(stderr, "xtshim: vCPU %u: KVM_SET_MSRS refused MSR %#x\n", i,
			n >= 0 && n < (int)m.h.nmsrs ? m.e[n].index : 0);
		return -EINVAL;
	}
	/* The register page after apic_base (KVM checks it against the mode). */
	if (rs->lapic[i])
		SET(KVM_SET_LAPIC, rs->lapic[i], "KVM_SET_LAPIC");
	/*
	 * Only a LAPIC in TSC-deadline mode keeps the MSR: after the registers.
	 * The deadline is in guest TSC ticks; where the TSC jumped (KVM ignored
	 * the offsets), it moves by this vCPU's jump.
	 */
	uint64_t shift = rs->v->tsc_is_host_tsc ?
			 (uint64_t)rs->jump - (rs->st.guest_tsc[i] - rs->st.guest_tsc[0]) : 0;
	if (t->tdt_msr) {
		struct {
			struct kvm_msrs h;
			struct kvm_msr_entry e;
		} d = { .h.nmsrs = 1, .e = { .index = MSR_IA32_TSC_DEADLINE,
					     .data = t->tdt_msr + shift } };
		if (ioctl(c->fd, KVM_SET_MSRS, &d) != 1) {
			fprintf(stderr, "xtshim: vCPU %u: KVM_SET_MSRS refused the TSC deadline\n", i);
			return -EINVAL;
		}
	}
	if (k->pending_valid) {
		struct kvm_vcpu_events ev;
		SET(KVM_GET_VCPU_EVENTS, &ev, "KVM_GET_VCPU_EVENTS");
		ev.flags = 0;
		switch (k->pending_type) {
		case 0:         /* external interrupt */
			ev.interrupt.injected = 1;
			ev.interrupt.nr = k->pending_vector;
			break;
		case 2:         /* NMI */
			ev.nmi.injected = 1;
			break;
		case 3: case 6: /* hardware / privileged software exception */
			ev.exception.injected = 1;
			ev.exception.nr = k->pending_vector;
			ev.exception.has_error_code = k->pending_error_valid;
			ev.exception.error_code = k->error_code;
			break;
		default:        /* software interrupts and exceptions are re-executed */
			break;
		}
		SET(KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS");
	}
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	SET(KVM_SET_MP_STATE, &mp, "KVM_SET_MP_STATE");
#undef SET
	c->started = true;
	return 0;
fail:
	fprintf(stderr, "xtshim: vCPU %u: %s: %s\n", i, what, strerror(errno));
	return -errno;
}

static void restore__report(struct restore *rs)
{
	struct vmm *v = rs->v;
	unsigned up = 0;
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		up += rs->k[i] != NULL;
	fprintf(stderr, "xtshim: resumed from %s: %u vCPU(s) (%u up), %" PRIu64 " pages into %"
		PRIu64 " MiB, Xen %u.%u stream (libxc v%u)\n",
		strcmp(v->opts.from_xen, "-") ? v->opts.from_xen : "stdin", v->nr_vcpus, up,
		rs->sink.pages, v->opts.mem_mib, rs->info.xen_major, rs->info.xen_minor,
		rs->info.libxc_version);
	bool no_regs = false;
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		no_regs |= rs->k[i] && !rs->lapic[i];
	if (no_regs)
		restore__note_dropped(rs, "(none: LAPIC_REGS missing, those LAPICs start in "
				      "their reset state)");
	fprintf(stderr, "xtshim: not emulated, dropped: %s\n", rs->dropped[0] ? rs->dropped : "none");
	fprintf(stderr, "xtshim: not in the stream: shared_info, vcpu_info/time/runstate areas, "
		"event channels, upcall vectors (the guest re-registers them)\n");
}

/* Steps 3 and 4; the guest runs when this returns 0. */
static int restore__apply(struct restore *rs)
{
	struct vmm *v = rs->v;
	int r;

	if ((r = restore__convert(rs)))
		return r;
	v->nr_vcpus = rs->x.nr_vcpus;
	if ((r = xen__pick_backend(v)) || (r = kvm_cpu__init(v)))
		return r;
	if ((r = restore__clock(rs)) || (r = xen__create_domain(v)))
		return r;
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		if ((r = xen__setup_vcpu(&v->cpus[i])))
			return r;
	/* KVM records: kvmclock continues the restored line (xen-kernel.c). */
	if (xen_kernel__active(v) && (r = xen_kernel__load(v)))
		return r;
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		if (!rs->k[i])
			continue;
		if ((r = restore__set_cpu(rs, i)))
			return r;
		/* Up in the domain before any vCPU runs (VCPUOP_is_up answers 1). */
		xts_domain_vcpu_running(v->dom, i, true);
		xts_domain_vcpu_running(v->dom, i, false);
	}
	v->restored = true;
	restore__report(rs);
	if ((r = kvm_cpu__start_all(v)))
		return r;
	rs->started = true;
	return 0;
}

/* ---- xl migrate: the same, started from the receiver protocol ---- */

static int restore__xl_start(void *opaque, const struct xts_xen_time *x,
			     const struct xts_stream_info *info)
{
	struct restore *rs = opaque;
	rs->x = *x;
	rs->info = *info;
	return restore__apply(rs);
}

static void restore__xl_destroy(void *opaque)
{
	struct restore *rs = opaque;
	if (rs->started)
		platform__stop(rs->v, VMM_EXIT_ERROR, "xl migrate: the sender keeps the guest");
}

int restore__run(struct vmm *v)
{
	struct restore *rs = calloc(1, sizeof(*rs));
	struct xts_stream_visitor vis;
	struct xts_stream_error err;
	int fd = -1, r;

	if (!rs)
		return -ENOMEM;
	rs->v = v;
	rs->sink.mem = &v->gmem;
	vis = (struct xts_stream_visitor){ .opaque = rs, .record = restore__on_record,
					   .page = restore__on_page };
	if ((r = console__open(v)) || (r = kvm__init(v)))
		goto out;
	if (!strcmp(v->opts.from_xen, "-")) {
		fd = STDIN_FILENO;
	} else if ((fd = open(v->opts.from_xen, O_RDONLY | O_CLOEXEC)) < 0) {
		r = -errno;
		fprintf(stderr, "xtshim run --from-xen %s: %s\n", v->opts.from_xen, strerror(errno));
		goto out;
	}

	if (v->opts.xl_migrate_receive) {
		struct xts_xl_receiver_ops ops = {
			.opaque = rs, .visitor = &vis,
			.import = v->opts.import.pvclock_given ? &v->opts.import : NULL,
			.start = restore__xl_start, .destroy = restore__xl_destroy,
		};
		r = xts_xl_migrate_receive(STDIN_FILENO, STDOUT_FILENO, &ops, &rs->x, &rs->info, &err);
		if (r && !rs->started)
			restore__report_parse_error(rs, &err);
	} else {
		r = xts_xen_read_time(fd, v->opts.import.pvclock_given ? &v->opts.import : NULL, &vis,
				      &rs->x, &rs->info, &err);
		if (r)
			restore__report_parse_error(rs, &err);
		else
			r = restore__apply(rs);
	}
	if (rs->started)
		kvm_cpu__join_all(v);
out:
	if (fd > STDERR_FILENO)
		close(fd);
	for (unsigned i = 0; i < XTS_MAX_VCPUS; i++) {
		free(rs->cpu[i]);
		free(rs->lapic[i]);
		free(rs->k[i]);
	}
	bool started = rs->started;
	free(rs);
	return started ? 0 : r;
}
