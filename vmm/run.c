/*
 * `xtshim run [options] GUEST.elf`: boot a PVH guest with the Xen time ABI
 * and exit with a status derived from its shutdown reason.
 * `xtshim run --from-xen FILE|-` resumes a guest from a Xen stream instead
 * (restore.c); --save-on-suspend FILE writes one when the guest suspends
 * (save.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/commands.h"
#include "vmm/vmm.h"

static void run__usage(FILE *f)
{
	fprintf(f,
		"usage: xtshim run [options] GUEST.elf\n"
		"       xtshim run [options] --from-xen FILE|- [--xl-migrate-receive]\n"
		"  --vcpus N            vCPUs (1..%u, default 1)\n"
		"  --mem MiB            guest RAM (2..%u, default 64)\n"
		"  --xen-version X.Y    Xen version the guest sees (default 4.17)\n"
		"  --tsc-mode MODE      default | never_emulate (always_emulate: refused)\n"
		"  --cmdline STR        guest command line (hvm_start_info)\n"
		"  --initrd FILE        a module (Linux: initramfs) at the top of guest RAM\n"
		"  --backend B          auto | userspace | kernel | kernel-transport (default auto)\n"
		"  --console FILE       guest console output (default stdout)\n"
		"  -v, --verbose        report the boot and the shutdown on stderr\n"
		"migration:\n"
		"  --from-xen FILE|-    resume an HVM/PVH guest from an xl save file or Xen stream\n"
		"  --xl-migrate-receive with --from-xen -: speak xl's receiver protocol on stdio\n"
		"                       (guest console on stderr unless --console)\n"
		"  --clock-policy P     freeze | track | threshold[:NS] (default freeze;\n"
		"                       threshold without NS: 1 s)\n"
		"  --accept-rate-change resume even if the guest TSC rate cannot be kept\n"
		"  --pvclock VCPU:GPA   the guest's last pvclock record in its RAM (Xen streams)\n"
		"  --save-time NS       UTC of the save in ns (default: the file's mtime, or now)\n"
		"  --save-on-suspend FILE  on SCHEDOP_shutdown(suspend) write an xl save file\n"
		"                       (memory, vCPUs, time) and exit 0\n"
		"exit status: 0 poweroff (or saved), 1 VMM error, 2 crash, 3 watchdog, 4 reboot,\n"
		"             5 suspend/soft_reset, 6 triple fault or unhandled exit\n",
		XTS_MAX_VCPUS, VMM_MAX_MEM_MIB);
}

static int parse_uint(const char *opt, const char *s, unsigned long long lo,
		      unsigned long long hi, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || x < lo || x > hi) {
		fprintf(stderr, "xtshim run: %s wants an integer in %llu..%llu, not '%s'\n",
			opt, lo, hi, s);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

static int parse_version(const char *s, uint32_t *out)
{
	unsigned major, minor;
	char tail;
	if (sscanf(s, "%u.%u%c", &major, &minor, &tail) != 2 || major < 3 || major > 0xffff ||
	    minor > 0xffff) {
		fprintf(stderr, "xtshim run: --xen-version wants X.Y (e.g. 4.17), not '%s'\n", s);
		return -EINVAL;
	}
	*out = major << 16 | minor;
	return 0;
}

static int parse_choice(const char *opt, const char *s, const char *const *names, unsigned n,
			unsigned *out)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	fprintf(stderr, "xtshim run: %s: unknown value '%s'\n", opt, s);
	return -EINVAL;
}

/*
 * tsc_mode always_emulate needs every guest RDTSC to exit.  KVM offers no
 * userspace control for that: vmx_exec_control() clears
 * CPU_BASED_RDTSC_EXITING (used only for nested guests) and SVM never
 * intercepts RDTSC for its own guests; no KVM_CAP enables it.
 */
const char vmm_always_emulate_refusal[] =
	"xtshim run: --tsc-mode always_emulate: not supported: it needs RDTSC exiting,"
	" which KVM does not let a VMM enable (docs/abi-coverage.md)\n";

