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
#include <cmocka.h>
#include "shim/tests/ref.h"

#define NR_RECORDS    16
#define PUBLICATIONS  300000L     /* the fixed number of iterations */

static struct vcpu_time_info records[NR_RECORDS];
static struct vcpu_time_info live __attribute__((aligned(64)));
static volatile int done;
static long reads_done;

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
 * Exactly PUBLICATIONS rewrites, each started as soon as the reader has
 * completed a read since the previous one, so that writes keep overlapping
 * reads.  A writer that never paused would starve the reader's retry loop
 * (a slow reader, under qemu-user say, might never see a stable version).
 */
static void *publisher(void *arg)
{
	long n, seen = __atomic_load_n(&reads_done, __ATOMIC_ACQUIRE), r;

	(void)r;

	for (n = 1; n <= PUBLICATIONS; n++) {
		while ((r = __atomic_load_n(&reads_done, __ATOMIC_ACQUIRE)) == seen)
			;
		xts_publish_time(&live, &records[n % NR_RECORDS]);
		seen = __atomic_load_n(&reads_done, __ATOMIC_ACQUIRE);
	}
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
		changes += i != last;
		last = i;
		__atomic_store_n(&reads_done, ++reads, __ATOMIC_RELEASE);
	}
	pthread_join(th, NULL);
	printf("torn: %ld publications, %ld reads, %ld record changes observed\n",
	       PUBLICATIONS, reads, changes);
	/*
	 * Each publication waits for a read completed after the previous one,
	 * so the reader sees almost all of them (a read that returned just
	 * before a publication but is counted after it lets one slip by).  The
	 * bound is loose on purpose: it only proves the threads interleaved.
	 */
	assert_true(changes >= PUBLICATIONS / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_never_sees_a_torn_record),
	};
	return cmocka_run_group_tests_name("torn", tests, NULL, NULL);
}
