/*
 * Domain lifetime, CPUID leaves, the hypercall MSR, and the per-domain
 * records xtshim keeps in guest memory: shared_info (or its shadow before
 * the guest maps it), vcpu_info time records, wallclock and runstate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hypercalls/hcall.h"

uint64_t xts_dom_host_tsc(struct xts_domain *d)
{
	struct xts_host_sample now;

	d->cfg.ops->host_sample(d->cfg.opaque, &now);
	return now.host_tsc;
}

/*
 * Xen system time now (ns): the line the guest reads in its records.  With
 * external records that is the keeper's (kvmclock), which drifts from the
 * model by the difference between KVM's TSC rate and the model's after
 * load; the skew is kept for xts_dom_host_tsc_at_ns().
 */
uint64_t xts_dom_now_ns(struct xts_domain *d)
{
	const struct xts_platform_ops *ops = d->cfg.ops;
	uint64_t ns, host_tsc;

	if (d->cfg.external_records && ops->system_time &&
	    ops->system_time(d->cfg.opaque, &ns, &host_tsc) == 0) {
		uint64_t model = xts_clock_system_ns(d->cfg.clock, host_tsc);
		d->keeper_skew_ns = (int64_t)(model - ns);
		return ns;
	}
	return xts_clock_system_ns(d->cfg.clock, xts_dom_host_tsc(d));
}

/* The host TSC at which system time (the line of xts_dom_now_ns()) reaches ns. */
int xts_dom_host_tsc_at_ns(struct xts_domain *d, uint64_t ns, uint64_t *host_tsc)
{
	int64_t skew = d->keeper_skew_ns;

	if (skew > 0 && ns > UINT64_MAX - (uint64_t)skew)
		return -ERANGE;
	if (skew < 0 && ns < (uint64_t)-skew)
		ns = 0;                 /* before the model's origin: already due */
	else
		ns += (uint64_t)skew;
	return xts_clock_host_tsc_at_ns(d->cfg.clock, ns, host_tsc);
}

bool xts_dom_domid_ok(const struct xts_domain *d, uint16_t domid)
{
	return domid == DOMID_SELF || domid == d->cfg.domid;
}

/* The live shared_info: the guest page once mapped, else the shadow. */
uint8_t *xts_dom_shinfo(struct xts_domain *d)
{
	uint8_t *p;

	if (d->shinfo_gpa == XTS_NO_GPA)
		return d->shadow_shinfo;
	p = xts_gmem_ptr(d->cfg.mem, d->shinfo_gpa, XTS_PAGE_SIZE, XTS_GMEM_NO_PAGE_CROSS);
	/* Checked when mapped; RAM regions never go away under a domain. */
	return p ? p : d->shadow_shinfo;
}

/*
 * Where vCPU `vcpu`'s vcpu_info lives now: aligned to the latched layout's
 * word when registered (4 bytes for a 32-bit guest, as Xen), else 8.
 */
uint8_t *xts_dom_vcpu_info(struct xts_domain *d, unsigned vcpu)
{
	struct xts_vcpu *v = &d->v[vcpu];

	if (v->vcpu_info_gpa != XTS_NO_GPA) {
		uint8_t *p = xts_gmem_ptr(d->cfg.mem, v->vcpu_info_gpa, d->lay->vcpu_info_size,
					  XTS_GMEM_NO_PAGE_CROSS);
		if (p)
			return p;
	}
	if (vcpu < d->lay->legacy_vcpus)
		return xts_dom_shinfo(d) + (size_t)vcpu * d->lay->vcpu_info_size;
	return v->dummy_vcpu_info;
}

/* A secondary record's place, if it has a valid one (checked at registration). */
static volatile struct vcpu_time_info *time_area_ptr(struct xts_domain *d, const struct xts_garea *a)
{
	if (!a->set)
		return NULL;
	return xts_gmem_ptr(d->cfg.mem, a->gpa[0], XTS_VCPU_TIME_INFO_SIZE, XTS_GMEM_NO_PAGE_CROSS);
}

