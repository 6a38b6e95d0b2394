/* SCHEDOP_*: yield, block, poll, shutdown. */
#include <string.h>
#include "hypercalls/hcall.h"

static int64_t do_block(struct xts_call *c)
{
	struct xts_domain *d = c->d;
	uint8_t *vi = xts_dom_vcpu_info(d, c->vcpu);

	/* Xen enables event delivery first, then blocks unless an event is already there. */
	__atomic_store_n(vi + XTS_VI_UPCALL_MASK, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(vi + XTS_VI_UPCALL_PENDING, __ATOMIC_SEQ_CST))
		return 0;
	d->v[c->vcpu].blocked = true;
	d->v[c->vcpu].running = false;   /* until the VMM resumes it */
	xts_runstate_set(d, c->vcpu);
	c->action = XTS_HCALL_BLOCK;
	return 0;
}

static int64_t do_poll(struct xts_call *c, uint64_t arg)
{
	struct xts_domain *d = c->d;
	struct xts_vcpu *v = &d->v[c->vcpu];
	const struct xts_hcall_abi *abi = c->abi;
	uint8_t raw[32];
	uint32_t ports[XTS_POLL_MAX], nr, i;
	uint64_t handle, timeout;

	if (xts_copy_from_guest(c, arg, raw, abi->poll_size))
		return -XEN_EFAULT;
	handle = xts_ld(raw, abi->ulong_bytes);
	memcpy(&nr, raw + abi->poll_nr_ports, 4);
	memcpy(&timeout, raw + abi->poll_timeout, 8);
	if (nr > XTS_POLL_MAX)
		return -XEN_EINVAL;
	if (xts_copy_from_guest(c, handle, ports, (uint64_t)nr * 4))
		return -XEN_EFAULT;
	for (i = 0; i < nr; i++) {
		if (ports[i] >= d->lay->nr_evtchns || ports[i] >= XTS_NR_PORTS)
			return -XEN_EINVAL;
		if (xts_evtchn_is_pending(d, ports[i]))
			return 0;
	}
	memcpy(v->poll_ports, ports, (size_t)nr * 4);
	v->nr_poll = nr;
	v->polling = v->blocked = true;
	v->running = false;
	xts_runstate_set(d, c->vcpu);
	if (timeout) {
		v->poll_timeout_on = true;
		v->poll_timeout_ns = timeout;
		xts_timer_rearm(d, c->vcpu);     /* wakes at once if already past */
	}
	if (v->blocked)
		c->action = XTS_HCALL_BLOCK;
	return 0;
}

int64_t xts_do_sched_op(struct xts_call *c)
{
	uint32_t cmd = (uint32_t)c->h->args[0];
	uint64_t arg = c->h->args[1];

	switch (cmd) {
	case SCHEDOP_yield:
		return 0;
	case SCHEDOP_block:
		return do_block(c);
	case SCHEDOP_poll:
		return do_poll(c, arg);
	case SCHEDOP_shutdown: {
		struct sched_shutdown s;

		if (xts_copy_from_guest(c, arg, &s, sizeof(s)))
			return -XEN_EFAULT;
		if (s.reason > SHUTDOWN_MAX)
			return -XEN_EINVAL;
		c->defer = XTS_DEFER_SHUTDOWN;
		c->defer_reason = s.reason;
		return 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}
