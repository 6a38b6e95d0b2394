/*
 * The guest's clock state inside a Xen stream, and its translation into
 * xtshim's clock model (struct xts_time_state).
 *
 * Units: *_tsc and tdt_msr are guest TSC ticks; *_khz kHz; *_ns / nsec
 * nanoseconds; rtc_offset and wc_sec seconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "shim/stream-internal.h"
#include "abi/layout.h"

struct extract {
	struct xts_xen_time *x;           /* scratch, copied out on success */
	const struct xts_xen_import_opts *opts;
	const struct xts_stream_visitor *chain;
	bool pvclock_found;
};

static void take_tsc_info(struct xts_xen_time *x, const uint8_t *b, bool be)
{
	x->have |= XTS_XEN_HAVE_TSC_INFO;
	x->tsc_mode = xts_get32(b + offsetof(struct xts_libxc_tsc_info, mode), be);
	x->tsc_khz = xts_get32(b + offsetof(struct xts_libxc_tsc_info, khz), be);
	x->tsc_nsec = xts_get64(b + offsetof(struct xts_libxc_tsc_info, nsec), be);
	x->incarnation = xts_get32(b + offsetof(struct xts_libxc_tsc_info, incarnation), be);
}

static void take_params(struct xts_xen_time *x, const uint8_t *b, uint32_t len, bool be)
{
	uint32_t count = xts_get32(b, be);

	x->have |= XTS_XEN_HAVE_PARAMS;
	x->nr_params = 0;
	for (uint32_t i = 0; i < count && x->nr_params < XTS_XEN_MAX_PARAMS; i++) {
		x->params[x->nr_params].index = xts_get64(b + 8 + 16 * i, be);
		x->params[x->nr_params].value = xts_get64(b + 16 + 16 * i, be);
		x->nr_params++;
	}
	(void)len;
}

static void read_time_info(struct vcpu_time_info *t, const uint8_t *b, bool be)
{
	t->version = xts_get32(b + offsetof(struct vcpu_time_info, version), be);
	t->pad0 = 0;
	t->tsc_timestamp = xts_get64(b + offsetof(struct vcpu_time_info, tsc_timestamp), be);
	t->system_time = xts_get64(b + offsetof(struct vcpu_time_info, system_time), be);
	t->tsc_to_system_mul = xts_get32(b + offsetof(struct vcpu_time_info, tsc_to_system_mul), be);
	t->tsc_shift = (int8_t)b[offsetof(struct vcpu_time_info, tsc_shift)];
	t->flags = b[offsetof(struct vcpu_time_info, flags)];
	memset(t->pad1, 0, sizeof(t->pad1));
}

/* PV SHARED_INFO: the vcpu_info time records and the wallclock, by guest width. */
static void take_shared_info(struct xts_xen_time *x, const uint8_t *b, bool be)
{
	const struct xts_layout *l = xts_layout_get(x->guest_width == 4 ? XTS_LAYOUT_X86_32
								  : XTS_LAYOUT_X86_64);

	x->have |= XTS_XEN_HAVE_SHARED_INFO | XTS_XEN_HAVE_WALLCLOCK;
	for (unsigned i = 0; i < XTS_XEN_PV_VCPUS; i++)
		read_time_info(&x->pv_time[i], b + i * l->vcpu_info_size + l->vi_time, be);
	x->wc_version = xts_get32(b + l->wc_version, be);
	x->wc_sec = (uint64_t)xts_get32(b + l->wc_sec_hi, be) << 32 | xts_get32(b + l->wc_sec, be);
	x->wc_nsec = xts_get32(b + l->wc_nsec, be);
}