/*
 * Xen translates the VCPUOP 13 address through the current page tables at
 * every write (__copy_to_guest() in update_secondary_system_time()), which
 * happens in the vCPU's own context.  ops->translate_gva is only good on
 * the vCPU's own thread (KVM_TRANSLATE is a vCPU ioctl: from elsewhere it
 * waits for the vCPU to leave KVM_RUN, with the domain lock held here, and
 * would see the page tables of its last exit), so the address is
 * translated again when the write happens in a hypercall of that vCPU;
 * elsewhere (another vCPU's hypercall, xts_domain_update_time()) the last
 * translation is used.  When the address no longer translates, nothing is
 * written (Xen's copy fails) until it does again.
 */
static void time_virt_retranslate(struct xts_domain *d, struct xts_call *c, unsigned vcpu)
{
	struct xts_vcpu *v = &d->v[vcpu];
	struct xts_garea a = { .set = false };
	uint64_t was = v->time_virt.set ? v->time_virt.gpa[0] : XTS_NO_GPA;

	if (!v->time_gva_set || !c || c->vcpu != vcpu)
		return;
	if (xts_garea_translate(c, v->time_gva, XTS_VCPU_TIME_INFO_SIZE, &a) ||
	    !xts_gmem_ptr(d->cfg.mem, a.gpa[0], XTS_VCPU_TIME_INFO_SIZE, XTS_GMEM_NO_PAGE_CROSS))
		a.set = false;
	v->time_virt = a;
	if ((a.set ? a.gpa[0] : XTS_NO_GPA) != was)
		d->generation++;        /* a record keeper follows the new place */
}

/*
 * The vcpu_info record, then the secondary one as Xen 4.18's
 * __update_vcpu_system_time() and update_secondary_system_time()
 * (xen/arch/x86/time.c) do it: the physical area if registered, else the
 * virtual one, written with the primary's version (odd during the update,
 * the primary's final value after: write_time_guest_area()).
 */
void xts_dom_publish_vcpu_time(struct xts_domain *d, struct xts_call *c, unsigned vcpu)
{
	struct xts_vcpu *v = &d->v[vcpu];
	volatile struct vcpu_time_info *sec;
	struct vcpu_time_info rec;
	uint32_t odd;

	if (!v->time_phys.set)
		time_virt_retranslate(d, c, vcpu);
	if (d->cfg.external_records)     /* the keeper writes them: no second writer */
		return;
	if (xts_clock_vcpu_record(d->cfg.clock, vcpu, xts_dom_host_tsc(d), &rec))
		return;
	odd = xts_publish_time((volatile struct vcpu_time_info *)(xts_dom_vcpu_info(d, vcpu) +
								  d->lay->vi_time), &rec);
	sec = time_area_ptr(d, v->time_phys.set ? &v->time_phys : &v->time_virt);
	if (sec)
		xts_publish_time_version(sec, &rec, odd);
}

/*
 * A physical area as it is registered: Xen 4.18 fills it alone, with
 * version -1 during the write and 0 after (force_update_secondary_system_time()
 * in xen/arch/x86/time.c); the primary record is not touched.
 */
void xts_dom_publish_time_phys(struct xts_domain *d, unsigned vcpu)
{
	volatile struct vcpu_time_info *sec = time_area_ptr(d, &d->v[vcpu].time_phys);
	struct vcpu_time_info rec;

	if (d->cfg.external_records || !sec ||
	    xts_clock_vcpu_record(d->cfg.clock, vcpu, xts_dom_host_tsc(d), &rec))
		return;
	xts_publish_time_version(sec, &rec, UINT32_MAX);
}

void xts_dom_publish_wallclock(struct xts_domain *d)
{
	if (d->shinfo_gpa == XTS_NO_GPA || d->cfg.external_records)
		return;
	xts_publish_wallclock(d->cfg.mem, d->shinfo_gpa, d->layout_id,
			      d->cfg.clock->wc_sec, d->cfg.clock->wc_nsec);
}

/*
 * Xen picks the shared_info layout from the guest's mode when it writes
 * the hypercall MSR or sets HVM_PARAM_CALLBACK_IRQ, and then rewrites the
 * wallclock in that layout.  Runstate areas follow the same layout.
 */
