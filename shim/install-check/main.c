/*
 * Built by `make check` against an installed copy of libxtshim (make install
 * DESTDIR=...): includes nothing but <xtshim.h>, links through pkg-config,
 * and checks the worked scale values from Xen's arithmetic.
 */
#include <xtshim.h>

int printf(const char *fmt, ...);

static int check(unsigned long long hz, unsigned int want_mul, int want_shift)
{
	uint32_t mul;
	int8_t shift;

	if (xts_scale_from_hz(hz, &mul, &shift) || mul != want_mul || shift != want_shift) {
		printf("FAIL %llu Hz: mul %#x shift %d\n", hz, mul, shift);
		return 0;
	}
	return 1;
}

int main(void)
{
	int ok = check(1000000000ULL, 0x80000000u, 1) + check(3000000000ULL, 0xaaaaaaaau, -1) +
		 check(2294686000ULL, 0xdf1fcc33u, -1);

	printf("install-check (%s): %d passed, %d failed\n",
#ifdef XTS_STATIC
	       "static",
#else
	       "shared",
#endif
	       ok, 3 - ok);
	return ok == 3 ? 0 : 1;
}