static int run__parse(int argc, char **argv, struct vmm_options *o)
{
	static const struct option longopts[] = {
		{ "vcpus", required_argument, NULL, 'n' },
		{ "mem", required_argument, NULL, 'm' },
		{ "xen-version", required_argument, NULL, 'x' },
		{ "tsc-mode", required_argument, NULL, 't' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "backend", required_argument, NULL, 'b' },
		{ "console", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "from-xen", required_argument, NULL, 'F' },
		{ "xl-migrate-receive", no_argument, NULL, 'X' },
		{ "save-on-suspend", required_argument, NULL, 'S' },
		{ "clock-policy", required_argument, NULL, 'P' },
		{ "accept-rate-change", no_argument, NULL, 'A' },
		{ "pvclock", required_argument, NULL, 'K' },
		{ "save-time", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const tsc_modes[] = { "default", "always_emulate", "never_emulate" };
	static const char *const backends[] = { "auto", "userspace", "kernel", "kernel-transport" };
	unsigned long long x;
	unsigned choice;
	int c;

	*o = (struct vmm_options){ .nr_vcpus = 1, .mem_mib = 64, .xen_version = 0x40011 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_uint("--vcpus", optarg, 1, XTS_MAX_VCPUS, &x))
				return -EINVAL;
			o->nr_vcpus = (unsigned)x;
			o->vcpus_given = true;
			break;
		case 'm':
			if (parse_uint("--mem", optarg, 2, VMM_MAX_MEM_MIB, &x))
				return -EINVAL;
			o->mem_mib = x;
			o->mem_given = true;
			break;
		case 'x':
			if (parse_version(optarg, &o->xen_version))
				return -EINVAL;
			break;
		case 't':
			if (!strcmp(optarg, "pvrdtscp")) {
				fprintf(stderr, "xtshim run: --tsc-mode pvrdtscp: not supported (TSC mode 3"
					" was removed from Xen)\n");
				return -ENOTSUP;
			}
			if (parse_choice("--tsc-mode", optarg, tsc_modes, 3, &choice))
				return -EINVAL;
			if (choice == XTS_TSC_MODE_ALWAYS_EMULATE) {
				fprintf(stderr, "%s", vmm_always_emulate_refusal);
				return -ENOTSUP;
			}
			o->tsc_mode = choice;
			break;
		case 'c':
			o->cmdline = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'b':
			if (parse_choice("--backend", optarg, backends, 4, &choice))
				return -EINVAL;
			o->backend = (enum vmm_backend)choice;
			break;
		case 'o':
			o->console_path = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'F':
			o->from_xen = optarg;
			break;
		case 'X':
			o->xl_migrate_receive = true;
			break;
		case 'S':
			o->save_path = optarg;
			break;
		case 'P':
			if (restore__parse_policy(optarg, &o->clock_policy, &o->clock_threshold_ns))
				return -EINVAL;
			break;
		case 'A':
			o->accept_rate_change = true;
			break;
		case 'T':
			if (parse_uint("--save-time", optarg, 1, UINT64_MAX, &x))
				return -EINVAL;
			o->save_time_ns = x;
			break;
		case 'K':
			if (restore__parse_pvclock(optarg, &o->import))
				return -EINVAL;
			break;
		case 'h':
			run__usage(stdout);
			exit(0);
		default:
			run__usage(stderr);
			return -EINVAL;
		}
	}
	if (o->from_xen) {
		if (optind != argc) {
			fprintf(stderr, "xtshim run: --from-xen takes the guest from the stream; "
				"no GUEST.elf\n");
			return -EINVAL;
		}
		if (o->xl_migrate_receive && strcmp(o->from_xen, "-")) {
			fprintf(stderr, "xtshim run: --xl-migrate-receive reads the stream from stdin: "
				"use --from-xen -\n");
			return -EINVAL;
		}
		if (o->initrd) {
			fprintf(stderr, "xtshim run: --initrd: a resumed guest has its modules in "
				"its memory already\n");
			return -EINVAL;
		}
		if (o->cmdline) {
			fprintf(stderr, "xtshim run: --cmdline: a resumed guest keeps its own command "
				"line (it is in its memory)\n");
			return -EINVAL;
		}
		if (o->xl_migrate_receive && !o->console_path)
			o->console_stderr = true;   /* stdout carries xl's protocol */
		return 0;
	}
	if (o->xl_migrate_receive || o->import.pvclock_given || o->accept_rate_change ||
	    o->save_time_ns) {
		fprintf(stderr, "xtshim run: --xl-migrate-receive, --pvclock, --save-time and "
			"--accept-rate-change need --from-xen\n");
		return -EINVAL;
	}
	if (optind != argc - 1) {
		run__usage(stderr);
		return -EINVAL;
	}
	o->kernel = argv[optind];
	return 0;
}