void xts_dom_latch_layout(struct xts_domain *d, bool long_mode)
{
	enum xts_layout_id id = long_mode ? XTS_LAYOUT_X86_64 : XTS_LAYOUT_X86_32;
	unsigned i;

	if (d->cfg.clock->arch == XTS_ARCH_ARM64)
		return;
	if (id != d->layout_id) {
		d->layout_id = id;
		d->lay = xts_layout_get(id);
		d->generation++;
		for (i = 0; i < d->cfg.nr_vcpus; i++)
			xts_runstate_publish(d, i);
	}
	xts_dom_publish_wallclock(d);
}

/* ---- runstate ---- */

static uint32_t runstate_wanted(const struct xts_vcpu *v)
{
	if (!v->online)
		return RUNSTATE_offline;
	if (v->running)
		return RUNSTATE_running;
	if (v->blocked)
		return RUNSTATE_blocked;
	return RUNSTATE_runnable;
}

void xts_runstate_encode(const struct xts_layout *lay, uint32_t state, uint64_t entry,
			 const uint64_t time[4], uint8_t *out)
{
	memset(out, 0, lay->runstate_size);
	memcpy(out, &state, 4);
	memcpy(out + lay->runstate_entry, &entry, 8);
	memcpy(out + lay->runstate_time, time, 4 * 8);
}

/* The runstate as Xen's vcpu_runstate_get() reports it: the current state's time runs on. */
void xts_runstate_read(struct xts_domain *d, unsigned vcpu, uint64_t now_ns,
		       uint32_t *state, uint64_t *entry, uint64_t time[4])
{
	const struct xts_vcpu *v = &d->v[vcpu];

	*state = v->rs_state;
	*entry = v->rs_entry_ns;
	memcpy(time, v->rs_time, sizeof(v->rs_time));
	if (now_ns > v->rs_entry_ns)
		time[v->rs_state] += now_ns - v->rs_entry_ns;
}

/*
 * state_entry_time of a physical runstate area, whole: an 8-byte store, or
 * where the area is only 4-byte aligned (32-bit layout) the half holding
 * XEN_RUNSTATE_UPDATE first, so the flag is never behind what it guards.
 */
static void store_entry(struct xts_domain *d, const struct xts_garea *a, uint64_t entry)
{
	uint8_t *p = xts_gmem_ptr(d->cfg.mem, a->gpa[0] + d->lay->runstate_entry, 8,
				  XTS_GMEM_NO_PAGE_CROSS);

	if (!p)         /* checked at registration; RAM never goes away */
		return;
	if (!((uintptr_t)p & 7)) {
		__atomic_store_n((uint64_t *)p, entry, __ATOMIC_RELAXED);
		return;
	}
	__atomic_store_n((uint32_t *)(p + 4), (uint32_t)(entry >> 32), __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)p, (uint32_t)entry, __ATOMIC_RELAXED);
}

/*
 * Write the runstate to the registered area.  While the area is
 * inconsistent the guest sees XEN_RUNSTATE_UPDATE in state_entry_time:
 *  - a virtual area (VCPUOP 5) only with VMASST_TYPE_runstate_update_flag,
 *    its top byte set first and cleared last (Xen's update_runstate_area(),
 *    xen/common/domain.c, the runstate_guest() path);
 *  - a physical one (VCPUOP 14) always, the whole field written before and
 *    after: Xen 4.18's update_runstate_area() takes that model for every
 *    mapped area, with no VM_ASSIST(runstate_update_flag) check.
 */
