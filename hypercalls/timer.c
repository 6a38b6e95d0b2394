/*
 * Xen timers of a vCPU: singleshot (VCPUOP_set_singleshot_timer and
 * set_timer_op), periodic (stopped while the vCPU is descheduled, as on
 * Xen), and the SCHEDOP_poll timeout.  Deadlines are Xen system time
 * (ns); one host timer per vCPU (ops->arm_timer, a host TSC
 * deadline from the clock model) stands for the earliest.  When it fires,
 * system time is read again: a timer is due only when system time has
 * reached its deadline, so VIRQ_TIMER is never early even if the host
 * timer is; anything not yet due is re-armed.
 */
#include "hypercalls/hcall.h"

static bool earliest(const struct xts_domain *d, unsigned vcpu, uint64_t *ns)
{
	const struct xts_vcpu *v = &d->v[vcpu];
	bool any = false;

	*ns = UINT64_MAX;
	if (vcpu == 0)             /* the domain's watchdogs ride on vCPU 0's host timer */
		any = xts_watchdog_earliest(d, ns);
	if (v->sshot_on) {
		*ns = v->sshot_ns;
		any = true;
	}
	if (v->periodic_on && v->periodic_next_ns < *ns) {
		*ns = v->periodic_next_ns;
		any = true;
	}
	if (v->poll_timeout_on && v->poll_timeout_ns < *ns) {
		*ns = v->poll_timeout_ns;
		any = true;
	}
	return any;
}

static void arm(struct xts_domain *d, unsigned vcpu, uint64_t host_tsc)
{
	struct xts_vcpu *v = &d->v[vcpu];

	if (v->armed_host_tsc == host_tsc)
		return;
	v->armed_host_tsc = host_tsc;
	d->cfg.ops->arm_timer(d->cfg.opaque, vcpu, host_tsc);
}

/*
 * Xen's vcpu_periodic_timer_work_locked() (xen/common/sched/core.c), run
 * when the periodic timer is set, when it fires and when the vCPU is
 * scheduled again: the next event is last_event + period; once that has
 * come the event is sent (true), last_event becomes now and the next event
 * now + period.  last_event starts at 0 and survives stop and set, so the
 * first tick after a set comes at once unless one came within a period.
 */
static bool periodic_work(struct xts_vcpu *v, uint64_t now)
{
	uint64_t next = v->periodic_last_ns + v->period_ns;   /* < 2^63 + 2^62: no wrap */
	bool fire = now >= next;

	if (fire) {
		v->periodic_last_ns = now;
		next = now + v->period_ns;
	}
	v->periodic_next_ns = next;
	return fire;
}

/* Fire what is due at system time `now`, then arm the host timer for the rest. */
static void service(struct xts_domain *d, unsigned vcpu, uint64_t now)
{
	struct xts_vcpu *v = &d->v[vcpu];
	bool fire = false;
	uint64_t ns, host_tsc;

	if (v->sshot_on && now >= v->sshot_ns) {
		v->sshot_on = false;
		fire = true;
	}
	if (v->periodic_on && now >= v->periodic_next_ns && periodic_work(v, now))
		fire = true;
	if (fire)
		xts_evtchn_raise_virq(d, vcpu, VIRQ_TIMER);
	if (v->poll_timeout_on && now >= v->poll_timeout_ns) {
		v->poll_timeout_on = false;
		if (v->polling)
			xts_vcpu_wake(d, vcpu);
	}
	if (vcpu == 0)
		xts_watchdog_service(d, now);
	if (!earliest(d, vcpu, &ns)) {
		arm(d, vcpu, 0);
		return;
	}
	/* Beyond the clock's reach (~2^64 ticks away): it can never fire. */
	if (xts_dom_host_tsc_at_ns(d, ns, &host_tsc)) {
		arm(d, vcpu, 0);
		return;
	}
	arm(d, vcpu, host_tsc ? host_tsc : 1);
}

void xts_timer_rearm(struct xts_domain *d, unsigned vcpu)
{
	d->v[vcpu].armed_host_tsc = UINT64_MAX;  /* force: the clock may have moved */
	service(d, vcpu, xts_dom_now_ns(d));
}

int xts_timer_set_singleshot(struct xts_domain *d, unsigned vcpu, uint64_t deadline_ns)
{
	d->v[vcpu].sshot_on = true;
	d->v[vcpu].sshot_ns = deadline_ns;
	service(d, vcpu, xts_dom_now_ns(d));
	return 0;
}

