/*
 * /init of the Linux PVH guest (guests/linux/run.sh boots it under
 * `xtshim run`).  Static, no libraries beyond libc: it is the only program
 * in its initramfs.  It checks what a Linux guest sees of xtshim's Xen time
 * ABI, prints one XTF-style line
 *     Test result: SUCCESS | FAILURE: <what failed> | SKIP: <why>
 * and powers off (reboot(RB_POWER_OFF): Linux's Xen power-off is
 * SCHEDOP_shutdown(poweroff), which `xtshim run` maps to exit status 0).
 *
 * Checks:
 *  - Xen: /sys/hypervisor/type is "xen" where the kernel has it, and the
 *    CPUID hypervisor leaves carry "XenVMMXenVMM" (scanned as Linux's
 *    xen_cpuid_base() does: 0x40000000 + n * 0x100);
 *  - the current clocksource is "xen" (pvclock over the Xen vcpu_time_info);
 *  - CLOCK_MONOTONIC never goes back over many consecutive reads;
 *  - CLOCK_REALTIME agrees with the host's UTC: the runner passes
 *    xtshim.utc_ns=<host CLOCK_REALTIME in ns, read just before it started
 *    the VMM> on the command line.  Lower bound: that value minus
 *    UTC_TOLERANCE_NS -- the guest reads its realtime after the runner read
 *    the host's, so only the skew between two reads of the same host clock
 *    (the VMM samples UTC for the Xen wallclock itself, after the runner)
 *    and rounding may put it below.  Upper bound: that value plus the guest's
 *    uptime (CLOCK_BOOTTIME, the time since its kernel's timekeeping began)
 *    plus UTC_SLACK_NS for what happened before the guest's clock started
 *    (VMM start, loading a 60 MB kernel and the initramfs, KVM setup, all
 *    of it slow under nested KVM in TCG) -- a guest whose realtime is ahead
 *    of that is wrong, not slow.
 * Integer nanoseconds throughout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>

#define NS_PER_S          1000000000LL
#define UTC_TOLERANCE_NS  (NS_PER_S / 2)
#define UTC_SLACK_NS      (120 * NS_PER_S)
#define MONO_READS        200000

static char failures[1024];
static int nfail;

static void fail(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("FAIL: %s\n", buf);
	size_t used = strlen(failures);
	snprintf(failures + used, sizeof(failures) - used, "%s%s", nfail ? "; " : "", buf);
	nfail++;
}

/* The first line of a small file, without its newline; NULL if unreadable. */
static const char *read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * NS_PER_S + t->tv_nsec;
}

static int64_t now_ns(clockid_t id)
{
	struct timespec t;
	if (clock_gettime(id, &t))
		return -1;
	return ts_ns(&t);
}

/* The CPUID leaf base whose signature is Xen's, or 0. */
static uint32_t xen_cpuid_base(void)
{
	for (uint32_t base = 0x40000000u; base < 0x40010000u; base += 0x100) {
		unsigned a, b, c, d;
		char sig[13];
		__cpuid(base, a, b, c, d);
		memcpy(sig, &b, 4);
		memcpy(sig + 4, &c, 4);
		memcpy(sig + 8, &d, 4);
		sig[12] = 0;
		if (!strcmp(sig, "XenVMMXenVMM") && a >= base + 2)
			return base;
	}
	return 0;
}

static void check_xen(void)
{
	char buf[64];
	const char *t = read_line("/sys/hypervisor/type", buf, sizeof(buf));

	if (t && strcmp(t, "xen"))
		fail("/sys/hypervisor/type is '%s', want 'xen'", t);
	uint32_t base = xen_cpuid_base();
	if (!base)
		fail("no XenVMMXenVMM CPUID signature in 0x40000000..0x4000ff00");
	else
		printf("xen: CPUID base %#x, /sys/hypervisor/type %s\n", base, t ? t : "(absent)");
}