void xts_runstate_publish(struct xts_domain *d, unsigned vcpu)
{
	const struct xts_vcpu *v = &d->v[vcpu];
	const struct xts_layout *lay = d->lay;
	uint8_t buf[64];
	uint64_t entry = v->rs_entry_ns;
	bool flag = v->runstate_phys || d->runstate_update_flag;
	uint8_t top;

	if (!v->runstate_area.set || d->cfg.external_records)
		return;
	if (flag) {
		entry |= XEN_RUNSTATE_UPDATE;
		if (v->runstate_phys) {
			store_entry(d, &v->runstate_area, entry);
		} else {
			top = (uint8_t)(entry >> 56);
			xts_garea_write(d, &v->runstate_area, lay->runstate_entry + 7, &top, 1);
		}
		__atomic_thread_fence(__ATOMIC_RELEASE);
	}
	xts_runstate_encode(lay, v->rs_state, entry, v->rs_time, buf);
	xts_garea_write(d, &v->runstate_area, 0, buf, lay->runstate_size);
	if (flag) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		if (v->runstate_phys) {
			store_entry(d, &v->runstate_area, v->rs_entry_ns);
		} else {
			top = (uint8_t)(v->rs_entry_ns >> 56);
			xts_garea_write(d, &v->runstate_area, lay->runstate_entry + 7, &top, 1);
		}
	}
}

/* Move vCPU `vcpu` to the state its flags say, accounting the time spent. */
void xts_runstate_set(struct xts_domain *d, unsigned vcpu)
{
	struct xts_vcpu *v = &d->v[vcpu];
	uint32_t want = runstate_wanted(v);
	uint64_t now;

	if (want == v->rs_state)
		return;
	now = xts_dom_now_ns(d);
	if (now > v->rs_entry_ns)
		v->rs_time[v->rs_state] += now - v->rs_entry_ns;
	else
		now = v->rs_entry_ns;   /* never let state_entry_time go back */
	v->rs_entry_ns = now;
	v->rs_state = want;
	xts_runstate_publish(d, vcpu);
}

/* ---- lifetime ---- */

static int check_ring_pfn(const struct xts_domain_config *cfg, uint64_t pfn)
{
	if (pfn == 0)
		return 0;
	if (pfn >= (UINT64_MAX >> 12))
		return -EINVAL;
	return xts_gmem_ptr(cfg->mem, pfn << 12, XTS_PAGE_SIZE, XTS_GMEM_NO_PAGE_CROSS) ?
		0 : -EINVAL;
}

int xts_domain_create(const struct xts_domain_config *cfg, struct xts_domain **out)
{
	const struct xts_platform_ops *ops;
	struct xts_domain *d;
	uint64_t now;
	unsigned i;

	if (!cfg || !out || !cfg->mem || !cfg->clock || !cfg->ops)
		return -EINVAL;
	ops = cfg->ops;
	if (!ops->inject_upcall || !ops->kick || !ops->arm_timer || !ops->host_sample ||
	    !ops->console_write || (cfg->external_records && !ops->send_event))
		return -EINVAL;
	if (cfg->nr_vcpus == 0 || cfg->nr_vcpus > XTS_MAX_VCPUS ||
	    cfg->nr_vcpus != cfg->clock->nr_vcpus)
		return -EINVAL;
	if (cfg->xen_version < 0x30000 || cfg->xen_version > 0xffffff)
		return -EINVAL;
	if ((unsigned)cfg->transport > XTS_TRANSPORT_VMMCALL ||
	    (cfg->transport == XTS_TRANSPORT_IOPORT && cfg->hcall_io_port > 0xff))
		return -EINVAL;
	if (check_ring_pfn(cfg, cfg->console_pfn) || check_ring_pfn(cfg, cfg->store_pfn) ||
	    (cfg->console_pfn && cfg->console_pfn == cfg->store_pfn))
		return -EINVAL;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->v = calloc(cfg->nr_vcpus, sizeof(*d->v));
	d->shadow_shinfo = aligned_alloc(XTS_PAGE_SIZE, XTS_PAGE_SIZE);
	if (!d->v || !d->shadow_shinfo || pthread_mutex_init(&d->lock, NULL)) {
		free(d->v);
		free(d->shadow_shinfo);
		free(d);
		return -ENOMEM;
	}
	memset(d->shadow_shinfo, 0, XTS_PAGE_SIZE);
	d->cfg = *cfg;
	d->layout_id = cfg->clock->arch == XTS_ARCH_ARM64 ? XTS_LAYOUT_ARM64 : XTS_LAYOUT_X86_64;
	d->lay = xts_layout_get(d->layout_id);
	d->shinfo_gpa = XTS_NO_GPA;
	d->hcall_page_gpa = XTS_NO_GPA;
	d->ports[0].state = XTS_PORT_RESERVED;

	now = xts_dom_now_ns(d);
	for (i = 0; i < cfg->nr_vcpus; i++) {
		struct xts_vcpu *v = &d->v[i];

		v->vcpu_info_gpa = XTS_NO_GPA;
		v->online = v->initialised = (i == 0);
		v->rs_state = runstate_wanted(v);
		v->rs_entry_ns = now;
		/* Time before the domain existed counts as offline: the times sum to the entry time. */
		v->rs_time[RUNSTATE_offline] = now;
	}
	xts_pvio_init(d);
	*out = d;
	return 0;
}

