/*
 * Torn reads: a reader thread runs the guest's read loop against a
 * publisher thread rewriting the record.  Every value it returns must be
 * what one of the published records gives at the TSC it read.  The records
 * differ in every field, so any mix of two records gives a value (or a
 * snapshot) that none of them would.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "shim/tests/ref.h"

#define NR_RECORDS    16
/*
 * The fixed number of iterations: 300000 natively; emulated runs (qemu-user,
 * where every atomic is a helper call) set XTS_TORN_PUBLICATIONS lower.
 */
static long PUBLICATIONS = 300000L;

static struct vcpu_time_info records[NR_RECORDS];
static struct vcpu_time_info live __attribute__((aligned(64)));
static volatile int done;
static long reads_done, published;

static void make_records(void)
{
	uint64_t seed = 0xdecafbad;
	int i;

	for (i = 0; i < NR_RECORDS; i++) {
		records[i].tsc_timestamp = (1ULL << 40) - 1000000 * (i + 1) - (ref_rand(&seed) & 0xffff);
		records[i].system_time = ref_rand(&seed) >> 8;
		records[i].tsc_to_system_mul = (uint32_t)ref_rand(&seed) | 0x80000000u;
		records[i].tsc_shift = (int8_t)(i % 5) - 2;
		records[i].flags = (uint8_t)(i & 3);
	}
}

/*
 * At least PUBLICATIONS rewrites, and on until the reader has seen
 * MIN_CHANGES of them (bounded by MAX_FACTOR * PUBLICATIONS).  Between two
 * rewrites the writer pauses until the reader completes a read or MAX_SPINS
 * loop turns pass: a writer that never paused could starve the reader's
 * retry loop, and one that always waited for the reader would tie the run
 * length to the scheduler.  When both threads share one CPU (a loaded
 * machine), the reader only sees a change per time slice; running on until
 * MIN_CHANGES keeps the test meaningful there too.
 */
#define MAX_SPINS   2000
#define MIN_CHANGES 1000
#define MAX_FACTOR  100

static long changes_seen;

static void *publisher(void *arg)
{
	long n, seen = __atomic_load_n(&reads_done, __ATOMIC_ACQUIRE);

	for (n = 1; n <= MAX_FACTOR * PUBLICATIONS; n++) {
		unsigned spins;

		if (n > PUBLICATIONS && __atomic_load_n(&changes_seen, __ATOMIC_RELAXED) >= MIN_CHANGES)
			break;
		for (spins = 0; spins < MAX_SPINS; spins++)
			if (__atomic_load_n(&reads_done, __ATOMIC_ACQUIRE) != seen)
				break;
		xts_publish_time(&live, &records[n % NR_RECORDS]);
		seen = __atomic_load_n(&reads_done, __ATOMIC_ACQUIRE);
	}
	__atomic_store_n(&published, n - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static uint64_t fake_tsc(void *arg)
{
	return ++*(uint64_t *)arg;
}

static int matching_record(const struct vcpu_time_info *s)
{
	int i;

	for (i = 0; i < NR_RECORDS; i++)
		if (s->tsc_timestamp == records[i].tsc_timestamp &&
		    s->system_time == records[i].system_time &&
		    s->tsc_to_system_mul == records[i].tsc_to_system_mul &&
		    s->tsc_shift == records[i].tsc_shift && s->flags == records[i].flags)
			return i;
	return -1;
}

static void test_reader_never_sees_a_torn_record(void **state)
{
	pthread_t th;
	uint64_t tsc = 1ULL << 40;
	long reads = 0, changes = 0;
	int last = 0;

	if (getenv("XTS_TORN_PUBLICATIONS"))
		PUBLICATIONS = strtol(getenv("XTS_TORN_PUBLICATIONS"), NULL, 0);
	assert_true(PUBLICATIONS >= 1000);
	make_records();
	xts_publish_time(&live, &records[0]);
	assert_int_equal(pthread_create(&th, NULL, publisher, NULL), 0);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		struct vcpu_time_info snap;
		uint64_t got = xts_pvclock_read_stable(&live, fake_tsc, &tsc, &snap);
		uint64_t at = tsc;   /* the TSC the read loop used last */
		int i = matching_record(&snap);

		if (i < 0 || got != ref_pvclock(records[i].tsc_timestamp, records[i].system_time,
						 records[i].tsc_to_system_mul, records[i].tsc_shift, at)) {
			print_error("read %ld: torn record (match %d) value %llu at tsc %llu\n",
				    reads, i, (unsigned long long)got, (unsigned long long)at);
			fail();
		}
		assert_int_equal(snap.version & 1, 0);
		if (i != last)
			__atomic_store_n(&changes_seen, ++changes, __ATOMIC_RELAXED);
		last = i;
		__atomic_store_n(&reads_done, ++reads, __ATOMIC_RELEASE);
	}
	pthread_join(th, NULL);
	printf("torn: %ld publications, %ld reads, %ld record changes observed\n",
	       published, reads, changes);
	/* Only meaningful if the two threads really interleaved. */
	assert_true(published >= PUBLICATIONS);
	assert_true(changes >= MIN_CHANGES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_never_sees_a_torn_record),
	};
	return cmocka_run_group_tests_name("torn", tests, NULL, NULL);
}
