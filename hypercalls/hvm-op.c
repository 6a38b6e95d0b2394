/* HVMOP_*: parameters, the per-vCPU upcall vector, system time. */
#include <string.h>
#include "hypercalls/hcall.h"

/* What an HVM guest may do with a parameter itself (Xen's hvm_allow_{get,set}_param). */
static bool guest_may_read(uint32_t idx)
{
	switch (idx) {
	case HVM_PARAM_CALLBACK_IRQ:
	case HVM_PARAM_STORE_PFN:
	case HVM_PARAM_STORE_EVTCHN:
	case HVM_PARAM_CONSOLE_PFN:
	case HVM_PARAM_CONSOLE_EVTCHN:
	case HVM_PARAM_TIMER_MODE:
		return true;
	default:
		return false;
	}
}

static bool guest_may_write(uint32_t idx)
{
	return idx == HVM_PARAM_CALLBACK_IRQ || idx == HVM_PARAM_STORE_EVTCHN ||
	       idx == HVM_PARAM_CONSOLE_EVTCHN;
}

/*
 * HVM_PARAM_CALLBACK_IRQ: only the vector type (2) delivers upcalls here;
 * GSI and PCI INTx callbacks are recorded but raise nothing (see docs).
 */
static int set_callback(struct xts_call *c, uint64_t value)
{
	struct xts_domain *d = c->d;
	uint8_t type = (uint8_t)(value >> 56);
	uint8_t vector = 0;

	if (type == HVM_PARAM_CALLBACK_TYPE_VECTOR) {
		vector = (uint8_t)value;
		if (vector < 0x10)
			return -XEN_EINVAL;
	}
	d->callback_vector = vector;
	d->generation++;
	d->params[HVM_PARAM_CALLBACK_IRQ] = value;
	xts_dom_latch_layout(d, c->h->long_mode);
	/*
	 * Xen delivers the callback vector while upcall_pending is set, not on
	 * its 0 -> 1 edge: an upcall already pending (register_vcpu_info marks
	 * everything pending) must be raised now or it would never come.
	 * With external records KVM does that itself once the vector is
	 * mirrored (kvm_xen_has_interrupt() is level-triggered).
	 */
	for (unsigned i = 0; vector && !d->cfg.external_records && i < d->cfg.nr_vcpus; i++)
		if (d->v[i].online && !d->v[i].upcall_vector &&
		    __atomic_load_n(xts_dom_vcpu_info(d, i) + XTS_VI_UPCALL_PENDING, __ATOMIC_SEQ_CST))
			d->cfg.ops->inject_upcall(d->cfg.opaque, i, vector);
	return 0;
}

int64_t xts_do_hvm_op(struct xts_call *c)
{
	struct xts_domain *d = c->d;
	uint64_t cmd = c->h->args[0], arg = c->h->args[1];

	switch (cmd) {
	case HVMOP_set_param:
	case HVMOP_get_param: {
		struct xen_hvm_param p;
		if (xts_copy_from_guest(c, arg, &p, sizeof(p)))
			return -XEN_EFAULT;
		if (p.index >= HVM_NR_PARAMS)
			return -XEN_EINVAL;
		if (!xts_dom_domid_ok(d, p.domid))
			return -XEN_ESRCH;
		if (cmd == HVMOP_get_param) {
			if (!guest_may_read(p.index))
				return -XEN_EPERM;
			p.value = d->params[p.index];
			return xts_copy_to_guest(c, arg, &p, sizeof(p)) ? -XEN_EFAULT : 0;
		}
		if (!guest_may_write(p.index))
			return -XEN_EPERM;
		if (p.index == HVM_PARAM_CALLBACK_IRQ)
			return set_callback(c, p.value);
		if (p.value >= XTS_NR_PORTS)
			return -XEN_EINVAL;
		d->params[p.index] = p.value;
		return 0;
	}
	case HVMOP_set_evtchn_upcall_vector: {
		struct xen_hvm_evtchn_upcall_vector u;

		if (xts_copy_from_guest(c, arg, &u, sizeof(u)))
			return -XEN_EFAULT;
		if (u.vector < 0x10)
			return -XEN_EINVAL;
		if (u.vcpu >= d->cfg.nr_vcpus)
			return -XEN_ENOENT;
		d->v[u.vcpu].upcall_vector = u.vector;
		d->generation++;
		/* Xen re-asserts the upcall: an event already pending is not lost. */
		if (__atomic_load_n(xts_dom_vcpu_info(d, u.vcpu) + XTS_VI_UPCALL_PENDING,
				    __ATOMIC_SEQ_CST))
			d->cfg.ops->inject_upcall(d->cfg.opaque, u.vcpu, u.vector);
		return 0;
	}
	case HVMOP_get_time: {
		struct xen_hvm_get_time t = { .now = xts_dom_now_ns(d) };

		return xts_copy_to_guest(c, arg, &t, sizeof(t)) ? -XEN_EFAULT : 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}
