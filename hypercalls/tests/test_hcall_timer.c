/*
 * Timers: deadlines in Xen system time, host TSC deadlines handed to the
 * platform, never an early VIRQ_TIMER, the `future` flag by Xen version,
 * set_timer_op's rules, periodic timers, and wake-ups of blocked vCPUs.
 * The host runs at 1 GHz with system time 0 at T0, so the host TSC at
 * which system time reaches D ns is T0 + D: the tests rely on that.
 */
#include "hypercalls/tests/fake.h"

#define VCPUOP __HYPERVISOR_vcpu_op
#define PENDING offsetof(struct shared_info_x86_64, evtchn_pending)

static bool port_pending(struct fake *f, uint32_t port)
{
	return (ld64(f, SHINFO_GPA + PENDING + (port / 64) * 8) >> (port % 64)) & 1;
}

/* The guest handles `port` (vCPU 0's): once its word is clear, its selector bit and the upcall too. */
static void clear_port(struct fake *f, uint32_t port)
{
	uint64_t w = ld64(f, SHINFO_GPA + PENDING + (port / 64) * 8) & ~(1ULL << (port % 64));
	uint64_t sel = ld64(f, SHINFO_GPA + 8);   /* vCPU 0 evtchn_pending_sel */

	memcpy(gp(f, SHINFO_GPA + PENDING + (port / 64) * 8), &w, 8);
	if (w)
		return;
	sel &= ~(1ULL << (port / 64));
	memcpy(gp(f, SHINFO_GPA + 8), &sel, 8);
	if (!sel)
		*(uint8_t *)gp(f, SHINFO_GPA) = 0;   /* vCPU 0 upcall_pending */
}

static int64_t singleshot(struct fake *f, unsigned caller, unsigned target, uint64_t abs_ns,
			  uint32_t flags)
{
	struct vcpu_set_singleshot_timer s = { .timeout_abs_ns = abs_ns, .flags = flags };

	memcpy(gp(f, ARG), &s, sizeof(s));
	return hc(f, caller, VCPUOP, VCPUOP_set_singleshot_timer, target, ARG);
}

static struct fake *setup(unsigned nr, uint32_t version, uint32_t *port)
{
	struct fake *f = fake_new_ex(nr, version, false);

	map_shinfo(f, SHINFO_GPA);
	set_callback_vector(f, 0xf3);
	*port = bind_virq(f, 0, VIRQ_TIMER);
	return f;
}

static void test_singleshot_never_early(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);
	uint64_t deadline = 5000000;         /* 5 ms of system time */

	f->host_tsc = T0 + 1000;
	assert_int_equal(singleshot(f, 0, 0, deadline, 0), 0);
	assert_int_equal(f->armed[0], T0 + deadline);
	assert_false(port_pending(f, port));

	/* The host timer fires early (one tick before): no VIRQ, re-armed for the same instant. */
	f->host_tsc = T0 + deadline - 1;
	fire(f, 0);
	assert_false(port_pending(f, port));
	assert_int_equal(f->armed[0], T0 + deadline);
	assert_int_equal(f->n_inject, 0);

	/* At the deadline: VIRQ_TIMER, upcall, and the host timer is disarmed. */
	f->host_tsc = T0 + deadline;
	fire(f, 0);
	assert_true(port_pending(f, port));
	assert_int_equal(f->n_inject, 1);
	assert_int_equal(f->armed[0], 0);

	/* A spurious later fire does nothing more. */
	clear_port(f, port);
	f->host_tsc += 1000000;
	fire(f, 0);
	assert_false(port_pending(f, port));
	fake_free(f);
}

static void test_singleshot_stop_and_other_vcpu(void **state)
{
	uint32_t port;
	struct fake *f = setup(2, 0x40011, &port);

	assert_int_equal(singleshot(f, 0, 1, 1000000, 0), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_stop_singleshot_timer, 1, 0), -XEN_EINVAL);
	assert_int_equal(singleshot(f, 0, 2, 1000000, 0), -XEN_ENOENT);
	assert_int_equal(singleshot(f, 0, 0, 1000000, 0), 0);
	assert_int_equal(f->armed[0], T0 + 1000000);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_stop_singleshot_timer, 0, 0), 0);
	assert_int_equal(f->armed[0], 0);
	f->host_tsc = T0 + 2000000;
	fire(f, 0);
	assert_false(port_pending(f, port));
	/* Unreadable argument: -EFAULT and no timer. */
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_set_singleshot_timer, 0, RAM_SIZE - 8), -XEN_EFAULT);
	assert_int_equal(f->armed[0], 0);
	fake_free(f);
}

