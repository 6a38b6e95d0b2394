/*
 * hvm_op parameters, console_io, grant_table_op, sched_op shutdown, and the
 * PV console and xenstore ring backends.
 */
#include <stdio.h>
#include "hypercalls/tests/fake.h"
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

static int64_t param(struct fake *f, bool set, uint16_t dom, uint32_t idx, uint64_t *value)
{
	struct xen_hvm_param p = { .domid = dom, .index = idx, .value = *value };
	int64_t rc;

	memcpy(gp(f, ARG), &p, sizeof(p));
	rc = hc(f, 0, __HYPERVISOR_hvm_op, set ? HVMOP_set_param : HVMOP_get_param, ARG, 0);
	memcpy(&p, gp(f, ARG), sizeof(p));
	*value = p.value;
	return rc;
}

static void test_hvm_params(void **state)
{
	struct fake *f = fake_new(1);
	uint64_t v = 0, store_port, cons_port;

	assert_int_equal(param(f, false, DOMID_SELF, HVM_PARAM_STORE_PFN, &v), 0);
	assert_int_equal(v, STORE_PFN);
	assert_int_equal(param(f, false, 7, HVM_PARAM_CONSOLE_PFN, &v), 0);
	assert_int_equal(v, CONSOLE_PFN);
	assert_int_equal(param(f, false, DOMID_SELF, HVM_PARAM_STORE_EVTCHN, &store_port), 0);
	assert_int_equal(param(f, false, DOMID_SELF, HVM_PARAM_CONSOLE_EVTCHN, &cons_port), 0);
	assert_true(store_port > 0 && cons_port > 0 && store_port != cons_port);
	/* The ports are interdomain channels to dom0 (the backends). */
	{
		struct evtchn_status s = { .dom = DOMID_SELF, .port = (uint32_t)store_port };

		memcpy(gp(f, ARG), &s, sizeof(s));
		assert_int_equal(hc(f, 0, __HYPERVISOR_event_channel_op, EVTCHNOP_status, ARG, 0), 0);
		memcpy(&s, gp(f, ARG), sizeof(s));
		assert_int_equal(s.status, EVTCHNSTAT_interdomain);
		assert_int_equal(s.u.interdomain.dom, 0);
	}
	v = 0;
	assert_int_equal(param(f, false, 3, HVM_PARAM_STORE_PFN, &v), -XEN_ESRCH);
	assert_int_equal(param(f, false, DOMID_SELF, HVM_NR_PARAMS, &v), -XEN_EINVAL);
	assert_int_equal(param(f, false, DOMID_SELF, 0xffffffff, &v), -XEN_EINVAL);
	assert_int_equal(param(f, false, DOMID_SELF, HVM_PARAM_IDENT_PT, &v), -XEN_EPERM);
	v = 0x1234;
	assert_int_equal(param(f, true, DOMID_SELF, HVM_PARAM_STORE_PFN, &v), -XEN_EPERM);
	/* CALLBACK_IRQ: vector type, vectors below 0x10 refused. */
	v = (2ULL << 56) | 0x0f;
	assert_int_equal(param(f, true, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), -XEN_EINVAL);
	v = (2ULL << 56) | 0xf3;
	assert_int_equal(param(f, true, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
	v = 0;
	assert_int_equal(param(f, false, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
	assert_int_equal(v, (2ULL << 56) | 0xf3);
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_get_param, RAM_SIZE - 8, 0), -XEN_EFAULT);
	/* HVMOP_get_time: Xen system time. */
	f->host_tsc = T0 + 424242;
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_get_time, ARG, 0), 0);
	assert_int_equal(ld64(f, ARG), 424242);
	fake_free(f);
}

/*
 * External records (--backend kernel): the guest reads the keeper's line
 * (kvmclock), which agrees with the model only at load.  Here the keeper
 * runs KEEPER_AHEAD ns ahead of the model, as KVM's line did by 1.1 us in
 * the test bed.  HVMOP_get_time must answer on the keeper's line, and a
 * set_timer_op deadline on that line must arm the host timer at the host
 * TSC where the keeper reaches it: at 1 GHz, T0 + deadline - KEEPER_AHEAD.
 */
#define KEEPER_AHEAD 1100ULL

static void f_send_event(void *o, unsigned vcpu, uint32_t port) { }

