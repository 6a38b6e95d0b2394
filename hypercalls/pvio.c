/*
 * The two PV rings a guest may insist on: the console (xencons_interface,
 * whose output ring is drained to ops->console_write) and xenstore
 * (xenstore_domain_interface), answering a read of the domain's "domid"
 * and refusing everything else with well-formed XS_ERROR replies.
 *
 * The guest owns the producer index of the ring it writes and may change
 * anything in the page at any time: indices are read once, checked
 * (prod - cons never above the ring size), and the data copied out before
 * it is used.  A ring found inconsistent is left alone from then on, as
 * xenconsoled and xenstored drop such a connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "hypercalls/hcall.h"
#include <xen/io/xs_wire.h>

#define OUT_RING_SIZE sizeof(((struct xencons_interface *)0)->out)

/* A fresh ring page, as the toolstack hands it over: all zero. */
static void clear_frame(struct xts_domain *d, uint64_t pfn)
{
	void *p = xts_gmem_ptr(d->cfg.mem, pfn << 12, XTS_PAGE_SIZE, XTS_GMEM_NO_PAGE_CROSS);

	if (p)
		memset(p, 0, XTS_PAGE_SIZE);
}

void xts_pvio_init(struct xts_domain *d)
{
	uint32_t port;

	if (d->cfg.console_pfn) {
		clear_frame(d, d->cfg.console_pfn);
		if (!xts_evtchn_alloc_backend(d, XTS_BACKEND_CONSOLE, &port)) {
			d->params[HVM_PARAM_CONSOLE_PFN] = d->cfg.console_pfn;
			d->params[HVM_PARAM_CONSOLE_EVTCHN] = port;
		}
	}
	if (d->cfg.store_pfn) {
		clear_frame(d, d->cfg.store_pfn);
		if (!xts_evtchn_alloc_backend(d, XTS_BACKEND_STORE, &port)) {
			d->params[HVM_PARAM_STORE_PFN] = d->cfg.store_pfn;
			d->params[HVM_PARAM_STORE_EVTCHN] = port;
		}
	}
}

static void console_drain(struct xts_domain *d, uint32_t port)
{
	struct xencons_interface *intf;
	XENCONS_RING_IDX cons, prod;
	char buf[OUT_RING_SIZE];
	uint32_t n = 0;

	intf = xts_gmem_ptr(d->cfg.mem, d->cfg.console_pfn << 12, sizeof(*intf),
			    XTS_GMEM_NO_PAGE_CROSS);
	if (!intf || d->console_broken)
		return;
	cons = __atomic_load_n(&intf->out_cons, __ATOMIC_RELAXED);
	prod = __atomic_load_n(&intf->out_prod, __ATOMIC_ACQUIRE);
	if (prod - cons > OUT_RING_SIZE) {
		d->console_broken = true;
		return;
	}
	while (cons != prod)
		buf[n++] = intf->out[MASK_XENCONS_IDX(cons++, intf->out)];
	if (n)
		d->cfg.ops->console_write(d->cfg.opaque, buf, n);
	__atomic_store_n(&intf->out_cons, cons, __ATOMIC_RELEASE);
	xts_evtchn_set_pending(d, port);
}

/* ---- xenstore ---- */

static void ring_copy_out(const char *ring, XENSTORE_RING_IDX idx, void *dst, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		((char *)dst)[i] = ring[MASK_XENSTORE_IDX(idx + i)];
}

static void ring_copy_in(char *ring, XENSTORE_RING_IDX idx, const void *src, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		ring[MASK_XENSTORE_IDX(idx + i)] = ((const char *)src)[i];
}

