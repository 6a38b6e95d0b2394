/*
 * /init of the test bed's L1 kernel (testbed/README in docs/testbed.md).
 *
 * The L1 is a Debian cloud kernel under QEMU TCG with an emulated SVM CPU;
 * its KVM is the /dev/kvm the project's KVM tests need.  This program is the
 * whole userland setup: it mounts the pseudo file systems, loads KVM's
 * modules, keeps one VM open for the whole run, runs /testbed/job with its
 * output on the second serial port, and powers off.
 *
 * The host side (testbed/run.sh) reads two channels:
 *   ttyS0  kernel log (oopses, KVM warnings): kept as a file
 *   ttyS1  "xtshim-testbed: ..." status lines and the job's own output
 * A run whose ttyS1 lacks the final "xtshim-testbed: job exit N" line is an
 * infrastructure failure (no boot, oops, timeout), never a test result.
 *
 * Static and libc-only: the initramfs needs no shell to reach this point.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/module.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

#define JOB_TTY "/dev/ttyS1"

/* Dependencies first: kvm needs irqbypass, kvm-amd needs kvm. */
static const char *const modules[] = {
	"/lib/modules/irqbypass.ko.xz",
	"/lib/modules/kvm.ko.xz",
	"/lib/modules/kvm-amd.ko.xz",
};

static FILE *status;	/* the job channel, for our own status lines */

static void say(const char *fmt, ...)
{
	va_list ap;
	FILE *f = status ? status : stderr;

	fputs("xtshim-testbed: ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

static void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

/* A setup step that fails leaves no job to run: say why and stop. */
static void fatal(const char *what)
{
	say("infra: %s: %s", what, strerror(errno));
	power_off();
}

static void mount_or_die(const char *type, const char *dir, const char *data)
{
	mkdir(dir, 0755);
	if (mount(type, dir, type, MS_NOSUID, data) && errno != EBUSY)
		fatal(dir);
}

/* The job channel carries bytes, not a terminal session: no \n -> \r\n. */
static int open_job_tty(void)
{
	struct termios t;
	int fd = open(JOB_TTY, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		cfsetspeed(&t, B115200);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

static void load_modules(void)
{
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		int fd = open(modules[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			fatal(modules[i]);
		if (syscall(SYS_finit_module, fd, "", MODULE_INIT_COMPRESSED_FILE) &&
		    errno != EEXIST)
			fatal(modules[i]);
		close(fd);
	}
}

/*
 * One VM that lives as long as the run.  Without it the L1 kernel under
 * TCG oopses now and then (int3 in __schedule) when the first or last VM
 * comes and goes (docs/testbed.md): the int3 is the kernel's text patching
 * of a static key.  KVM flips more of them per VM than the VM count:
 * kvm_xen_enabled (0 <-> 1 when a VM sets or clears its Xen hypercall MSR)
 * and apic_sw_disabled (each new vCPU's LAPIC starts software-disabled, and
 * the guest enabling it drops the count).  So the held VM also sets a Xen
 * MSR and keeps one never-run vCPU with an in-kernel LAPIC: with every
 * count held above zero, the tests' VMs patch no kernel text.  Each step is
 * best effort: a kernel without one of them still gets the VM.
 */
static pid_t hold_one_vm(int *caps)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	pid_t pid;

	if (kvm < 0)
		fatal("/dev/kvm");
	*caps = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	pid = fork();
	if (pid < 0)
		fatal("fork");
	if (pid == 0) {
		int vm = ioctl(kvm, KVM_CREATE_VM, 0);
		if (vm < 0)
			_exit(1);
		if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) == 0) {
			if (*caps > 0) {
				struct kvm_xen_hvm_config x;
				memset(&x, 0, sizeof(x));
				x.msr = 0x40000000;     /* Xen's own base: any valid MSR does */
				(void)ioctl(vm, KVM_XEN_HVM_CONFIG, &x);
			}
			(void)ioctl(vm, KVM_CREATE_VCPU, 0);
		}
		for (;;)
			pause();
	}
	close(kvm);
	return pid;
}

int main(void)
{
	char *const argv[] = { "/bin/bash", "/testbed/job", NULL };
	char *const envp[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8", "TERM=dumb",
		"XTSHIM_TESTBED=1", NULL
	};
	int fd, caps, st;
	pid_t holder, job, w;

	mount_or_die("devtmpfs", "/dev", NULL);
	mount_or_die("proc", "/proc", NULL);
	mount_or_die("sysfs", "/sys", NULL);
	/*
	 * No tmpfs over /tmp: the initramfs root is already a writable tmpfs,
	 * and a project checked out under /tmp on the host sits at the same
	 * path in here (mkinitramfs.sh) -- a mount would hide it.
	 */
	mount_or_die("tmpfs", "/dev/shm", "mode=1777");

	fd = open_job_tty();
	if (fd < 0)
		fatal(JOB_TTY);
	status = fdopen(dup(fd), "w");
	say("init started");

	load_modules();
	holder = hold_one_vm(&caps);
	say("kvm ready: KVM_CAP_XEN_HVM=%#x", caps < 0 ? 0 : caps);

	job = fork();
	if (job < 0)
		fatal("fork");
	if (job == 0) {
		int null = open("/dev/null", O_RDONLY);

		setsid();
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		chdir("/tmp");
		execve(argv[0], argv, envp);
		_exit(127);
	}
	/* As PID 1 we also reap orphans until the job itself ends. */
	while ((w = wait(&st)) != job)
		if (w < 0 && errno != EINTR)
			fatal("wait");
	kill(holder, SIGKILL);
	say("job exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	power_off();
}
