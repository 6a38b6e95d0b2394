/*
 * `xtshim run --save-on-suspend FILE`: when the guest calls
 * SCHEDOP_shutdown(SHUTDOWN_suspend), every vCPU is stopped and the guest
 * is written as an `xl save` file (libxc v3, x86 HVM): all of guest RAM as
 * PAGE_DATA, one CPU record per running vCPU, LAPIC + LAPIC_REGS and
 * TSC_ADJUST per vCPU, X86_TSC_INFO, the model's own pvclock record and
 * wallclock (XTSHIM_TIME, so a restore continues Xen system time exactly)
 * and the ring-page HVM params.  `xtshim run --from-xen FILE` resumes it.
 *
 * The suspending vCPU's hypercall has already been answered (RAX = 0, as
 * Xen leaves it for a guest that is resumed in a new domain); KVM finishes
 * that port write on the next KVM_RUN, so every vCPU is first run once with
 * immediate_exit set (Documentation/virt/kvm/api.rst: pending I/O completes
 * and the state becomes consistent, no guest code runs).
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shim/stream-cpu.h"
#include "vmm/vmm.h"

#define MSR_IA32_TSC_ADJUST   0x3b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define APIC_BASE_BSP         (1ull << 8)

/* What one vCPU looked like when it stopped. */
struct save_cpu {
	bool running;                      /* has a CPU record (Xen: up) */
	struct xts_xen_cpu_kvm k;
	struct kvm_lapic_state lapic;
	uint64_t tsc_adjust, tsc_deadline;
};

/* Let KVM finish an exit it handed to us, without running guest code. */
static int save__flush(struct vmm_cpu *c)
{
	c->run->immediate_exit = 1;
	int r = ioctl(c->fd, KVM_RUN, 0);
	int err = errno;
	c->run->immediate_exit = 0;
	if (r == 0) {
		fprintf(stderr, "xtshim: save: vCPU %u: KVM_RUN with immediate_exit returned exit "
			"reason %u instead of stopping\n", c->id, c->run->exit_reason);
		return -EIO;
	}
	if (err != EINTR) {
		fprintf(stderr, "xtshim: save: vCPU %u: KVM_RUN (completing the last exit): %s\n",
			c->id, strerror(err));
		return -err;
	}
	return 0;
}

/* One MSR; false when KVM does not have it (it is then saved as 0). */
static bool save__msr(struct vmm_cpu *c, uint32_t index, uint64_t *val)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index };
	if (ioctl(c->fd, KVM_GET_MSRS, &m) != 1) {
		*val = 0;
		return false;
	}
	*val = m.e.data;
	return true;
}

#define GET(req, arg, what) do { \
	if (ioctl(c->fd, req, arg) < 0) { \
		fprintf(stderr, "xtshim: save: vCPU %u: %s: %s\n", c->id, what, strerror(errno)); \
		return -errno; \
	} } while (0)

