/*
 * VCPUOP_*: bring-up, runstate, timers, and the per-vCPU areas a guest
 * registers (vcpu_info, secondary time record, runstate).
 */
#include <string.h>
#include "hypercalls/hcall.h"

/* ~0 unregisters a physical area (Xen 4.18 map_guest_area()). */
#define PHYS_UNREGISTER UINT64_MAX

/*
 * Where a vcpu_info may go, each release's checks in its own order: the
 * first that fails decides the errno.  Alignment is xen_ulong_t's of the
 * latched layout (word_bytes: 8, or 4 with the 32-bit shared_info) in both.
 *
 * 4.17, xen/common/domain.c map_vcpu_info(): offset past the last whole
 * vcpu_info, or misaligned: -ENXIO; already registered: -EINVAL; another
 * vCPU that is up: -EINVAL; frame not RAM: -EINVAL.
 *
 * 4.18, common_vcpu_op() VCPUOP_register_vcpu_info, then map_guest_area():
 * (mfn << 12) + offset all ones or outside frame mfn (offset >= 4096, or an
 * mfn the shift cuts): -EINVAL; already registered: -EBUSY; crossing a
 * page or misaligned: -ENXIO; frame not RAM: -EINVAL (check_get_page_from_gfn).
 * A vCPU that is up is paused there, not refused.  xtshim cannot pause it:
 * its own writes to the old vcpu_info during the copy are what could be
 * lost, and the pending bits are all set again below; the mask stays as
 * the guest had it unless it flips it in that window.
 */
static int vcpu_info_where(struct xts_call *c, unsigned vcpu,
			   const struct vcpu_register_vcpu_info *info, uint64_t *gpa)
{
	struct xts_domain *d = c->d;
	struct xts_vcpu *v = &d->v[vcpu];
	uint32_t size = d->lay->vcpu_info_size, align = d->lay->word_bytes;
	uint64_t g;

	if (d->cfg.xen_version < XTS_XEN_4_18) {
		if (info->offset > XTS_PAGE_SIZE - size || (info->offset & (align - 1)))
			return -XEN_ENXIO;
		if (v->vcpu_info_gpa != XTS_NO_GPA)
			return -XEN_EINVAL;
		if (vcpu != c->vcpu && v->online)
			return -XEN_EINVAL;
		if (info->mfn >= (UINT64_MAX >> 12))
			return -XEN_EINVAL;
		g = (info->mfn << 12) + info->offset;
	} else {
		g = (info->mfn << 12) + info->offset;
		if (g == UINT64_MAX || (g >> 12) != info->mfn)
			return -XEN_EINVAL;
		if (v->vcpu_info_gpa != XTS_NO_GPA)
			return -XEN_EBUSY;
		if ((g >> 12) != ((g + size - 1) >> 12) || (g & (align - 1)))
			return -XEN_ENXIO;
	}
	if (!xts_gmem_ptr(d->cfg.mem, g, size, XTS_GMEM_NO_PAGE_CROSS))
		return -XEN_EINVAL;
	*gpa = g;
	return 0;
}

static int64_t register_vcpu_info(struct xts_call *c, unsigned vcpu, uint64_t arg)
{
	struct xts_domain *d = c->d;
	struct xts_vcpu *v = &d->v[vcpu];
	struct vcpu_register_vcpu_info info;
	uint32_t size = d->lay->vcpu_info_size, wb = d->lay->word_bytes;
	uint8_t *old, *new;
	uint64_t gpa;
	int rc;

	if (xts_copy_from_guest(c, arg, &info, sizeof(info)))
		return -XEN_EFAULT;
	if ((rc = vcpu_info_where(c, vcpu, &info, &gpa)))
		return rc;
	new = xts_gmem_ptr(d->cfg.mem, gpa, size, XTS_GMEM_NO_PAGE_CROSS);

	old = xts_dom_vcpu_info(d, vcpu);
	memmove(new, old, size);
	v->vcpu_info_gpa = gpa;
	d->generation++;
	xts_dom_publish_vcpu_time(d, c, vcpu);
	/* As Xen: mark everything pending so no event is lost in the move. */
	if (wb == 8)
		__atomic_store_n((uint64_t *)(new + d->lay->vi_pending_sel), ~0ULL, __ATOMIC_SEQ_CST);
	else
		__atomic_store_n((uint32_t *)(new + d->lay->vi_pending_sel), ~0U, __ATOMIC_SEQ_CST);
	xts_evtchn_mark_events_pending(d, vcpu);
	return 0;
}

