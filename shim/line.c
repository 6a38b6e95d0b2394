/*
 * Xen system time as a line over a guest TSC, and the arithmetic that keeps
 * re-published records exactly on it.
 *
 * The guest evaluates  sys + ((((tsc - t) <<>> shift) * mul) >> 32).
 * Both the shift (for shift < 0) and the final >> 32 truncate, so moving
 * the anchor t forward by an arbitrary amount changes results by up to 1 ns.
 * Moving it by a multiple of P = xts_line_period() truncates nothing: the
 * contribution of the k*P part is an exact integer, so for every tsc at or
 * after the new anchor the guest computes the same value as before.
 */
#include <errno.h>
#include "shim/xtshim.h"

int xts_line_check(const struct xts_line *l)
{
	if (l->mul == 0 || l->shift < -31 || l->shift > 31)
		return -EINVAL;
	return 0;
}

uint64_t xts_line_at(const struct xts_line *l, uint64_t tsc)
{
	return l->system_ns + xts_scale_delta(tsc - l->tsc, l->mul, l->shift);
}

/*
 * P = 2^p with p the smallest exponent such that both truncations are exact
 * for a delta of P:
 *   shift >= 0: (P << shift) * mul must be a multiple of 2^32
 *   shift <  0: P must be a multiple of 2^-shift, and (P >> -shift) * mul a
 *               multiple of 2^32.
 */
uint64_t xts_line_period(const struct xts_line *l)
{
	int tz, p;

	if (xts_line_check(l))
		return 0;
	tz = __builtin_ctz(l->mul);
	/* Both cases reduce to the same exponent; shift < 0 also needs p >= |shift|. */
	p = 32 - l->shift - tz;
	if (l->shift < 0 && p < -l->shift)
		p = -l->shift;
	if (p < 0)
		p = 0;
	return 1ULL << p;
}

/* True if `tsc` lies before `anchor` (modulo-2^64 distance, as the guest sees it). */
static bool before_anchor(uint64_t tsc, uint64_t anchor)
{
	return (int64_t)(tsc - anchor) < 0;
}

int xts_line_advance(const struct xts_line *l, uint64_t tsc, struct xts_line *out)
{
	uint64_t period, steps, delta;
	struct xts_line n;

	if (xts_line_check(l))
		return -EINVAL;
	if (before_anchor(tsc, l->tsc))
		return -ERANGE;
	period = xts_line_period(l);
	steps = (tsc - l->tsc) / period;
	delta = steps * period;
	n = *l;
	n.tsc = l->tsc + delta;
	n.system_ns = l->system_ns + xts_scale_delta(delta, l->mul, l->shift);
	*out = n;
	return 0;
}

/*
 * Smallest delta d with scale(d) >= target.  scale() is non-decreasing, and
 *   floor(y / 2^32) >= target  <=>  y >= target * 2^32   (y an integer),
 * so the bound is a ceiling division; for shift < 0 the inner truncation
 * floor(d / 2^k) >= m  <=>  d >= m * 2^k  adds a second exact step.
 */
int xts_line_tsc_at_ns(const struct xts_line *l, uint64_t ns, uint64_t *tsc)
{
	unsigned __int128 need, d;
	uint64_t target;

	if (xts_line_check(l))
		return -EINVAL;
	if ((int64_t)(ns - l->system_ns) <= 0) {
		*tsc = l->tsc;
		return 0;
	}
	target = ns - l->system_ns;
	need = (unsigned __int128)target << 32;
	if (l->shift >= 0) {
		unsigned __int128 step = (unsigned __int128)l->mul << l->shift;

		d = (need + step - 1) / step;
		/* The guest shifts d left in 64 bits: it must not overflow. */
		if (d > (UINT64_MAX >> l->shift))
			return -ERANGE;
	} else {
		unsigned __int128 m = (need + l->mul - 1) / l->mul;

		d = m << -l->shift;
	}
	if (d > (unsigned __int128)INT64_MAX)
		return -ERANGE;
	*tsc = l->tsc + (uint64_t)d;
	return 0;
}
