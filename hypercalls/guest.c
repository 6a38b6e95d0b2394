/*
 * Hypercall arguments in guest memory.  For HVM/PVH guests they are guest
 * virtual addresses: each page is translated through ops->translate_gva
 * (identity when the VMM has none) and then reached through the guest
 * memory helper, so nothing outside guest RAM is ever touched.  A copy
 * checks the whole range first and then copies, so a fault leaves nothing
 * half-written.
 */
#include <errno.h>
#include <string.h>
#include "hypercalls/hcall.h"

static int translate(struct xts_call *c, uint64_t gva, uint64_t *gpa)
{
	const struct xts_platform_ops *ops = c->d->cfg.ops;

	/*
	 * A long-mode address must be canonical.  KVM_TRANSLATE walks only the
	 * low bits, so 0x8000000000000000 would "translate" like 0.  Without
	 * the guest's CR4 here, the 5-level (57-bit) rule is the one that never
	 * refuses a valid address.
	 */
	if (c->h->long_mode && (uint64_t)((int64_t)(gva << 7) >> 7) != gva)
		return -XEN_EFAULT;
	if (!ops->translate_gva) {
		*gpa = gva;
		return 0;
	}
	return ops->translate_gva(c->d->cfg.opaque, c->vcpu, gva, gpa) ? -XEN_EFAULT : 0;
}

/* Walk [gva, gva + len) page by page: host pointer per chunk into `fn`. */
static int walk(struct xts_call *c, uint64_t gva, uint64_t len,
		int (*fn)(void *host, uint64_t done, uint64_t n, void *arg), void *arg)
{
	uint64_t done = 0;

	if (len == 0)
		return 0;
	/* A 32-bit caller's addresses wrap at 4 GiB; anyone's at 2^64: reject both. */
	if (gva + len < gva || (!c->h->long_mode && gva + len > (1ULL << 32)))
		return -XEN_EFAULT;
	while (done < len) {
		uint64_t a = gva + done, gpa, n;
		void *p;

		n = XTS_PAGE_SIZE - (a & (XTS_PAGE_SIZE - 1));
		if (n > len - done)
			n = len - done;
		if (translate(c, a, &gpa))
			return -XEN_EFAULT;
		p = xts_gmem_ptr(c->d->cfg.mem, gpa, n, XTS_GMEM_NO_PAGE_CROSS);
		if (!p)
			return -XEN_EFAULT;
		if (fn) {
			int rc = fn(p, done, n, arg);

			if (rc)
				return rc;
		}
		done += n;
	}
	return 0;
}

static int do_read(void *host, uint64_t done, uint64_t n, void *arg)
{
	memcpy((uint8_t *)arg + done, host, n);
	return 0;
}

static int do_write(void *host, uint64_t done, uint64_t n, void *arg)
{
	memcpy(host, (const uint8_t *)arg + done, n);
	return 0;
}

int xts_check_guest(struct xts_call *c, uint64_t gva, uint64_t len)
{
	return walk(c, gva, len, NULL, NULL);
}

int xts_copy_from_guest(struct xts_call *c, uint64_t gva, void *buf, uint64_t len)
{
	int rc = walk(c, gva, len, NULL, NULL);

	return rc ? rc : walk(c, gva, len, do_read, buf);
}

int xts_copy_to_guest(struct xts_call *c, uint64_t gva, const void *buf, uint64_t len)
{
	int rc = walk(c, gva, len, NULL, NULL);

	return rc ? rc : walk(c, gva, len, do_write, (void *)buf);
}

int xts_garea_translate(struct xts_call *c, uint64_t gva, uint32_t size, struct xts_garea *a)
{
	uint64_t first = XTS_PAGE_SIZE - (gva & (XTS_PAGE_SIZE - 1));
	struct xts_garea n = { .set = true, .size = size };

	if (xts_check_guest(c, gva, size))
		return -XEN_EFAULT;
	n.len0 = first >= size ? size : (uint32_t)first;
	if (translate(c, gva, &n.gpa[0]))
		return -XEN_EFAULT;
	n.gpa[1] = XTS_NO_GPA;
	if (n.len0 < size && translate(c, gva + n.len0, &n.gpa[1]))
		return -XEN_EFAULT;
	*a = n;
	return 0;
}

int xts_garea_write(const struct xts_domain *d, const struct xts_garea *a, uint32_t off,
		    const void *buf, uint32_t len)
{
	const uint8_t *b = buf;

	if (!a->set || off > a->size || len > a->size - off)
		return -XEN_EFAULT;
	while (len) {
		bool second = off >= a->len0;
		uint32_t part_off = second ? off - a->len0 : off;
		uint32_t room = (second ? a->size - a->len0 : a->len0) - part_off;
		uint32_t n = len < room ? len : room;
		int rc = xts_gmem_write(d->cfg.mem, a->gpa[second] + part_off, b, n);

		if (rc)
			return -XEN_EFAULT;
		b += n;
		off += n;
		len -= n;
	}
	return 0;
}