/*
 * The address inside a VCPUOP 5/13/14/15 argument.  A virtual address is a
 * guest handle, 32 bits for 32-bit callers; a physical one (14, 15) is the
 * union's u64 for every caller, so 32-bit guests can name memory above 4 GiB.
 */
static int get_area_addr(struct xts_call *c, uint64_t arg, bool phys, uint64_t *addr)
{
	uint64_t a;

	if (xts_copy_from_guest(c, arg, &a, sizeof(a)))
		return -XEN_EFAULT;
	*addr = (phys || c->h->long_mode) ? a : (uint32_t)a;
	return 0;
}

/*
 * VCPUOP 13 (virtual) and 15 (physical).  Xen keeps the two apart: while a
 * physical area is set it gets the updates (update_secondary_system_time(),
 * xen/arch/x86/time.c), the virtual one again once it is unregistered.
 *  - 13 stores the address and refreshes the vcpu_info record, the
 *    secondary one following (force_update_vcpu_system_time(), in Xen's
 *    do_vcpu_op(), xen/arch/x86/domain.c); unregistering refreshes too.
 *  - 15 goes through map_guest_area() (xen/common/domain.c): inside one
 *    page and xen_ulong_t aligned (-ENXIO), RAM (-EINVAL); only the new
 *    area is written, at version 0 (time_area_populate()); ~0 unregisters.
 * xtshim still refuses a virtual area it could not write as one aligned
 * record (-EINVAL) or that is not mapped now (-EFAULT), where Xen takes any
 * handle and lets the copies fail.
 */
static int64_t register_time_area(struct xts_call *c, unsigned vcpu, uint64_t arg, bool phys)
{
	struct xts_domain *d = c->d;
	struct xts_vcpu *v = &d->v[vcpu];
	struct xts_garea a = { .set = true, .size = XTS_VCPU_TIME_INFO_SIZE,
			       .len0 = XTS_VCPU_TIME_INFO_SIZE, .gpa[1] = XTS_NO_GPA };
	uint32_t align = phys ? d->lay->word_bytes : 8;
	uint64_t addr;
	int rc;

	if ((rc = get_area_addr(c, arg, phys, &addr)))
		return rc;
	if (phys && addr == PHYS_UNREGISTER) {
		v->time_phys.set = false;
		d->generation++;
		return 0;
	}
	if (!phys && addr == 0) {
		v->time_gva_set = false;
		v->time_virt.set = false;
		d->generation++;
		xts_dom_publish_vcpu_time(d, c, vcpu);
		return 0;
	}
	if ((addr & (align - 1)) || (addr & (XTS_PAGE_SIZE - 1)) + XTS_VCPU_TIME_INFO_SIZE > XTS_PAGE_SIZE)
		return phys ? -XEN_ENXIO : -XEN_EINVAL;
	if (phys) {
		if (!xts_gmem_ptr(d->cfg.mem, addr, a.size, XTS_GMEM_NO_PAGE_CROSS))
			return -XEN_EINVAL;
		a.gpa[0] = addr;
		v->time_phys = a;
		d->generation++;
		xts_dom_publish_time_phys(d, vcpu);
		return 0;
	}
	if ((rc = xts_garea_translate(c, addr, a.size, &a)))
		return rc;
	v->time_gva_set = true;
	v->time_gva = addr;
	v->time_virt = a;
	d->generation++;
	/* Translated just now, with the caller's page tables as Xen's first copy uses. */
	xts_dom_publish_vcpu_time(d, NULL, vcpu);
	return 0;
}

