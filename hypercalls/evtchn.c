/*
 * 2-level event channels with Xen's semantics.  The pending and mask
 * bitmaps sit in shared_info, pending_sel and upcall_pending in each
 * vcpu_info; the guest flips them concurrently (it clears pending, sets and
 * clears masks), so every access here is an atomic operation on the word
 * the guest uses (xen_ulong_t of the latched layout).  The bindings (which
 * port is what) are xtshim's own state, under the domain lock.
 */
#include <string.h>
#include "hypercalls/hcall.h"

static void *word_of(uint8_t *base, uint32_t bit, uint32_t wb)
{
	return base + (bit / (wb * 8)) * wb;
}

static bool test_and_set(uint8_t *base, uint32_t bit, uint32_t wb)
{
	if (wb == 8) {
		uint64_t m = 1ULL << (bit % 64);

		return __atomic_fetch_or((uint64_t *)word_of(base, bit, 8), m, __ATOMIC_SEQ_CST) & m;
	} else {
		uint32_t m = 1U << (bit % 32);

		return __atomic_fetch_or((uint32_t *)word_of(base, bit, 4), m, __ATOMIC_SEQ_CST) & m;
	}
}

static bool test_and_clear(uint8_t *base, uint32_t bit, uint32_t wb)
{
	if (wb == 8) {
		uint64_t m = 1ULL << (bit % 64);

		return __atomic_fetch_and((uint64_t *)word_of(base, bit, 8), ~m, __ATOMIC_SEQ_CST) & m;
	} else {
		uint32_t m = 1U << (bit % 32);

		return __atomic_fetch_and((uint32_t *)word_of(base, bit, 4), ~m, __ATOMIC_SEQ_CST) & m;
	}
}

static bool test_bit(uint8_t *base, uint32_t bit, uint32_t wb)
{
	if (wb == 8)
		return __atomic_load_n((uint64_t *)word_of(base, bit, 8), __ATOMIC_SEQ_CST) &
		       (1ULL << (bit % 64));
	return __atomic_load_n((uint32_t *)word_of(base, bit, 4), __ATOMIC_SEQ_CST) &
	       (1U << (bit % 32));
}

static uint32_t nr_ports(const struct xts_domain *d)
{
	return d->lay->nr_evtchns < XTS_NR_PORTS ? d->lay->nr_evtchns : XTS_NR_PORTS;
}

void xts_vcpu_wake(struct xts_domain *d, unsigned vcpu)
{
	struct xts_vcpu *v = &d->v[vcpu];

	if (!v->blocked)
		return;
	v->blocked = v->polling = false;
	v->poll_timeout_on = false;
	xts_runstate_set(d, vcpu);
	d->cfg.ops->kick(d->cfg.opaque, vcpu);
}

/*
 * upcall_pending goes 0 -> 1: raise the upcall interrupt (per-vCPU vector
 * first, then the domain's CALLBACK_IRQ vector) and wake a blocked vCPU.
 * Like Xen for HVM, evtchn_upcall_mask does not gate the interrupt.
 */
void xts_evtchn_mark_events_pending(struct xts_domain *d, unsigned vcpu)
{
	struct xts_vcpu *v = &d->v[vcpu];
	uint8_t *vi = xts_dom_vcpu_info(d, vcpu);
	uint8_t vector;

	if (__atomic_exchange_n(vi + XTS_VI_UPCALL_PENDING, 1, __ATOMIC_SEQ_CST))
		return;
	vector = v->upcall_vector ? v->upcall_vector : d->callback_vector;
	/*
	 * External records (KVM): the domain's callback vector is KVM's too,
	 * and KVM raises it by itself while upcall_pending is set
	 * (kvm_xen_has_interrupt()); a second one from here would be spurious.
	 */
	if (d->cfg.external_records && !v->upcall_vector)
		vector = 0;
	if (vector)
		d->cfg.ops->inject_upcall(d->cfg.opaque, vcpu, vector);
	if (!v->polling)
		xts_vcpu_wake(d, vcpu);
}

bool xts_evtchn_is_pending(struct xts_domain *d, uint32_t port)
{
	return port < nr_ports(d) &&
	       test_bit(xts_dom_shinfo(d) + d->lay->evtchn_pending, port, d->lay->word_bytes);
}

/* SCHEDOP_poll waiters: one polled port wakes on that port, several on any (as Xen). */
static void check_pollers(struct xts_domain *d, uint32_t port)
{
	unsigned i;

	for (i = 0; i < d->cfg.nr_vcpus; i++) {
		struct xts_vcpu *v = &d->v[i];

		if (v->polling && (v->nr_poll != 1 || v->poll_ports[0] == port))
			xts_vcpu_wake(d, i);
	}
}

