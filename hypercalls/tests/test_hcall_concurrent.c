/*
 * vCPU threads making hypercalls while a timer thread fires timers, with
 * each vCPU consuming its events the way a guest does (atomic exchanges on
 * upcall_pending and pending_sel, atomic clears of pending bits).  Xen's
 * 2-level invariant says an unmasked pending port is always reachable from
 * its vCPU's pending_sel; a lost or torn update would leave a pending bit
 * behind that the final guest-style drain cannot find.
 */
#include <pthread.h>
#include "hypercalls/tests/fake.h"

#define NV     4
#define ROUNDS 20000

static struct fake *cf;
static uint32_t ipi_port[NV], timer_port[NV];
static uint64_t received[NV];
static int stop_timer;

/* What a guest's upcall handler does: returns events seen. */
static uint64_t drain(unsigned vcpu)
{
	uint8_t *vi = gp(cf, SHINFO_GPA + vcpu * 64);
	uint64_t *pending = gp(cf, SHINFO_GPA + 2048);
	uint64_t *mask = gp(cf, SHINFO_GPA + 2560);
	uint64_t sel, n = 0;

	__atomic_store_n(vi, 0, __ATOMIC_SEQ_CST);
	sel = __atomic_exchange_n((uint64_t *)(vi + 8), 0, __ATOMIC_SEQ_CST);
	while (sel) {
		unsigned w = __builtin_ctzll(sel);
		uint64_t bits;

		sel &= sel - 1;
		bits = __atomic_load_n(&pending[w], __ATOMIC_SEQ_CST) &
		       ~__atomic_load_n(&mask[w], __ATOMIC_SEQ_CST);
		while (bits) {
			unsigned b = __builtin_ctzll(bits);

			bits &= bits - 1;
			if (__atomic_fetch_and(&pending[w], ~(1ULL << b), __ATOMIC_SEQ_CST) & (1ULL << b))
				n++;
		}
	}
	return n;
}

static void *vcpu_thread(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg, i;

	for (i = 0; i < ROUNDS; i++) {
		struct xts_hcall h = { .nr = __HYPERVISOR_event_channel_op, .long_mode = true,
				       .args = { EVTCHNOP_send, ARG + 64 * ((me + 1) % NV) } };
		int64_t ret;

		xts_hypercall(cf->d, me, &h, &ret);
		assert_int_equal(ret, 0);
		if (i % 7 == 0) {
			/* A deadline already passed: VIRQ_TIMER at once. */
			struct xts_hcall t = { .nr = __HYPERVISOR_set_timer_op, .long_mode = true,
					       .args = { 1 } };

			xts_hypercall(cf->d, me, &t, &ret);
			assert_int_equal(ret, 0);
		}
		received[me] += drain(me);
	}
	return NULL;
}

static void *timer_thread(void *arg)
{
	unsigned i = 0;

	while (!__atomic_load_n(&stop_timer, __ATOMIC_SEQ_CST))
		xts_domain_timer_fired(cf->d, i++ % NV);
	return NULL;
}

static void test_concurrent_events(void **state)
{
	pthread_t t[NV], tt;
	unsigned i, w;

	cf = fake_new(NV);
	map_shinfo(cf, SHINFO_GPA);
	set_callback_vector(cf, 0xf3);
	for (i = 0; i < NV; i++) {
		struct evtchn_bind_ipi b = { .vcpu = i };

		memcpy(gp(cf, ARG), &b, sizeof(b));
		assert_int_equal(hc(cf, 0, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, ARG, 0), 0);
		memcpy(&b, gp(cf, ARG), sizeof(b));
		ipi_port[i] = b.port;
		timer_port[i] = bind_virq(cf, i, VIRQ_TIMER);
	}
	/* Each vCPU's send argument, prepared before the threads start. */
	for (i = 0; i < NV; i++)
		memcpy(gp(cf, ARG + 64 * i), &ipi_port[i], 4);
	cf->host_tsc = T0 + 1000000;

	assert_int_equal(pthread_create(&tt, NULL, timer_thread, NULL), 0);
	for (i = 0; i < NV; i++)
		assert_int_equal(pthread_create(&t[i], NULL, vcpu_thread, (void *)(uintptr_t)i), 0);
	for (i = 0; i < NV; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&stop_timer, 1, __ATOMIC_SEQ_CST);
	pthread_join(tt, NULL);

	for (i = 0; i < NV; i++) {
		received[i] += drain(i);
		assert_true(received[i] > 0);
		assert_true(received[i] <= ROUNDS + ROUNDS / 7 + 1);
	}
	for (w = 0; w < 64; w++)
		assert_int_equal(ld64(cf, SHINFO_GPA + 2048 + w * 8), 0);
	fake_free(cf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