static int64_t register_runstate_area(struct xts_call *c, unsigned vcpu, uint64_t arg, bool phys)
{
	struct xts_domain *d = c->d;
	struct xts_vcpu *v = &d->v[vcpu];
	uint32_t size = d->lay->runstate_size;
	struct xts_garea a = { .set = true, .size = size, .len0 = size, .gpa[1] = XTS_NO_GPA };
	uint64_t addr;
	int rc;

	if ((rc = get_area_addr(c, arg, phys, &addr)))
		return rc;
	if (phys ? addr == PHYS_UNREGISTER : addr == 0) {
		v->runstate_area.set = false;
		d->generation++;
		return 0;
	}
	if (phys) {
		if ((addr & (d->lay->word_bytes - 1)) ||
		    (addr & (XTS_PAGE_SIZE - 1)) + size > XTS_PAGE_SIZE)
			return -XEN_ENXIO;
		if (!xts_gmem_ptr(d->cfg.mem, addr, size, XTS_GMEM_NO_PAGE_CROSS))
			return -XEN_EINVAL;
		a.gpa[0] = addr;
	} else if ((rc = xts_garea_translate(c, addr, size, &a))) {
		return rc;
	}
	/* KVM takes one guest-physical address: the two pages must be adjacent there. */
	if (d->cfg.external_records && a.gpa[1] != XTS_NO_GPA && a.gpa[1] != a.gpa[0] + a.len0)
		return -XEN_EINVAL;
	v->runstate_area = a;
	v->runstate_phys = phys;
	d->generation++;
	xts_runstate_publish(d, vcpu);
	return 0;
}

static int64_t get_runstate_info(struct xts_call *c, unsigned vcpu, uint64_t arg)
{
	const struct xts_layout *lay =
		xts_layout_get(c->h->long_mode ? XTS_LAYOUT_X86_64 : XTS_LAYOUT_X86_32);
	uint8_t buf[64];
	uint32_t state;
	uint64_t entry, time[4];

	/* External records: the keeper's accounting is the one in the guest's area. */
	if (!c->d->cfg.external_records || !c->d->cfg.ops->read_runstate ||
	    c->d->cfg.ops->read_runstate(c->d->cfg.opaque, c->vcpu, vcpu, &state, &entry, time))
		xts_runstate_read(c->d, vcpu, xts_dom_now_ns(c->d), &state, &entry, time);
	xts_runstate_encode(lay, state, entry, time, buf);
	return xts_copy_to_guest(c, arg, buf, lay->runstate_size) ? -XEN_EFAULT : 0;
}