void xts_evtchn_set_pending(struct xts_domain *d, uint32_t port)
{
	const struct xts_layout *lay = d->lay;
	uint8_t *sh = xts_dom_shinfo(d);
	unsigned vcpu = d->ports[port].vcpu;
	uint32_t wb = lay->word_bytes;

	/* The keeper sets the bits, raises the upcall and wakes its pollers. */
	if (d->cfg.external_records) {
		d->cfg.ops->send_event(d->cfg.opaque, vcpu, port);
		return;
	}
	if (test_and_set(sh + lay->evtchn_pending, port, wb))
		return;
	if (!test_bit(sh + lay->evtchn_mask, port, wb) &&
	    !test_and_set(xts_dom_vcpu_info(d, vcpu) + lay->vi_pending_sel, port / (wb * 8), wb))
		xts_evtchn_mark_events_pending(d, vcpu);
	check_pollers(d, port);
}

void xts_evtchn_raise_virq(struct xts_domain *d, unsigned vcpu, unsigned virq)
{
	uint32_t port = d->v[vcpu].virq_port[virq];

	if (port)
		xts_evtchn_set_pending(d, port);
}

static int alloc_port(struct xts_domain *d, uint32_t *port)
{
	uint32_t p;

	for (p = 1; p < nr_ports(d); p++)
		if (d->ports[p].state == XTS_PORT_FREE) {
			memset(&d->ports[p], 0, sizeof(d->ports[p]));
			*port = p;
			return 0;
		}
	return -XEN_ENOSPC;
}

int xts_evtchn_alloc_backend(struct xts_domain *d, enum xts_backend b, uint32_t *port)
{
	int rc = alloc_port(d, port);

	if (rc)
		return rc;
	d->ports[*port].state = XTS_PORT_INTERDOMAIN;
	d->ports[*port].backend = b;
	d->ports[*port].remote_dom = 0;     /* the backends play dom0 */
	return 0;
}

static bool virq_is_global(uint32_t virq)
{
	return !(virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF ||
		 virq == VIRQ_XENPMU);
}

static void close_port(struct xts_domain *d, uint32_t port)
{
	struct xts_port *p = &d->ports[port];

	if (p->state == XTS_PORT_VIRQ && d->v[p->vcpu].virq_port[p->virq] == port) {
		d->v[p->vcpu].virq_port[p->virq] = 0;
		if (p->virq == VIRQ_TIMER)
			d->generation++;        /* a keeper running the timer must drop the port */
	}
	if (p->state == XTS_PORT_IPI && p->offloaded)
		d->cfg.ops->ipi_port(d->cfg.opaque, port, p->vcpu, false);
	test_and_clear(xts_dom_shinfo(d) + d->lay->evtchn_pending, port, d->lay->word_bytes);
	memset(p, 0, sizeof(*p));
}

/* Read the argument, check the result can be written back, then act. */
#define GET_ARG(c, gva, s)                                          \
	do {                                                        \
		if (xts_copy_from_guest(c, gva, &(s), sizeof(s)) || \
		    xts_check_guest(c, gva, sizeof(s)))             \
			return -XEN_EFAULT;                         \
	} while (0)
#define PUT_ARG(c, gva, s) \
	(xts_copy_to_guest(c, gva, &(s), sizeof(s)) ? -XEN_EFAULT : 0)

