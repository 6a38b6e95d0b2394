/*
 * Writing time into guest memory with Xen's version protocol.
 *
 * The guest retries while the version is odd or changed across its read, so
 * the writer must make the odd version visible before any body store and
 * the body visible before the final even version.  A release fence gives
 * exactly that store->store ordering: on x86 (TSO) it is only a compiler
 * barrier, on arm64 it is a `dmb ish`.  Fields are stored with single,
 * naturally aligned atomic stores, except the 64-bit ones of a record that
 * is only 4-byte aligned (a 32-bit guest's): two halves there, inside the
 * odd version like every other store.
 */
#include <errno.h>
#include <stddef.h>
#include "abi/xen-abi.h"
#include "abi/layout.h"
#include "shim/xtshim.h"

#define NSEC_PER_SEC 1000000000u

static uint32_t version_begin(volatile uint32_t *version)
{
	uint32_t v = (__atomic_load_n(version, __ATOMIC_RELAXED) + 1) | 1;

	__atomic_store_n(version, v, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return v;
}

static void version_end(volatile uint32_t *version, uint32_t odd)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(version, odd + 1, __ATOMIC_RELAXED);
}

/*
 * Fields by offset from a byte pointer: a 32-bit guest's record may be only
 * 4-byte aligned (Xen asks no more of a vcpu_info or time area there), so
 * it is never reached through a struct pointer of 8-byte alignment.
 */
#define TIME_FIELD(dst, f) ((volatile uint8_t *)(dst) + offsetof(struct vcpu_time_info, f))

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "guest records are little-endian");

/* Two 32-bit stores where the field is only 4-byte aligned: the version protocol covers the tear. */
static void store64(volatile uint8_t *p, uint64_t v)
{
	if ((uintptr_t)p & 7) {
		__atomic_store_n((volatile uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED);
		__atomic_store_n((volatile uint32_t *)(p + 4), (uint32_t)(v >> 32), __ATOMIC_RELAXED);
	} else {
		__atomic_store_n((volatile uint64_t *)p, v, __ATOMIC_RELAXED);
	}
}

/* Body stores between the odd and the even version (fences on both sides). */
static void publish_body(volatile struct vcpu_time_info *dst, const struct vcpu_time_info *rec,
			 uint32_t odd)
{
	volatile uint32_t *version = (volatile uint32_t *)TIME_FIELD(dst, version);

	__atomic_store_n(version, odd, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	store64(TIME_FIELD(dst, tsc_timestamp), rec->tsc_timestamp);
	store64(TIME_FIELD(dst, system_time), rec->system_time);
	__atomic_store_n((volatile uint32_t *)TIME_FIELD(dst, tsc_to_system_mul),
			 rec->tsc_to_system_mul, __ATOMIC_RELAXED);
	__atomic_store_n((volatile int8_t *)TIME_FIELD(dst, tsc_shift), rec->tsc_shift,
			 __ATOMIC_RELAXED);
	__atomic_store_n((volatile uint8_t *)TIME_FIELD(dst, flags), rec->flags, __ATOMIC_RELAXED);
	version_end(version, odd);
}

uint32_t xts_publish_time(volatile struct vcpu_time_info *dst, const struct vcpu_time_info *rec)
{
	volatile uint32_t *version = (volatile uint32_t *)TIME_FIELD(dst, version);
	uint32_t odd = (__atomic_load_n(version, __ATOMIC_RELAXED) + 1) | 1;

	publish_body(dst, rec, odd);
	return odd;
}

void xts_publish_time_version(volatile struct vcpu_time_info *dst,
			      const struct vcpu_time_info *rec, uint32_t odd)
{
	publish_body(dst, rec, odd);
}

int xts_publish_time_gpa(const struct xts_gmem *m, uint64_t gpa, const struct vcpu_time_info *rec)
{
	void *p;

	/* Xen refuses a record that is misaligned or crosses a page. */
	if (gpa & 7)
		return -EINVAL;
	p = xts_gmem_ptr(m, gpa, sizeof(struct vcpu_time_info), XTS_GMEM_NO_PAGE_CROSS);
	if (!p)
		return -EFAULT;
	xts_publish_time(p, rec);
	return 0;
}

/* The wallclock fields of one layout inside a mapped shared_info page. */
static int wallclock_ptr(const struct xts_gmem *m, uint64_t gpa, enum xts_layout_id layout,
			 const struct xts_layout **lo, uint8_t **si)
{
	*lo = xts_layout_get(layout);
	if (!*lo || (gpa & (XTS_PAGE_SIZE - 1)))
		return -EINVAL;
	*si = xts_gmem_ptr(m, gpa, (*lo)->shared_info_size, XTS_GMEM_NO_PAGE_CROSS);
	return *si ? 0 : -EFAULT;
}

#define FIELD32(si, off) ((volatile uint32_t *)((si) + (off)))

int xts_publish_wallclock(const struct xts_gmem *m, uint64_t shared_info_gpa,
			  enum xts_layout_id layout, uint64_t sec, uint32_t nsec)
{
	const struct xts_layout *lo;
	uint8_t *si;
	uint32_t v;
	int rc;

	if (nsec >= NSEC_PER_SEC)
		return -EINVAL;
	rc = wallclock_ptr(m, shared_info_gpa, layout, &lo, &si);
	if (rc)
		return rc;
	v = version_begin(FIELD32(si, lo->wc_version));
	__atomic_store_n(FIELD32(si, lo->wc_sec), (uint32_t)sec, __ATOMIC_RELAXED);
	__atomic_store_n(FIELD32(si, lo->wc_nsec), nsec, __ATOMIC_RELAXED);
	__atomic_store_n(FIELD32(si, lo->wc_sec_hi), (uint32_t)(sec >> 32), __ATOMIC_RELAXED);
	version_end(FIELD32(si, lo->wc_version), v);
	return 0;
}

/* Readers give up after this many torn reads rather than spin forever. */
#define XTS_READ_RETRIES 1000000

int xts_read_wallclock(const struct xts_gmem *m, uint64_t shared_info_gpa,
		       enum xts_layout_id layout, uint64_t *sec, uint32_t *nsec)
{
	const struct xts_layout *lo;
	uint32_t v, lo32, hi32, ns;
	uint8_t *si;
	int rc, tries;

	rc = wallclock_ptr(m, shared_info_gpa, layout, &lo, &si);
	if (rc)
		return rc;
	for (tries = 0; tries < XTS_READ_RETRIES; tries++) {
		v = __atomic_load_n(FIELD32(si, lo->wc_version), __ATOMIC_ACQUIRE);
		if (v & 1)
			continue;
		lo32 = __atomic_load_n(FIELD32(si, lo->wc_sec), __ATOMIC_RELAXED);
		ns = __atomic_load_n(FIELD32(si, lo->wc_nsec), __ATOMIC_RELAXED);
		hi32 = __atomic_load_n(FIELD32(si, lo->wc_sec_hi), __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(FIELD32(si, lo->wc_version), __ATOMIC_RELAXED) != v)
			continue;
		*sec = (uint64_t)hi32 << 32 | lo32;
		*nsec = ns;
		return 0;
	}
	return -EAGAIN;
}

int xts_layout_vcpu_time_offset(enum xts_layout_id layout, uint32_t *off)
{
	const struct xts_layout *lo = xts_layout_get(layout);

	if (!lo)
		return -EINVAL;
	*off = lo->vi_time;
	return 0;
}
