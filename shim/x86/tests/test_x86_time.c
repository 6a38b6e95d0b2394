/*
 * Host time on x86: paired samples, the KVM TSC offset derived from the
 * model, programming it into a real vCPU (skipped without /dev/kvm), and
 * host timers that never fire before their host-TSC deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "shim/xtshim.h"

static void test_sample(void **state)
{
	struct xts_host_sample a, b;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t before_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	uint64_t t0 = xts_host_tsc();
	xts_host_sample_now(&a);
	xts_host_sample_now(&b);
	uint64_t t1 = xts_host_tsc();
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t after_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;

	/* Each sample sits between reads taken around it, on both clocks. */
	assert_in_range(a.host_tsc, t0, t1);
	assert_in_range(b.host_tsc, a.host_tsc, t1);
	assert_in_range(a.realtime_ns, before_ns, after_ns);
	assert_in_range(b.realtime_ns, a.realtime_ns, after_ns);
}

static void test_offset_from_model(void **state)
{
	struct xts_clock c;
	memset(&c, 0, sizeof(c));
	c.nr_vcpus = 3;
	c.tsc_ratio = XTS_TSC_RATIO_ONE;
	c.tsc_offset = 0xfffffff000000000ULL;     /* negative: guest behind the host */
	c.vcpu_tsc_skew[1] = 1000;
	c.vcpu_tsc_skew[2] = -5;
	uint64_t off;

	/*
	 * The offsets KVM must get, and the guest TSC at host TSC 0x123456789abc,
	 * worked out by hand (mod 2^64) from tsc_offset + vcpu_tsc_skew[v]: a
	 * dropped skew, a sign error or a carry lost in the wrap shows.
	 */
	static const uint64_t want_off[3] = {
		0xfffffff000000000ULL, 0xfffffff0000003e8ULL, 0xffffffeffffffffbULL,
	};
	static const uint64_t want_guest[3] = {
		0x122456789abcULL, 0x122456789ea4ULL, 0x122456789ab7ULL,
	};
	for (unsigned v = 0; v < 3; v++) {
		assert_int_equal(xts_kvm_tsc_offset(&c, v, &off), 0);
		if (off != want_off[v])
			fail_msg("vCPU %u: KVM offset %#llx, want %#llx", v,
				 (unsigned long long)off, (unsigned long long)want_off[v]);
		uint64_t host = 0x123456789abcULL;
		if (host + off != want_guest[v] || xts_clock_guest_tsc(&c, v, host) != want_guest[v])
			fail_msg("vCPU %u: guest TSC %#llx via KVM, %#llx in the model, want %#llx", v,
				 (unsigned long long)(host + off),
				 (unsigned long long)xts_clock_guest_tsc(&c, v, host),
				 (unsigned long long)want_guest[v]);
	}
	assert_int_equal(xts_kvm_tsc_offset(&c, 3, &off), -EINVAL);
	c.tsc_ratio = XTS_TSC_RATIO_ONE + 1;      /* KVM would have to scale */
	assert_int_equal(xts_kvm_tsc_offset(&c, 0, &off), -ENOTSUP);
}

/* On a real vCPU: the guest TSC KVM reports lies between host reads + offset. */
static void test_apply_on_kvm(void **state)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "SKIP: /dev/kvm: %s\n", strerror(errno));
		skip();
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	assert_true(vm >= 0);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);

	uint32_t khz = 0;
	assert_int_equal(xts_kvm_tsc_khz(vcpu, &khz), 0);
	assert_true(khz > 100000);            /* a real TSC runs above 100 MHz */

	struct xts_clock c;
	memset(&c, 0, sizeof(c));
	c.nr_vcpus = 1;
	c.tsc_ratio = XTS_TSC_RATIO_ONE;
	/*
	 * The guest starts near 10^6 + 777 ticks; the skew is part of what KVM
	 * must be given.  KVM's own IA32_TSC (the vCPU's TSC as KVM computes it
	 * from the host TSC) is the reference, not the model.
	 */
	c.tsc_offset = -xts_host_tsc() + 1000000;
	c.vcpu_tsc_skew[0] = 777;
	int r = xts_kvm_apply_tsc(vcpu, &c, 0);
	if (r == -EOPNOTSUPP) {
		fprintf(stderr, "SKIP: this KVM ignores KVM_VCPU_TSC_OFFSET (PVM?)\n");
		close(vcpu), close(vm), close(kvm);
		skip();
	}
	assert_int_equal(r, 0);
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = 0x10 };
	uint64_t h0 = xts_host_tsc();
	assert_int_equal(ioctl(vcpu, KVM_GET_MSRS, &m), 1);
	uint64_t h1 = xts_host_tsc();
	uint64_t lo = h0 + c.tsc_offset + 777, hi = h1 + c.tsc_offset + 777;
	if (m.e.data < lo || m.e.data > hi)
		fail_msg("KVM's guest TSC %llu outside [%llu, %llu] (host reads + offset + skew)",
			 (unsigned long long)m.e.data, (unsigned long long)lo,
			 (unsigned long long)hi);
	close(vcpu), close(vm), close(kvm);
}