static void check_clocksource(void)
{
	char buf[64];
	const char *cs = read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
				   buf, sizeof(buf));
	if (!cs)
		fail("current_clocksource unreadable: %s", strerror(errno));
	else if (strcmp(cs, "xen"))
		fail("clocksource is '%s', want 'xen'", cs);
	else
		printf("clocksource: %s\n", cs);
}

static void check_monotonic(void)
{
	int64_t prev = now_ns(CLOCK_MONOTONIC), first = prev;
	long back = 0;
	int64_t worst = 0;

	for (long i = 0; i < MONO_READS; i++) {
		int64_t t = now_ns(CLOCK_MONOTONIC);
		if (t < prev) {
			back++;
			if (prev - t > worst)
				worst = prev - t;
		}
		prev = t;
	}
	if (back)
		fail("CLOCK_MONOTONIC went back %ld times in %d reads (worst by %lld ns)",
		     back, MONO_READS, (long long)worst);
	else if (prev <= first)
		fail("CLOCK_MONOTONIC did not advance over %d reads", MONO_READS);
	else
		printf("monotonic: %d reads, %lld ns, never back\n", MONO_READS,
		       (long long)(prev - first));
}

/* xtshim.utc_ns=N from the kernel command line; -1 if absent or malformed. */
static int64_t cmdline_utc_ns(void)
{
	static char buf[4096];
	const char *cl = read_line("/proc/cmdline", buf, sizeof(buf));
	const char *p = cl ? strstr(cl, "xtshim.utc_ns=") : NULL;
	if (!p)
		return -1;
	p += strlen("xtshim.utc_ns=");
	char *end;
	errno = 0;
	long long v = strtoll(p, &end, 10);
	if (errno || end == p || (*end && *end != ' ') || v <= 0)
		return -1;
	return v;
}

/* 0: checked; 1: nothing to check against. */
static int check_realtime(void)
{
	int64_t host = cmdline_utc_ns();
	if (host < 0) {
		printf("realtime: no xtshim.utc_ns= on the command line\n");
		return 1;
	}
	int64_t real = now_ns(CLOCK_REALTIME), up = now_ns(CLOCK_BOOTTIME);
	int64_t lo = host - UTC_TOLERANCE_NS, hi = host + up + UTC_SLACK_NS;
	printf("realtime: guest %lld, host at launch %lld, guest - host %lld ns, uptime %lld ns\n",
	       (long long)real, (long long)host, (long long)(real - host), (long long)up);
	if (real < lo)
		fail("CLOCK_REALTIME %lld is %lld ns before the host's UTC at launch %lld",
		     (long long)real, (long long)(host - real), (long long)host);
	else if (real > hi)
		fail("CLOCK_REALTIME %lld is more than uptime %lld + %lld ns after the host's "
		     "UTC at launch %lld", (long long)real, (long long)up,
		     (long long)UTC_SLACK_NS, (long long)host);
	return 0;
}

/* stdout on the console even when the initramfs has no /dev/console node. */
static void open_console(void)
{
	if (fcntl(1, F_GETFD) >= 0)
		return;
	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	int fd = open("/dev/console", O_RDWR);
	if (fd < 0)
		fd = open("/dev/hvc0", O_RDWR);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

int main(void)
{
	open_console();
	setvbuf(stdout, NULL, _IOLBF, 0);
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	if (mount("proc", "/proc", "proc", 0, NULL) && errno != EBUSY)
		fail("mount /proc: %s", strerror(errno));
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) && errno != EBUSY)
		fail("mount /sys: %s", strerror(errno));
	printf("xtshim linux guest init\n");

	check_xen();
	check_clocksource();
	check_monotonic();
	int no_utc = check_realtime();

	if (nfail)
		printf("Test result: FAILURE: %s\n", failures);
	else if (no_utc)
		printf("Test result: SKIP: realtime not checked (no xtshim.utc_ns=)\n");
	else
		printf("Test result: SUCCESS\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	/* Not reached on a kernel that powers off; an init that exits panics. */
	printf("init: reboot(RB_POWER_OFF): %s\n", strerror(errno));
	return 1;
}
