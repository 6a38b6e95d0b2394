/*
 * Frequency -> (mul, shift), exactly as Xen's set_time_scale() derives them,
 * and the guest's side of the conversion.
 */
#include <errno.h>
#include "shim/xtshim.h"

/* Frequencies outside this range give shifts guests were never tested with. */
#define XTS_SCALE_MIN_HZ 1000ULL          /* 1 kHz   -> shift +20 */
#define XTS_SCALE_MAX_HZ (1ULL << 40)     /* ~1.1 THz -> shift -9  */

#define NSEC_PER_SEC 1000000000ULL

int xts_scale_from_hz(uint64_t hz, uint32_t *mul, int8_t *shift)
{
	uint64_t f = hz;
	uint32_t f32;
	int s = 0;

	if (hz == 0)
		return -EINVAL;
	if (hz < XTS_SCALE_MIN_HZ || hz > XTS_SCALE_MAX_HZ)
		return -ERANGE;

	/* Bring the frequency into (1e9, 2e9] so that 1e9 / f is in [0.5, 1). */
	while (f > 2 * NSEC_PER_SEC) {
		f >>= 1;
		s--;
	}
	f32 = (uint32_t)f;
	while (f32 <= NSEC_PER_SEC) {
		f32 <<= 1;
		s++;
	}
	/* 0.32 fixed-point fraction; < 2^32 because f32 > 1e9. */
	*mul = (uint32_t)((NSEC_PER_SEC << 32) / f32);
	*shift = (int8_t)s;
	return 0;
}

uint64_t xts_scale_delta(uint64_t delta_tsc, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta_tsc >>= -shift;
	else
		delta_tsc <<= shift;
	return (uint64_t)(((unsigned __int128)delta_tsc * mul) >> 32);
}
