/*
 * Writing a guest's state as a Xen migration stream: a libxc v3 (or v2)
 * x86 HVM stream, wrapped as an `xl save` file unless asked for bare.
 * Little-endian, as every x86 Xen host writes it.  Entries inside
 * HVM_CONTEXT follow Xen's own order (ascending typecode, vCPUs within).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "shim/stream-internal.h"

#define PAGES_PER_RECORD 1024u          /* what libxc batches */

struct writer {
	int fd;
	struct xts_stream_error *err;
	uint64_t off;
	uint32_t layer;
	int64_t index;
};

static int w_fail(struct writer *w, int rc, uint32_t type, const char *what, const char *detail)
{
	xts_stream_set_error(w->err, rc, w->layer, w->index, type, w->off,
			     "writing %s at offset %" PRIu64 ": %s", what, w->off, detail);
	return rc;
}

static int w_bytes(struct writer *w, const void *buf, size_t n, uint32_t type, const char *what)
{
	const uint8_t *b = buf;

	while (n) {
		ssize_t got = write(w->fd, b, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return w_fail(w, -EIO, type, what, got < 0 ? strerror(errno) : "short write");
		b += got;
		n -= (size_t)got;
		w->off += (uint64_t)got;
	}
	return 0;
}

/* A record: header, body, zero padding to 8. */
static int w_record(struct writer *w, uint32_t type, const void *body, uint32_t len,
		    const char *what)
{
	static const uint8_t zero[8];
	uint8_t h[8];
	int rc;

	xts_put32(h, type, false);
	xts_put32(h + 4, len, false);
	rc = w_bytes(w, h, sizeof(h), type, what);
	if (!rc && len)
		rc = w_bytes(w, body, len, type, what);
	if (!rc)
		rc = w_bytes(w, zero, xts_pad8(len), type, what);
	w->index++;
	return rc;
}

/* PAGE_DATA for every page of every region, PAGES_PER_RECORD at a time. */
static int w_pages(struct writer *w, const struct xts_gmem *m)
{
	uint8_t *hdr = malloc(8 + 8 * PAGES_PER_RECORD);
	int rc = 0;

	if (!hdr)
		return w_fail(w, -ENOMEM, XTS_LIBXC_REC_PAGE_DATA, "PAGE_DATA", "out of memory");
	for (unsigned r = 0; r < m->nr && !rc; r++) {
		uint64_t gpa = m->r[r].gpa, end = m->r[r].gpa + m->r[r].size;

		if (gpa % XTS_PAGE_SIZE || end % XTS_PAGE_SIZE) {
			rc = w_fail(w, -EINVAL, XTS_LIBXC_REC_PAGE_DATA, "PAGE_DATA",
				    "a guest memory region is not page aligned");
			break;
		}
		while (gpa < end && !rc) {
			uint32_t n = (end - gpa) / XTS_PAGE_SIZE < PAGES_PER_RECORD
				     ? (uint32_t)((end - gpa) / XTS_PAGE_SIZE) : PAGES_PER_RECORD;
			uint64_t bytes = (uint64_t)n * XTS_PAGE_SIZE;
			uint32_t len = 8 + 8 * n + (uint32_t)bytes;
			const void *data = xts_gmem_ptr(m, gpa, bytes, 0);
			uint8_t rh[8];

			if (!data) {
				rc = w_fail(w, -EFAULT, XTS_LIBXC_REC_PAGE_DATA, "PAGE_DATA",
					    "guest memory not mapped");
				break;
			}
			xts_put32(hdr, n, false);
			xts_put32(hdr + 4, 0, false);
			for (uint32_t i = 0; i < n; i++)
				xts_put64(hdr + 8 + 8 * i, gpa / XTS_PAGE_SIZE + i, false);
			xts_put32(rh, XTS_LIBXC_REC_PAGE_DATA, false);
			xts_put32(rh + 4, len, false);
			rc = w_bytes(w, rh, 8, XTS_LIBXC_REC_PAGE_DATA, "PAGE_DATA");
			if (!rc)
				rc = w_bytes(w, hdr, 8 + 8 * n, XTS_LIBXC_REC_PAGE_DATA, "PAGE_DATA");
			if (!rc)
				rc = w_bytes(w, data, bytes, XTS_LIBXC_REC_PAGE_DATA, "PAGE_DATA");
			w->index++;
			gpa += bytes;
		}
	}
	free(hdr);
	return rc;
}

static uint8_t *hvm_entry(uint8_t *p, uint16_t code, uint16_t inst, uint32_t len)
{
	xts_put16(p, code, false);
	xts_put16(p + 2, inst, false);
	xts_put32(p + 4, len, false);
	memset(p + 8, 0, len);
	return p + 8;
}

/* The HVM context blob; returns its length, 0 on allocation failure. */
static uint32_t build_hvm_context(const struct xts_xen_time *x, const uint8_t *cpus,
				  const uint8_t *lapic_regs, uint8_t **out)
{
	const uint32_t d = sizeof(struct hvm_save_descriptor);
	size_t max = d + sizeof(struct hvm_save_header) + d /* END */ + d + sizeof(struct hvm_hw_rtc) +
		     (size_t)x->nr_vcpus * (4 * d + sizeof(struct hvm_hw_cpu) +
					    sizeof(struct hvm_hw_lapic) +
					    sizeof(struct hvm_hw_lapic_regs) +
					    sizeof(struct hvm_tsc_adjust));
	uint8_t *buf = malloc(max), *p = buf, *b;

	if (!buf)
		return 0;
	b = hvm_entry(p, 1, 0, sizeof(struct hvm_save_header));
	xts_put32(b + offsetof(struct hvm_save_header, magic), XTS_HVM_MAGIC, false);
	xts_put32(b + offsetof(struct hvm_save_header, version), XTS_HVM_VERSION, false);
	xts_put64(b + offsetof(struct hvm_save_header, changeset), x->changeset, false);
	xts_put32(b + offsetof(struct hvm_save_header, cpuid), x->hvm_cpuid, false);
	xts_put32(b + offsetof(struct hvm_save_header, gtsc_khz), x->gtsc_khz, false);
	p = b + sizeof(struct hvm_save_header);
	for (unsigned i = 0; i < x->nr_vcpus; i++) {
		if (!(x->vcpu[i].present & XTS_XEN_VCPU_CPU))
			continue;
		b = hvm_entry(p, 2, (uint16_t)i, sizeof(struct hvm_hw_cpu));
		if (cpus)
			memcpy(b, cpus + (size_t)i * sizeof(struct hvm_hw_cpu), sizeof(struct hvm_hw_cpu));
		xts_put64(b + offsetof(struct hvm_hw_cpu, tsc), x->vcpu[i].tsc, false);
		p = b + sizeof(struct hvm_hw_cpu);
	}
	for (unsigned i = 0; i < x->nr_vcpus; i++) {
		if (!(x->vcpu[i].present & XTS_XEN_VCPU_LAPIC))
			continue;
		b = hvm_entry(p, 5, (uint16_t)i, sizeof(struct hvm_hw_lapic));
		xts_put64(b + offsetof(struct hvm_hw_lapic, apic_base_msr), x->vcpu[i].apic_base_msr,
			  false);
		xts_put64(b + offsetof(struct hvm_hw_lapic, tdt_msr), x->vcpu[i].tdt_msr, false);
		p = b + sizeof(struct hvm_hw_lapic);
	}
	for (unsigned i = 0; lapic_regs && i < x->nr_vcpus; i++) {
		if (!(x->vcpu[i].present & XTS_XEN_VCPU_LAPIC))
			continue;
		b = hvm_entry(p, 6, (uint16_t)i, sizeof(struct hvm_hw_lapic_regs));
		memcpy(b, lapic_regs + (size_t)i * sizeof(struct hvm_hw_lapic_regs),
		       sizeof(struct hvm_hw_lapic_regs));
		p = b + sizeof(struct hvm_hw_lapic_regs);
	}
	if (x->have & XTS_XEN_HAVE_RTC) {
		b = hvm_entry(p, 11, 0, sizeof(struct hvm_hw_rtc));
		xts_put64(b + offsetof(struct hvm_hw_rtc, rtc_offset), (uint64_t)x->rtc_offset, false);
		p = b + sizeof(struct hvm_hw_rtc);
	}
	for (unsigned i = 0; i < x->nr_vcpus; i++) {
		if (!(x->vcpu[i].present & XTS_XEN_VCPU_TSC_ADJUST))
			continue;
		b = hvm_entry(p, 19, (uint16_t)i, sizeof(struct hvm_tsc_adjust));
		xts_put64(b, x->vcpu[i].tsc_adjust, false);
		p = b + sizeof(struct hvm_tsc_adjust);
	}
	p = hvm_entry(p, 0, 0, 0);
	*out = buf;
	return (uint32_t)(p - buf);
}

int xts_xen_write(int fd, const struct xts_xen_time *x, const struct xts_xen_export_opts *o,
		  struct xts_stream_error *err)
{
	static const struct xts_xen_export_opts defaults;
	struct xts_stream_error local;
	struct writer w = { .fd = fd, .err = err ? err : &local, .layer = XTS_STREAM_XL, .index = -1 };
	uint32_t version, ctx_len;
	uint8_t buf[64], *ctx = NULL;
	int rc;

	if (!o)
		o = &defaults;
	memset(w.err, 0, sizeof(*w.err));
	version = o->libxc_version ? o->libxc_version : 3;
	if (x->dom_type != XTS_LIBXC_DOM_X86_HVM)
		return w_fail(&w, -ENOTSUP, 0, "the stream", "only x86 HVM guests can be exported");
	if (version < XTS_LIBXC_VERSION_MIN || version > XTS_LIBXC_VERSION_MAX)
		return w_fail(&w, -EINVAL, 0, "the stream", "libxc version must be 2 or 3");
	if (!(x->have & XTS_XEN_HAVE_TSC_INFO) || x->nr_vcpus == 0 || x->nr_vcpus > XTS_MAX_VCPUS)
		return w_fail(&w, -EINVAL, 0, "the stream",
			      "the time state lacks X86_TSC_INFO or vCPUs");
	if (x->nr_params > XTS_XEN_MAX_PARAMS)
		return w_fail(&w, -EINVAL, 0, "the stream", "too many HVM params");

	if (!o->bare_libxc) {
		size_t cfg = o->config_json ? strlen(o->config_json) + 1 : 0;
		uint8_t cfglen[4];

		if (cfg > UINT32_MAX - 4)
			return w_fail(&w, -EINVAL, 0, "xl header", "config too large");
		memset(buf, 0, 48);
		memcpy(buf, XTS_XL_MAGIC, XTS_XL_MAGIC_LEN);
		xts_put32(buf + 32, XTS_XL_BYTEORDER, false);
		xts_put32(buf + 36, XTS_XL_MFLAG_STREAMV2 | (cfg ? XTS_XL_MFLAG_JSON : 0), false);
		xts_put32(buf + 40, 0, false);
		xts_put32(buf + 44, (uint32_t)(4 + cfg), false);
		xts_put32(cfglen, (uint32_t)cfg, false);
		rc = w_bytes(&w, buf, 48, 0, "xl header");
		if (!rc)
			rc = w_bytes(&w, cfglen, 4, 0, "xl config");
		if (!rc && cfg)
			rc = w_bytes(&w, o->config_json, cfg, 0, "xl config");
		if (rc)
			return rc;

		w.layer = XTS_STREAM_LIBXL;
		xts_put64(buf, XTS_LIBXL_IDENT, true);
		xts_put32(buf + 8, XTS_LIBXL_VERSION, true);
		xts_put32(buf + 12, 0, true);
		rc = w_bytes(&w, buf, 16, 0, "libxl header");
		w.index = 0;
		if (!rc)
			rc = w_record(&w, XTS_LIBXL_REC_LIBXC_CONTEXT, NULL, 0, "LIBXC_CONTEXT");
		if (rc)
			return rc;
	}

	w.layer = XTS_STREAM_LIBXC;
	w.index = -1;
	memset(buf, 0, 40);
	xts_put64(buf, XTS_LIBXC_MARKER, true);
	xts_put32(buf + 8, XTS_LIBXC_ID, true);
	xts_put32(buf + 12, version, true);
	xts_put32(buf + 24, XTS_LIBXC_DOM_X86_HVM, false);
	xts_put16(buf + 28, 12, false);
	xts_put32(buf + 32, o->xen_major ? o->xen_major : 4, false);
	xts_put32(buf + 36, o->xen_major ? o->xen_minor : 17, false);
	rc = w_bytes(&w, buf, 40, 0, "libxc headers");
	w.index = 0;
	if (!rc && version >= 3)
		rc = w_record(&w, XTS_LIBXC_REC_STATIC_DATA_END, NULL, 0, "STATIC_DATA_END");
	if (!rc && o->mem)
		rc = w_pages(&w, o->mem);
	if (!rc) {
		uint8_t t[sizeof(struct xts_libxc_tsc_info)] = { 0 };
		xts_put32(t + offsetof(struct xts_libxc_tsc_info, mode), x->tsc_mode, false);
		xts_put32(t + offsetof(struct xts_libxc_tsc_info, khz), x->tsc_khz, false);
		xts_put64(t + offsetof(struct xts_libxc_tsc_info, nsec), x->tsc_nsec, false);
		xts_put32(t + offsetof(struct xts_libxc_tsc_info, incarnation), x->incarnation, false);
		rc = w_record(&w, XTS_LIBXC_REC_X86_TSC_INFO, t, sizeof(t), "X86_TSC_INFO");
	}
	if (!rc) {
		ctx_len = build_hvm_context(x, o->cpu_records, o->lapic_regs, &ctx);
		rc = ctx_len ? w_record(&w, XTS_LIBXC_REC_HVM_CONTEXT, ctx, ctx_len, "HVM_CONTEXT")
			     : w_fail(&w, -ENOMEM, XTS_LIBXC_REC_HVM_CONTEXT, "HVM_CONTEXT",
				      "out of memory");
		free(ctx);
	}
	if (!rc && (x->have & XTS_XEN_HAVE_PVCLOCK)) {
		uint8_t t[sizeof(struct xts_libxc_xtshim_time)] = { 0 };
		const struct vcpu_time_info *r = &x->pvclock;
		uint8_t *ti = t + offsetof(struct xts_libxc_xtshim_time, time);
		bool wc = x->have & XTS_XEN_HAVE_WALLCLOCK;

		xts_put32(t, x->pvclock_vcpu, false);
		xts_put32(t + 4, wc ? XTS_XTSHIM_TIME_WALLCLOCK : 0, false);
		xts_put32(ti + offsetof(struct vcpu_time_info, version), r->version, false);
		xts_put64(ti + offsetof(struct vcpu_time_info, tsc_timestamp), r->tsc_timestamp, false);
		xts_put64(ti + offsetof(struct vcpu_time_info, system_time), r->system_time, false);
		xts_put32(ti + offsetof(struct vcpu_time_info, tsc_to_system_mul),
			  r->tsc_to_system_mul, false);
		ti[offsetof(struct vcpu_time_info, tsc_shift)] = (uint8_t)r->tsc_shift;
		ti[offsetof(struct vcpu_time_info, flags)] = r->flags;
		if (wc) {
			xts_put64(t + offsetof(struct xts_libxc_xtshim_time, wc_sec), x->wc_sec, false);
			xts_put32(t + offsetof(struct xts_libxc_xtshim_time, wc_nsec), x->wc_nsec, false);
			xts_put32(t + offsetof(struct xts_libxc_xtshim_time, wc_version), x->wc_version,
				  false);
		}
		rc = w_record(&w, XTS_LIBXC_REC_XTSHIM_TIME, t, sizeof(t), "XTSHIM_TIME");
	}
	if (!rc && (x->have & XTS_XEN_HAVE_PARAMS)) {
		uint8_t p[8 + 16 * XTS_XEN_MAX_PARAMS] = { 0 };
		xts_put32(p, x->nr_params, false);
		for (uint32_t i = 0; i < x->nr_params; i++) {
			xts_put64(p + 8 + 16 * i, x->params[i].index, false);
			xts_put64(p + 16 + 16 * i, x->params[i].value, false);
		}
		rc = w_record(&w, XTS_LIBXC_REC_HVM_PARAMS, p, 8 + 16 * x->nr_params, "HVM_PARAMS");
	}
	if (!rc)
		rc = w_record(&w, XTS_LIBXC_REC_END, NULL, 0, "libxc END");
	if (!rc && !o->bare_libxc) {
		w.layer = XTS_STREAM_LIBXL;
		w.index = 1;
		rc = w_record(&w, XTS_LIBXL_REC_END, NULL, 0, "libxl END");
	}
	return rc;
}
