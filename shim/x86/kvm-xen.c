/*
 * The kernel backend: KVM's in-kernel Xen support (KVM_CAP_XEN_HVM).
 *
 * Two choices are kept apart (docs/kernel-backend.md):
 *  - the transport: KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL makes every vmcall /
 *    vmmcall a Xen hypercall; what KVM does not handle itself exits as
 *    KVM_EXIT_XEN and goes to the same dispatcher as the IOPORT stubs;
 *  - the records: with KVM records, KVM writes vcpu_time_info (from
 *    kvmclock), the wallclock and runstate, and runs the Xen timers.
 *
 * Every call to KVM goes through ops->ioctl, and every sequence is
 * validated before its first ioctl.  KVM cannot undo an attribute, so a
 * failure mid-way is reported as the step that failed; struct xts_kvm_xen
 * records only what KVM accepted.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "abi/xen-abi.h"
#include "shim/xtshim.h"
#include "shim/x86/kvm-xen-uapi.h"

#define PAGE_SIZE_4K       4096ULL
#define VCPU_INFO_SIZE     64u    /* both layouts */
#define TIME_INFO_SIZE     32u
#define LEGACY_VCPU_SLOTS  32u    /* vcpu_info[] in shared_info */
#define MIN_UPCALL_VECTOR  0x10   /* Xen and KVM: lower vectors are -EINVAL */
#define MAX_GFN            ((1ULL << 52) - 1)   /* x86 physical address width limit */
#define NR_2L_PORTS_64     4096u
#define NR_2L_PORTS_32     1024u

_Static_assert(XTS_KVM_XEN_HYPERCALL_MSR == KVM_XEN_HVM_CONFIG_HYPERCALL_MSR, "cap bit");
_Static_assert(XTS_KVM_XEN_INTERCEPT_HCALL == KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, "cap bit");
_Static_assert(XTS_KVM_XEN_SHARED_INFO == KVM_XEN_HVM_CONFIG_SHARED_INFO, "cap bit");
_Static_assert(XTS_KVM_XEN_RUNSTATE == KVM_XEN_HVM_CONFIG_RUNSTATE, "cap bit");
_Static_assert(XTS_KVM_XEN_EVTCHN_2LEVEL == KVM_XEN_HVM_CONFIG_EVTCHN_2LEVEL, "cap bit");
_Static_assert(XTS_KVM_XEN_EVTCHN_SEND == KVM_XEN_HVM_CONFIG_EVTCHN_SEND, "cap bit");
_Static_assert(XTS_KVM_XEN_RUNSTATE_UPDATE_FLAG == KVM_XEN_HVM_CONFIG_RUNSTATE_UPDATE_FLAG, "cap bit");
_Static_assert(XTS_KVM_XEN_PVCLOCK_TSC_UNSTABLE == KVM_XEN_HVM_CONFIG_PVCLOCK_TSC_UNSTABLE, "cap bit");
_Static_assert(XTS_KVM_XEN_SHARED_INFO_HVA == KVM_XEN_HVM_CONFIG_SHARED_INFO_HVA, "cap bit");
_Static_assert(XTS_KVM_XEN_NO_GPA == KVM_XEN_INVALID_GPA, "invalid gpa");
_Static_assert(RUNSTATE_running == 0 && RUNSTATE_offline == 3, "runstate numbering");

int xts_kvm_xen_sys_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	int r = ioctl(fd, req, arg);
	return r < 0 ? -errno : r;
}

static const struct xts_kvm_xen_ops sys_ops = { .ioctl = xts_kvm_xen_sys_ioctl };

static const struct xts_kvm_xen_ops *ops_of(const struct xts_kvm_xen_ops *ops)
{
	return ops && ops->ioctl ? ops : &sys_ops;
}

static void host_sample(const struct xts_kvm_xen *k, struct xts_host_sample *now)
{
	if (k->ops && k->ops->host_sample)
		k->ops->host_sample(k->ctx, now);
	else
		xts_host_sample_now(now);
}

/* ---- probe and plan ---- */

uint32_t xts_kvm_xen_probe(const struct xts_kvm_xen_ops *ops, void *ctx, int kvm_fd)
{
	int r = ops_of(ops)->ioctl(ctx, kvm_fd, KVM_CHECK_EXTENSION,
				   (void *)(uintptr_t)KVM_CAP_XEN_HVM);
	return r > 0 ? (uint32_t)r : 0;
}

static const char *const cap_names[] = {
	"HYPERCALL_MSR", "INTERCEPT_HCALL", "SHARED_INFO", "RUNSTATE", "EVTCHN_2LEVEL",
	"EVTCHN_SEND", "RUNSTATE_UPDATE_FLAG", "PVCLOCK_TSC_UNSTABLE", "SHARED_INFO_HVA",
};

static void name_missing(uint32_t caps, uint32_t need, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
		if (!(need & (1u << i)) || (caps & (1u << i)))
			continue;
		int n = snprintf(buf + at, len - at, "%sKVM_XEN_HVM_CONFIG_%s",
				 at ? ", " : "", cap_names[i]);
		if (n < 0 || (size_t)n >= len - at)
			return;
		at += (size_t)n;
	}
}