void xts_domain_destroy(struct xts_domain *d)
{
	unsigned i;

	if (!d)
		return;
	for (i = 0; i < d->cfg.nr_vcpus; i++)
		if (d->v[i].armed_host_tsc)
			d->cfg.ops->arm_timer(d->cfg.opaque, i, 0);
	pthread_mutex_destroy(&d->lock);
	free(d->shadow_shinfo);
	free(d->v);
	free(d);
}

/* ---- CPUID ---- */

bool xts_domain_cpuid(struct xts_domain *d, unsigned vcpu, uint32_t leaf,
		      uint32_t subleaf, uint32_t regs[4])
{
	uint32_t idx = leaf - XEN_CPUID_FIRST_LEAF;

	if (leaf < XEN_CPUID_FIRST_LEAF || idx > 0xff)
		return false;
	memset(regs, 0, 4 * sizeof(regs[0]));
	switch (idx) {
	case 0:
		regs[0] = XEN_CPUID_LEAF(XEN_CPUID_MAX_NUM_LEAVES);
		regs[1] = XEN_CPUID_SIGNATURE_EBX;
		regs[2] = XEN_CPUID_SIGNATURE_ECX;
		regs[3] = XEN_CPUID_SIGNATURE_EDX;
		break;
	case 1:
		regs[0] = d->cfg.xen_version;
		break;
	case 2:
		regs[0] = 1;                       /* one hypercall page */
		regs[1] = XTS_XEN_HYPERCALL_MSR;
		break;
	case 3:
		pthread_mutex_lock(&d->lock);
		if (xts_clock_cpuid_timing(d->cfg.clock, subleaf, regs))
			memset(regs, 0, 4 * sizeof(regs[0]));
		pthread_mutex_unlock(&d->lock);
		break;
	case 4:
		/*
		 * Xen's HVM leaf (arch/x86/cpuid.c cpuid_hypervisor_leaves) has
		 * subleaf 0 only, and sets IOMMU_MAPPINGS unconditionally since
		 * 4.11: grant maps honour the DMA mapping request.
		 */
		if (subleaf != 0)
			break;
		regs[0] = XEN_HVM_CPUID_IOMMU_MAPPINGS | XEN_HVM_CPUID_VCPU_ID_PRESENT |
			  XEN_HVM_CPUID_DOMID_PRESENT | XEN_HVM_CPUID_UPCALL_VECTOR;
		regs[1] = vcpu;
		regs[2] = d->cfg.domid;
		break;
	default:                                   /* Xen's range, nothing there */
		break;
	}
	return true;
}

/* ---- hypercall MSR ---- */

int xts_domain_write_hypercall_msr(struct xts_domain *d, unsigned vcpu,
				   uint64_t value, bool long_mode)
{
	uint8_t page[XTS_PAGE_SIZE];

	/* Low 12 bits select a page of a multi-page area: Xen has one (#GP otherwise). */
	if (vcpu >= d->cfg.nr_vcpus || (value & (XTS_PAGE_SIZE - 1)))
		return -EINVAL;
	if (!xts_gmem_ptr(d->cfg.mem, value, XTS_PAGE_SIZE, XTS_GMEM_NO_PAGE_CROSS))
		return -EINVAL;
	xts_hypercall_page_fill(page, d->cfg.transport, d->cfg.hcall_io_port);
	pthread_mutex_lock(&d->lock);
	xts_gmem_write(d->cfg.mem, value, page, sizeof(page));
	d->hcall_page_gpa = value;
	xts_dom_latch_layout(d, long_mode);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- VMM notifications ---- */

void xts_domain_update_time(struct xts_domain *d)
{
	unsigned i;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->cfg.nr_vcpus; i++) {
		xts_dom_publish_vcpu_time(d, NULL, i);
		xts_timer_rearm(d, i);   /* host TSC deadlines move with the clock */
	}
	xts_dom_publish_wallclock(d);
	pthread_mutex_unlock(&d->lock);
}

