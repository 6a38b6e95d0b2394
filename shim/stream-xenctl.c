/*
 * A running Xen domain's time state, through libxenctrl-shaped calls
 * (struct xts_xenctl_ops), into struct xts_xen_time.
 *
 * The HVM context blob is checked by the stream parser itself: it is
 * wrapped into a minimal in-memory libxc stream (headers, X86_TSC_INFO,
 * HVM_CONTEXT, END) and read back, so a live domain and a saved file pass
 * exactly the same validation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "abi/layout.h"
#include "shim/stream-internal.h"

#define HVM_CONTEXT_MAX (16u << 20)

/* The params libxc's save path sends (xg_sr_save_x86_hvm.c), non-zero only. */
static const uint32_t saved_params[] = {
	HVM_PARAM_STORE_PFN, HVM_PARAM_IOREQ_PFN, HVM_PARAM_BUFIOREQ_PFN,
	HVM_PARAM_PAGING_RING_PFN, HVM_PARAM_MONITOR_RING_PFN, HVM_PARAM_SHARING_RING_PFN,
	HVM_PARAM_VM86_TSS_SIZED, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_ACPI_IOPORTS_LOCATION,
	HVM_PARAM_VIRIDIAN, HVM_PARAM_IDENT_PT, HVM_PARAM_VM_GENERATION_ID_ADDR,
	HVM_PARAM_IOREQ_SERVER_PFN, HVM_PARAM_NR_IOREQ_SERVER_PAGES, HVM_PARAM_X87_FIP_WIDTH,
	HVM_PARAM_MCA_CAP,
};

static int put_rec(int fd, uint32_t type, const void *body, uint32_t len)
{
	static const uint8_t zero[8];
	uint8_t h[8];

	xts_put32(h, type, false);
	xts_put32(h + 4, len, false);
	if (write(fd, h, 8) != 8 || (len && write(fd, body, len) != (ssize_t)len) ||
	    write(fd, zero, xts_pad8(len)) != (ssize_t)xts_pad8(len))
		return -EIO;
	return 0;
}

/* Run the parser over TSC info + the blob. */
static int check_context(const uint8_t *tsc, const uint8_t *ctx, uint32_t len,
			 struct xts_xen_time *out, struct xts_stream_error *err)
{
	uint8_t hdr[40] = { 0 };
	int fd = memfd_create("xts-hvm-context", MFD_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	xts_put64(hdr, XTS_LIBXC_MARKER, true);
	xts_put32(hdr + 8, XTS_LIBXC_ID, true);
	xts_put32(hdr + 12, 2, true);
	xts_put32(hdr + 24, XTS_LIBXC_DOM_X86_HVM, false);
	xts_put16(hdr + 28, 12, false);
	rc = write(fd, hdr, sizeof(hdr)) == sizeof(hdr) ? 0 : -EIO;
	if (!rc)
		rc = put_rec(fd, XTS_LIBXC_REC_X86_TSC_INFO, tsc, sizeof(struct xts_libxc_tsc_info));
	if (!rc)
		rc = put_rec(fd, XTS_LIBXC_REC_HVM_CONTEXT, ctx, len);
	if (!rc)
		rc = put_rec(fd, XTS_LIBXC_REC_END, NULL, 0);
	if (!rc && lseek(fd, 0, SEEK_SET))
		rc = -errno;
	if (!rc)
		rc = xts_xen_read_time(fd, NULL, NULL, out, NULL, err);
	close(fd);
	return rc;
}

int xts_xen_read_domain(const struct xts_xenctl_ops *ops, uint32_t domid,
			struct xts_xen_time *x, char *w, size_t wl)
{
	struct xts_xen_time *n = calloc(1, sizeof(*n));
	struct xts_stream_error err;
	uint8_t tsc[sizeof(struct xts_libxc_tsc_info)] = { 0 };
	uint32_t mode, khz, inc;
	uint64_t nsec;
	uint8_t *ctx = NULL, *page = NULL;
	int rc, size;

