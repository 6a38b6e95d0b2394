/*
 * Guest physical memory: the single place where a guest-supplied address
 * becomes a host pointer.  Every range is checked for wrap-around, for lying
 * wholly inside one RAM region (adjacent regions are separate host mappings,
 * so a range may not straddle them) and, on request, inside one 4 KiB page.
 */
#include <errno.h>
#include <string.h>
#include "shim/xtshim.h"

/* [a, a + alen) and [b, b + blen) overlap; lengths are non-zero and do not wrap. */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int xts_gmem_add(struct xts_gmem *m, uint64_t gpa, uint64_t size, void *hva)
{
	unsigned i;

	if (size == 0 || hva == NULL || gpa + size < gpa || gpa + size == 0)
		return -EINVAL;
	if (m->nr >= XTS_GMEM_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < m->nr; i++)
		if (overlaps(gpa, size, m->r[i].gpa, m->r[i].size))
			return -EINVAL;
	m->r[m->nr].gpa = gpa;
	m->r[m->nr].size = size;
	m->r[m->nr].hva = hva;
	m->nr++;
	return 0;
}

void *xts_gmem_ptr(const struct xts_gmem *m, uint64_t gpa, uint64_t len, unsigned flags)
{
	unsigned i;

	if (len == 0 || gpa + len < gpa)
		return NULL;
	if ((flags & XTS_GMEM_NO_PAGE_CROSS) &&
	    (gpa & (XTS_PAGE_SIZE - 1)) + len > XTS_PAGE_SIZE)
		return NULL;
	for (i = 0; i < m->nr; i++) {
		const struct xts_gmem_region *r = &m->r[i];

		/* Written so that no sum can overflow: gpa - r->gpa < r->size. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int xts_gmem_read(const struct xts_gmem *m, uint64_t gpa, void *buf, uint64_t len)
{
	void *p = xts_gmem_ptr(m, gpa, len, 0);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int xts_gmem_write(const struct xts_gmem *m, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p = xts_gmem_ptr(m, gpa, len, 0);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}