void xts_domain_vcpu_running(struct xts_domain *d, unsigned vcpu, bool running)
{
	struct xts_vcpu *v;

	if (vcpu >= d->cfg.nr_vcpus)
		return;
	pthread_mutex_lock(&d->lock);
	v = &d->v[vcpu];
	v->running = running;
	if (running) {
		/* Started by the VMM (boot vCPU, INIT/SIPI): up, and no longer blocked. */
		v->online = v->initialised = true;
		v->blocked = v->polling = false;
	}
	xts_runstate_set(d, vcpu);
	/* Switched in, as Xen's scheduler would: its periodic timer runs again. */
	if (running)
		xts_timer_vcpu_scheduled(d, vcpu);
	pthread_mutex_unlock(&d->lock);
}

bool xts_domain_vcpu_runnable(struct xts_domain *d, unsigned vcpu)
{
	bool r;

	if (vcpu >= d->cfg.nr_vcpus)
		return false;
	pthread_mutex_lock(&d->lock);
	/*
	 * External records: KVM sets upcall_pending for the events it raises
	 * itself without telling the domain; SCHEDOP_block ends on it as on Xen.
	 */
	if (d->cfg.external_records && d->v[vcpu].blocked && !d->v[vcpu].polling &&
	    __atomic_load_n(xts_dom_vcpu_info(d, vcpu) + XTS_VI_UPCALL_PENDING, __ATOMIC_SEQ_CST))
		xts_vcpu_wake(d, vcpu);
	r = d->v[vcpu].online && !d->v[vcpu].blocked;
	pthread_mutex_unlock(&d->lock);
	return r;
}

void xts_domain_send_virq(struct xts_domain *d, unsigned vcpu, unsigned virq)
{
	if (vcpu >= d->cfg.nr_vcpus || virq >= NR_VIRQS)
		return;
	pthread_mutex_lock(&d->lock);
	xts_evtchn_raise_virq(d, vcpu, virq);
	pthread_mutex_unlock(&d->lock);
}

int xts_domain_get_areas(struct xts_domain *d, struct xts_domain_areas *dom,
			 unsigned vcpu, struct xts_vcpu_areas *va)
{
	if (va && vcpu >= d->cfg.nr_vcpus)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (dom) {
		dom->generation = d->generation;
		dom->shared_info_gpa = d->shinfo_gpa;
		dom->shared_info_maps = d->shinfo_maps;
		dom->long_mode = d->layout_id != XTS_LAYOUT_X86_32;
		dom->callback_vector = d->callback_vector;
		dom->runstate_update_flag = d->runstate_update_flag;
	}
	if (va) {
		const struct xts_vcpu *v = &d->v[vcpu];

		va->vcpu_info_gpa = v->vcpu_info_gpa;
		/* KVM has one time area: the one Xen would write (the physical one first). */
		va->time_gpa = v->time_phys.set ? v->time_phys.gpa[0] :
			       v->time_virt.set ? v->time_virt.gpa[0] : XTS_NO_AREA;
		va->runstate_gpa[0] = v->runstate_area.set ? v->runstate_area.gpa[0] : XTS_NO_AREA;
		va->runstate_gpa[1] = v->runstate_area.set ? v->runstate_area.gpa[1] : XTS_NO_AREA;
		va->runstate_len0 = v->runstate_area.set ? v->runstate_area.len0 : 0;
		va->upcall_vector = v->upcall_vector;
		va->timer_port = v->virq_port[VIRQ_TIMER];
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}