static int save__cpu(struct vmm_cpu *c, struct save_cpu *s)
{
	static const uint32_t record_msrs[XTS_XEN_CPU_MSRS] = {
		0x174, 0x175, 0x176, 0xc0000102, 0xc0000082, 0xc0000081, 0xc0000083,
		0xc0000084, 0xc0000103,
	};
	struct kvm_vcpu_events ev;
	int r = save__flush(c);
	if (r)
		return r;

	memset(s, 0, sizeof(*s));
	s->running = c->id == 0 || (c->started && !c->down);
	GET(KVM_GET_REGS, &s->k.regs, "KVM_GET_REGS");
	GET(KVM_GET_SREGS, &s->k.sregs, "KVM_GET_SREGS");
	GET(KVM_GET_DEBUGREGS, &s->k.debugregs, "KVM_GET_DEBUGREGS");
	GET(KVM_GET_FPU, &s->k.fpu, "KVM_GET_FPU");
	GET(KVM_GET_LAPIC, &s->lapic, "KVM_GET_LAPIC");
	GET(KVM_GET_VCPU_EVENTS, &ev, "KVM_GET_VCPU_EVENTS");
	s->k.fpu_valid = true;
	for (unsigned i = 0; i < XTS_XEN_CPU_MSRS; i++) {
		uint64_t val;
		if (!save__msr(c, record_msrs[i], &val) && s->running)
			fprintf(stderr, "xtshim: save: vCPU %u: MSR %#x not readable, saved as 0\n",
				c->id, record_msrs[i]);
		s->k.msrs[i].index = record_msrs[i];
		s->k.msrs[i].data = val;
	}
	s->k.nr_msrs = XTS_XEN_CPU_MSRS;
	save__msr(c, MSR_IA32_TSC_ADJUST, &s->tsc_adjust);
	save__msr(c, MSR_IA32_TSC_DEADLINE, &s->tsc_deadline);

	/* An event KVM was delivering: Xen's pending_event uses VMX interruption types. */
	if (ev.exception.injected) {
		s->k.pending_valid = true;
		s->k.pending_vector = ev.exception.nr;
		s->k.pending_type = 3;                  /* hardware exception */
		s->k.pending_error_valid = ev.exception.has_error_code;
		s->k.error_code = ev.exception.error_code;
	} else if (ev.nmi.injected) {
		s->k.pending_valid = true;
		s->k.pending_vector = 2;
		s->k.pending_type = 2;                  /* NMI */
	} else if (ev.interrupt.injected) {
		s->k.pending_valid = true;
		s->k.pending_vector = ev.interrupt.nr;
		s->k.pending_type = 0;                  /* external interrupt */
	}
	return 0;
}
#undef GET

/* The Xen view of the stopped guest: time state, per-vCPU LAPIC data, params. */
static int save__xen_time(struct vmm *v, const struct save_cpu *cpus, struct xts_xen_time *x,
			  struct xts_host_sample *at)
{
	struct xts_host_sample now;
	struct xts_time_state st;
	struct vcpu_time_info rec;
	int r;

	if (xen_kernel__active(v) && (r = xen_kernel__adopt_clock(v)))
		return r;
	xts_host_sample_now(&now);
	*at = now;
	if ((r = xts_clock_save(&v->clock, &now, &st)) || (r = xts_xen_time_from_state(&st, x))) {
		fprintf(stderr, "xtshim: save: time state: %s\n", strerror(-r));
		return r;
	}
	unsigned a, b, c, d;
	if (__get_cpuid(1, &a, &b, &c, &d))
		x->hvm_cpuid = a;           /* HEADER: the saving CPU's family/model, as Xen */
	/*
	 * The record the guest would read now, and the wallclock: the restore
	 * continues this exact line instead of starting a new one.
	 */
	if ((r = xts_clock_vcpu_record(&v->clock, 0, now.host_tsc, &rec))) {
		fprintf(stderr, "xtshim: save: vCPU 0 time record: %s\n", strerror(-r));
		return r;
	}
	rec.version = 2;
	x->pvclock = rec;
	x->pvclock_vcpu = 0;
	x->wc_sec = v->clock.wc_sec;
	x->wc_nsec = v->clock.wc_nsec;
	x->wc_version = 2;
	x->have |= XTS_XEN_HAVE_PVCLOCK | XTS_XEN_HAVE_WALLCLOCK;

	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		struct xts_xen_vcpu_time *t = &x->vcpu[i];
		t->present = XTS_XEN_VCPU_LAPIC | XTS_XEN_VCPU_TSC_ADJUST |
			     (cpus[i].running ? XTS_XEN_VCPU_CPU : 0);
		t->apic_base_msr = cpus[i].k.sregs.apic_base;
		t->tdt_msr = cpus[i].tsc_deadline;
		t->tsc_adjust = cpus[i].tsc_adjust;
	}
	/* Xen sends the non-zero params; the rings travel with the guest's layout. */
	x->nr_params = 0;
	if (v->store_pfn)
		x->params[x->nr_params].index = HVM_PARAM_STORE_PFN,
		x->params[x->nr_params++].value = v->store_pfn;
	if (v->console_pfn)
		x->params[x->nr_params].index = HVM_PARAM_CONSOLE_PFN,
		x->params[x->nr_params++].value = v->console_pfn;
	if (x->nr_params)
		x->have |= XTS_XEN_HAVE_PARAMS;
	return 0;
}