static void test_future_flag_417(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);

	f->host_tsc = T0 + 10000000;
	assert_int_equal(singleshot(f, 0, 0, 9999999, VCPU_SSHOTTMR_future), -XEN_ETIME);
	assert_false(port_pending(f, port));
	assert_int_equal(f->armed[0], 0);
	/* Without the flag a past deadline fires at once. */
	assert_int_equal(singleshot(f, 0, 0, 9999999, 0), 0);
	assert_true(port_pending(f, port));
	/* Exactly now is not in the past. */
	clear_port(f, port);
	assert_int_equal(singleshot(f, 0, 0, 10000000, VCPU_SSHOTTMR_future), 0);
	assert_true(port_pending(f, port));
	fake_free(f);
}

static void test_future_flag_418(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40012, &port);

	f->host_tsc = T0 + 10000000;
	assert_int_equal(singleshot(f, 0, 0, 9999999, VCPU_SSHOTTMR_future), 0);
	assert_true(port_pending(f, port));
	assert_int_equal(f->n_inject, 1);
	fake_free(f);
}

static int64_t set_timer_op(struct fake *f, uint64_t t)
{
	return hc(f, 0, __HYPERVISOR_set_timer_op, t, 0, 0);
}

static void test_set_timer_op_rules(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);
	uint64_t now = 3000000000ULL;

	f->host_tsc = T0 + now;
	assert_int_equal(set_timer_op(f, now + 2000000), 0);
	assert_int_equal(f->armed[0], T0 + now + 2000000);
	assert_int_equal(set_timer_op(f, 0), 0);           /* 0 stops */
	assert_int_equal(f->armed[0], 0);
	assert_int_equal(set_timer_op(f, (uint64_t)-5), 0); /* negative: now + 100 ms */
	assert_int_equal(f->armed[0], T0 + now + 100000000);
	assert_int_equal(set_timer_op(f, now + (1ULL << 50)), 0);  /* 2^50 ahead: 100 ms */
	assert_int_equal(f->armed[0], T0 + now + 100000000);
	assert_int_equal(set_timer_op(f, now + (1ULL << 50) - 1), 0); /* just under: as given */
	assert_int_equal(f->armed[0], T0 + now + (1ULL << 50) - 1);
	/* A past deadline fires at once. */
	assert_int_equal(set_timer_op(f, now - 1), 0);
	assert_true(port_pending(f, port));
	/* 32-bit caller: the timeout comes as (lo, hi). */
	{
		uint64_t t = now + 7000000;

		assert_int_equal(hc_mode(f, 0, false, __HYPERVISOR_set_timer_op, (uint32_t)t, t >> 32, 0,
					 NULL), 0);
		assert_int_equal(f->armed[0], T0 + t);
	}
	fake_free(f);
}

static int64_t set_periodic(struct fake *f, unsigned caller, unsigned target, uint64_t period)
{
	struct vcpu_set_periodic_timer p = { .period_ns = period };

	memcpy(gp(f, ARG), &p, sizeof(p));
	return hc(f, caller, VCPUOP, VCPUOP_set_periodic_timer, target, ARG);
}

#define STIME_DELTA_MAX ((1ULL << 62) - 1)   /* Xen's, xen/include/xen/time.h */

/* Xen's checks: [MILLISECS(1), STIME_DELTA_MAX] ns, nothing set when refused. */
static void test_periodic_period_checks(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);

	f->host_tsc = T0 + 100;
	assert_int_equal(set_periodic(f, 0, 0, 0), -XEN_EINVAL);
	assert_int_equal(set_periodic(f, 0, 0, 999999), -XEN_EINVAL);
	assert_int_equal(set_periodic(f, 0, 0, STIME_DELTA_MAX + 1), -XEN_EINVAL);
	assert_int_equal(set_periodic(f, 0, 0, 1ULL << 63), -XEN_EINVAL);
	assert_int_equal(set_periodic(f, 0, 0, UINT64_MAX), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_set_periodic_timer, 0, RAM_SIZE - 4), -XEN_EFAULT);
	assert_int_equal(f->n_arm, 0);
	assert_false(port_pending(f, port));
	/* The largest period is taken: its first event is last_event (0) + period. */
	assert_int_equal(set_periodic(f, 0, 0, STIME_DELTA_MAX), 0);
	assert_int_equal(f->armed[0], T0 + STIME_DELTA_MAX);
	assert_false(port_pending(f, port));
	/* The smallest. */
	assert_int_equal(set_periodic(f, 0, 0, 1000000), 0);
	assert_int_equal(f->armed[0], T0 + 1000000);
	fake_free(f);
}