/* Build the reply to one request into `out` (header + payload); returns its length. */
static uint32_t store_answer(struct xts_domain *d, const struct xsd_sockmsg *req,
			     const char *payload, char *out)
{
	struct xsd_sockmsg *rsp = (struct xsd_sockmsg *)out;
	char *body = out + sizeof(*rsp);
	char path[64];
	const char *err = NULL;
	int n = 0;

	rsp->type = req->type;
	rsp->req_id = req->req_id;
	rsp->tx_id = req->tx_id;
	switch (req->type) {
	case XS_READ:
		snprintf(path, sizeof(path), "/local/domain/%u/domid", d->cfg.domid);
		if (req->len > 0 && payload[req->len - 1] == '\0' &&
		    (!strcmp(payload, "domid") || !strcmp(payload, path)))
			n = snprintf(body, 16, "%u", d->cfg.domid);  /* no NUL: xenstored's form */
		else
			err = "ENOENT";
		break;
	case XS_WATCH:
	case XS_UNWATCH:
		memcpy(body, "OK", 3);
		n = 3;
		break;
	default:
		err = "ENOSYS";
		break;
	}
	if (err) {
		rsp->type = XS_ERROR;
		n = (int)strlen(err) + 1;
		memcpy(body, err, (size_t)n);
	}
	rsp->len = (uint32_t)n;
	return sizeof(*rsp) + (uint32_t)n;
}

/*
 * Consume what the guest wrote, as xenstored does: bytes leave the ring as
 * soon as they are read, into d->store_msg, and a request is answered once
 * whole.  A whole request whose reply does not fit waits there (the ring
 * is not read further) until the guest makes room and notifies again.
 */
static void store_serve(struct xts_domain *d, uint32_t port)
{
	struct xenstore_domain_interface *intf;
	char payload[XENSTORE_PAYLOAD_MAX + 1];
	char reply[sizeof(struct xsd_sockmsg) + 64];
	bool progress = false;
	struct xsd_sockmsg req;

	intf = xts_gmem_ptr(d->cfg.mem, d->cfg.store_pfn << 12, sizeof(*intf),
			    XTS_GMEM_NO_PAGE_CROSS);
	if (!intf)
		return;
	while (!d->store_broken) {
		XENSTORE_RING_IDX rq_cons = __atomic_load_n(&intf->req_cons, __ATOMIC_RELAXED);
		XENSTORE_RING_IDX rq_prod = __atomic_load_n(&intf->req_prod, __ATOMIC_ACQUIRE);
		XENSTORE_RING_IDX rs_cons = __atomic_load_n(&intf->rsp_cons, __ATOMIC_ACQUIRE);
		XENSTORE_RING_IDX rs_prod = __atomic_load_n(&intf->rsp_prod, __ATOMIC_RELAXED);
		uint32_t avail = rq_prod - rq_cons, used = rs_prod - rs_cons, want, n;

		if (avail > XENSTORE_RING_SIZE || used > XENSTORE_RING_SIZE) {
			d->store_broken = true;
			break;
		}
		want = sizeof(req);
		if (d->store_have >= sizeof(req)) {
			memcpy(&req, d->store_msg, sizeof(req));   /* checked when it arrived */
			want += req.len;
		}
		if (d->store_have == want) {
			memcpy(payload, d->store_msg + sizeof(req), req.len);
			payload[req.len] = '\0';
			uint32_t rlen = store_answer(d, &req, payload, reply);
			if (XENSTORE_RING_SIZE - used < rlen)
				break;           /* no room for the reply: retry on the next kick */
			ring_copy_in(intf->rsp, rs_prod, reply, rlen);
			__atomic_store_n(&intf->rsp_prod, rs_prod + rlen, __ATOMIC_RELEASE);
			d->store_have = 0;
			progress = true;
			continue;
		}
		if (avail == 0)
			break;
		n = want - d->store_have < avail ? want - d->store_have : avail;
		ring_copy_out(intf->req, rq_cons, d->store_msg + d->store_have, n);
		/* The copy is taken before the guest may reuse the space. */
		__atomic_store_n(&intf->req_cons, rq_cons + n, __ATOMIC_RELEASE);
		d->store_have += n;
		progress = true;         /* space freed: a writer waiting for it must hear */
		if (d->store_have == sizeof(req)) {
			memcpy(&req, d->store_msg, sizeof(req));
			if (req.len > XENSTORE_PAYLOAD_MAX) {
				d->store_broken = true;
				break;
			}
		}
	}
	if (progress)
		xts_evtchn_set_pending(d, port);
}

void xts_pvio_notify(struct xts_domain *d, enum xts_backend b, uint32_t port)
{
	if (b == XTS_BACKEND_CONSOLE)
		console_drain(d, port);
	else if (b == XTS_BACKEND_STORE)
		store_serve(d, port);
}
