/*
 * struct xts_platform_ops for this VMM: how the hypercall layer reaches
 * vCPU threads, the in-kernel LAPIC, host timers and the console.  These
 * run on any thread, possibly with domain locks held, so none of them calls
 * back into the domain.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vmm.h"

static void platform__inject_upcall(void *opaque, unsigned vcpu, uint8_t vector)
{
	struct vmm *v = opaque;
	if (vcpu >= v->nr_vcpus)
		return;
	int r = kvm__signal_msi(v, vcpu, vector);
	if (r < 0)
		fprintf(stderr, "xtshim: upcall vector %u to vCPU %u: %s\n", vector, vcpu, strerror(-r));
	if (r == 0) {
		/*
		 * KVM dropped it: the LAPIC is still software-disabled (Linux
		 * sets its per-vCPU vector long before it enables the LAPIC).
		 * Xen's vlapic_set_irq() sets IRR whatever the LAPIC's state,
		 * and upcall_pending stays 1 until that vector is taken, so a
		 * lost one would block every later upcall: let the vCPU's own
		 * thread set IRR (kvm_cpu__deliver_owed()).
		 */
		atomic_fetch_or(&v->cpus[vcpu].upcall_owed[vector / 32], 1u << (vector % 32));
		kvm_cpu__request(&v->cpus[vcpu], CPU_REQ_UPCALL);
		return;
	}
	kvm_cpu__wake(&v->cpus[vcpu]);
}

/*
 * VCPUOP_send_nmi.  Through the in-kernel LAPIC, so it reaches the vCPU
 * only at the APIC ID the VMM gave it (its index, as for upcalls) and
 * while that LAPIC is enabled in APIC_BASE; Xen sets nmi_pending on the
 * vCPU directly.  A vCPU waiting in SCHEDOP_block is woken by the
 * domain's kick that follows.
 */
static void platform__inject_nmi(void *opaque, unsigned vcpu)
{
	struct vmm *v = opaque;
	if (vcpu >= v->nr_vcpus)
		return;
	int r = kvm__signal_nmi(v, vcpu);
	if (r < 0)
		fprintf(stderr, "xtshim: NMI to vCPU %u: %s\n", vcpu, strerror(-r));
}

static void platform__kick(void *opaque, unsigned vcpu)
{
	struct vmm *v = opaque;
	if (vcpu < v->nr_vcpus)
		kvm_cpu__wake(&v->cpus[vcpu]);
}

static void platform__arm_timer(void *opaque, unsigned vcpu, uint64_t host_tsc_deadline)
{
	struct vmm *v = opaque;
	if (v->timers)      /* NULL while the domain is torn down */
		xts_host_timers_arm(v->timers, vcpu, host_tsc_deadline);
}