static void say(char *why, size_t len, const char *fmt, ...)
{
	if (!why || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static void refuse_caps(uint32_t caps, uint32_t need, char *why, size_t why_len)
{
	char missing[256];

	if (!caps) {
		say(why, why_len, "this KVM has no in-kernel Xen support (KVM_CAP_XEN_HVM = 0; "
		    "it needs Linux >= 5.12 built with CONFIG_KVM_XEN)");
		return;
	}
	name_missing(caps, need, missing, sizeof(missing));
	say(why, why_len, "KVM_CAP_XEN_HVM = %#x lacks %s", caps, missing);
}

int xts_kvm_xen_plan(uint32_t caps, enum xts_kvm_xen_want want, bool tsc_stable,
		     struct xts_kvm_xen_plan *plan, char *why, size_t why_len)
{
	const uint32_t transport_need = XTS_KVM_XEN_HYPERCALL_MSR | XTS_KVM_XEN_INTERCEPT_HCALL;
	bool can_records = (caps & XTS_KVM_XEN_RECORDS_NEED) == XTS_KVM_XEN_RECORDS_NEED;
	bool can_transport = (caps & transport_need) == transport_need;
	struct xts_kvm_xen_plan p = { .caps = caps };

	say(why, why_len, "%s", "");
	switch (want) {
	case XTS_KVM_XEN_WANT_USERSPACE:
		say(why, why_len, "userspace backend requested");
		break;
	case XTS_KVM_XEN_WANT_KERNEL:
		if (!can_records) {
			refuse_caps(caps, XTS_KVM_XEN_RECORDS_NEED, why, why_len);
			return -ENOTSUP;
		}
		p.transport = XTS_KVM_XEN_TRANSPORT_KVM;
		p.records = XTS_KVM_XEN_RECORDS_KVM;
		say(why, why_len, "KVM_CAP_XEN_HVM %#x: KVM transport, KVM records", caps);
		break;
	case XTS_KVM_XEN_WANT_KVM_TRANSPORT:
		if (!can_transport) {
			refuse_caps(caps, transport_need, why, why_len);
			return -ENOTSUP;
		}
		p.transport = XTS_KVM_XEN_TRANSPORT_KVM;
		say(why, why_len, "KVM_CAP_XEN_HVM %#x: KVM transport, xtshim records", caps);
		break;
	case XTS_KVM_XEN_WANT_AUTO:
		/*
		 * KVM's transport whenever it exists (it also catches direct
		 * vmcalls), records kept by xtshim: the exact line, and the
		 * domain needs no hooks to mirror registrations into KVM.
		 */
		if (can_transport) {
			p.transport = XTS_KVM_XEN_TRANSPORT_KVM;
			say(why, why_len, "KVM_CAP_XEN_HVM %#x: KVM transport (INTERCEPT_HCALL), "
			    "xtshim records%s", caps, can_records ? "" : " (KVM could not keep them)");
		} else {
			say(why, why_len, caps ? "KVM_CAP_XEN_HVM %#x: no hypercall intercept with "
			    "the MSR: userspace backend" : "no KVM_CAP_XEN_HVM: userspace backend", caps);
		}
		break;
	default:
		say(why, why_len, "unknown backend choice %d", (int)want);
		return -EINVAL;
	}

	if (p.transport == XTS_KVM_XEN_TRANSPORT_KVM)
		p.config_flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL;
	if (p.records == XTS_KVM_XEN_RECORDS_KVM) {
		p.kvm_runstate = caps & XTS_KVM_XEN_RUNSTATE;
		p.kvm_timers = caps & XTS_KVM_XEN_EVTCHN_SEND;
		p.kvm_xen_version = caps & XTS_KVM_XEN_EVTCHN_SEND;
		/*
		 * As a config flag, EVTCHN_SEND makes KVM answer SCHEDOP_poll
		 * itself, woken by the events it delivers (kvm_xen_schedop_poll());
		 * without it a poll is a yield.  With KVM records every event
		 * goes through KVM, so its poll sees them all.
		 */
		if (caps & XTS_KVM_XEN_EVTCHN_SEND)
			p.config_flags |= KVM_XEN_HVM_CONFIG_EVTCHN_SEND;
		/* KVM's Xen records carry TSC_STABLE whenever its master clock runs. */
		if (!tsc_stable) {
			if (caps & XTS_KVM_XEN_PVCLOCK_TSC_UNSTABLE)
				p.config_flags |= KVM_XEN_HVM_CONFIG_PVCLOCK_TSC_UNSTABLE;
			else
				p.tsc_stable_forced = true;
		}
	}
	*plan = p;
	return 0;
}

enum xts_hcall_transport xts_kvm_xen_stub_transport(void)
{
	unsigned a, b, c, d;
	__cpuid(0, a, b, c, d);
	/* "AuthenticAMD" / "HygonGenuine": EBX "Auth" / "Hygo". */
	if (b == 0x68747541u || b == 0x6f677948u)
		return XTS_TRANSPORT_VMMCALL;
	return XTS_TRANSPORT_VMCALL;
}

/* ---- the step runner: one ioctl per step, the first failure is reported ---- */

struct run {
	struct xts_kvm_xen *k;
	struct xts_kvm_xen_report *rep;
	struct xts_kvm_xen_report local;
};

static void run_init(struct run *x, struct xts_kvm_xen *k, struct xts_kvm_xen_report *rep)
{
	x->k = k;
	x->rep = rep ? rep : &x->local;
	memset(x->rep, 0, sizeof(*x->rep));
	x->rep->failed_step = -1;
}

/* A refusal before any ioctl: the report names the field. */
static int refuse(struct run *x, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->rep->what, sizeof(x->rep->what), fmt, ap);
	va_end(ap);
	x->rep->err = err;
	return err;
}

static const char *const vm_attr_names[] = {
	"LONG_MODE", "SHARED_INFO", "UPCALL_VECTOR", "EVTCHN", "XEN_VERSION",
	"RUNSTATE_UPDATE_FLAG", "SHARED_INFO_HVA",
};
static const char *const vcpu_attr_names[] = {
	"VCPU_INFO", "VCPU_TIME_INFO", "RUNSTATE_ADDR", "RUNSTATE_CURRENT", "RUNSTATE_DATA",
	"RUNSTATE_ADJUST", "VCPU_ID", "TIMER", "UPCALL_VECTOR",
};

static int step(struct run *x, int fd, unsigned long req, void *arg, const char *name, int vcpu)
{
	int r = ops_of(x->k->ops)->ioctl(x->k->ctx, fd, req, arg);
	if (r >= 0) {
		x->rep->steps_done++;
		return 0;
	}
	x->rep->failed_step = (int)x->rep->steps_done;
	x->rep->err = r;
	if (vcpu >= 0)
		snprintf(x->rep->what, sizeof(x->rep->what), "%s (vCPU %d)", name, vcpu);
	else
		snprintf(x->rep->what, sizeof(x->rep->what), "%s", name);
	return r;
}

static int vm_attr(struct run *x, uint16_t type, struct kvm_xen_hvm_attr *a)
{
	char name[64];
	a->type = type;
	snprintf(name, sizeof(name), "KVM_XEN_HVM_SET_ATTR %s", vm_attr_names[type]);
	return step(x, x->k->vm_fd, KVM_XEN_HVM_SET_ATTR, a, name, -1);
}

static int vcpu_attr(struct run *x, unsigned vcpu, uint16_t type, struct kvm_xen_vcpu_attr *a)
{
	char name[64];
	a->type = type;
	snprintf(name, sizeof(name), "KVM_XEN_VCPU_SET_ATTR %s", vcpu_attr_names[type]);
	return step(x, x->k->vcpu_fds[vcpu], KVM_XEN_VCPU_SET_ATTR, a, name, (int)vcpu);
}

/* A GPA attribute, set only when it changes; XTS_KVM_XEN_NO_GPA is KVM's "none". */
static int vcpu_gpa_attr(struct run *x, unsigned vcpu, uint16_t type, uint64_t want, uint64_t *has)
{
	struct kvm_xen_vcpu_attr a;
	int r;

	if (want == *has)
		return 0;
	memset(&a, 0, sizeof(a));
	a.u.gpa = want == XTS_KVM_XEN_NO_GPA ? KVM_XEN_INVALID_GPA : want;
	if ((r = vcpu_attr(x, vcpu, type, &a)))
		return r;
	*has = want;
	return 0;
}

/* ---- validation ---- */

static bool kernel_records(const struct xts_kvm_xen *k)
{
	return k->plan.records == XTS_KVM_XEN_RECORDS_KVM;
}

/* The VM and the plan (all that xts_kvm_xen_setup_vm() needs: vCPUs may not exist yet). */
static int check_vm_plan(struct run *x)
{
	const struct xts_kvm_xen *k = x->k;
	if (k->vm_fd < 0)
		return refuse(x, -EINVAL, "vm_fd %d", k->vm_fd);
	if (k->plan.transport > XTS_KVM_XEN_TRANSPORT_KVM ||
	    k->plan.records > XTS_KVM_XEN_RECORDS_KVM)
		return refuse(x, -EINVAL, "plan: transport %d records %d", (int)k->plan.transport,
			      (int)k->plan.records);
	if (kernel_records(k) && k->plan.transport != XTS_KVM_XEN_TRANSPORT_KVM)
		return refuse(x, -EINVAL, "plan: KVM records need the KVM transport");
	if (kernel_records(k) &&
	    (k->plan.caps & XTS_KVM_XEN_RECORDS_NEED) != XTS_KVM_XEN_RECORDS_NEED)
		return refuse(x, -ENOTSUP, "plan: KVM records on caps %#x", k->plan.caps);
	return 0;
}

static int check_backend(struct run *x)
{
	const struct xts_kvm_xen *k = x->k;
	if (k->nr_vcpus == 0 || k->nr_vcpus > XTS_MAX_VCPUS || !k->vcpu_fds)
		return refuse(x, -EINVAL, "nr_vcpus %u / vcpu_fds", k->nr_vcpus);
	return check_vm_plan(x);
}

static bool area_in_page(uint64_t gpa, uint64_t len)
{
	return gpa <= UINT64_MAX - len && (gpa & (PAGE_SIZE_4K - 1)) + len <= PAGE_SIZE_4K;
}

static int check_vector(struct run *x, uint8_t v, int vcpu)
{
	if (v && v < MIN_UPCALL_VECTOR) {
		if (vcpu < 0)
			return refuse(x, -EINVAL, "vm upcall_vector %#x < 0x10", v);
		return refuse(x, -EINVAL, "upcall_vector %#x < 0x10 (vCPU %d)", v, vcpu);
	}
	return 0;
}

/* A vCPU's state, against the plan, the layout and the model's time at now_ns. */
static int check_vcpu(struct run *x, unsigned i, const struct xts_kvm_xen_vcpu_state *s,
		      bool long_mode, uint64_t now_ns)
{
	const struct xts_kvm_xen_plan *p = &x->k->plan;
	int r;

	if (s->xen_vcpu_id >= XTS_MAX_VCPUS)
		return refuse(x, -EINVAL, "xen_vcpu_id %u (vCPU %u)", s->xen_vcpu_id, i);
	if (s->xen_vcpu_id != i && !p->kvm_timers)
		return refuse(x, -ENOTSUP, "xen_vcpu_id %u != %u needs KVM_XEN_HVM_CONFIG_EVTCHN_SEND "
			      "(VCPU_ID attr)", s->xen_vcpu_id, i);
	if (s->vcpu_info_gpa != XTS_KVM_XEN_NO_GPA && !area_in_page(s->vcpu_info_gpa, VCPU_INFO_SIZE))
		return refuse(x, -EINVAL, "vcpu_info_gpa %#llx crosses a page (vCPU %u)",
			      (unsigned long long)s->vcpu_info_gpa, i);
	if (s->time_info_gpa != XTS_KVM_XEN_NO_GPA && !area_in_page(s->time_info_gpa, TIME_INFO_SIZE))
		return refuse(x, -EINVAL, "time_info_gpa %#llx crosses a page (vCPU %u)",
			      (unsigned long long)s->time_info_gpa, i);
	bool runstate = s->runstate_gpa != XTS_KVM_XEN_NO_GPA || s->runstate_valid;
	if (runstate && !p->kvm_runstate)
		return refuse(x, -ENOTSUP, "runstate (vCPU %u) needs KVM_XEN_HVM_CONFIG_RUNSTATE", i);
	if (s->runstate_gpa != XTS_KVM_XEN_NO_GPA && s->runstate_gpa > UINT64_MAX - 48)
		return refuse(x, -EINVAL, "runstate_gpa %#llx wraps (vCPU %u)",
			      (unsigned long long)s->runstate_gpa, i);
	if (runstate && s->runstate_state > RUNSTATE_offline)
		return refuse(x, -EINVAL, "runstate_state %u (vCPU %u)", s->runstate_state, i);
	if (s->runstate_valid) {
		uint64_t sum = 0;
		for (int j = 0; j < 4; j++) {
			if (s->runstate_time_ns[j] > UINT64_MAX - sum)
				return refuse(x, -EINVAL, "runstate_time_ns overflows (vCPU %u)", i);
			sum += s->runstate_time_ns[j];
		}
		/* KVM refuses data whose times do not add up to the entry time. */
		if (sum != s->runstate_entry_ns)
			return refuse(x, -EINVAL, "runstate_entry_ns %llu != sum of runstate_time_ns "
				      "%llu (vCPU %u)", (unsigned long long)s->runstate_entry_ns,
				      (unsigned long long)sum, i);
		if (s->runstate_entry_ns > now_ns)
			return refuse(x, -EINVAL, "runstate_entry_ns %llu is after system time now "
				      "%llu (vCPU %u)", (unsigned long long)s->runstate_entry_ns,
				      (unsigned long long)now_ns, i);
	}
	if ((r = check_vector(x, s->upcall_vector, (int)i)))
		return r;
	if (s->upcall_vector && !p->kvm_timers)
		return refuse(x, -ENOTSUP, "per-vCPU upcall_vector (vCPU %u) needs "
			      "KVM_XEN_HVM_CONFIG_EVTCHN_SEND", i);
	if (s->timer_deadline_ns && !s->timer_port)
		return refuse(x, -EINVAL, "timer_deadline_ns without timer_port (vCPU %u)", i);
	if (s->timer_port) {
		if (!p->kvm_timers)
			return refuse(x, -ENOTSUP, "timer_port (vCPU %u) needs "
				      "KVM_XEN_HVM_CONFIG_EVTCHN_SEND", i);
		if (s->timer_port >= (long_mode ? NR_2L_PORTS_64 : NR_2L_PORTS_32))
			return refuse(x, -EINVAL, "timer_port %u (vCPU %u)", s->timer_port, i);
	}
	return 0;
}

static int check_vm(struct run *x, const struct xts_kvm_xen_vm_state *vm)
{
	if (vm->shared_info_gfn != XTS_KVM_XEN_NO_GPA && vm->shared_info_gfn > MAX_GFN)
		return refuse(x, -EINVAL, "shared_info_gfn %#llx",
			      (unsigned long long)vm->shared_info_gfn);
	int r = check_vector(x, vm->upcall_vector, -1);
	if (r)
		return r;
	if (vm->runstate_update_flag && !(x->k->plan.caps & XTS_KVM_XEN_RUNSTATE_UPDATE_FLAG))
		return refuse(x, -ENOTSUP, "runstate_update_flag needs "
			      "KVM_XEN_HVM_CONFIG_RUNSTATE_UPDATE_FLAG");
	return 0;
}

static int check_clock(struct run *x, const struct xts_clock *c)
{
	if (!c || c->arch != XTS_ARCH_X86 || c->nr_vcpus != x->k->nr_vcpus)
		return refuse(x, -EINVAL, "clock: not an x86 model for %u vCPUs", x->k->nr_vcpus);
	/* KVM would scale the TSC; the offsets below assume it does not. */
	if (c->tsc_ratio != XTS_TSC_RATIO_ONE)
		return refuse(x, -ENOTSUP, "clock: tsc_ratio %#llx != 1.0 (TSC scaling is not "
			      "supported by this backend)", (unsigned long long)c->tsc_ratio);
	uint64_t host = c->host_tsc_khz, guest = c->guest_tsc_khz;
	uint64_t diff = host > guest ? host - guest : guest - host;
	if (!host || !guest || diff * 1000000ULL > host * XTS_TSC_TOLERANCE_PPM)
		return refuse(x, -ENOTSUP, "clock: guest_tsc_khz %llu is more than %u ppm from "
			      "host_tsc_khz %llu", (unsigned long long)guest,
			      XTS_TSC_TOLERANCE_PPM, (unsigned long long)host);
	return 0;
}

/* ---- setup ---- */

int xts_kvm_xen_setup_vm(struct xts_kvm_xen *k, struct xts_kvm_xen_report *rep)
{
	struct run x;
	int r;

	run_init(&x, k, rep);
	if ((r = check_vm_plan(&x)))
		return r;
	if (k->plan.transport != XTS_KVM_XEN_TRANSPORT_KVM)
		return 0;
	if (kernel_records(k) && k->plan.kvm_xen_version && !k->xen_version)
		return refuse(&x, -EINVAL, "xen_version 0");

	struct kvm_xen_hvm_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = k->plan.config_flags;
	cfg.msr = XTS_XEN_HYPERCALL_MSR;
	if ((r = step(&x, k->vm_fd, KVM_XEN_HVM_CONFIG, &cfg, "KVM_XEN_HVM_CONFIG", -1)))
		return r;
	k->configured = true;

	/* KVM answers XENVER_version itself once it knows the version. */
	if (kernel_records(k) && k->plan.kvm_xen_version) {
		struct kvm_xen_hvm_attr a;
		memset(&a, 0, sizeof(a));
		a.u.xen_version = k->xen_version;
		if ((r = vm_attr(&x, KVM_XEN_ATTR_TYPE_XEN_VERSION, &a)))
			return r;
	}
	return 0;
}

static int set_shared_info_steps(struct run *x, bool long_mode, uint64_t gfn)
{
	struct xts_kvm_xen *k = x->k;
	struct kvm_xen_hvm_attr a;
	int r;

	/* The layout first, so that mapping shared_info writes the wallclock where the guest looks. */
	memset(&a, 0, sizeof(a));
	a.u.long_mode = long_mode;
	if ((r = vm_attr(x, KVM_XEN_ATTR_TYPE_LONG_MODE, &a)))
		return r;
	k->long_mode = long_mode;

	memset(&a, 0, sizeof(a));
	a.u.shared_info.gfn = gfn == XTS_KVM_XEN_NO_GPA ? KVM_XEN_INVALID_GFN : gfn;
	if ((r = vm_attr(x, KVM_XEN_ATTR_TYPE_SHARED_INFO, &a)))
		return r;
	k->shared_info_gfn = gfn;
	return 0;
}

/* vcpu_info of a vCPU without a registered one: its slot in shared_info, if it has one. */
static uint64_t vcpu_info_gpa(const struct xts_kvm_xen *k, const struct xts_kvm_xen_vcpu_state *s)
{
	if (s->vcpu_info_gpa != XTS_KVM_XEN_NO_GPA)
		return s->vcpu_info_gpa;
	if (k->shared_info_gfn == XTS_KVM_XEN_NO_GPA || s->xen_vcpu_id >= LEGACY_VCPU_SLOTS)
		return KVM_XEN_INVALID_GPA;
	return k->shared_info_gfn * PAGE_SIZE_4K + (uint64_t)s->xen_vcpu_id * VCPU_INFO_SIZE;
}

/* VCPU_ID, VCPU_INFO, VCPU_TIME_INFO, UPCALL_VECTOR of one vCPU. */
static int vcpu_area_steps(struct run *x, unsigned i, const struct xts_kvm_xen_vcpu_state *s)
{
	struct xts_kvm_xen *k = x->k;
	struct kvm_xen_vcpu_attr a;
	int r;

	if (k->plan.kvm_timers) {
		memset(&a, 0, sizeof(a));
		a.u.vcpu_id = s->xen_vcpu_id;
		if ((r = vcpu_attr(x, i, KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID, &a)))
			return r;
	}
	/* KVM never assumes the legacy slot: every vCPU gets an explicit address (or none). */
	memset(&a, 0, sizeof(a));
	a.u.gpa = vcpu_info_gpa(k, s);
	if ((r = vcpu_attr(x, i, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO, &a)))
		return r;
	memset(&a, 0, sizeof(a));
	a.u.gpa = s->time_info_gpa == XTS_KVM_XEN_NO_GPA ? KVM_XEN_INVALID_GPA : s->time_info_gpa;
	if ((r = vcpu_attr(x, i, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO, &a)))
		return r;
	if (k->plan.kvm_timers) {
		memset(&a, 0, sizeof(a));
		a.u.vector = s->upcall_vector;
		if ((r = vcpu_attr(x, i, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR, &a)))
			return r;
	}
	return 0;
}

/*
 * Runstate: the data before the address, because setting the address makes
 * KVM write its current runstate into the guest at once.
 */
static int runstate_steps(struct run *x, unsigned i, const struct xts_kvm_xen_vcpu_state *s)
{
	struct kvm_xen_vcpu_attr a;
	int r;

	if (!x->k->plan.kvm_runstate || (s->runstate_gpa == XTS_KVM_XEN_NO_GPA && !s->runstate_valid))
		return 0;
	memset(&a, 0, sizeof(a));
	a.u.runstate.state = s->runstate_state;
	if (s->runstate_valid) {
		a.u.runstate.state_entry_time = s->runstate_entry_ns;
		a.u.runstate.time_running = s->runstate_time_ns[RUNSTATE_running];
		a.u.runstate.time_runnable = s->runstate_time_ns[RUNSTATE_runnable];
		a.u.runstate.time_blocked = s->runstate_time_ns[RUNSTATE_blocked];
		a.u.runstate.time_offline = s->runstate_time_ns[RUNSTATE_offline];
		r = vcpu_attr(x, i, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA, &a);
	} else {
		r = vcpu_attr(x, i, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_CURRENT, &a);
	}
	if (r)
		return r;
	if (s->runstate_gpa == XTS_KVM_XEN_NO_GPA)
		return 0;
	memset(&a, 0, sizeof(a));
	a.u.gpa = s->runstate_gpa;
	return vcpu_attr(x, i, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR, &a);
}

static int timer_step(struct run *x, const struct xts_clock *c, unsigned i,
		      const struct xts_kvm_xen_vcpu_state *s, const struct xts_kvm_clock_sample *cs)
{
	struct kvm_xen_vcpu_attr a;
	int r;

	if (!x->k->plan.kvm_timers)
		return 0;
	memset(&a, 0, sizeof(a));
	a.u.timer.port = s->timer_port;
	a.u.timer.priority = s->timer_port ? KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL : 0;
	if (s->timer_port && s->timer_deadline_ns) {
		uint64_t expires;
		r = xts_kvm_xen_timer_expiry(c, s->timer_deadline_ns, cs, 0, &expires);
		if (r) {
			/* Only knowable once kvmclock was read: earlier steps are applied. */
			x->rep->failed_step = (int)x->rep->steps_done;
			return refuse(x, r, "timer_deadline_ns %llu (vCPU %u) beyond kvmclock's range",
				      (unsigned long long)s->timer_deadline_ns, i);
		}
		a.u.timer.expires_ns = expires;
	}
	return vcpu_attr(x, i, KVM_XEN_VCPU_ATTR_TYPE_TIMER, &a);
}

static int clock_sample(struct run *x, struct xts_kvm_clock_sample *s)
{
	struct kvm_clock_data d;
	struct xts_host_sample before, after;
	int r;

	memset(&d, 0, sizeof(d));
	host_sample(x->k, &before);
	if ((r = step(x, x->k->vm_fd, KVM_GET_CLOCK, &d, "KVM_GET_CLOCK", -1)))
		return r;
	host_sample(x->k, &after);
	s->kvmclock_ns = d.clock;
	s->exact = d.flags & KVM_CLOCK_HOST_TSC;
	/* Older KVM: the host TSC halfway through the call, off by at most half its duration. */
	s->host_tsc = s->exact ? d.host_tsc
			       : before.host_tsc + (after.host_tsc - before.host_tsc) / 2;
	return 0;
}

int xts_kvm_xen_clock_sample(struct xts_kvm_xen *k, struct xts_kvm_clock_sample *s)
{
	struct run x;
	run_init(&x, k, NULL);
	return clock_sample(&x, s);
}

int xts_kvm_xen_load(struct xts_kvm_xen *k, const struct xts_clock *c,
		     const struct xts_kvm_xen_vm_state *vm,
		     const struct xts_kvm_xen_vcpu_state *vcpus,
		     struct xts_kvm_xen_report *rep)
{
	struct run x;
	struct xts_host_sample now;
	uint64_t now_ns = 0;
	int r;

	run_init(&x, k, rep);
	if ((r = check_backend(&x)) || (r = check_clock(&x, c)))
		return r;
	bool records = kernel_records(k);
	bool any_timer = false;
	if (records) {
		if (!vm || !vcpus)
			return refuse(&x, -EINVAL, "KVM records need the VM and vCPU state");
		if (!k->configured)
			return refuse(&x, -EINVAL, "KVM_XEN_HVM_CONFIG not done (xts_kvm_xen_setup_vm)");
		if ((r = check_vm(&x, vm)))
			return r;
		host_sample(k, &now);
		now_ns = xts_clock_system_ns(c, now.host_tsc);
		for (unsigned i = 0; i < k->nr_vcpus; i++) {
			if ((r = check_vcpu(&x, i, &vcpus[i], vm->long_mode, now_ns)))
				return r;
			for (unsigned j = 0; j < i; j++)
				if (vcpus[j].xen_vcpu_id == vcpus[i].xen_vcpu_id)
					return refuse(&x, -EINVAL, "xen_vcpu_id %u of vCPU %u is "
						      "also vCPU %u's", vcpus[i].xen_vcpu_id, i, j);
			any_timer |= vcpus[i].timer_deadline_ns != 0;
		}
	}

	/* 1. TSC rate, before any vCPU runs. */
	for (unsigned i = 0; i < k->nr_vcpus; i++)
		if ((r = step(&x, k->vcpu_fds[i], KVM_SET_TSC_KHZ,
			      (void *)(uintptr_t)c->guest_tsc_khz, "KVM_SET_TSC_KHZ", (int)i)))
			return r;
	/* 2. TSC offsets: the model's guest TSC exactly (ratio 1.0 checked above). */
	for (unsigned i = 0; i < k->nr_vcpus; i++) {
		uint64_t off;
		if ((r = xts_kvm_tsc_offset(c, i, &off)))
			return refuse(&x, r, "TSC offset of vCPU %u", i);
		struct kvm_device_attr da = {
			.group = KVM_VCPU_TSC_CTRL,
			.attr = KVM_VCPU_TSC_OFFSET,
			.addr = (uint64_t)(uintptr_t)&off,
		};
		if ((r = step(&x, k->vcpu_fds[i], KVM_SET_DEVICE_ATTR, &da,
			      "KVM_SET_DEVICE_ATTR KVM_VCPU_TSC_OFFSET", (int)i)))
			return r;
		/*
		 * Some KVMs accept the attribute and run the guest on the
		 * host TSC anyway (PVM): the offset must read back.
		 */
		uint64_t back = ~off;
		da.addr = (uint64_t)(uintptr_t)&back;
		if ((r = step(&x, k->vcpu_fds[i], KVM_GET_DEVICE_ATTR, &da,
			      "KVM_GET_DEVICE_ATTR KVM_VCPU_TSC_OFFSET", (int)i)))
			return r;
		if (back != off) {
			x.rep->failed_step = (int)x.rep->steps_done - 1;
			return refuse(&x, -EOPNOTSUPP, "KVM_VCPU_TSC_OFFSET ignored by this KVM "
				      "(vCPU %u reads back %#llx)", i, (unsigned long long)back);
		}
	}
	if (!records)
		return 0;

	/*
	 * 3. kvmclock := the model's system time at `now`; KVM adds the
	 * realtime that passes until it applies the value.
	 */
	struct kvm_clock_data cd;
	memset(&cd, 0, sizeof(cd));
	cd.clock = now_ns;
	cd.flags = KVM_CLOCK_REALTIME;
	cd.realtime = now.realtime_ns;
	r = ops_of(k->ops)->ioctl(k->ctx, k->vm_fd, KVM_SET_CLOCK, &cd);
	if (r == -EINVAL) {
		/*
		 * Kernels before KVM_CLOCK_REALTIME (Linux 5.16) refuse any
		 * flag: sample again and set the value alone, late by the
		 * time the ioctl takes.
		 */
		host_sample(k, &now);
		memset(&cd, 0, sizeof(cd));
		cd.clock = xts_clock_system_ns(c, now.host_tsc);
		r = step(&x, k->vm_fd, KVM_SET_CLOCK, &cd, "KVM_SET_CLOCK", -1);
	} else if (r >= 0) {
		x.rep->steps_done++;
		r = 0;
	} else {
		x.rep->failed_step = (int)x.rep->steps_done;
		r = refuse(&x, r, "KVM_SET_CLOCK");
	}
	if (r)
		return r;
	k->clock_set = true;

	/* 4. Layout and shared_info (after the clock: mapping it writes the wallclock). */
	if ((r = set_shared_info_steps(&x, vm->long_mode, vm->shared_info_gfn)))
		return r;
	struct kvm_xen_hvm_attr a;
	memset(&a, 0, sizeof(a));
	a.u.vector = vm->upcall_vector;
	if ((r = vm_attr(&x, KVM_XEN_ATTR_TYPE_UPCALL_VECTOR, &a)))
		return r;
	if (k->plan.caps & XTS_KVM_XEN_RUNSTATE_UPDATE_FLAG) {
		memset(&a, 0, sizeof(a));
		XTS_KVM_XEN_ATTR_U8(&a) = vm->runstate_update_flag;
		if ((r = vm_attr(&x, KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG, &a)))
			return r;
	}
	/* 5. vcpu_info and time info. */
	for (unsigned i = 0; i < k->nr_vcpus; i++)
		if ((r = vcpu_area_steps(&x, i, &vcpus[i])))
			return r;
	/* 6. Runstate. */
	for (unsigned i = 0; i < k->nr_vcpus; i++)
		if ((r = runstate_steps(&x, i, &vcpus[i])))
			return r;
	/* 7. Timers, against kvmclock as KVM now runs it. */
	if (!k->plan.kvm_timers)
		return 0;
	struct xts_kvm_clock_sample cs = { 0 };
	if (any_timer && (r = clock_sample(&x, &cs)))
		return r;
	for (unsigned i = 0; i < k->nr_vcpus; i++)
		if ((r = timer_step(&x, c, i, &vcpus[i], &cs)))
			return r;
	return 0;
}

int xts_kvm_xen_setup_vcpu(struct xts_kvm_xen *k, const struct xts_clock *c, unsigned vcpu,
			   const struct xts_kvm_xen_vcpu_state *st, struct xts_kvm_xen_report *rep)
{
	struct run x;
	int r;

	run_init(&x, k, rep);
	if ((r = check_backend(&x)) || (r = check_clock(&x, c)))
		return r;
	if (!kernel_records(k))
		return refuse(&x, -EINVAL, "vCPU attributes with xtshim records");
	if (vcpu >= k->nr_vcpus || !st)
		return refuse(&x, -EINVAL, "vcpu %u of %u", vcpu, k->nr_vcpus);
	if (!k->clock_set)
		return refuse(&x, -EINVAL, "kvmclock not set (xts_kvm_xen_load first)");
	struct xts_host_sample now;
	host_sample(k, &now);
	if ((r = check_vcpu(&x, vcpu, st, k->long_mode, xts_clock_system_ns(c, now.host_tsc))))
		return r;
	if ((r = vcpu_area_steps(&x, vcpu, st)) || (r = runstate_steps(&x, vcpu, st)))
		return r;
	if (!k->plan.kvm_timers)
		return 0;
	struct xts_kvm_clock_sample cs = { 0 };
	if (st->timer_deadline_ns && (r = clock_sample(&x, &cs)))
		return r;
	return timer_step(&x, c, vcpu, st, &cs);
}

int xts_kvm_xen_set_shared_info(struct xts_kvm_xen *k, bool long_mode, uint64_t gfn,
				struct xts_kvm_xen_report *rep)
{
	struct run x;
	int r;

	run_init(&x, k, rep);
	if ((r = check_vm_plan(&x)))
		return r;
	if (!kernel_records(k))
		return refuse(&x, -EINVAL, "shared_info attribute with xtshim records");
	if (gfn != XTS_KVM_XEN_NO_GPA && gfn > MAX_GFN)
		return refuse(&x, -EINVAL, "shared_info_gfn %#llx", (unsigned long long)gfn);
	return set_shared_info_steps(&x, long_mode, gfn);
}

int xts_kvm_xen_refresh_wallclock(struct xts_kvm_xen *k, struct xts_kvm_xen_report *rep)
{
	struct run x;
	int r;

	run_init(&x, k, rep);
	if ((r = check_vm_plan(&x)))
		return r;
	if (!kernel_records(k) || k->shared_info_gfn == XTS_KVM_XEN_NO_GPA)
		return 0;
	/* Setting LONG_MODE (even unchanged) makes KVM rewrite the wallclock from kvmclock. */
	struct kvm_xen_hvm_attr a;
	memset(&a, 0, sizeof(a));
	a.u.long_mode = k->long_mode;
	return vm_attr(&x, KVM_XEN_ATTR_TYPE_LONG_MODE, &a);
}

/* ---- timers ---- */

int xts_kvm_xen_timer_expiry(const struct xts_clock *c, uint64_t deadline_ns,
			     const struct xts_kvm_clock_sample *s, uint32_t slack_ppm,
			     uint64_t *expires_ns)
{
	if (!c || !s || !expires_ns)
		return -EINVAL;
	uint64_t sys_ns = xts_clock_system_ns(c, s->host_tsc);
	uint64_t at = s->kvmclock_ns;
	if (deadline_ns > sys_ns) {
		uint64_t remaining = deadline_ns - sys_ns;
		unsigned __int128 slack = ((unsigned __int128)remaining * slack_ppm + 999999) / 1000000;
		unsigned __int128 e = (unsigned __int128)at + remaining + slack;
		if (e > UINT64_MAX)
			return -ERANGE;
		at = (uint64_t)e;
	}
	*expires_ns = at ? at : 1;
	return 0;
}

/* ---- KVM_EXIT_XEN ---- */

int xts_kvm_xen_decode_exit(const struct kvm_run *run, struct xts_hcall *h)
{
	if (!run || run->exit_reason != KVM_EXIT_XEN || run->xen.type != KVM_EXIT_XEN_HCALL)
		return -EINVAL;
	const typeof(run->xen.u.hcall) *hc = &run->xen.u.hcall;
	memset(h, 0, sizeof(*h));
	h->long_mode = hc->longmode != 0;
	h->cpl = hc->cpl > 3 ? 3 : (uint8_t)hc->cpl;
	if (h->long_mode) {
		/* All of RAX is the number: anything above 32 bits is no hypercall. */
		h->nr = hc->input > UINT32_MAX ? UINT32_MAX : (uint32_t)hc->input;
		for (int i = 0; i < 6; i++)
			h->args[i] = hc->params[i];
	} else {
		/* KVM already truncates; do it again rather than trust the width. */
		h->nr = (uint32_t)hc->input;
		for (int i = 0; i < 6; i++)
			h->args[i] = (uint32_t)hc->params[i];
	}
	return 0;
}

int xts_kvm_xen_handle_exit(struct xts_domain *d, unsigned vcpu, struct kvm_run *run,
			    enum xts_hcall_action *action)
{
	struct xts_hcall h;
	int r = xts_kvm_xen_decode_exit(run, &h);
	if (r)
		return r;
	int64_t ret = -XEN_ENOSYS;
	enum xts_hcall_action act = xts_hypercall(d, vcpu, &h, &ret);
	/* As in xts_x86_hcall_result(): a 32-bit caller sees EAX, zero-extended. */
	run->xen.u.hcall.result = h.long_mode ? (uint64_t)ret : (uint64_t)(uint32_t)ret;
	if (action)
		*action = act;
	return 0;
}

/* ---- mirroring the guest's registrations (records = KVM) ---- */

int xts_kvm_xen_update_vm(struct xts_kvm_xen *k, struct xts_kvm_xen_vm_state *has,
			  const struct xts_kvm_xen_vm_state *want, struct xts_kvm_xen_report *rep)
{
	struct run x;
	struct kvm_xen_hvm_attr a;
	int r;

	run_init(&x, k, rep);
	if ((r = check_vm_plan(&x)))
		return r;
	if (!kernel_records(k) || !has || !want)
		return refuse(&x, -EINVAL, "VM attributes need KVM records and both states");
	if ((r = check_vm(&x, want)))
		return r;
	/* Both, when either changes: mapping shared_info must see the layout. */
	if (has->long_mode != want->long_mode || has->shared_info_gfn != want->shared_info_gfn) {
		unsigned before = x.rep->steps_done;
		r = set_shared_info_steps(&x, want->long_mode, want->shared_info_gfn);
		/* KVM keeps a layout it took even when the page that follows is refused. */
		if (x.rep->steps_done > before)
			has->long_mode = want->long_mode;
		if (r)
			return r;
		has->shared_info_gfn = want->shared_info_gfn;
	}
	if (has->upcall_vector != want->upcall_vector) {
		memset(&a, 0, sizeof(a));
		a.u.vector = want->upcall_vector;
		if ((r = vm_attr(&x, KVM_XEN_ATTR_TYPE_UPCALL_VECTOR, &a)))
			return r;
		has->upcall_vector = want->upcall_vector;
	}
	if (has->runstate_update_flag != want->runstate_update_flag) {
		memset(&a, 0, sizeof(a));
		XTS_KVM_XEN_ATTR_U8(&a) = want->runstate_update_flag;
		if ((r = vm_attr(&x, KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG, &a)))
			return r;
		has->runstate_update_flag = want->runstate_update_flag;
	}
	return 0;
}

int xts_kvm_xen_update_vcpu(struct xts_kvm_xen *k, unsigned vcpu, struct xts_kvm_xen_vcpu_state *has,
			    const struct xts_kvm_xen_vcpu_state *want,
			    struct xts_kvm_xen_report *rep)
{
	struct run x;
	struct kvm_xen_vcpu_attr a;
	int r;

	run_init(&x, k, rep);
	if ((r = check_backend(&x)))
		return r;
	if (!kernel_records(k) || !has || !want || vcpu >= k->nr_vcpus)
		return refuse(&x, -EINVAL, "vCPU %u attributes need KVM records and both states", vcpu);
	if (want->xen_vcpu_id != has->xen_vcpu_id || want->runstate_valid || want->timer_deadline_ns)
		return refuse(&x, -EINVAL, "vCPU %u: id, runstate data and timer deadlines are load's",
			      vcpu);
	/* The times are not looked at (no runstate data): any "now" does. */
	if ((r = check_vcpu(&x, vcpu, want, k->long_mode, 0)))
		return r;

	/* vcpu_info: the registered one, else the slot in shared_info as mapped now. */
	uint64_t vi = vcpu_info_gpa(k, want);
	if ((r = vcpu_gpa_attr(&x, vcpu, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO, vi, &has->vcpu_info_gpa)) ||
	    (r = vcpu_gpa_attr(&x, vcpu, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO, want->time_info_gpa,
			       &has->time_info_gpa)))
		return r;
	if (k->plan.kvm_timers && want->upcall_vector != has->upcall_vector) {
		memset(&a, 0, sizeof(a));
		a.u.vector = want->upcall_vector;
		if ((r = vcpu_attr(&x, vcpu, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR, &a)))
			return r;
		has->upcall_vector = want->upcall_vector;
	}
	/* KVM keeps accounting without an area; setting one writes its current runstate there. */
	if (k->plan.kvm_runstate &&
	    (r = vcpu_gpa_attr(&x, vcpu, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR, want->runstate_gpa,
			       &has->runstate_gpa)))
		return r;
	/*
	 * The VIRQ_TIMER port: setting it stops KVM's timer (kvm_xen_vcpu_set_attr()),
	 * so only when it changes.  From then on KVM answers set_timer_op and
	 * VCPUOP_{set,stop}_singleshot_timer itself.
	 */
	if (k->plan.kvm_timers && want->timer_port != has->timer_port) {
		memset(&a, 0, sizeof(a));
		a.u.timer.port = want->timer_port;
		a.u.timer.priority = want->timer_port ? KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL : 0;
		if ((r = vcpu_attr(&x, vcpu, KVM_XEN_VCPU_ATTR_TYPE_TIMER, &a)))
			return r;
		has->timer_port = want->timer_port;
	}
	return 0;
}

static int check_port(struct run *x, uint32_t port, unsigned vcpu)
{
	const struct xts_kvm_xen *k = x->k;
	if (!kernel_records(k) || !k->plan.kvm_timers)
		return refuse(x, -ENOTSUP, "event channels need KVM records with "
			      "KVM_XEN_HVM_CONFIG_EVTCHN_SEND");
	if (!port || port >= (k->long_mode ? NR_2L_PORTS_64 : NR_2L_PORTS_32))
		return refuse(x, -EINVAL, "port %u", port);
	if (vcpu >= k->nr_vcpus)
		return refuse(x, -EINVAL, "vcpu %u of %u", vcpu, k->nr_vcpus);
	return 0;
}

int xts_kvm_xen_evtchn_send(struct xts_kvm_xen *k, uint32_t port, unsigned vcpu)
{
	struct run x;
	int r;

	run_init(&x, k, NULL);
	if ((r = check_vm_plan(&x)) || (r = check_port(&x, port, vcpu)))
		return r;
	struct kvm_irq_routing_xen_evtchn e = {
		.port = port, .vcpu = vcpu, .priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL,
	};
	return step(&x, k->vm_fd, KVM_XEN_HVM_EVTCHN_SEND, &e, "KVM_XEN_HVM_EVTCHN_SEND", -1);
}

int xts_kvm_xen_ipi_port(struct xts_kvm_xen *k, uint32_t port, unsigned vcpu, bool assign)
{
	struct run x;
	int r;

	run_init(&x, k, NULL);
	if ((r = check_vm_plan(&x)) || (r = check_port(&x, port, vcpu)))
		return r;
	/* An IPI loops back to the same port on its vCPU (kvm_xen_eventfd_assign()). */
	struct kvm_xen_hvm_attr a;
	memset(&a, 0, sizeof(a));
	a.u.evtchn.send_port = port;
	a.u.evtchn.type = EVTCHNSTAT_ipi;
	a.u.evtchn.flags = assign ? 0 : KVM_XEN_EVTCHN_DEASSIGN;
	a.u.evtchn.deliver.port.port = port;
	a.u.evtchn.deliver.port.vcpu = vcpu;
	a.u.evtchn.deliver.port.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL;
	return vm_attr(&x, KVM_XEN_ATTR_TYPE_EVTCHN, &a);
}

int xts_kvm_xen_read_vcpu(struct xts_kvm_xen *k, unsigned vcpu, struct xts_kvm_xen_vcpu_readback *out)
{
	struct run x;
	struct kvm_xen_vcpu_attr a;
	int r;

	run_init(&x, k, NULL);
	if ((r = check_backend(&x)))
		return r;
	if (!kernel_records(k) || vcpu >= k->nr_vcpus || !out)
		return refuse(&x, -EINVAL, "vCPU %u read-back needs KVM records", vcpu);
	memset(out, 0, sizeof(*out));
	if (k->plan.kvm_timers) {
		memset(&a, 0, sizeof(a));
		a.type = KVM_XEN_VCPU_ATTR_TYPE_TIMER;
		if ((r = step(&x, k->vcpu_fds[vcpu], KVM_XEN_VCPU_GET_ATTR, &a,
			      "KVM_XEN_VCPU_GET_ATTR TIMER", (int)vcpu)))
			return r;
		out->timer_port = a.u.timer.port;
		out->timer_expires_ns = a.u.timer.expires_ns;
	}
	if (k->plan.kvm_runstate) {
		memset(&a, 0, sizeof(a));
		a.type = KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA;
		if ((r = step(&x, k->vcpu_fds[vcpu], KVM_XEN_VCPU_GET_ATTR, &a,
			      "KVM_XEN_VCPU_GET_ATTR RUNSTATE_DATA", (int)vcpu)))
			return r;
		out->runstate_valid = true;
		out->runstate_state = (uint32_t)a.u.runstate.state;
		out->runstate_entry_ns = a.u.runstate.state_entry_time;
		out->runstate_time_ns[RUNSTATE_running] = a.u.runstate.time_running;
		out->runstate_time_ns[RUNSTATE_runnable] = a.u.runstate.time_runnable;
		out->runstate_time_ns[RUNSTATE_blocked] = a.u.runstate.time_blocked;
		out->runstate_time_ns[RUNSTATE_offline] = a.u.runstate.time_offline;
	}
	return 0;
}

int xts_kvm_xen_set_runstate(struct xts_kvm_xen *k, unsigned vcpu, uint32_t state)
{
	struct run x;
	int r;

	run_init(&x, k, NULL);
	if ((r = check_backend(&x)))
		return r;
	if (!kernel_records(k) || !k->plan.kvm_runstate || vcpu >= k->nr_vcpus ||
	    state > RUNSTATE_offline)
		return refuse(&x, -EINVAL, "runstate %u of vCPU %u", state, vcpu);
	struct kvm_xen_vcpu_attr a;
	memset(&a, 0, sizeof(a));
	a.u.runstate.state = state;
	return vcpu_attr(&x, vcpu, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_CURRENT, &a);
}