int64_t xts_do_event_channel_op(struct xts_call *c)
{
	struct xts_domain *d = c->d;
	uint32_t cmd = (uint32_t)c->h->args[0];
	uint64_t arg = c->h->args[1];

	switch (cmd) {
	case EVTCHNOP_bind_virq: {
		struct evtchn_bind_virq b;
		uint32_t port;
		int rc;

		GET_ARG(c, arg, b);
		if (b.virq >= NR_VIRQS || (virq_is_global(b.virq) && b.vcpu != 0))
			return -XEN_EINVAL;
		if (b.vcpu >= d->cfg.nr_vcpus)
			return -XEN_ENOENT;
		if (d->v[b.vcpu].virq_port[b.virq])
			return -XEN_EEXIST;
		if ((rc = alloc_port(d, &port)))
			return rc;
		d->ports[port].state = XTS_PORT_VIRQ;
		d->ports[port].vcpu = b.vcpu;
		d->ports[port].virq = b.virq;
		d->v[b.vcpu].virq_port[b.virq] = port;
		if (b.virq == VIRQ_TIMER)
			d->generation++;        /* a keeper running the timer needs the port */
		b.port = port;
		return PUT_ARG(c, arg, b);
	}
	case EVTCHNOP_bind_ipi: {
		struct evtchn_bind_ipi b;
		uint32_t port;
		int rc;

		GET_ARG(c, arg, b);
		if (b.vcpu >= d->cfg.nr_vcpus)
			return -XEN_ENOENT;
		if ((rc = alloc_port(d, &port)))
			return rc;
		d->ports[port].state = XTS_PORT_IPI;
		d->ports[port].vcpu = b.vcpu;
		/* Let the keeper answer EVTCHNOP_send on it without an exit, if it can. */
		if (d->cfg.external_records && d->cfg.ops->ipi_port)
			d->ports[port].offloaded = !d->cfg.ops->ipi_port(d->cfg.opaque, port, b.vcpu, true);
		b.port = port;
		return PUT_ARG(c, arg, b);
	}
	case EVTCHNOP_alloc_unbound: {
		struct evtchn_alloc_unbound a;
		uint32_t port;
		int rc;

		GET_ARG(c, arg, a);
		if (!xts_dom_domid_ok(d, a.dom))
			return -XEN_EPERM;
		if ((rc = alloc_port(d, &port)))
			return rc;
		d->ports[port].state = XTS_PORT_UNBOUND;
		d->ports[port].remote_dom = a.remote_dom == DOMID_SELF ? d->cfg.domid : a.remote_dom;
		a.port = port;
		return PUT_ARG(c, arg, a);
	}
	case EVTCHNOP_send: {
		struct evtchn_send s;

		if (xts_copy_from_guest(c, arg, &s, sizeof(s)))
			return -XEN_EFAULT;
		if (s.port >= nr_ports(d))
			return -XEN_EINVAL;
		switch (d->ports[s.port].state) {
		case XTS_PORT_IPI:
			xts_evtchn_set_pending(d, s.port);
			return 0;
		case XTS_PORT_INTERDOMAIN:
			xts_pvio_notify(d, d->ports[s.port].backend, s.port);
			return 0;
		case XTS_PORT_UNBOUND:
			return 0;          /* nobody listens: Xen drops it silently */
		default:
			return -XEN_EINVAL;
		}
	}
	case EVTCHNOP_unmask: {
		struct evtchn_unmask u;
		const struct xts_layout *lay = d->lay;
		uint8_t *sh = xts_dom_shinfo(d);
		uint32_t wb = lay->word_bytes;
		unsigned vcpu;

		if (xts_copy_from_guest(c, arg, &u, sizeof(u)))
			return -XEN_EFAULT;
		if (u.port >= nr_ports(d))
			return -XEN_EINVAL;
		vcpu = d->ports[u.port].vcpu;
		if (test_and_clear(sh + lay->evtchn_mask, u.port, wb) &&
		    test_bit(sh + lay->evtchn_pending, u.port, wb) &&
		    !test_and_set(xts_dom_vcpu_info(d, vcpu) + lay->vi_pending_sel,
				  u.port / (wb * 8), wb))
			xts_evtchn_mark_events_pending(d, vcpu);
		return 0;
	}
	case EVTCHNOP_close: {
		struct evtchn_close cl;
		uint8_t st;

		if (xts_copy_from_guest(c, arg, &cl, sizeof(cl)))
			return -XEN_EFAULT;
		if (cl.port >= nr_ports(d))
			return -XEN_EINVAL;
		st = d->ports[cl.port].state;
		if (st == XTS_PORT_FREE || st == XTS_PORT_RESERVED)
			return -XEN_EINVAL;
		close_port(d, cl.port);
		return 0;
	}
	case EVTCHNOP_bind_vcpu: {
		struct evtchn_bind_vcpu b;
		struct xts_port *p;

		if (xts_copy_from_guest(c, arg, &b, sizeof(b)))
			return -XEN_EFAULT;
		if (b.vcpu >= d->cfg.nr_vcpus)
			return -XEN_ENOENT;
		if (b.port >= nr_ports(d))
			return -XEN_EINVAL;
		p = &d->ports[b.port];
		if (p->state == XTS_PORT_UNBOUND || p->state == XTS_PORT_INTERDOMAIN ||
		    (p->state == XTS_PORT_VIRQ && virq_is_global(p->virq))) {
			p->vcpu = b.vcpu;
			return 0;
		}
		return -XEN_EINVAL;
	}
	case EVTCHNOP_status: {
		struct evtchn_status s;
		const struct xts_port *p;

		GET_ARG(c, arg, s);
		if (!xts_dom_domid_ok(d, s.dom))
			return -XEN_ESRCH;
		if (s.port >= nr_ports(d))
			return -XEN_EINVAL;
		p = &d->ports[s.port];
		memset(&s.u, 0, sizeof(s.u));
		s.vcpu = p->vcpu;
		switch (p->state) {
		case XTS_PORT_UNBOUND:
			s.status = EVTCHNSTAT_unbound;
			s.u.unbound.dom = p->remote_dom;
			break;
		case XTS_PORT_INTERDOMAIN:
			s.status = EVTCHNSTAT_interdomain;
			s.u.interdomain.dom = p->remote_dom;
			s.u.interdomain.port = s.port;
			break;
		case XTS_PORT_VIRQ:
			s.status = EVTCHNSTAT_virq;
			s.u.virq = p->virq;
			break;
		case XTS_PORT_IPI:
			s.status = EVTCHNSTAT_ipi;
			break;
		default:
			s.status = EVTCHNSTAT_closed;
			break;
		}
		return PUT_ARG(c, arg, s);
	}
	default:
		return -XEN_ENOSYS;
	}
}