	if (!n)
		return xts_why(w, wl, -ENOMEM, "out of memory");
	if (w && wl)
		w[0] = 0;
	rc = ops->get_tsc_info(ops->opaque, domid, &mode, &nsec, &khz, &inc);
	if (rc) {
		rc = xts_why(w, wl, rc, "xc_domain_get_tsc_info failed (%d)", rc);
		goto out;
	}
	xts_put32(tsc + offsetof(struct xts_libxc_tsc_info, mode), mode, false);
	xts_put32(tsc + offsetof(struct xts_libxc_tsc_info, khz), khz, false);
	xts_put64(tsc + offsetof(struct xts_libxc_tsc_info, nsec), nsec, false);
	xts_put32(tsc + offsetof(struct xts_libxc_tsc_info, incarnation), inc, false);

	size = ops->get_hvm_context(ops->opaque, domid, NULL, 0);
	if (size <= 0 || (uint32_t)size > HVM_CONTEXT_MAX) {
		rc = xts_why(w, wl, size < 0 ? size : -EINVAL, "xc_domain_hvm_getcontext size %d (is"
			 " the domain HVM/PVH?)", size);
		goto out;
	}
	ctx = malloc((size_t)size);
	if (!ctx) {
		rc = xts_why(w, wl, -ENOMEM, "out of memory");
		goto out;
	}
	rc = ops->get_hvm_context(ops->opaque, domid, ctx, (uint32_t)size);
	if (rc < 0 || rc > size) {
		rc = xts_why(w, wl, rc < 0 ? rc : -EINVAL, "xc_domain_hvm_getcontext failed (%d)", rc);
		goto out;
	}
	rc = check_context(tsc, ctx, (uint32_t)rc, n, &err);
	if (rc) {
		rc = xts_why(w, wl, rc, "the domain's HVM context is not valid: %s", err.msg);
		goto out;
	}

	n->have |= XTS_XEN_HAVE_PARAMS;
	for (unsigned i = 0; i < sizeof(saved_params) / sizeof(saved_params[0]); i++) {
		uint64_t v = 0;
		if (ops->get_param(ops->opaque, domid, saved_params[i], &v))
			continue;             /* not every Xen knows every param */
		if (v && n->nr_params < XTS_XEN_MAX_PARAMS) {
			n->params[n->nr_params].index = saved_params[i];
			n->params[n->nr_params].value = v;
			n->nr_params++;
		}
	}

	if (ops->get_shared_info) {
		const struct xts_layout *l = xts_layout_get(XTS_LAYOUT_X86_64);
		struct vcpu_time_info t;
		uint64_t window = (uint64_t)(khz ? khz : n->gtsc_khz) * 2000;   /* 2 s of ticks */

		page = malloc(XTS_PAGE_SIZE);
		if (!page) {
			rc = xts_why(w, wl, -ENOMEM, "out of memory");
			goto out;
		}
		rc = ops->get_shared_info(ops->opaque, domid, page);
		if (rc) {
			rc = xts_why(w, wl, rc, "reading shared_info failed (%d)", rc);
			goto out;
		}
		/* vCPU 0's legacy slot; an HVM guest that registered its vcpu_info
		 * elsewhere leaves it stale, which the age check catches. */
		memcpy(&t, page + l->vi_time, sizeof(t));
		if (!(t.version & 1) && t.tsc_to_system_mul &&
		    n->vcpu[0].tsc - t.tsc_timestamp <= window) {
			n->have |= XTS_XEN_HAVE_PVCLOCK | XTS_XEN_HAVE_WALLCLOCK;
			n->pvclock_vcpu = 0;
			n->pvclock = t;
			n->wc_version = xts_get32(page + l->wc_version, false);
			n->wc_sec = (uint64_t)xts_get32(page + l->wc_sec_hi, false) << 32 |
				    xts_get32(page + l->wc_sec, false);
			n->wc_nsec = xts_get32(page + l->wc_nsec, false);
			if ((n->wc_version & 1) || n->wc_nsec >= 1000000000u)
				n->have &= ~(XTS_XEN_HAVE_PVCLOCK | XTS_XEN_HAVE_WALLCLOCK);
		} else {
			xts_why(w, wl, 0, "vCPU 0's shared_info time record is not current (tsc_timestamp"
			    " %" PRIu64 ", saved TSC %" PRIu64 "): a new system-time line will be"
			    " used on KVM", t.tsc_timestamp, n->vcpu[0].tsc);
		}
	}
	*x = *n;
	rc = 0;
out:
	free(page);
	free(ctx);
	free(n);
	return rc;
}