static int platform__vcpu_initialise(void *opaque, unsigned vcpu, const void *ctx, size_t len)
{
	struct vmm *v = opaque;
	if (vcpu >= v->nr_vcpus)
		return -XEN_EINVAL;
	if (!ctx)
		return 0;
	if (len != sizeof(vcpu_hvm_context_t))
		return -XEN_EINVAL;
	vcpu_hvm_context_t copy;
	memcpy(&copy, ctx, sizeof(copy));
	int r = regs__check_hvm_context(&copy);
	if (r)
		return r;
	struct vmm_cpu *c = &v->cpus[vcpu];
	pthread_mutex_lock(&c->lock);
	c->ctx = copy;
	c->ctx_valid = true;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int platform__vcpu_up(void *opaque, unsigned vcpu)
{
	struct vmm *v = opaque;
	if (vcpu >= v->nr_vcpus)
		return -XEN_EINVAL;
	kvm_cpu__request(&v->cpus[vcpu], CPU_REQ_CTX);
	return 0;
}

static int platform__vcpu_down(void *opaque, unsigned vcpu)
{
	struct vmm *v = opaque;
	if (vcpu >= v->nr_vcpus)
		return -XEN_EINVAL;
	kvm_cpu__request(&v->cpus[vcpu], CPU_REQ_DOWN);
	return 0;
}

static void platform__shutdown(void *opaque, unsigned reason)
{
	static const struct { int status; const char *why; } map[] = {
		[SHUTDOWN_poweroff] = { VMM_EXIT_POWEROFF, "poweroff" },
		[SHUTDOWN_reboot] = { VMM_EXIT_REBOOT, "reboot (not restarted)" },
		[SHUTDOWN_suspend] = { VMM_EXIT_SUSPEND, "suspend (not supported)" },
		[SHUTDOWN_crash] = { VMM_EXIT_CRASH, "crash" },
		[SHUTDOWN_watchdog] = { VMM_EXIT_WATCHDOG, "watchdog" },
		[SHUTDOWN_soft_reset] = { VMM_EXIT_SUSPEND, "soft_reset (not supported)" },
	};
	if (reason < sizeof(map) / sizeof(map[0]) && map[reason].why)
		platform__stop(opaque, map[reason].status, map[reason].why);
	else
		platform__stop(opaque, VMM_EXIT_CRASH, "unknown shutdown reason");
}

static void platform__console_write(void *opaque, const char *buf, size_t len)
{
	console__write(opaque, buf, len);
}

/*
 * KVM_TRANSLATE walks only the address bits the paging mode uses, so a
 * non-canonical address would translate like its low bits: check first
 * (48 bits, or 57 with CR4.LA57).  The caller is the vCPU's own thread,
 * handling its exit, so its registers are in kvm_run with sync regs.
 */
static bool platform__canonical(struct vmm *v, unsigned vcpu, uint64_t gva)
{
	struct kvm_sregs s;
	const struct kvm_sregs *sp = &s;
	if (v->sync_regs)
		sp = &v->cpus[vcpu].run->s.regs.sregs;
	else if (ioctl(v->cpus[vcpu].fd, KVM_GET_SREGS, &s) < 0)
		return false;
	if (!xts_x86_long_mode(sp))
		return true;
	unsigned bits = (sp->cr4 & (1u << 12)) ? 57 : 48;      /* CR4.LA57 */
	return (uint64_t)((int64_t)(gva << (64 - bits)) >> (64 - bits)) == gva;
}

/* Called on the vCPU's own thread (a hypercall argument), so its fd is usable. */
static int platform__translate_gva(void *opaque, unsigned vcpu, uint64_t gva, uint64_t *gpa)
{
	struct vmm *v = opaque;
	if (vcpu >= v->nr_vcpus || !platform__canonical(v, vcpu, gva))
		return -EFAULT;
	struct kvm_translation t = { .linear_address = gva };
	if (ioctl(v->cpus[vcpu].fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return -EFAULT;
	*gpa = t.physical_address;
	return 0;
}

static void platform__host_sample(void *opaque, struct xts_host_sample *now)
{
	xts_host_sample_now(now);
}

/* --backend kernel only (the domain calls these with external_records). */
static void platform__send_event(void *opaque, unsigned vcpu, uint32_t port)
{
	xen_kernel__send_event(opaque, vcpu, port);
}

static int platform__ipi_port(void *opaque, uint32_t port, unsigned vcpu, bool bound)
{
	return xen_kernel__ipi_port(opaque, port, vcpu, bound);
}

static int platform__read_runstate(void *opaque, unsigned caller, unsigned vcpu, uint32_t *state,
				   uint64_t *entry_ns, uint64_t time_ns[4])
{
	return xen_kernel__read_runstate(opaque, caller, vcpu, state, entry_ns, time_ns);
}

static int platform__system_time(void *opaque, uint64_t *ns, uint64_t *host_tsc)
{
	return xen_kernel__system_time(opaque, ns, host_tsc);
}

const struct xts_platform_ops platform__ops = {
	.inject_upcall = platform__inject_upcall,
	.kick = platform__kick,
	.arm_timer = platform__arm_timer,
	.vcpu_initialise = platform__vcpu_initialise,
	.vcpu_up = platform__vcpu_up,
	.vcpu_down = platform__vcpu_down,
	.shutdown = platform__shutdown,
	.console_write = platform__console_write,
	.host_sample = platform__host_sample,
	.translate_gva = platform__translate_gva,
	.send_event = platform__send_event,
	.ipi_port = platform__ipi_port,
	.read_runstate = platform__read_runstate,
	.system_time = platform__system_time,
	.inject_nmi = platform__inject_nmi,
};

void platform__stop(struct vmm *v, int status, const char *why)
{
	pthread_mutex_lock(&v->lock);
	bool first = !v->stopping;
	if (first) {
		v->stopping = true;
		v->exit_status = status;
		v->stop_why = why;
	}
	pthread_mutex_unlock(&v->lock);
	if (!first)
		return;
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		kvm_cpu__request(&v->cpus[i], CPU_REQ_STOP);
}