int save__guest(struct vmm *v)
{
	const size_t cpu_sz = sizeof(struct hvm_hw_cpu), lapic_sz = sizeof(struct kvm_lapic_state);
	struct save_cpu *cpus = calloc(v->nr_vcpus, sizeof(*cpus));
	uint8_t *records = calloc(v->nr_vcpus, cpu_sz);
	uint8_t *lapics = calloc(v->nr_vcpus, lapic_sz);
	struct xts_xen_time *x = calloc(1, sizeof(*x));
	char config[256];
	int r = -ENOMEM, fd = -1;

	_Static_assert(sizeof(struct kvm_lapic_state) == sizeof(struct hvm_hw_lapic_regs),
		       "KVM's LAPIC state is the register page Xen saves as LAPIC_REGS");
	if (!cpus || !records || !lapics || !x) {
		fprintf(stderr, "xtshim: save: out of memory\n");
		goto out;
	}
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		if ((r = save__cpu(&v->cpus[i], &cpus[i])))
			goto out;
	struct xts_host_sample at;
	if ((r = save__xen_time(v, cpus, x, &at)))
		goto out;
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		xts_kvm_to_xen_cpu(&cpus[i].k, records + i * cpu_sz);
		memcpy(lapics + i * lapic_sz, &cpus[i].lapic, lapic_sz);
	}

	/* A libxl domain config, so `xl restore` and people know the shape. */
	snprintf(config, sizeof(config),
		 "{\"c_info\":{\"type\":\"pvh\",\"name\":\"xtshim-guest\"},"
		 "\"b_info\":{\"max_vcpus\":%u,\"max_memkb\":%llu,\"target_memkb\":%llu}}",
		 v->nr_vcpus, (unsigned long long)(v->ram_size >> 10),
		 (unsigned long long)(v->ram_size >> 10));
	struct xts_xen_export_opts o = {
		.mem = &v->gmem,
		.config_json = config,
		.cpu_records = records,
		.lapic_regs = lapics,
	};
	struct xts_stream_error err;
	fd = open(v->opts.save_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "xtshim: --save-on-suspend %s: %s\n", v->opts.save_path,
			strerror(errno));
		goto out;
	}
	if ((r = xts_xen_write(fd, x, &o, &err))) {
		fprintf(stderr, "xtshim: save to %s: %s\n", v->opts.save_path, err.msg);
		goto out;
	}
	/*
	 * The file's mtime is the save instant a restore measures the downtime
	 * from (docs/migration-from-xen.md): make it the instant the time state
	 * was taken, not the end of writing the memory.
	 */
	struct timespec ts[2] = {
		{ .tv_sec = (time_t)(at.realtime_ns / 1000000000u),
		  .tv_nsec = (long)(at.realtime_ns % 1000000000u) },
	};
	ts[1] = ts[0];
	if (futimens(fd, ts) < 0) {
		r = -errno;
		fprintf(stderr, "xtshim: save to %s: setting the save instant as mtime: %s\n",
			v->opts.save_path, strerror(errno));
		goto out;
	}
	if (fsync(fd) < 0 && errno != EINVAL) {
		r = -errno;
		fprintf(stderr, "xtshim: save to %s: fsync: %s\n", v->opts.save_path, strerror(errno));
		goto out;
	}
	if (v->opts.verbose)
		fprintf(stderr, "xtshim: saved to %s: %u vCPU(s), %llu MiB, guest TSC %llu on vCPU 0, "
			"system time %llu ns, incarnation %u\n", v->opts.save_path, v->nr_vcpus,
			(unsigned long long)(v->ram_size >> 20), (unsigned long long)x->vcpu[0].tsc,
			(unsigned long long)xts_line_at(&(struct xts_line){ x->pvclock.tsc_timestamp,
				x->pvclock.system_time, x->pvclock.tsc_to_system_mul,
				x->pvclock.tsc_shift }, x->vcpu[0].tsc),
			x->incarnation);
out:
	if (fd >= 0 && close(fd) < 0 && !r)
		r = -errno;
	if (r && fd >= 0)
		unlink(v->opts.save_path);     /* never leave half a guest behind */
	free(cpus);
	free(records);
	free(lapics);
	free(x);
	return r;
}
