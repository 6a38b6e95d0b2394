/*
 * The guest console: console_io writes, PV console ring output and port
 * 0xe9 all end up here, on stdout or the --console file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm.h"

int console__open(struct vmm *v)
{
	if (!v->opts.console_path) {
		v->console_fd = v->opts.console_stderr ? STDERR_FILENO : STDOUT_FILENO;
		return 0;
	}
	v->console_fd = open(v->opts.console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (v->console_fd < 0) {
		fprintf(stderr, "xtshim: --console %s: %s\n", v->opts.console_path, strerror(errno));
		return -errno;
	}
	return 0;
}

void console__write(struct vmm *v, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(v->console_fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;     /* a console that went away must not stop the guest */
		buf += n;
		len -= (size_t)n;
	}
}