static int take_hvm_entry(struct xts_xen_time *x, const struct xts_stream_record *r, bool be)
{
	const uint8_t *b = r->body;
	struct xts_xen_vcpu_time *v = r->instance < XTS_MAX_VCPUS ? &x->vcpu[r->instance] : NULL;

	switch (r->type) {
	case 1: /* HEADER */
		x->have |= XTS_XEN_HAVE_HVM_HEADER;
		x->changeset = xts_get64(b + offsetof(struct hvm_save_header, changeset), be);
		x->hvm_cpuid = xts_get32(b + offsetof(struct hvm_save_header, cpuid), be);
		x->gtsc_khz = xts_get32(b + offsetof(struct hvm_save_header, gtsc_khz), be);
		return 0;
	case 2: /* CPU, in the current or the pre-4.9 compat layout */
		v->present |= XTS_XEN_VCPU_CPU;
		v->tsc = xts_get64(b + (r->length == sizeof(struct hvm_hw_cpu)
					? offsetof(struct hvm_hw_cpu, tsc)
					: offsetof(struct hvm_hw_cpu_compat, tsc)), be);
		break;
	case 5: /* LAPIC: zero-extended like Xen loads it */
		v->present |= XTS_XEN_VCPU_LAPIC;
		v->apic_base_msr = r->length >= 8 ? xts_get64(b, be) : 0;
		v->tdt_msr = r->length >= offsetof(struct hvm_hw_lapic, tdt_msr) + 8
			     ? xts_get64(b + offsetof(struct hvm_hw_lapic, tdt_msr), be) : 0;
		break;
	case 11: /* RTC */
		x->have |= XTS_XEN_HAVE_RTC;
		x->rtc_offset = (int64_t)xts_get64(b + offsetof(struct hvm_hw_rtc, rtc_offset), be);
		return 0;
	case 19: /* TSC_ADJUST */
		v->present |= XTS_XEN_VCPU_TSC_ADJUST;
		v->tsc_adjust = xts_get64(b, be);
		break;
	default:
		return 0;
	}
	if (r->instance + 1 > x->nr_vcpus)
		x->nr_vcpus = r->instance + 1;
	return 0;
}

static int on_record(void *opaque, const struct xts_stream_record *r)
{
	struct extract *e = opaque;
	struct xts_xen_time *x = e->x;
	int rc = 0;

	if (r->layer == XTS_STREAM_HVM) {
		rc = take_hvm_entry(x, r, r->big_endian);
	} else if (r->layer == XTS_STREAM_LIBXC && r->body) {
		switch (r->type) {
		case XTS_LIBXC_REC_X86_TSC_INFO: take_tsc_info(x, r->body, r->big_endian); break;
		case XTS_LIBXC_REC_HVM_PARAMS: take_params(x, r->body, r->length, r->big_endian); break;
		case XTS_LIBXC_REC_X86_PV_INFO: x->guest_width = ((const uint8_t *)r->body)[0]; break;
		case XTS_LIBXC_REC_X86_PV_VCPU_BASIC: {
			uint32_t id = xts_get32(r->body, r->big_endian);
			if (id >= XTS_MAX_VCPUS)
				return -ENOTSUP;
			if (id + 1 > x->nr_vcpus)
				x->nr_vcpus = id + 1;
			break;
		}
		case XTS_LIBXC_REC_SHARED_INFO: take_shared_info(x, r->body, false); break;
		case XTS_LIBXC_REC_XTSHIM_TIME: {
			const uint8_t *b = r->body;
			bool be = r->big_endian;
			if (e->opts && e->opts->pvclock_given)
				break;
			x->have |= XTS_XEN_HAVE_PVCLOCK;
			x->pvclock_vcpu = xts_get32(b, be);
			read_time_info(&x->pvclock, b + offsetof(struct xts_libxc_xtshim_time, time),
				       false);
			if (xts_get32(b + 4, be) & XTS_XTSHIM_TIME_WALLCLOCK) {
				x->have |= XTS_XEN_HAVE_WALLCLOCK;
				x->wc_sec = xts_get64(b + offsetof(struct xts_libxc_xtshim_time, wc_sec), be);
				x->wc_nsec = xts_get32(b + offsetof(struct xts_libxc_xtshim_time, wc_nsec), be);
				x->wc_version = xts_get32(b + offsetof(struct xts_libxc_xtshim_time,
								      wc_version), be);
			}
			break;
		}
		}
	}
	if (!rc && e->chain && e->chain->record)
		rc = e->chain->record(e->chain->opaque, r);
	return rc;
}