struct fires {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t deadline[4];
	uint64_t fired_tsc[4];
	unsigned count[4];
};

static void on_fire(void *opaque, unsigned idx)
{
	struct fires *f = opaque;
	uint64_t now = xts_host_tsc();
	pthread_mutex_lock(&f->lock);
	f->fired_tsc[idx] = now;
	f->count[idx]++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void wait_for(struct fires *f, unsigned idx)
{
	pthread_mutex_lock(&f->lock);
	while (!f->count[idx])
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

static void test_timers(void **state)
{
	struct fires f = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct xts_host_timers *t;
	uint32_t khz = 0;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm >= 0) {
		int vm = ioctl(kvm, KVM_CREATE_VM, 0);
		int vcpu = vm >= 0 ? ioctl(vm, KVM_CREATE_VCPU, 0) : -1;
		if (vcpu >= 0)
			xts_kvm_tsc_khz(vcpu, &khz);
		close(vcpu), close(vm), close(kvm);
	}
	if (!khz)
		khz = 1000000;      /* any rate: only the "never early" property is checked */

	assert_int_equal(xts_host_timers_create(0, khz, on_fire, &f, &t), -EINVAL);
	assert_int_equal(xts_host_timers_create(4, 0, on_fire, &f, &t), -EINVAL);
	assert_int_equal(xts_host_timers_create(4, khz, on_fire, &f, &t), 0);

	/* Rounds of deadlines 0..1 ms ahead; timer 3 is armed 10 s ahead, then disarmed. */
	for (int round = 0; round < 20; round++) {
		memset(f.count, 0, sizeof(f.count));
		uint64_t now = xts_host_tsc();
		for (unsigned i = 0; i < 3; i++) {
			f.deadline[i] = now + (uint64_t)khz * i / 2 + 1;
			xts_host_timers_arm(t, i, f.deadline[i]);
		}
		/* Far enough ahead that only a broken disarm could let it fire. */
		xts_host_timers_arm(t, 3, now + (uint64_t)khz * 10000);
		xts_host_timers_arm(t, 3, 0);
		/* Timer 2 has the latest armed deadline: once it fired, 0 and 1 had to. */
		wait_for(&f, 2);
		wait_for(&f, 1);
		wait_for(&f, 0);
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(f.count[i], 1);
			assert_true(f.fired_tsc[i] >= f.deadline[i]);
		}
		pthread_mutex_lock(&f.lock);
		assert_int_equal(f.count[3], 0);
		pthread_mutex_unlock(&f.lock);
	}
	/* An out-of-range index is ignored, not written. */
	xts_host_timers_arm(t, 4, xts_host_tsc());

	/* Every fire was counted once, in some bucket, and none before its deadline. */
	struct xts_host_timers_stats s;
	xts_host_timers_stats(t, &s);
	assert_int_equal(s.fired, 20 * 3);
	uint64_t sum = 0;
	for (unsigned b = 0; b < XTS_HOST_TIMERS_BUCKETS; b++)
		sum += s.late_log2_ns[b];
	assert_int_equal(sum, s.fired);
	/* Quantiles are bucket bounds, ordered, and the p100 bound covers the max. */
	uint64_t p50 = xts_host_timers_quantile_ns(&s, 500);
	uint64_t p99 = xts_host_timers_quantile_ns(&s, 990);
	uint64_t p100 = xts_host_timers_quantile_ns(&s, 1000);
	assert_true(p50 && (p50 & (p50 - 1)) == 0);
	assert_true(p50 <= p99 && p99 <= p100);
	assert_true(s.max_late_ns < p100);
	xts_host_timers_destroy(t);
}

/* Quantiles from a histogram built by hand: the answer is known. */
static void test_quantiles(void **state)
{
	struct xts_host_timers_stats s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(xts_host_timers_quantile_ns(&s, 500), 0);
	s.fired = 100;
	s.late_log2_ns[3] = 50;    /* [8, 16) ns */
	s.late_log2_ns[10] = 49;   /* [1024, 2048) ns */
	s.late_log2_ns[20] = 1;    /* [2^20, 2^21) ns */
	assert_int_equal(xts_host_timers_quantile_ns(&s, 100), 16);
	assert_int_equal(xts_host_timers_quantile_ns(&s, 500), 16);
	assert_int_equal(xts_host_timers_quantile_ns(&s, 501), 2048);
	assert_int_equal(xts_host_timers_quantile_ns(&s, 990), 2048);
	assert_int_equal(xts_host_timers_quantile_ns(&s, 991), 2ULL << 20);
	assert_int_equal(xts_host_timers_quantile_ns(&s, 1000), 2ULL << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_offset_from_model),
		cmocka_unit_test(test_apply_on_kvm),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_quantiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