static int f_keeper_time(void *o, uint64_t *ns, uint64_t *host_tsc)
{
	struct fake *f = o;

	*host_tsc = f->host_tsc;
	*ns = f->host_tsc - T0 + KEEPER_AHEAD;
	return 0;
}

static void test_keeper_line(void **state)
{
	struct fake *f = fake_new(1);
	struct xts_platform_ops ops = fake_ops;

	xts_domain_destroy(f->d);
	ops.send_event = f_send_event;
	ops.system_time = f_keeper_time;
	f->cfg.ops = &ops;
	f->cfg.external_records = true;
	assert_int_equal(xts_domain_create(&f->cfg, &f->d), 0);

	f->host_tsc = T0 + 40805439;
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_get_time, ARG, 0), 0);
	assert_int_equal(ld64(f, ARG), 40805439 + KEEPER_AHEAD);

	uint64_t deadline = 40805439 + KEEPER_AHEAD + 500000;
	assert_int_equal(hc(f, 0, __HYPERVISOR_set_timer_op, deadline, 0, 0), 0);
	assert_int_equal(f->armed[0], T0 + deadline - KEEPER_AHEAD);

	/* A keeper that cannot say: the model's line. */
	ops.system_time = NULL;
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_get_time, ARG, 0), 0);
	assert_int_equal(ld64(f, ARG), 40805439);
	fake_free(f);
}

static void test_console_io(void **state)
{
	struct fake *f = fake_new(1);
	static const char msg[] = "hello from the guest\n";

	memcpy(gp(f, ARG), msg, sizeof(msg) - 1);
	assert_int_equal(hc(f, 0, __HYPERVISOR_console_io, CONSOLEIO_write, sizeof(msg) - 1, ARG), 0);
	assert_int_equal(f->console_len, sizeof(msg) - 1);
	assert_memory_equal(f->console, msg, sizeof(msg) - 1);
	/* Across pages, in one piece. */
	memset(gp(f, 0x40ff0), 'x', 300);
	assert_int_equal(hc(f, 0, __HYPERVISOR_console_io, CONSOLEIO_write, 300, 0x40ff0), 0);
	assert_int_equal(f->console_len, sizeof(msg) - 1 + 300);
	/* Hostile: runs off RAM, wraps, huge count: nothing written at all. */
	f->console_len = 0;
	assert_int_equal(hc(f, 0, __HYPERVISOR_console_io, CONSOLEIO_write, 64, RAM_SIZE - 32),
			 -XEN_EFAULT);
	assert_int_equal(hc(f, 0, __HYPERVISOR_console_io, CONSOLEIO_write, 64, UINT64_MAX - 16),
			 -XEN_EFAULT);
	assert_int_equal(hc(f, 0, __HYPERVISOR_console_io, CONSOLEIO_write, 0xffffffffu, ARG),
			 -XEN_EINVAL);
	/* A 32-bit caller cannot reach past 4 GiB by wrapping. */
	assert_int_equal(hc_mode(f, 0, false, __HYPERVISOR_console_io, CONSOLEIO_write, 64,
				 0xfffffff0u, NULL), -XEN_EFAULT);
	assert_int_equal(f->console_len, 0);
	assert_int_equal(hc(f, 0, __HYPERVISOR_console_io, CONSOLEIO_read, 16, ARG), 0);
	fake_free(f);
}

/*
 * No grant table, as in a Xen built without CONFIG_GRANT_TABLE: every
 * sub-op is -ENOSYS and the guest's buffer is left alone.  In particular
 * query_size never reports max_nr_frames 0 with GNTST_okay, which a Linux
 * PVH guest turns into BUG_ON(nr_grant_frames == 0) in xlate_mmu.c.
 */
static void test_grant_table_absent(void **state)
{
	struct fake *f = fake_new(1);
	struct gnttab_query_size q = { .dom = DOMID_SELF, .nr_frames = 99, .max_nr_frames = 99,
				       .status = 77 };
	const uint32_t cmds[] = { GNTTABOP_query_size, GNTTABOP_setup_table,
				  GNTTABOP_set_version, GNTTABOP_map_grant_ref, 0xffffffffu };

	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		memcpy(gp(f, ARG), &q, sizeof(q));
		assert_int_equal(hc(f, 0, __HYPERVISOR_grant_table_op, cmds[i], ARG, 1),
				 -XEN_ENOSYS);
		assert_memory_equal(gp(f, ARG), &q, sizeof(q));
	}
	/* A bad buffer or count changes nothing: the op does not exist. */
	assert_int_equal(hc(f, 0, __HYPERVISOR_grant_table_op, GNTTABOP_query_size,
			    RAM_SIZE - 8, 1), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_grant_table_op, GNTTABOP_query_size, ARG, 2),
			 -XEN_ENOSYS);
	fake_free(f);
}