void xts_timer_stop_singleshot(struct xts_domain *d, unsigned vcpu)
{
	d->v[vcpu].sshot_on = false;
	service(d, vcpu, xts_dom_now_ns(d));
}

/*
 * Xen's vcpu_set_periodic_timer(): 0 stops it; a period sets the timer
 * from last_event whether or not the vCPU is running (so a timer another
 * vCPU sets on a blocked one wakes it), and service() sends the event at
 * once if last_event + period has passed.
 */
void xts_timer_set_periodic(struct xts_domain *d, unsigned vcpu, uint64_t period_ns)
{
	struct xts_vcpu *v = &d->v[vcpu];

	v->period_ns = period_ns;
	v->periodic_on = period_ns != 0;
	v->periodic_next_ns = v->periodic_last_ns + period_ns;
	service(d, vcpu, xts_dom_now_ns(d));
}

/*
 * The vCPU blocks (SCHEDOP_block/poll) or goes down: Xen switches it out
 * and stops its periodic timer (sched_context_switch()), so no tick comes
 * and none wakes it while it is descheduled.
 */
void xts_timer_vcpu_descheduled(struct xts_domain *d, unsigned vcpu)
{
	struct xts_vcpu *v = &d->v[vcpu];
	uint64_t now;

	if (!v->periodic_on)
		return;
	now = xts_dom_now_ns(d);
	/*
	 * A tick already due (the host timer has not run yet) is sent first,
	 * as Xen's timer softirq runs before its scheduler's; that event
	 * usually wakes the vCPU at once, and then its timer stays set.
	 */
	if (now >= v->periodic_next_ns) {
		service(d, vcpu, now);
		if (v->online && !v->blocked)
			return;
	}
	v->periodic_on = false;
	service(d, vcpu, now);
}

/*
 * The VMM runs the vCPU again (xts_domain_vcpu_running()): Xen runs
 * vcpu_periodic_timer_work() for the vCPU it switches in, so a tick that
 * fell due meanwhile comes at once and the next one a period later.
 */
void xts_timer_vcpu_scheduled(struct xts_domain *d, unsigned vcpu)
{
	struct xts_vcpu *v = &d->v[vcpu];

	if (!v->period_ns || v->periodic_on)
		return;
	v->periodic_on = true;
	v->periodic_next_ns = v->periodic_last_ns + v->period_ns;
	service(d, vcpu, xts_dom_now_ns(d));
}

void xts_domain_timer_fired(struct xts_domain *d, unsigned vcpu)
{
	bool expired;

	if (vcpu >= d->cfg.nr_vcpus)
		return;
	pthread_mutex_lock(&d->lock);
	d->v[vcpu].armed_host_tsc = 0;   /* the host timer is spent */
	service(d, vcpu, xts_dom_now_ns(d));
	expired = d->watchdog_expired;
	d->watchdog_expired = false;
	pthread_mutex_unlock(&d->lock);
	/* Xen's domain_watchdog_timeout(): domain_shutdown(d, SHUTDOWN_watchdog). */
	if (expired && d->cfg.ops->shutdown)
		d->cfg.ops->shutdown(d->cfg.opaque, d->shutdown_code_set ? d->shutdown_code :
				     SHUTDOWN_watchdog);
}

/*
 * set_timer_op(timeout): 0 stops the singleshot timer; a negative timeout
 * or one 2^50 ns or more ahead (Linux jiffies wrap) fires in 100 ms, as Xen
 * does.  32-bit callers pass the 64-bit timeout as (lo, hi).
 */
int64_t xts_do_set_timer_op(struct xts_call *c)
{
	struct xts_domain *d = c->d;
	uint64_t t = c->h->long_mode ? c->h->args[0]
				     : (c->h->args[0] | (c->h->args[1] << 32));
	uint64_t now = xts_dom_now_ns(d);
	int64_t offset = (int64_t)(t - now);

	if (t == 0) {
		xts_timer_stop_singleshot(d, c->vcpu);
		return 0;
	}
	if ((int64_t)t < 0 || (offset > 0 && (offset >> 50) != 0))
		t = now + 100 * XTS_MS;
	return xts_timer_set_singleshot(d, c->vcpu, t);
}