/*
 * Xen's vcpu_periodic_timer_work(): the first event is last_event + period
 * with last_event 0 at vCPU creation, so a timer set later than one period
 * into system time ticks at once, inside the hypercall; each next event is
 * a period after the one actually sent.
 */
static void test_periodic_first_tick_at_once(void **state)
{
	uint32_t port;
	struct fake *f = setup(2, 0x40011, &port);
	uint64_t now = 3000000000ULL, ev;
	unsigned tick;

	f->host_tsc = T0 + now;
	assert_int_equal(set_periodic(f, 0, 0, 1000000), 0);
	assert_true(port_pending(f, port));
	assert_int_equal(f->n_inject, 1);
	assert_int_equal(f->armed[0], T0 + now + 1000000);
	clear_port(f, port);
	ev = now;
	for (tick = 1; tick <= 5; tick++) {
		uint64_t due = ev + 1000000;

		assert_int_equal(f->armed[0], T0 + due);
		f->host_tsc = T0 + due - 10;     /* early host timer: nothing */
		fire(f, 0);
		assert_false(port_pending(f, port));
		assert_int_equal(f->armed[0], T0 + due);
		/* Late by tick * 100 us: the next period counts from this event. */
		ev = due + tick * 100000;
		f->host_tsc = T0 + ev;
		fire(f, 0);
		assert_true(port_pending(f, port));
		clear_port(f, port);
	}
	assert_int_equal(f->armed[0], T0 + ev + 1000000);
	/* Another vCPU may set or stop it (Xen allows that for periodic timers). */
	assert_int_equal(hc(f, 1, VCPUOP, VCPUOP_stop_periodic_timer, 0, 0), 0);
	assert_int_equal(f->armed[0], 0);
	f->host_tsc = T0 + ev + 5000000;
	fire(f, 0);
	assert_false(port_pending(f, port));
	fake_free(f);
}

/* Before one period of system time the first event waits for last_event (0) + period. */
static void test_periodic_early_in_boot(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);

	f->host_tsc = T0 + 500;
	assert_int_equal(set_periodic(f, 0, 0, 1000000), 0);
	assert_false(port_pending(f, port));
	assert_int_equal(f->armed[0], T0 + 1000000);
	f->host_tsc = T0 + 1000000;
	fire(f, 0);
	assert_true(port_pending(f, port));
	assert_int_equal(f->armed[0], T0 + 2000000);
	fake_free(f);
}

/* last_event survives stop and set: a set within a period of the last event waits for it. */
static void test_periodic_last_event_kept(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);
	uint64_t last = 7000000000ULL;

	f->host_tsc = T0 + last;
	assert_int_equal(set_periodic(f, 0, 0, 1000000), 0);   /* ticks at once: last */
	assert_true(port_pending(f, port));
	clear_port(f, port);
	f->host_tsc = T0 + last + 400000;
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_stop_periodic_timer, 0, 0), 0);
	assert_int_equal(f->armed[0], 0);
	assert_int_equal(set_periodic(f, 0, 0, 1000000), 0);
	assert_false(port_pending(f, port));
	assert_int_equal(f->armed[0], T0 + last + 1000000);
	/* A new period counts from the same last event. */
	assert_int_equal(set_periodic(f, 0, 0, 2000000), 0);
	assert_false(port_pending(f, port));
	assert_int_equal(f->armed[0], T0 + last + 2000000);
	/* Set again once the last event is a period back: at once. */
	f->host_tsc = T0 + last + 2000000;
	assert_int_equal(set_periodic(f, 0, 0, 2000000), 0);
	assert_true(port_pending(f, port));
	assert_int_equal(f->armed[0], T0 + last + 4000000);
	fake_free(f);
}

/*
 * Xen stops the periodic timer of a vCPU it switches out (blocked) and
 * runs vcpu_periodic_timer_work() when it switches it in again: no tick
 * wakes a blocked vCPU, and one due meanwhile comes when it runs again.
 */