static void test_shutdown(void **state)
{
	struct fake *f = fake_new(1);
	unsigned reason;

	for (reason = 0; reason <= SHUTDOWN_MAX; reason++) {
		memcpy(gp(f, ARG), &reason, 4);
		assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown, ARG, 0), 0);
		assert_int_equal(f->shutdown_reason, reason);
	}
	assert_int_equal(f->n_shutdown, SHUTDOWN_MAX + 1);
	reason = SHUTDOWN_MAX + 1;
	memcpy(gp(f, ARG), &reason, 4);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown, ARG, 0), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown, RAM_SIZE, 0), -XEN_EFAULT);
	assert_int_equal(f->n_shutdown, SHUTDOWN_MAX + 1);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0), 0);
	fake_free(f);
}

/*
 * SCHEDOP_watchdog, against Xen 4.17 domain_watchdog() (sched/core.c):
 * two timers, id 0 creates (returns 1, 2, then -ENOSPC), id > 2 and ids not
 * in use -EINVAL, timeout 0 frees; expiry after `timeout` seconds of system
 * time (the fake's 1 GHz host TSC) shuts down with SHUTDOWN_watchdog.
 */
static int64_t wdt(struct fake *f, uint32_t id, uint32_t timeout)
{
	struct sched_watchdog w = { .id = id, .timeout = timeout };

	memcpy(gp(f, ARG), &w, sizeof(w));
	return hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_watchdog, ARG, 0);
}

static void test_watchdog(void **state)
{
	struct fake *f = fake_new(2);

	assert_int_equal(wdt(f, 3, 1), -XEN_EINVAL);
	assert_int_equal(wdt(f, 1, 1), -XEN_EINVAL);          /* not in use */
	assert_int_equal(wdt(f, 0, 10), 1);
	assert_int_equal(wdt(f, 0, 30), 2);
	assert_int_equal(wdt(f, 0, 30), -XEN_ENOSPC);
	assert_int_equal(wdt(f, 2, 0), 0);                     /* frees id 2 */
	assert_int_equal(wdt(f, 2, 5), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_watchdog, RAM_SIZE, 0),
			 -XEN_EFAULT);
	/* Pinged at 4 s: id 1 now expires at 4 + 10 s. */
	f->host_tsc = T0 + 4 * 1000000000ULL;
	assert_int_equal(wdt(f, 1, 10), 0);
	assert_true(f->armed[0] != 0);
	f->host_tsc = T0 + 14 * 1000000000ULL - 1;
	fire(f, 0);
	assert_int_equal(f->n_shutdown, 0);
	f->host_tsc = T0 + 14 * 1000000000ULL;
	fire(f, 0);
	assert_int_equal(f->n_shutdown, 1);
	assert_int_equal(f->shutdown_reason, SHUTDOWN_watchdog);
	fire(f, 0);                                            /* spent: once only */
	assert_int_equal(f->n_shutdown, 1);
	/* A freed watchdog never fires. */
	assert_int_equal(wdt(f, 0, 1), 2);
	assert_int_equal(wdt(f, 2, 0), 0);
	f->host_tsc += 5 * 1000000000ULL;
	fire(f, 0);
	assert_int_equal(f->n_shutdown, 1);
	fake_free(f);
}

/* SCHEDOP_shutdown_code: the first code is what a later shutdown reports (domain_shutdown()). */
static void test_shutdown_code(void **state)
{
	struct fake *f = fake_new(1);
	unsigned reason = SHUTDOWN_crash;

	memcpy(gp(f, ARG), &reason, 4);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown_code, ARG, 0), 0);
	assert_int_equal(f->n_shutdown, 0);                    /* it only records */
	reason = SHUTDOWN_reboot;
	memcpy(gp(f, ARG), &reason, 4);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown_code, ARG, 0), 0);
	reason = SHUTDOWN_MAX + 1;
	memcpy(gp(f, ARG), &reason, 4);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown_code, ARG, 0),
			 -XEN_EINVAL);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown_code, RAM_SIZE, 0),
			 -XEN_EFAULT);
	reason = SHUTDOWN_poweroff;
	memcpy(gp(f, ARG), &reason, 4);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown, ARG, 0), 0);
	assert_int_equal(f->n_shutdown, 1);
	assert_int_equal(f->shutdown_reason, SHUTDOWN_crash);
	fake_free(f);
}

