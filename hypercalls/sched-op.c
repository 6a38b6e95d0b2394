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
	xts_timer_vcpu_descheduled(d, c->vcpu);
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
	xts_timer_vcpu_descheduled(d, c->vcpu);
	if (timeout) {
		v->poll_timeout_on = true;
		v->poll_timeout_ns = timeout;
		xts_timer_rearm(d, c->vcpu);     /* wakes at once if already past */
	}
	if (v->blocked)
		c->action = XTS_HCALL_BLOCK;
	return 0;
}

/* ---- SCHEDOP_watchdog ---- */

bool xts_watchdog_earliest(const struct xts_domain *d, uint64_t *ns)
{
	bool any = false;
	unsigned i;

	for (i = 0; i < XTS_NR_WATCHDOGS; i++)
		if ((d->watchdog_inuse & (1u << i)) && d->watchdog_ns[i] < *ns) {
			*ns = d->watchdog_ns[i];
			any = true;
		}
	return any;
}

/* A due watchdog stays in use (as Xen's: its timer is just spent) and shuts the domain down. */
void xts_watchdog_service(struct xts_domain *d, uint64_t now)
{
	unsigned i;

	for (i = 0; i < XTS_NR_WATCHDOGS; i++)
		if ((d->watchdog_inuse & (1u << i)) && d->watchdog_ns[i] != UINT64_MAX &&
		    now >= d->watchdog_ns[i]) {
			d->watchdog_ns[i] = UINT64_MAX;      /* spent until set again */
			d->watchdog_expired = true;
		}
}

/*
 * Xen 4.17 xen/common/sched/core.c domain_watchdog(): id 0 takes the first
 * free of NR_DOMAIN_WATCHDOG_TIMERS (2) timers, sets it to NOW() +
 * SECONDS(timeout) and returns its id (1-based), -ENOSPC when none is free;
 * id > 2 is -EINVAL, an id not in use -EINVAL; timeout 0 on an id stops and
 * frees it, another timeout re-sets it.  Expiry (domain_watchdog_timeout)
 * shuts the domain down with SHUTDOWN_watchdog.  timeout is u32 seconds, so
 * the deadline (< 2^32 * 10^9 ns after now) cannot overflow 64 bits.
 */
static int64_t do_watchdog(struct xts_call *c, uint64_t arg)
{
	struct xts_domain *d = c->d;
	struct sched_watchdog w;
	uint64_t now;
	unsigned i;

	if (xts_copy_from_guest(c, arg, &w, sizeof(w)))
		return -XEN_EFAULT;
	if (w.id > XTS_NR_WATCHDOGS)
		return -XEN_EINVAL;
	now = xts_dom_now_ns(d);
	if (w.id == 0) {
		for (i = 0; i < XTS_NR_WATCHDOGS; i++)
			if (!(d->watchdog_inuse & (1u << i)))
				break;
		if (i == XTS_NR_WATCHDOGS)
			return -XEN_ENOSPC;
		d->watchdog_inuse |= (uint8_t)(1u << i);
		d->watchdog_ns[i] = now + (uint64_t)w.timeout * 1000000000ULL;
		xts_timer_rearm(d, 0);
		return (int64_t)i + 1;
	}
	i = w.id - 1;
	if (!(d->watchdog_inuse & (1u << i)))
		return -XEN_EINVAL;
	if (w.timeout == 0)
		d->watchdog_inuse &= (uint8_t)~(1u << i);
	else
		d->watchdog_ns[i] = now + (uint64_t)w.timeout * 1000000000ULL;
	xts_timer_rearm(d, 0);
	return 0;
}

/* struct sched_shutdown, for SCHEDOP_shutdown and SCHEDOP_shutdown_code alike. */
static int64_t read_shutdown_reason(struct xts_call *c, uint64_t arg, uint32_t *reason)
{
	struct sched_shutdown s;

	if (xts_copy_from_guest(c, arg, &s, sizeof(s)))
		return -XEN_EFAULT;
	if (s.reason > SHUTDOWN_MAX)
		return -XEN_EINVAL;
	*reason = s.reason;
	return 0;
}

int64_t xts_do_sched_op(struct xts_call *c)
{
	uint32_t cmd = (uint32_t)c->h->args[0];
	uint64_t arg = c->h->args[1];
	uint32_t reason;
	int64_t r;

	switch (cmd) {
	case SCHEDOP_yield:
		return 0;
	case SCHEDOP_block:
		return do_block(c);
	case SCHEDOP_poll:
		return do_poll(c, arg);
	case SCHEDOP_shutdown:
		if ((r = read_shutdown_reason(c, arg, &reason)))
			return r;
		c->defer = XTS_DEFER_SHUTDOWN;
		c->defer_reason = reason;
		return 0;
	case SCHEDOP_shutdown_code:
		/*
		 * Xen: the first code given is kept and reported by the domain's
		 * shutdown instead of the reason it is called with (domain_shutdown()).
		 */
		if ((r = read_shutdown_reason(c, arg, &reason)))
			return r;
		if (!c->d->shutdown_code_set) {
			c->d->shutdown_code_set = true;
			c->d->shutdown_code = (uint8_t)reason;
		}
		return 0;
	case SCHEDOP_remote_shutdown: {
		/*
		 * Xen 4.17: rcu_lock_domain_by_id(domain_id) finds real ids only
		 * (DOMID_SELF is no domain: -ESRCH), then XSM_DM_PRIV lets only the
		 * control domain or the target's device model through (-EPERM for a
		 * domU naming itself).  This guest is never privileged and no other
		 * domain exists here.
		 */
		struct sched_remote_shutdown s;

		if (xts_copy_from_guest(c, arg, &s, sizeof(s)))
			return -XEN_EFAULT;
		return s.domain_id == c->d->cfg.domid ? -XEN_EPERM : -XEN_ESRCH;
	}
	case SCHEDOP_watchdog:
		return do_watchdog(c, arg);
	default:
		return -XEN_ENOSYS;
	}
}