static void test_periodic_stopped_while_blocked(void **state)
{
	uint32_t port, dbg;
	struct fake *f = setup(1, 0x40011, &port);
	enum xts_hcall_action act;
	uint64_t now = 2000000000ULL;

	dbg = bind_virq(f, 0, VIRQ_DEBUG);
	f->host_tsc = T0 + now;
	xts_domain_vcpu_running(f->d, 0, true);
	assert_int_equal(set_periodic(f, 0, 0, 1000000), 0);
	clear_port(f, port);
	assert_int_equal(f->armed[0], T0 + now + 1000000);

	/* Blocks 100 us later: the host timer goes, and the old deadline wakes nothing. */
	f->host_tsc = T0 + now + 100000;
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	assert_int_equal(f->armed[0], 0);
	f->host_tsc = T0 + now + 5000000;
	fire(f, 0);
	assert_false(port_pending(f, port));
	assert_false(xts_domain_vcpu_runnable(f->d, 0));

	/* Another event wakes it; the tick comes when the VMM runs it again. */
	f->host_tsc = T0 + now + 7000000;
	xts_domain_send_virq(f->d, 0, VIRQ_DEBUG);
	assert_true(xts_domain_vcpu_runnable(f->d, 0));
	assert_true(port_pending(f, dbg));
	assert_false(port_pending(f, port));
	f->host_tsc = T0 + now + 7500000;
	xts_domain_vcpu_running(f->d, 0, true);
	assert_true(port_pending(f, port));
	assert_int_equal(f->armed[0], T0 + now + 8500000);
	clear_port(f, port);
	clear_port(f, dbg);

	/* Woken before the next tick is due: none at the switch, the same deadline. */
	f->host_tsc = T0 + now + 7600000;
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	assert_int_equal(f->armed[0], 0);
	xts_domain_send_virq(f->d, 0, VIRQ_DEBUG);
	f->host_tsc = T0 + now + 7700000;
	xts_domain_vcpu_running(f->d, 0, true);
	assert_false(port_pending(f, port));
	assert_int_equal(f->armed[0], T0 + now + 8500000);
	clear_port(f, dbg);

	/* A tick due when it blocks is sent first, and wakes it at once. */
	f->host_tsc = T0 + now + 8500000;
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, &act), 0);
	assert_true(port_pending(f, port));
	assert_true(xts_domain_vcpu_runnable(f->d, 0));
	assert_int_equal(f->armed[0], T0 + now + 9500000);
	clear_port(f, port);

	/* SCHEDOP_poll deschedules it too; its timeout still fires. */
	{
		struct sched_poll sp = { .nr_ports = 1, .timeout = now + 20000000 };

		set_xen_guest_handle(sp.ports, (evtchn_port_t *)(uintptr_t)ARG2);
		memcpy(gp(f, ARG2), &dbg, 4);
		memcpy(gp(f, ARG), &sp, sizeof(sp));
		f->host_tsc = T0 + now + 9000000;
		assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0,
					 &act), 0);
		assert_int_equal(act, XTS_HCALL_BLOCK);
		assert_int_equal(f->armed[0], T0 + now + 20000000);
		f->host_tsc = T0 + now + 20000000;
		fire(f, 0);
		assert_true(xts_domain_vcpu_runnable(f->d, 0));
		assert_false(port_pending(f, port));
		xts_domain_vcpu_running(f->d, 0, true);
		assert_true(port_pending(f, port));
		assert_int_equal(f->armed[0], T0 + now + 21000000);
	}
	fake_free(f);
}

/* Set on a blocked vCPU by another: Xen sets the timer anyway, so its event wakes it. */
static void test_periodic_set_on_blocked_vcpu(void **state)
{
	uint32_t port, port1;
	struct fake *f = setup(2, 0x40011, &port);
	enum xts_hcall_action act;
	uint64_t now = 1000000000ULL;
	unsigned kicks;

	port1 = bind_virq(f, 1, VIRQ_TIMER);
	f->host_tsc = T0 + now;
	xts_domain_vcpu_running(f->d, 1, true);
	assert_int_equal(hc_mode(f, 1, true, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	kicks = f->n_kick;
	assert_int_equal(set_periodic(f, 0, 1, 5000000), 0);     /* last_event 0: at once */
	assert_true(port_pending(f, port1));
	assert_true(xts_domain_vcpu_runnable(f->d, 1));
	assert_true(f->n_kick > kicks);
	assert_int_equal(f->armed[1], T0 + now + 5000000);
	fake_free(f);
}

/* VCPUOP_down deschedules the vCPU: its periodic timer waits for it to run again. */
static void test_periodic_vcpu_down(void **state)
{
	uint32_t port, port1;
	struct fake *f = setup(2, 0x40011, &port);
	uint64_t now = 1000000000ULL;

	port1 = bind_virq(f, 1, VIRQ_TIMER);
	f->host_tsc = T0 + now;
	xts_domain_vcpu_running(f->d, 1, true);
	assert_int_equal(set_periodic(f, 1, 1, 1000000), 0);
	assert_true(port_pending(f, port1));
	assert_int_equal(f->armed[1], T0 + now + 1000000);
	assert_int_equal(hc(f, 1, VCPUOP, VCPUOP_down, 1, 0), 0);
	assert_int_equal(f->armed[1], 0);
	fake_free(f);
}

static void test_block_woken_by_timer(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);
	enum xts_hcall_action act;

	assert_int_equal(singleshot(f, 0, 0, 2000000, 0), 0);
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	assert_false(xts_domain_vcpu_runnable(f->d, 0));
	f->host_tsc = T0 + 1999999;
	fire(f, 0);
	assert_false(xts_domain_vcpu_runnable(f->d, 0));
	f->host_tsc = T0 + 2000000;
	fire(f, 0);
	assert_true(xts_domain_vcpu_runnable(f->d, 0));
	assert_true(f->n_kick >= 1);
	/* Blocking with an upcall already pending returns at once. */
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_DONE);
	fake_free(f);
}

