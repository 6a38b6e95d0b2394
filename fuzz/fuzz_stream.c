/*
 * libFuzzer target: any byte string as a Xen migration stream.  The parser
 * must reject or accept it without a crash, a sanitizer report or a leak;
 * accepted streams also go through the translation into the clock model
 * and, when HVM, through the writer and back (the round trip must agree).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "shim/xtshim.h"
#include "shim/stream-cpu.h"

static int in_fd = -1, out_fd = -1;

static int on_page(void *o, uint64_t pfn, const void *data, uint32_t size)
{
	const volatile uint8_t *b = data;
	(void)o; (void)pfn;
	/* touch both ends: the parser promised `size` readable bytes */
	return (b[0] + b[size - 1]) == 0x1ff ? 0 : 0;
}

/* Every CPU entry the parser accepts converts to KVM state and back. */
static int on_record(void *o, const struct xts_stream_record *r)
{
	static struct xts_xen_cpu_kvm k;
	static uint8_t back[1032];

	(void)o;
	if (r->layer != XTS_STREAM_HVM || r->type != 2)
		return 0;
	if (xts_xen_cpu_to_kvm(r->body, r->length, &k) || xts_kvm_to_xen_cpu(&k, back))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xts_xen_time x, y;
	struct xts_stream_visitor v = { NULL, on_record, on_page };
	struct xts_xen_import_opts io = { true, 0, 0x1020 };
	struct xts_stream_error err;
	struct xts_time_state st;

	if (in_fd < 0) {
		in_fd = memfd_create("fuzz-in", 0);
		out_fd = memfd_create("fuzz-out", 0);
		if (in_fd < 0 || out_fd < 0)
			abort();
	}
	if (ftruncate(in_fd, 0) || pwrite(in_fd, data, size, 0) != (ssize_t)size ||
	    lseek(in_fd, 0, SEEK_SET))
		abort();
	/* With and without a named pvclock record (which needs page data). */
	if (xts_xen_read_time(in_fd, (size & 1) ? &io : NULL, &v, &x, NULL, &err))
		return 0;
	if (xts_xen_time_to_state(&x, 1700000000ull * 1000000000ull, &st, NULL, NULL, 0))
		return 0;
	if (x.dom_type != 2)
		return 0;
	if (ftruncate(out_fd, 0) || lseek(out_fd, 0, SEEK_SET))
		abort();
	if (xts_xen_write(out_fd, &x, NULL, &err) || lseek(out_fd, 0, SEEK_SET))
		abort();
	if (xts_xen_read_time(out_fd, NULL, NULL, &y, NULL, &err))
		abort();                      /* what we write, we must read */
	if (y.nr_vcpus != x.nr_vcpus || y.tsc_khz != x.tsc_khz ||
	    memcmp(y.vcpu, x.vcpu, sizeof(x.vcpu[0]) * x.nr_vcpus))
		abort();
	return 0;
}
