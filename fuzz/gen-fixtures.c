/*
 * xtshim-gen-fixtures DIR: writes sample Xen migration streams (from the
 * test generator, shim/tests/xen-stream-gen.h) into DIR: every wrapping,
 * libxc v2/v3, both byte orders, HVM and PV, several vCPU counts.  Used as
 * the fuzzer's seed corpus and for trying `xtshim inspect` by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "shim/tests/xen-stream-gen.h"

int main(int argc, char **argv)
{
	static const unsigned vcpus[] = { 1, 4 };
	static const char *const wraps[] = { "libxc", "libxl", "xl" };
	unsigned n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (int pv = 0; pv <= 1; pv++)
	for (int wrap = 0; wrap <= 2; wrap++)
	for (int ver = 2; ver <= 3; ver++)
	for (int be = 0; be <= 1; be++)
	for (unsigned vi = 0; vi < 2; vi++) {
		struct gen_opts o;
		struct gen g;
		char path[4096];
		FILE *f;

		gen_opts_default(&o);
		o.pv = pv;
		o.wrap = wrap;
		o.version = ver;
		o.be = be;
		o.nr_vcpus = vcpus[vi];
		o.nr_pages = 1 + vi;
		o.pvclock_gpa = pv ? 0 : 0x1020;
		o.params_first = vi;
		o.unknown_optional = be;
		gen_stream(&g, &o);
		snprintf(path, sizeof(path), "%s/%s-%s-v%d-%s-%uvcpu.bin", argv[1], pv ? "pv" : "hvm",
			 wraps[wrap], ver, be ? "be" : "le", vcpus[vi]);
		f = fopen(path, "wb");
		if (!f || fwrite(g.b, 1, g.len, f) != g.len || fclose(f)) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return 1;
		}
		free(g.b);
		n++;
	}
	printf("%u fixture streams written to %s\n", n, argv[1]);
	return 0;
}