static void test_poll(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);
	struct sched_poll sp = { .nr_ports = 1, .timeout = 4000000 };
	enum xts_hcall_action act;
	uint32_t ports[1] = { port };

	set_xen_guest_handle(sp.ports, (evtchn_port_t *)(uintptr_t)ARG2);
	memcpy(gp(f, ARG2), ports, sizeof(ports));
	memcpy(gp(f, ARG), &sp, sizeof(sp));
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	assert_int_equal(f->armed[0], T0 + 4000000);
	f->host_tsc = T0 + 3999999;
	fire(f, 0);
	assert_false(xts_domain_vcpu_runnable(f->d, 0));
	f->host_tsc = T0 + 4000000;
	fire(f, 0);
	assert_true(xts_domain_vcpu_runnable(f->d, 0));
	assert_false(port_pending(f, port));  /* a poll timeout raises no event */

	/* Woken by the polled port even though it is masked. */
	{
		uint64_t m = 1ULL << port;

		memcpy(gp(f, SHINFO_GPA + offsetof(struct shared_info_x86_64, evtchn_mask)), &m, 8);
	}
	sp.timeout = 0;
	memcpy(gp(f, ARG), &sp, sizeof(sp));
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	xts_domain_send_virq(f->d, 0, VIRQ_TIMER);
	assert_true(xts_domain_vcpu_runnable(f->d, 0));
	/* Port already pending: no blocking. */
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_DONE);

	/* Hostile: too many ports, bad port numbers, port array outside RAM. */
	sp.nr_ports = 129;
	memcpy(gp(f, ARG), &sp, sizeof(sp));
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0), -XEN_EINVAL);
	sp.nr_ports = 1;
	ports[0] = 4096;
	memcpy(gp(f, ARG2), ports, sizeof(ports));
	memcpy(gp(f, ARG), &sp, sizeof(sp));
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0), -XEN_EINVAL);
	sp.nr_ports = 128;
	set_xen_guest_handle(sp.ports, (evtchn_port_t *)(uintptr_t)(RAM_SIZE - 16));
	memcpy(gp(f, ARG), &sp, sizeof(sp));
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0), -XEN_EFAULT);
	assert_true(xts_domain_vcpu_runnable(f->d, 0));
	fake_free(f);
}

/* A 32-bit caller's sched_poll: handle 4 bytes, nr_ports at 4, timeout at 8. */
static void test_poll_32bit(void **state)
{
	uint32_t port;
	struct fake *f = setup(1, 0x40011, &port);
	uint8_t raw[16] = { 0 };
	uint32_t h = (uint32_t)ARG2, nr = 1;
	uint64_t timeout = 6000000;
	enum xts_hcall_action act;

	memcpy(raw, &h, 4);
	memcpy(raw + 4, &nr, 4);
	memcpy(raw + 8, &timeout, 8);
	memcpy(gp(f, ARG), raw, sizeof(raw));
	memcpy(gp(f, ARG2), &port, 4);
	assert_int_equal(hc_mode(f, 0, false, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	assert_int_equal(f->armed[0], T0 + timeout);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_singleshot_never_early),
		cmocka_unit_test(test_singleshot_stop_and_other_vcpu),
		cmocka_unit_test(test_future_flag_417),
		cmocka_unit_test(test_future_flag_418),
		cmocka_unit_test(test_set_timer_op_rules),
		cmocka_unit_test(test_periodic_period_checks),
		cmocka_unit_test(test_periodic_first_tick_at_once),
		cmocka_unit_test(test_periodic_early_in_boot),
		cmocka_unit_test(test_periodic_last_event_kept),
		cmocka_unit_test(test_periodic_stopped_while_blocked),
		cmocka_unit_test(test_periodic_set_on_blocked_vcpu),
		cmocka_unit_test(test_periodic_vcpu_down),
		cmocka_unit_test(test_block_woken_by_timer),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_poll_32bit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