/*
 * SCHEDOP_remote_shutdown as Xen 4.17 answers an unprivileged domU: DOMID_SELF
 * is no real id (-ESRCH from rcu_lock_domain_by_id), its own id fails
 * XSM_DM_PRIV (-EPERM), other ids do not exist here (-ESRCH).
 */
static void test_remote_shutdown(void **state)
{
	struct fake *f = fake_new(1);
	struct sched_remote_shutdown r = { .domain_id = DOMID_SELF, .reason = SHUTDOWN_poweroff };

	memcpy(gp(f, ARG), &r, sizeof(r));
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, ARG, 0),
			 -XEN_ESRCH);
	r.domain_id = f->cfg.domid;
	memcpy(gp(f, ARG), &r, sizeof(r));
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, ARG, 0),
			 -XEN_EPERM);
	r.domain_id = (domid_t)(f->cfg.domid + 1);
	memcpy(gp(f, ARG), &r, sizeof(r));
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, ARG, 0),
			 -XEN_ESRCH);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, RAM_SIZE, 0),
			 -XEN_EFAULT);
	assert_int_equal(f->n_shutdown, 0);
	fake_free(f);
}

/* ---- PV console ring ---- */

static uint32_t get_port(struct fake *f, uint32_t idx)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = idx };

	memcpy(gp(f, ARG), &p, sizeof(p));
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_get_param, ARG, 0), 0);
	memcpy(&p, gp(f, ARG), sizeof(p));
	return (uint32_t)p.value;
}

static int64_t notify(struct fake *f, uint32_t port)
{
	memcpy(gp(f, ARG2), &port, 4);
	return hc(f, 0, __HYPERVISOR_event_channel_op, EVTCHNOP_send, ARG2, 0);
}

static void test_console_ring(void **state)
{
	struct fake *f = fake_new(1);
	struct xencons_interface *c = gp(f, CONSOLE_PFN << 12);
	uint32_t port = get_port(f, HVM_PARAM_CONSOLE_EVTCHN);
	uint32_t i, prod;
	const char *msg = "ring text";

	map_shinfo(f, SHINFO_GPA);
	/* Start near the index wrap to exercise it. */
	c->out_cons = c->out_prod = 0xfffffffa;
	prod = c->out_prod;
	for (i = 0; i < strlen(msg); i++)
		c->out[(prod++) & (sizeof(c->out) - 1)] = msg[i];
	c->out_prod = prod;
	assert_int_equal(notify(f, port), 0);
	assert_int_equal(f->console_len, strlen(msg));
	assert_memory_equal(f->console, msg, strlen(msg));
	assert_int_equal(c->out_cons, prod);
	/* The backend notified back. */
	assert_true((ld64(f, SHINFO_GPA + 2048 + (port / 64) * 8) >> (port % 64)) & 1);
	/* A producer more than a ring ahead is garbage: ignored from then on. */
	c->out_prod = c->out_cons + sizeof(c->out) + 1;
	f->console_len = 0;
	assert_int_equal(notify(f, port), 0);
	assert_int_equal(f->console_len, 0);
	fake_free(f);
}

/* ---- xenstore ring ---- */

static void xs_put(struct xenstore_domain_interface *x, const void *buf, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		x->req[(x->req_prod + i) & (XENSTORE_RING_SIZE - 1)] = ((const char *)buf)[i];
	x->req_prod += len;
}

static void xs_request(struct xenstore_domain_interface *x, uint32_t type, uint32_t id,
		       const char *path)
{
	struct xsd_sockmsg m = { .type = type, .req_id = id, .tx_id = 0,
				 .len = (uint32_t)strlen(path) + 1 };

	xs_put(x, &m, sizeof(m));
	xs_put(x, path, m.len);
}