static int on_page(void *opaque, uint64_t pfn, const void *data, uint32_t page_size)
{
	struct extract *e = opaque;
	const struct xts_xen_import_opts *o = e->opts;

	/* A later copy of a page (live migration resends) replaces an earlier one. */
	if (o && o->pvclock_given && pfn == o->pvclock_gpa / page_size) {
		read_time_info(&e->x->pvclock, (const uint8_t *)data + o->pvclock_gpa % page_size,
			       false);
		e->pvclock_found = true;
	}
	if (e->chain && e->chain->page)
		return e->chain->page(e->chain->opaque, pfn, data, page_size);
	return 0;
}

int xts_xen_read_time(int fd, const struct xts_xen_import_opts *opts,
		      const struct xts_stream_visitor *chain, struct xts_xen_time *out,
		      struct xts_stream_info *info, struct xts_stream_error *err)
{
	struct xts_stream_error local;
	struct xts_stream_info inf;
	struct extract e = { .opts = opts, .chain = chain };
	bool want_pages = (opts && opts->pvclock_given) || (chain && chain->page);
	struct xts_stream_visitor v = {
		.opaque = &e, .record = on_record, .page = want_pages ? on_page : NULL,
	};
	int rc;

	if (!err)
		err = &local;
	if (opts && opts->pvclock_given &&
	    (opts->pvclock_gpa % 8 || opts->pvclock_gpa % XTS_PAGE_SIZE >
	     XTS_PAGE_SIZE - sizeof(struct vcpu_time_info) ||
	     opts->pvclock_vcpu >= XTS_MAX_VCPUS)) {
		xts_stream_set_error(err, -EINVAL, XTS_STREAM_XL, -1, 0, 0,
				     "pvclock location vCPU %u GPA 0x%" PRIx64 ": must be 8-byte"
				     " aligned inside one page, vCPU below %u", opts->pvclock_vcpu,
				     opts->pvclock_gpa, XTS_MAX_VCPUS);
		return -EINVAL;
	}
	e.x = calloc(1, sizeof(*e.x));
	if (!e.x) {
		xts_stream_set_error(err, -ENOMEM, XTS_STREAM_XL, -1, 0, 0, "out of memory");
		return -ENOMEM;
	}
	rc = xts_stream_parse(fd, &v, &inf, err);
	if (!rc && opts && opts->pvclock_given) {
		if (!e.pvclock_found) {
			xts_stream_set_error(err, -EINVAL, XTS_STREAM_LIBXC, -1, 0, inf.bytes,
					     "no PAGE_DATA carries the page of GPA 0x%" PRIx64
					     " named for vCPU %u's pvclock record", opts->pvclock_gpa,
					     opts->pvclock_vcpu);
			rc = -EINVAL;
		} else {
			e.x->have |= XTS_XEN_HAVE_PVCLOCK;
			e.x->pvclock_vcpu = opts->pvclock_vcpu;
		}
	}
	if (!rc) {
		e.x->dom_type = inf.dom_type;
		*out = *e.x;
		if (info)
			*info = inf;
	}
	free(e.x);
	return rc;
}

int xts_xen_page_to_gmem(void *opaque, uint64_t pfn, const void *data, uint32_t page_size)
{
	struct xts_xen_mem_sink *s = opaque;
	int rc;

	if (pfn > UINT64_MAX / page_size)
		return -EFAULT;
	rc = xts_gmem_write(s->mem, pfn * page_size, data, page_size);
	if (!rc)
		s->pages++;
	return rc;
}
