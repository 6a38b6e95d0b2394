/*
 * reexport IN OUT [bare]: read a Xen stream's time state with libxtshim
 * and write it back with xts_xen_write() (xl save file, or a bare libxc
 * stream).  Used by fuzz/xen-verify.sh to hand xtshim's output to Xen's
 * own verifier.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "shim/xtshim.h"

int main(int argc, char **argv)
{
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	struct xts_xen_export_opts o = { .config_json = "{}" };
	struct xts_stream_error e;
	int in, out;

	if (argc < 3 || !x) {
		fprintf(stderr, "usage: %s IN OUT [bare]\n", argv[0]);
		return 2;
	}
	o.bare_libxc = argc > 3 && !strcmp(argv[3], "bare");
	in = open(argv[1], O_RDONLY);
	if (in < 0 || xts_xen_read_time(in, NULL, NULL, x, NULL, &e)) {
		fprintf(stderr, "%s: %s\n", argv[1], in < 0 ? "cannot open" : e.msg);
		return 1;
	}
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || xts_xen_write(out, x, &o, &e) || close(out)) {
		fprintf(stderr, "%s: %s\n", argv[2], out < 0 ? "cannot open" : e.msg);
		return 1;
	}
	free(x);
	return 0;
}
