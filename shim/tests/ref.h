/*
 * Independent reference arithmetic for the clock-core tests.  Written from
 * the definitions, deliberately not the way shim/ computes them, so a test
 * compares two derivations rather than the code with itself.
 */
#ifndef XTS_TESTS_REF_H
#define XTS_TESTS_REF_H

#include <stdint.h>
#include <stdio.h>
#include "shim/xtshim.h"

typedef unsigned __int128 u128;

/* Deterministic PRNG (xorshift64*); tests print their seed on failure. */
static inline uint64_t ref_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t ref_rand_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + ref_rand(s) % (hi - lo + 1);
}

static inline int ref_bitlen(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

/*
 * Xen's scale from the definition: the frequency is first truncated to at
 * most 2e9 by dropping k low bits (k from bit lengths, corrected once),
 * then doubled j times until it exceeds 1e9 (j again from bit lengths);
 * mul = floor(1e9 * 2^32 / f), shift = j - k.
 */
static inline void ref_scale(uint64_t hz, uint32_t *mul, int8_t *shift)
{
	const uint64_t two_g = 2000000000ULL, one_g = 1000000000ULL;
	int k = ref_bitlen(hz) - ref_bitlen(two_g);
	uint64_t f;
	int j;

	if (k < 0)
		k = 0;
	if ((hz >> k) > two_g)
		k++;
	if (k > 0 && (hz >> (k - 1)) <= two_g)
		k--;
	f = hz >> k;
	j = ref_bitlen(one_g) - ref_bitlen(f);
	if (j < 0)
		j = 0;
	if ((f << j) <= one_g)
		j++;
	if (j > 0 && (f << (j - 1)) > one_g)
		j--;
	f <<= j;
	*mul = (uint32_t)(((u128)one_g << 32) / f);
	*shift = (int8_t)(j - k);
}

/* The guest formula straight from the comment in xen/include/public/xen.h. */
static inline uint64_t ref_pvclock(uint64_t tsc_timestamp, uint64_t system_time,
				   uint32_t mul, int8_t shift, uint64_t tsc)
{
	uint64_t d = tsc - tsc_timestamp;
	u128 prod;

	d = shift >= 0 ? d << shift : d >> -shift;
	prod = (u128)d * mul;
	return system_time + (uint64_t)(prod >> 32);
}

static inline uint64_t ref_line(const struct xts_line *l, uint64_t tsc)
{
	return ref_pvclock(l->tsc, l->system_ns, l->mul, l->shift, tsc);
}

#endif
