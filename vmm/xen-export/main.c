/*
 * xtshim-xen-export: on a Xen host (dom0), write a running x86 HVM/PVH
 * domain's time state as a Xen migration stream that `xtshim inspect` and
 * the KVM side read (and Xen's own stream tools accept).
 *
 *   xtshim-xen-export [--bare] [--libxc-version 2|3] [--no-pause] DOMID FILE|-
 *
 * The domain is paused while its TSC info, HVM context, HVM params and
 * shared_info are read, so every value belongs to one instant.  All logic
 * is in the library (xts_xen_read_domain, xts_xen_write); this file only
 * binds it to libxenctrl.
 */
#define XC_WANT_COMPAT_MAP_FOREIGN_API 1
#include <xenctrl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "shim/xtshim.h"

static int neg_errno(int rc)
{
	return rc < 0 ? (errno ? -errno : -EIO) : rc;
}

static int x_tsc(void *o, uint32_t domid, uint32_t *mode, uint64_t *ns, uint32_t *khz,
		 uint32_t *inc)
{
	return neg_errno(xc_domain_get_tsc_info(o, domid, mode, ns, khz, inc));
}

static int x_ctx(void *o, uint32_t domid, uint8_t *buf, uint32_t size)
{
	return neg_errno(xc_domain_hvm_getcontext(o, domid, buf, size));
}

static int x_param(void *o, uint32_t domid, uint32_t index, uint64_t *v)
{
	return neg_errno(xc_hvm_param_get(o, domid, index, v));
}

static int x_shinfo(void *o, uint32_t domid, void *page)
{
	xc_dominfo_t info;
	void *map;

	if (xc_domain_getinfo(o, domid, 1, &info) != 1 || info.domid != domid)
		return -ESRCH;
	map = xc_map_foreign_range(o, domid, XC_PAGE_SIZE, PROT_READ, info.shared_info_frame);
	if (!map)
		return neg_errno(-1);
	memcpy(page, map, XC_PAGE_SIZE);
	munmap(map, XC_PAGE_SIZE);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "bare", no_argument, NULL, 'b' },
		{ "libxc-version", required_argument, NULL, 'v' },
		{ "no-pause", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xts_xen_export_opts eo = { 0 };
	struct xts_stream_error err;
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	bool pause = true;
	char why[512];
	uint32_t domid;
	xc_interface *xch;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "bv:nh", lopts, NULL)) != -1) {
		switch (c) {
		case 'b': eo.bare_libxc = true; break;
		case 'v': eo.libxc_version = (uint32_t)atoi(optarg); break;
		case 'n': pause = false; break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: %s [--bare] [--libxc-version 2|3]"
				" [--no-pause] DOMID FILE|-\n", argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 2 || !x) {
		fprintf(stderr, "usage: %s [--bare] [--libxc-version 2|3] [--no-pause] DOMID FILE|-\n",
			argv[0]);
		return 2;
	}
	domid = (uint32_t)strtoul(argv[optind], NULL, 0);
	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		fprintf(stderr, "xtshim-xen-export: cannot open libxenctrl (not a Xen dom0?)\n");
		return 1;
	}
	struct xts_xenctl_ops ops = { xch, x_tsc, x_ctx, x_param, x_shinfo };
	if (pause && xc_domain_pause(xch, domid)) {
		fprintf(stderr, "xtshim-xen-export: cannot pause domain %u: %s\n", domid,
			strerror(errno));
		return 1;
	}
	rc = xts_xen_read_domain(&ops, domid, x, why, sizeof(why));
	if (pause)
		xc_domain_unpause(xch, domid);
	xc_interface_close(xch);
	if (rc) {
		fprintf(stderr, "xtshim-xen-export: domain %u: %s\n", domid, why);
		return 1;
	}
	if (why[0])
		fprintf(stderr, "xtshim-xen-export: note: %s\n", why);
	fd = strcmp(argv[optind + 1], "-") ? open(argv[optind + 1], O_WRONLY | O_CREAT | O_TRUNC,
						  0644) : STDOUT_FILENO;
	if (fd < 0) {
		fprintf(stderr, "xtshim-xen-export: %s: %s\n", argv[optind + 1], strerror(errno));
		return 1;
	}
	rc = xts_xen_write(fd, x, &eo, &err);
	if (rc || (fd != STDOUT_FILENO && close(fd))) {
		fprintf(stderr, "xtshim-xen-export: %s\n", rc ? err.msg : strerror(errno));
		return 1;
	}
	free(x);
	return 0;
}