int64_t xts_do_vcpu_op(struct xts_call *c)
{
	struct xts_domain *d = c->d;
	uint32_t cmd = (uint32_t)c->h->args[0], vid = (uint32_t)c->h->args[1];
	uint64_t arg = c->h->args[2];
	struct xts_vcpu *v;
	unsigned vcpu, i;

	if (vid >= d->cfg.nr_vcpus)
		return -XEN_ENOENT;
	vcpu = (unsigned)vid;
	v = &d->v[vcpu];

	switch (cmd) {
	case VCPUOP_initialise:
		if (xts_dom_vcpu_info(d, vcpu) == v->dummy_vcpu_info)
			return -XEN_EINVAL;
		if (xts_copy_from_guest(c, arg, &c->defer_ctx, sizeof(c->defer_ctx)))
			return -XEN_EFAULT;
		if (c->defer_ctx.mode != VCPU_HVM_MODE_32B && c->defer_ctx.mode != VCPU_HVM_MODE_64B)
			return -XEN_EINVAL;
		if (v->initialised)
			return -XEN_EEXIST;
		v->initialised = true;   /* claimed; undone if the VMM refuses */
		c->defer = XTS_DEFER_INIT;
		c->defer_vcpu = vcpu;
		return 0;
	case VCPUOP_up:
		if (!v->initialised)
			return -XEN_EINVAL;
		if (v->online)
			return 0;
		v->online = true;
		xts_runstate_set(d, vcpu);
		c->defer = XTS_DEFER_UP;
		c->defer_vcpu = vcpu;
		return 0;
	case VCPUOP_down:
		for (i = 0; i < d->cfg.nr_vcpus; i++)
			if (i != vcpu && d->v[i].online)
				break;
		if (i == d->cfg.nr_vcpus) {
			/* The last vCPU going down powers the domain off (Xen). */
			c->defer = XTS_DEFER_SHUTDOWN;
			c->defer_reason = SHUTDOWN_poweroff;
			return 0;
		}
		if (!v->online)
			return 0;
		v->online = false;
		v->blocked = v->polling = false;
		xts_runstate_set(d, vcpu);
		xts_timer_vcpu_descheduled(d, vcpu);
		c->defer = XTS_DEFER_DOWN;
		c->defer_vcpu = vcpu;
		return 0;
	case VCPUOP_is_up:
		return v->online;
	case VCPUOP_get_runstate_info:
		return get_runstate_info(c, vcpu, arg);
	case VCPUOP_register_runstate_memory_area:
		return register_runstate_area(c, vcpu, arg, false);
	case VCPUOP_register_vcpu_time_memory_area:
		return register_time_area(c, vcpu, arg, false);
	/*
	 * Xen 4.18 added these; 4.17's do_vcpu_op() (xen/arch/x86/domain.c)
	 * passes them to common_vcpu_op(), whose default is -ENOSYS.  The
	 * vCPU id is checked before, as there.
	 */
	case XTS_VCPUOP_register_runstate_phys_area:
		if (d->cfg.xen_version < XTS_XEN_4_18)
			return -XEN_ENOSYS;
		return register_runstate_area(c, vcpu, arg, true);
	case XTS_VCPUOP_register_vcpu_time_phys_area:
		if (d->cfg.xen_version < XTS_XEN_4_18)
			return -XEN_ENOSYS;
		return register_time_area(c, vcpu, arg, true);
	case VCPUOP_register_vcpu_info:
		return register_vcpu_info(c, vcpu, arg);
	case VCPUOP_set_periodic_timer: {
		struct vcpu_set_periodic_timer p;

		if (xts_copy_from_guest(c, arg, &p, sizeof(p)))
			return -XEN_EFAULT;
		/* Xen: below MILLISECS(1) or above STIME_DELTA_MAX (2^62 - 1) ns. */
		if (p.period_ns < XTS_MS || p.period_ns > XTS_STIME_DELTA_MAX)
			return -XEN_EINVAL;
		xts_timer_set_periodic(d, vcpu, p.period_ns);
		return 0;
	}
	case VCPUOP_stop_periodic_timer:
		xts_timer_set_periodic(d, vcpu, 0);
		return 0;
	case VCPUOP_set_singleshot_timer: {
		struct vcpu_set_singleshot_timer s;

		if (vcpu != c->vcpu)
			return -XEN_EINVAL;
		/* 12 bytes for both widths: i386 has no tail padding. */
		if (xts_copy_from_guest(c, arg, &s, offsetof(struct vcpu_set_singleshot_timer, flags) +
					sizeof(s.flags)))
			return -XEN_EFAULT;
		/* Xen < 4.18 refuses a passed deadline when asked to; 4.18+ fires at once. */
		if (d->cfg.xen_version < XTS_XEN_4_18 && (s.flags & VCPU_SSHOTTMR_future) &&
		    s.timeout_abs_ns < xts_dom_now_ns(d))
			return -XEN_ETIME;
		return xts_timer_set_singleshot(d, vcpu, s.timeout_abs_ns);
	}
	case VCPUOP_stop_singleshot_timer:
		if (vcpu != c->vcpu)
			return -XEN_EINVAL;
		xts_timer_stop_singleshot(d, vcpu);
		return 0;
	case VCPUOP_send_nmi:
		/*
		 * Xen's x86 do_vcpu_op (arch/x86/domain.c): the argument must be
		 * NULL; any vCPU of the domain, down or not, gets nmi_pending and
		 * a vcpu_kick, which also ends a SCHEDOP_block or poll.
		 */
		if (arg != 0)
			return -XEN_EINVAL;
		if (!d->cfg.ops->inject_nmi)
			return -XEN_ENOSYS;
		d->cfg.ops->inject_nmi(d->cfg.opaque, vcpu);
		xts_vcpu_wake(d, vcpu);
		return 0;
	case VCPUOP_get_physid:
		/* Xen answers only a hardware domain's pinned vCPU (is_hwdom_pinned_vcpu). */
		return -XEN_EINVAL;
	default:
		return -XEN_ENOSYS;
	}
}
