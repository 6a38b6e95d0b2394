/*
 * The receiver's side of `xl migrate`, as tools/xl/xl_migrate.c speaks it.
 * The messages are xl's: the banner goes without its NUL, every other
 * message with it (xl sends sizeof(), not strlen()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>
#include "shim/stream-internal.h"

static const char banner[] = "xl migration receiver ready, send binary domain data.\n";
static const char ready[] = "domain received, ready to unpause";
static const char go[] = "domain is yours, you are cleared to unpause";
static const char report[] = "my copy unpause results are as follows";

static int put(int fd, const void *buf, size_t n)
{
	const uint8_t *b = buf;

	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int get_exact(int fd, void *buf, size_t n)
{
	uint8_t *b = buf;

	while (n) {
		ssize_t r = read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -EIO : -EPROTO;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int proto(struct xts_stream_error *e, int rc, const char *what)
{
	xts_stream_set_error(e, rc, XTS_STREAM_XL, -1, 0, 0, "xl migrate handshake: %s", what);
	return rc;
}

int xts_xl_migrate_receive(int in_fd, int out_fd, const struct xts_xl_receiver_ops *ops,
			   struct xts_xen_time *x, struct xts_stream_info *info,
			   struct xts_stream_error *err)
{
	struct xts_stream_error local;
	struct xts_stream_info inf;
	char msg[sizeof(go)];
	uint8_t status;
	int rc, code;

	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	if (put(out_fd, banner, sizeof(banner) - 1))
		return proto(err, -EIO, "cannot write the banner");
	rc = xts_xen_read_time(in_fd, ops->import, ops->visitor, x, &inf, err);
	if (rc)
		return rc;
	if (info)
		*info = inf;
	/* The sender waits for "ready" after END: anything already here is wrong. */
	if (inf.read_past_end)
		return proto(err, -EPROTO, "the sender sent data after the stream before our"
			     " ready message");
	if (put(out_fd, ready, sizeof(ready)))
		return proto(err, -EIO, "cannot write the ready message");

	rc = get_exact(in_fd, msg, sizeof(msg));
	if (!rc && memcmp(msg, go, sizeof(go)))
		rc = -EPROTO;
	if (!rc) {
		rc = ops->start(ops->opaque, x, &inf);
		if (rc)
			proto(err, rc, "starting the guest failed");
	} else {
		proto(err, rc, "no permission to start (the sender's go message)");
	}

	/* xl sends its negated error code as one byte; any non-zero is failure. */
	code = rc < 0 ? -rc : rc;
	status = !rc ? 0 : (code & 0xff) ? (uint8_t)code : 1;
	if (put(out_fd, report, sizeof(report)) || put(out_fd, &status, 1))
		return proto(err, -EIO, "cannot write the report");
	if (rc) {
		if (ops->destroy)
			ops->destroy(ops->opaque);
		if (put(out_fd, go, sizeof(go)))
			return proto(err, -EIO, "cannot give the sender its domain back");
	}
	return rc;
}
