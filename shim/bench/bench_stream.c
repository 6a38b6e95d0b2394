/*
 * Xen stream benchmarks (figures only, no pass/fail):
 *  - parse throughput on a large synthetic xl save file read from the page
 *    cache (XTS_BENCH_STREAM_MB, default 1024 MiB of guest memory), with
 *    page data streamed past and with every page handed to a consumer;
 *  - time to apply an imported time state (translation into the clock
 *    model + xts_clock_restore) for 1, 8 and 64 vCPUs.
 * Each figure is the median of repeated runs.
 */
#include <stdio.h>

#if defined(__aarch64__)
/* Xen streams carry x86 guests only; the arm64 library has no stream code. */
int main(void)
{
	printf("bench_stream: x86 only (Xen migration streams), nothing to measure\n");
	return 0;
}
#else
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "shim/xtshim.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

static int touch_page(void *o, uint64_t pfn, const void *data, uint32_t size)
{
	const uint64_t *w = data;
	uint64_t *sum = o;
	for (uint32_t i = 0; i < size / 8; i += 64)
		*sum += w[i];
	return 0;
}

static void make_time(struct xts_xen_time *x, unsigned vcpus)
{
	memset(x, 0, sizeof(*x));
	x->have = XTS_XEN_HAVE_TSC_INFO | XTS_XEN_HAVE_HVM_HEADER | XTS_XEN_HAVE_RTC;
	x->dom_type = 2;
	x->tsc_khz = x->gtsc_khz = 2294686;
	x->incarnation = 1;
	x->rtc_offset = 3600;
	x->nr_vcpus = vcpus;
	for (unsigned i = 0; i < vcpus; i++) {
		x->vcpu[i].present = XTS_XEN_VCPU_CPU | XTS_XEN_VCPU_LAPIC | XTS_XEN_VCPU_TSC_ADJUST;
		x->vcpu[i].tsc = 1000000000000ull + i * 17;
		x->vcpu[i].apic_base_msr = 0xfee00900;
	}
}

static void bench_parse(void)
{
	const char *env = getenv("XTS_BENCH_STREAM_MB");
	uint64_t mb = env ? strtoull(env, NULL, 0) : 1024, bytes = mb << 20;
	char path[] = "/tmp/xtshim-bench-stream-XXXXXX";
	struct xts_xen_time *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	struct xts_gmem m = { 0 };
	struct xts_xen_export_opts eo = { .mem = &m };
	struct xts_stream_error err;
	struct xts_stream_info info;
	uint64_t t[5], sum = 0;
	void *ram;
	int fd = mkstemp(path);

	if (fd < 0 || !x || !y) {
		perror("bench_stream");
		exit(1);
	}
	unlink(path);
	ram = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (uint64_t off = 0; off < bytes; off += 4096)
		((uint64_t *)ram)[off / 8] = off;          /* distinct, resident pages */
	make_time(x, 8);
	if (xts_gmem_add(&m, 0, bytes, ram) || xts_xen_write(fd, x, &eo, &err)) {
		fprintf(stderr, "bench_stream: %s\n", err.msg);
		exit(1);
	}
	munmap(ram, bytes);
	for (int with_pages = 0; with_pages < 2; with_pages++) {
		struct xts_stream_visitor v = { &sum, NULL, with_pages ? touch_page : NULL };
		for (unsigned r = 0; r < 5; r++) {
			lseek(fd, 0, SEEK_SET);
			uint64_t a = now_ns();
			if (xts_xen_read_time(fd, NULL, &v, y, &info, &err)) {
				fprintf(stderr, "bench_stream: %s\n", err.msg);
				exit(1);
			}
			t[r] = now_ns() - a;
		}
		uint64_t med = median(t, 5);
		printf("parse %s: %.0f MiB stream in %.1f ms: %.2f GB/s (median of 5, page cache)\n",
		       with_pages ? "with every page to a consumer" : "page data streamed past",
		       info.bytes / 1048576.0, med / 1e6, (double)info.bytes / med);
	}
	close(fd);
	free(x);
	free(y);
	if (sum == 1)
		printf("(checksum %llu)\n", (unsigned long long)sum);
}

static void bench_apply(void)
{
	static const unsigned vcpus[] = { 1, 8, 64 };
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_time_state *st = calloc(1, sizeof(*st));
	struct xts_clock *c = calloc(1, sizeof(*c));
	struct xts_restore_params rp = { .policy = XTS_POLICY_FREEZE, .host_tsc_khz = 2294686 };
	struct xts_host_sample now = { 123456789, 1763700000ull * 1000000000ull };
	struct xts_restore_result res;
	enum { REPS = 2001 };
	static uint64_t t[REPS];

	for (unsigned k = 0; k < 3; k++) {
		make_time(x, vcpus[k]);
		for (unsigned r = 0; r < REPS; r++) {
			uint64_t a = now_ns();
			if (xts_xen_time_to_state(x, now.realtime_ns, st, NULL, NULL, 0) ||
			    xts_clock_restore(c, st, &rp, &now, &res)) {
				fprintf(stderr, "bench_stream: apply failed\n");
				exit(1);
			}
			t[r] = now_ns() - a;
		}
		printf("apply time state (translate + xts_clock_restore), %2u vCPUs: %.2f us"
		       " (median of %u)\n", vcpus[k], median(t, REPS) / 1e3, REPS);
	}
	free(x);
	free(st);
	free(c);
}

int main(void)
{
	bench_apply();
	bench_parse();
	return 0;
}
#endif
