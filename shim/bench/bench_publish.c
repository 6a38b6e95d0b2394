/*
 * make bench: cost of the clock core's hot operations.  Each figure is the
 * median (with min and max) over RUNS runs of ITERS operations, in ns per
 * operation, from CLOCK_MONOTONIC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "shim/xtshim.h"

#define RUNS  31
#define ITERS 1000000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Keeps results alive so the compiler cannot drop the work. */
static volatile uint64_t sink;

static struct xts_gmem mem;
static uint8_t *ram;
static struct xts_clock clk;

static void op_publish_time(uint64_t i)
{
	struct vcpu_time_info rec = { .tsc_timestamp = i, .system_time = i * 3,
				      .tsc_to_system_mul = 0xaaaaaaaa, .tsc_shift = -1 };

	xts_publish_time((volatile struct vcpu_time_info *)(ram + 0x1040), &rec);
}

static void op_publish_time_gpa(uint64_t i)
{
	struct vcpu_time_info rec = { .tsc_timestamp = i, .system_time = i * 3,
				      .tsc_to_system_mul = 0xaaaaaaaa, .tsc_shift = -1 };

	sink += xts_publish_time_gpa(&mem, 0x1040, &rec);
}

static void op_record_and_publish(uint64_t i)
{
	struct vcpu_time_info rec;

	xts_clock_vcpu_record(&clk, 0, 1000000 + i * 1000, &rec);
	sink += xts_publish_time_gpa(&mem, 0x1040, &rec);
}

static void op_pvclock_read(uint64_t i)
{
	sink += xts_pvclock_read((const struct vcpu_time_info *)(ram + 0x1040), 0x10000 + i);
}

static void op_publish_wallclock(uint64_t i)
{
	sink += xts_publish_wallclock(&mem, 0x2000, XTS_LAYOUT_X86_64, 1700000000ULL + i, (uint32_t)i % 1000000000u);
}

static void bench(const char *name, void (*op)(uint64_t))
{
	uint64_t ns[RUNS];
	int r;

	for (r = 0; r < RUNS; r++) {
		uint64_t t0 = now_ns(), i;

		for (i = 0; i < ITERS; i++)
			op(i);
		ns[r] = now_ns() - t0;
	}
	qsort(ns, RUNS, sizeof(ns[0]), cmp_u64);
	printf("%-36s median %6.2f ns/op  (min %6.2f, max %6.2f; %d runs x %d)\n", name,
	       (double)ns[RUNS / 2] / ITERS, (double)ns[0] / ITERS, (double)ns[RUNS - 1] / ITERS,
	       RUNS, ITERS);
}

int main(void)
{
	struct xts_clock_params p = { .arch = XTS_ARCH_X86, .nr_vcpus = 1, .host_tsc_khz = 3000000 };
	struct xts_host_sample s = { .host_tsc = 1000, .realtime_ns = 1700000000ULL * 1000000000ULL };

	ram = aligned_alloc(4096, 16 * 4096);
	memset(ram, 0, 16 * 4096);
	if (xts_gmem_add(&mem, 0, 16 * 4096, ram) || xts_clock_new(&clk, &p, &s)) {
		fprintf(stderr, "bench_publish: setup failed\n");
		return 1;
	}
	/* Reporting only: floating point here formats figures, it is not in the time path. */
	bench("vcpu_time_info publish (host ptr)", op_publish_time);
	bench("vcpu_time_info publish (GPA)", op_publish_time_gpa);
	bench("record from model + publish (GPA)", op_record_and_publish);
	bench("pvclock evaluation", op_pvclock_read);
	bench("wallclock publish (GPA, x86_64)", op_publish_wallclock);
	free(ram);
	return 0;
}