static int run__boot(struct vmm *v)
{
	uint64_t start_info;
	int r;

	if (v->opts.from_xen)
		return restore__run(v);
	if ((r = console__open(v)) || (r = kvm__init(v)) || (r = xen__pick_backend(v)))
		return r;
	if ((r = elf__load_pvh(v, v->opts.kernel, &v->entry)))
		return r;
	if (v->opts.initrd && (r = initrd__load(v, v->opts.initrd)))
		return r;
	if ((r = pvh__build_start_info(v, &start_info)))
		return r;
	if ((r = kvm_cpu__init(v)) || (r = xen__init(v)))
		return r;
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		if ((r = xen__setup_vcpu(&v->cpus[i])))
			return r;
	if (xen_kernel__active(v) && (r = xen_kernel__load(v)))
		return r;
	if ((r = regs__pvh_entry(&v->cpus[0], v->entry, start_info))) {
		fprintf(stderr, "xtshim: vCPU 0 entry state: %s\n", strerror(-r));
		return r;
	}
	if (v->opts.verbose)
		fprintf(stderr, "xtshim: %s: entry %#llx, %u vCPU(s), %llu MiB, Xen %u.%u, "
			"TSC %u kHz\n", v->opts.kernel, (unsigned long long)v->entry,
			v->nr_vcpus, (unsigned long long)v->opts.mem_mib,
			v->opts.xen_version >> 16, v->opts.xen_version & 0xffff,
			v->clock.host_tsc_khz);
	if (v->opts.verbose && v->initrd_size)
		fprintf(stderr, "xtshim: --initrd %s: %llu bytes at %#llx\n", v->opts.initrd,
			(unsigned long long)v->initrd_size, (unsigned long long)v->initrd_gpa);
	if ((r = kvm_cpu__start_all(v)))
		return r;
	kvm_cpu__join_all(v);
	return 0;
}

int xtshim__cmd_run(int argc, char **argv)
{
	struct vmm v = { .kvm_fd = -1, .vm_fd = -1, .console_fd = -1 };
	if (run__parse(argc, argv, &v.opts))
		return VMM_EXIT_ERROR;
	v.nr_vcpus = v.opts.nr_vcpus;
	pthread_mutex_init(&v.lock, NULL);
	pthread_mutex_init(&v.kx_lock, NULL);

	int r = run__boot(&v);
	int status = r ? VMM_EXIT_ERROR : v.exit_status;
	/* The guest suspended and the operator asked for its state. */
	if (!r && v.opts.save_path && status == VMM_EXIT_SUSPEND) {
		r = save__guest(&v);
		status = r ? VMM_EXIT_ERROR : VMM_EXIT_POWEROFF;
		v.stop_why = r ? "suspend: saving failed" : "suspend: saved";
	}
	if (!r && (v.opts.verbose || status))
		fprintf(stderr, "xtshim: guest stopped: %s (exit status %d)\n",
			v.stop_why ? v.stop_why : "?", status);

	xen__exit(&v);
	kvm_cpu__exit_all(&v);
	kvm__exit(&v);
	if (v.console_fd > 2)
		close(v.console_fd);
	pthread_mutex_destroy(&v.kx_lock);
	pthread_mutex_destroy(&v.lock);
	return status;
}