static uint32_t xs_reply(struct xenstore_domain_interface *x, struct xsd_sockmsg *m, char *body)
{
	uint32_t i;

	if (x->rsp_prod - x->rsp_cons < sizeof(*m))
		return 0;
	for (i = 0; i < sizeof(*m); i++)
		((char *)m)[i] = x->rsp[(x->rsp_cons + i) & (XENSTORE_RING_SIZE - 1)];
	for (i = 0; i < m->len; i++)
		body[i] = x->rsp[(x->rsp_cons + sizeof(*m) + i) & (XENSTORE_RING_SIZE - 1)];
	body[m->len] = 0;
	x->rsp_cons += sizeof(*m) + m->len;
	return 1;
}

static void test_xenstore_ring(void **state)
{
	struct fake *f = fake_new(1);
	struct xenstore_domain_interface *x = gp(f, STORE_PFN << 12);
	uint32_t port = get_port(f, HVM_PARAM_STORE_EVTCHN);
	struct xsd_sockmsg m;
	char body[4200];

	map_shinfo(f, SHINFO_GPA);
	xs_request(x, XS_READ, 11, "domid");
	xs_request(x, XS_READ, 12, "/local/domain/7/domid");
	xs_request(x, XS_READ, 13, "device/vif/0/state");
	xs_request(x, XS_WATCH, 14, "memory/target");
	assert_int_equal(notify(f, port), 0);
	assert_int_equal(x->req_cons, x->req_prod);

	assert_true(xs_reply(x, &m, body));
	assert_int_equal(m.type, XS_READ);
	assert_int_equal(m.req_id, 11);
	assert_int_equal(m.len, 1);
	assert_string_equal(body, "7");
	assert_true(xs_reply(x, &m, body));
	assert_int_equal(m.req_id, 12);
	assert_string_equal(body, "7");
	assert_true(xs_reply(x, &m, body));
	assert_int_equal(m.type, XS_ERROR);
	assert_int_equal(m.req_id, 13);
	assert_int_equal(m.len, 7);
	assert_string_equal(body, "ENOENT");
	assert_true(xs_reply(x, &m, body));
	assert_int_equal(m.type, XS_WATCH);
	assert_string_equal(body, "OK");
	assert_false(xs_reply(x, &m, body));

	/*
	 * Linux's xb_write() puts the header and the body in two writes and
	 * notifies only when it finds the ring empty (prod <= req_cons): the
	 * body of a request whose header was left in the ring is never
	 * announced.  The reply must come anyway.
	 */
	{
		struct xsd_sockmsg h = { .type = XS_READ, .req_id = 20, .len = 6 };
		uint32_t prod = x->req_prod;

		xs_put(x, &h, sizeof(h));
		if (prod <= x->req_cons)
			assert_int_equal(notify(f, port), 0);
		assert_false(xs_reply(x, &m, body));
		prod = x->req_prod;
		xs_put(x, "domid", 6);
		if (prod <= x->req_cons)
			assert_int_equal(notify(f, port), 0);
		assert_true(xs_reply(x, &m, body));
		assert_int_equal(m.req_id, 20);
		assert_string_equal(body, "7");
	}
	/* A body arriving in pieces, each notified: answered once whole. */
	{
		struct xsd_sockmsg h = { .type = XS_READ, .req_id = 22, .len = 6 };

		xs_put(x, &h, sizeof(h));
		xs_put(x, "dom", 3);
		assert_int_equal(notify(f, port), 0);
		assert_false(xs_reply(x, &m, body));
		xs_put(x, "id", 3);
		assert_int_equal(notify(f, port), 0);
		assert_true(xs_reply(x, &m, body));
		assert_int_equal(m.req_id, 22);
		assert_string_equal(body, "7");
	}
	/* An oversized length breaks the connection: no reply, no crash. */
	{
		struct xsd_sockmsg h = { .type = XS_READ, .req_id = 21, .len = 100000 };

		xs_put(x, &h, sizeof(h));
		assert_int_equal(notify(f, port), 0);
		assert_false(xs_reply(x, &m, body));
	}
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hvm_params),
		cmocka_unit_test(test_console_io),
		cmocka_unit_test(test_grant_table_absent),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_shutdown_code),
		cmocka_unit_test(test_remote_shutdown),
		cmocka_unit_test(test_keeper_line),
		cmocka_unit_test(test_console_ring),
		cmocka_unit_test(test_xenstore_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
