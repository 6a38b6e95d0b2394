/*
 * Host timers with deadlines in host TSC ticks, one thread for all of them.
 *
 * The thread sleeps on CLOCK_MONOTONIC for the remaining ticks converted to
 * ns (rounded up), then re-reads the TSC: a timer fires only once the TSC
 * has reached its deadline, however the sleep ended.  Timer slack is set to
 * 1 ns so the kernel does not add its default 50 us to every wake-up.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "shim/xtshim.h"

struct xts_host_timers {
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* CLOCK_MONOTONIC */
	pthread_t thread;
	bool stop;
	uint32_t host_tsc_khz;
	void (*fire)(void *opaque, unsigned idx);
	void *opaque;
	struct xts_host_timers_stats stats;   /* under lock */
	unsigned nr;
	uint64_t deadline[];          /* host TSC; 0 = disarmed */
};

static void note_lateness(struct xts_host_timers *t, uint64_t late_ticks)
{
	uint64_t ns = (uint64_t)((unsigned __int128)late_ticks * 1000000u / t->host_tsc_khz);
	unsigned b = ns ? 63 - (unsigned)__builtin_clzll(ns) : 0;
	if (b >= XTS_HOST_TIMERS_BUCKETS)
		b = XTS_HOST_TIMERS_BUCKETS - 1;
	t->stats.fired++;
	t->stats.late_log2_ns[b]++;
	if (ns > t->stats.max_late_ns)
		t->stats.max_late_ns = ns;
}

/* ns (rounded up) for `ticks` at khz; saturates far beyond any real wait. */
static uint64_t ticks_to_ns_ceil(uint64_t ticks, uint32_t khz)
{
	unsigned __int128 ns = ((unsigned __int128)ticks * 1000000u + khz - 1) / khz;
	return ns > (1ULL << 62) ? (1ULL << 62) : (uint64_t)ns;
}

static void *timers_thread(void *arg)
{
	struct xts_host_timers *t = arg;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		uint64_t now = xts_host_tsc(), next = 0;
		unsigned due = t->nr;
		for (unsigned i = 0; i < t->nr; i++) {
			uint64_t d = t->deadline[i];
			if (!d)
				continue;
			if (d <= now) {
				due = i;
				break;
			}
			if (!next || d < next)
				next = d;
		}
		if (due < t->nr) {
			note_lateness(t, now - t->deadline[due]);
			t->deadline[due] = 0;
			pthread_mutex_unlock(&t->lock);
			t->fire(t->opaque, due);
			pthread_mutex_lock(&t->lock);
			continue;
		}
		if (!next) {
			pthread_cond_wait(&t->cond, &t->lock);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wake = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec +
				ticks_to_ns_ceil(next - now, t->host_tsc_khz);
		ts.tv_sec = (time_t)(wake / 1000000000ULL);
		ts.tv_nsec = (long)(wake % 1000000000ULL);
		pthread_cond_timedwait(&t->cond, &t->lock, &ts);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int xts_host_timers_create(unsigned nr, uint32_t host_tsc_khz,
			   void (*fire)(void *opaque, unsigned idx), void *opaque,
			   struct xts_host_timers **out)
{
	if (!nr || nr > XTS_MAX_VCPUS || !host_tsc_khz || !fire)
		return -EINVAL;
	struct xts_host_timers *t = calloc(1, sizeof(*t) + nr * sizeof(t->deadline[0]));
	if (!t)
		return -ENOMEM;
	t->nr = nr;
	t->host_tsc_khz = host_tsc_khz;
	t->fire = fire;
	t->opaque = opaque;

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&t->lock, NULL);

	int r = pthread_create(&t->thread, NULL, timers_thread, t);
	if (r) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return -r;
	}
	*out = t;
	return 0;
}

void xts_host_timers_arm(struct xts_host_timers *t, unsigned idx, uint64_t host_tsc_deadline)
{
	if (idx >= t->nr)
		return;
	pthread_mutex_lock(&t->lock);
	t->deadline[idx] = host_tsc_deadline;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

void xts_host_timers_stats(struct xts_host_timers *t, struct xts_host_timers_stats *s)
{
	pthread_mutex_lock(&t->lock);
	*s = t->stats;
	pthread_mutex_unlock(&t->lock);
}

uint64_t xts_host_timers_quantile_ns(const struct xts_host_timers_stats *s, unsigned permille)
{
	uint64_t seen = 0;
	if (!s->fired)
		return 0;
	for (unsigned b = 0; b < XTS_HOST_TIMERS_BUCKETS; b++) {
		seen += s->late_log2_ns[b];
		/* seen / fired >= permille / 1000, in integers */
		if (seen * 1000 >= (uint64_t)permille * s->fired)
			return 2ULL << b;
	}
	return 2ULL << (XTS_HOST_TIMERS_BUCKETS - 1);
}

void xts_host_timers_destroy(struct xts_host_timers *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
