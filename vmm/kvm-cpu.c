/*
 * vCPU threads and their exit loop.
 *
 * Other threads talk to a vCPU through `requests` (stop, apply a
 * VCPUOP_initialise context, go down) and a kick: SIGUSR1 makes a KVM_RUN in
 * progress return, and `immediate_exit` (set by the handler) closes the race
 * with a signal that lands just before KVM_RUN.  A vCPU blocked in
 * SCHEDOP_block waits on its condition variable until the domain says it is
 * runnable; `kicks` counts wake-ups so none is lost between the check and
 * the wait.
 *
 * Secondary vCPUs enter KVM_RUN at once: the in-kernel LAPIC holds them in
 * the wait-for-SIPI state, so both INIT/SIPI and VCPUOP_up start them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define KICK_SIGNAL SIGUSR1
/*
 * With KVM_CAP_SYNC_REGS, KVM stores the registers in kvm_run on every exit
 * and loads the ones marked dirty on the next KVM_RUN: a hypercall then
 * costs no register ioctl at all.
 */
#define SYNC_WANTED (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

static __thread struct kvm_run *this_run;

static void kick_handler(int sig)
{
	if (this_run)
		this_run->immediate_exit = 1;
}

int kvm_cpu__init(struct vmm *v)
{
	v->cpus = calloc(v->nr_vcpus, sizeof(v->cpus[0]));
	if (!v->cpus)
		return -ENOMEM;
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		struct vmm_cpu *c = &v->cpus[i];
		c->vmm = v;
		c->id = i;
		c->fd = -1;
		pthread_mutex_init(&c->lock, NULL);
		pthread_cond_init(&c->cond, NULL);
		c->fd = ioctl(v->vm_fd, KVM_CREATE_VCPU, i);
		if (c->fd < 0) {
			int r = -errno;
			fprintf(stderr, "xtshim: KVM_CREATE_VCPU %u: %s\n", i, strerror(errno));
			return r;
		}
		c->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			c->run = NULL;
			return -errno;
		}
	}
	int sync = ioctl(v->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	v->sync_regs = sync > 0 && (sync & SYNC_WANTED) == SYNC_WANTED;
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	return sigaction(KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

void kvm_cpu__wake(struct vmm_cpu *c)
{
	atomic_fetch_add(&c->kicks, 1);
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void kvm_cpu__request(struct vmm_cpu *c, unsigned req)
{
	atomic_fetch_or(&c->requests, req);
	kvm_cpu__wake(c);
	if (c->thread_started && !pthread_equal(c->thread, pthread_self()))
		pthread_kill(c->thread, KICK_SIGNAL);
}

/* Sleep until `done(c)` holds or a stop is requested. */
static void kvm_cpu__wait(struct vmm_cpu *c, bool (*done)(struct vmm_cpu *c))
{
	for (;;) {
		unsigned seq = atomic_load(&c->kicks);
		if ((atomic_load(&c->requests) & CPU_REQ_STOP) || done(c))
			return;
		pthread_mutex_lock(&c->lock);
		while (atomic_load(&c->kicks) == seq)
			pthread_cond_wait(&c->cond, &c->lock);
		pthread_mutex_unlock(&c->lock);
	}
}

static bool domain_runnable(struct vmm_cpu *c)
{
	return xts_domain_vcpu_runnable(c->vmm->dom, c->id);
}

/*
 * --backend kernel: events KVM raises itself (its timers, in-kernel IPIs)
 * reach guest memory without a word to us, so the wait re-checks the
 * domain (which looks at upcall_pending) at KVM's timer deadline and at
 * least every millisecond.  KVM hears that the vCPU is blocked meanwhile.
 */
static void kvm_cpu__wait_kernel(struct vmm_cpu *c)
{
	xen_kernel__blocked(c, true);
	for (;;) {
		unsigned seq = atomic_load(&c->kicks);
		if ((atomic_load(&c->requests) & CPU_REQ_STOP) || domain_runnable(c))
			break;
		uint64_t ns = xen_kernel__block_sleep_ns(c);
		if (ns < 20000)
			ns = 20000;     /* KVM's timer is due: its event is a moment away */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t at = (uint64_t)ts.tv_nsec + ns;
		ts.tv_sec += (time_t)(at / 1000000000ULL);
		ts.tv_nsec = (long)(at % 1000000000ULL);
		pthread_mutex_lock(&c->lock);
		while (atomic_load(&c->kicks) == seq &&
		       pthread_cond_timedwait(&c->cond, &c->lock, &ts) == 0)
			;
		pthread_mutex_unlock(&c->lock);
	}
	xen_kernel__blocked(c, false);
}

static void kvm_cpu__block(struct vmm_cpu *c)
{
	if (xen_kernel__active(c->vmm))
		kvm_cpu__wait_kernel(c);
	else
		kvm_cpu__wait(c, domain_runnable);
}

static bool has_request(struct vmm_cpu *c)
{
	return atomic_load(&c->requests) != 0;
}

static void kvm_cpu__fatal(struct vmm_cpu *c, int status, const char *what)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	fprintf(stderr, "xtshim: vCPU %u: %s\n", c->id, what);
	if (!ioctl(c->fd, KVM_GET_REGS, &r) && !ioctl(c->fd, KVM_GET_SREGS, &s))
		fprintf(stderr, "  rip %#llx rsp %#llx rax %#llx cr0 %#llx cr3 %#llx cr4 %#llx "
			"efer %#llx cs.l %u\n", (unsigned long long)r.rip,
			(unsigned long long)r.rsp, (unsigned long long)r.rax,
			(unsigned long long)s.cr0, (unsigned long long)s.cr3,
			(unsigned long long)s.cr4, (unsigned long long)s.efer, s.cs.l);
	platform__stop(c->vmm, status, what);
}


static int kvm_cpu__get_regs(struct vmm_cpu *c, struct kvm_regs **r, struct kvm_sregs **s,
			     struct kvm_regs *rbuf, struct kvm_sregs *sbuf)
{
	if (c->vmm->sync_regs) {
		*r = &c->run->s.regs.regs;
		*s = &c->run->s.regs.sregs;
		return 0;
	}
	if (ioctl(c->fd, KVM_GET_REGS, rbuf) < 0 || ioctl(c->fd, KVM_GET_SREGS, sbuf) < 0)
		return -errno;
	*r = rbuf;
	*s = sbuf;
	return 0;
}

static int kvm_cpu__put_regs(struct vmm_cpu *c, struct kvm_regs *r)
{
	if (c->vmm->sync_regs) {
		c->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		return 0;
	}
	return ioctl(c->fd, KVM_SET_REGS, r) < 0 ? -errno : 0;
}

static void kvm_cpu__hypercall(struct vmm_cpu *c)
{
	struct kvm_regs rbuf, *r;
	struct kvm_sregs sbuf, *s;
	if (kvm_cpu__get_regs(c, &r, &s, &rbuf, &sbuf)) {
		kvm_cpu__fatal(c, VMM_EXIT_ERROR, "reading registers for a hypercall failed");
		return;
	}
	struct xts_hcall h;
	int64_t ret = -XEN_ENOSYS;
	xts_x86_hcall_decode(r, s, &h);
	enum xts_hcall_action act = xts_hypercall(c->vmm->dom, c->id, &h, &ret);
	xts_x86_hcall_result(r, h.long_mode, ret);
	if (kvm_cpu__put_regs(c, r)) {
		kvm_cpu__fatal(c, VMM_EXIT_ERROR, "writing the hypercall result failed");
		return;
	}
	if (act == XTS_HCALL_BLOCK)
		kvm_cpu__block(c);
}

/* Port 0xe9 output, kept per vCPU until a newline so lines do not interleave. */
struct debugcon {
	char buf[256];
	size_t len;
};

static void debugcon__put(struct vmm_cpu *c, struct debugcon *dc, char ch)
{
	dc->buf[dc->len++] = ch;
	if (ch == '\n' || dc->len == sizeof(dc->buf)) {
		console__write(c->vmm, dc->buf, dc->len);
		dc->len = 0;
	}
}

/*
 * The FADT's sleep control register (hardware-reduced ACPI, 6.4 4.8.3.7):
 * SLP_EN (bit 5) with SLP_TYP (bits 4:2) of _S5 is the guest's power-off.
 * Other sleep types are not offered (the DSDT has only _S5) and are ignored.
 */
static void kvm_cpu__acpi_sleep(struct vmm_cpu *c, uint8_t value)
{
	if ((value & 0x20) && ((value >> 2) & 7) == VMM_ACPI_S5_TYPE)
		platform__stop(c->vmm, VMM_EXIT_POWEROFF, "ACPI S5 (power off)");
}

static void kvm_cpu__io(struct vmm_cpu *c, struct debugcon *dc)
{
	struct kvm_run *run = c->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	size_t bytes = (size_t)run->io.size * run->io.count;

	if (run->io.direction == KVM_EXIT_IO_OUT) {
		if (run->io.port == VMM_HCALL_PORT)
			kvm_cpu__hypercall(c);
		else if (run->io.port == VMM_DEBUGCON_PORT)
			for (size_t i = 0; i < bytes; i += run->io.size)
				debugcon__put(c, dc, (char)data[i]);
		else if (run->io.port == VMM_ACPI_SLEEP_CTL_PORT)
			kvm_cpu__acpi_sleep(c, data[0]);
		/* Every other port is a no-op, as on a machine with nothing there. */
		return;
	}
	/*
	 * Reads: 0xe9 answers 0xe9 (how guests detect the debug console), the
	 * sleep status register 0 (WAK_STS clear: never woken), others float high.
	 */
	uint8_t fill = 0xff;
	if (run->io.port == VMM_DEBUGCON_PORT)
		fill = VMM_DEBUGCON_PORT;
	else if (run->io.port == VMM_ACPI_SLEEP_STS_PORT)
		fill = 0;
	memset(data, fill, bytes);
}

static void kvm_cpu__wrmsr(struct vmm_cpu *c)
{
	struct kvm_run *run = c->run;
	struct kvm_regs rbuf, *regs;
	struct kvm_sregs sbuf, *s;
	run->msr.error = 1;
	if (run->msr.index != XTS_XEN_HYPERCALL_MSR)
		return;
	if (kvm_cpu__get_regs(c, &regs, &s, &rbuf, &sbuf)) {
		kvm_cpu__fatal(c, VMM_EXIT_ERROR, "reading registers for the hypercall MSR failed");
		return;
	}
	int r = xts_domain_write_hypercall_msr(c->vmm->dom, c->id, run->msr.data,
					       xts_x86_long_mode(s));
	run->msr.error = r ? 1 : 0;     /* 1: KVM injects #GP */
}

/* One exit; false when the vCPU must stop. */
static bool kvm_cpu__handle_exit(struct vmm_cpu *c, struct debugcon *dc)
{
	struct kvm_run *run = c->run;
	char what[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		kvm_cpu__io(c, dc);
		return true;
	case KVM_EXIT_MMIO:
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return true;
	case KVM_EXIT_X86_WRMSR:
		kvm_cpu__wrmsr(c);
		return true;
	case KVM_EXIT_X86_RDMSR:
		run->msr.error = 1;
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_XEN: {
		/* KVM transport: a vmcall/vmmcall KVM did not answer itself. */
		enum xts_hcall_action act;
		if (xts_kvm_xen_handle_exit(c->vmm->dom, c->id, run, &act)) {
			kvm_cpu__fatal(c, VMM_EXIT_TRIPLE_FAULT, "unexpected KVM_EXIT_XEN type");
			return false;
		}
		if (act == XTS_HCALL_BLOCK)
			kvm_cpu__block(c);
		return true;
	}
	case KVM_EXIT_SHUTDOWN:
		kvm_cpu__fatal(c, VMM_EXIT_TRIPLE_FAULT, "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		platform__stop(c->vmm, run->system_event.type == KVM_SYSTEM_EVENT_RESET ?
			       VMM_EXIT_REBOOT : VMM_EXIT_POWEROFF, "system event");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		kvm_cpu__fatal(c, VMM_EXIT_TRIPLE_FAULT, what);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error, suberror %u",
			 run->internal.suberror);
		kvm_cpu__fatal(c, VMM_EXIT_TRIPLE_FAULT, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unhandled exit reason %u", run->exit_reason);
		kvm_cpu__fatal(c, VMM_EXIT_TRIPLE_FAULT, what);
		return false;
	}
}

/*
 * Upcall vectors KVM_SIGNAL_MSI did not deliver go into IRR directly, as
 * Xen's vlapic_set_irq() puts them (edge: TMR clear).  KVM_SET_LAPIC takes
 * the vCPU mutex, so only this thread, between two KVM_RUNs, can do it.
 * It rewrites the whole LAPIC page and restarts a running LAPIC timer from
 * its initial count; that only happens while the LAPIC is disabled, when
 * every LVT is masked.
 */
static int kvm_cpu__deliver_owed(struct vmm_cpu *c)
{
	uint32_t owed[8];
	bool any = false;

	for (unsigned w = 0; w < 8; w++) {
		owed[w] = atomic_exchange(&c->upcall_owed[w], 0);
		any |= owed[w] != 0;
	}
	if (!any)
		return 0;
	struct kvm_lapic_state ls;
	if (ioctl(c->fd, KVM_GET_LAPIC, &ls) < 0)
		return -errno;
	for (unsigned w = 0; w < 8; w++) {
		uint32_t irr, tmr;
		memcpy(&irr, ls.regs + 0x200 + w * 0x10, 4);
		memcpy(&tmr, ls.regs + 0x180 + w * 0x10, 4);
		irr |= owed[w];
		tmr &= ~owed[w];
		memcpy(ls.regs + 0x200 + w * 0x10, &irr, 4);
		memcpy(ls.regs + 0x180 + w * 0x10, &tmr, 4);
	}
	return ioctl(c->fd, KVM_SET_LAPIC, &ls) < 0 ? -errno : 0;
}

static bool kvm_cpu__upcalls_owed(struct vmm_cpu *c)
{
	if (kvm_cpu__deliver_owed(c) == 0)
		return true;
	kvm_cpu__fatal(c, VMM_EXIT_ERROR, "setting an upcall vector in the LAPIC failed");
	return false;
}

/* Act on requests; false when the thread must end. */
static bool kvm_cpu__requests(struct vmm_cpu *c)
{
	unsigned req = atomic_exchange(&c->requests, 0);
	if (req & CPU_REQ_STOP) {
		atomic_fetch_or(&c->requests, CPU_REQ_STOP);   /* stays set for good */
		return false;
	}
	if (req & CPU_REQ_DOWN)
		c->down = true;
	if (req & CPU_REQ_CTX) {
		pthread_mutex_lock(&c->lock);
		vcpu_hvm_context_t ctx = c->ctx;
		bool fresh = c->ctx_valid;
		c->ctx_valid = false;
		pthread_mutex_unlock(&c->lock);
		/* VCPUOP_up after VCPUOP_down resumes where the vCPU stopped. */
		if (fresh && regs__hvm_context(c, &ctx)) {
			kvm_cpu__fatal(c, VMM_EXIT_ERROR, "applying the VCPUOP_initialise context failed");
			return false;
		}
		c->down = false;
		c->started = true;
	}
	/*
	 * Not before the vCPU has started: KVM's INIT resets the LAPIC and
	 * its IRR, where Xen's vlapic_init_sipi_one() leaves a vCPU that was
	 * never initialised alone (Linux sets a secondary's upcall vector
	 * before it sends INIT/SIPI).  The first exit after the SIPI delivers.
	 */
	if ((req & CPU_REQ_UPCALL) && c->started && !kvm_cpu__upcalls_owed(c))
		return false;
	return true;
}

static void *kvm_cpu__thread(void *arg)
{
	struct vmm_cpu *c = arg;
	struct vmm *v = c->vmm;
	struct debugcon dc = { .len = 0 };

	this_run = c->run;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	if (v->sync_regs)
		c->run->kvm_valid_regs = SYNC_WANTED;
	for (;;) {
		c->run->immediate_exit = 0;
		if (!kvm_cpu__requests(c))
			break;
		/* --backend kernel: what the guest registered reaches KVM before it runs again. */
		if (xen_kernel__active(v) && xen_kernel__sync(c)) {
			kvm_cpu__fatal(c, VMM_EXIT_ERROR, "KVM refused a Xen attribute the guest set");
			break;
		}
		if (c->down) {
			kvm_cpu__wait(c, has_request);
			continue;
		}
		if (c->started)
			xts_domain_vcpu_running(v->dom, c->id, true);
		int r = ioctl(c->fd, KVM_RUN, 0);
		int err = errno;
		/*
		 * The vCPU stays "running" while its exit is handled: on Xen a
		 * hypercall runs in the vCPU's time, and a guest asking about
		 * itself (VCPUOP_get_runstate_info) is running.  Only
		 * SCHEDOP_block/poll (the domain) and VCPUOP_down take it out.
		 */
		if (r < 0) {
			if (err == EINTR || err == EAGAIN)
				continue;
			kvm_cpu__fatal(c, VMM_EXIT_ERROR, strerror(err));
			break;
		}
		if (!c->started) {
			/*
			 * A secondary started by INIT/SIPI: it ran from the SIPI to
			 * this exit.  Tell the domain before handling the exit (it
			 * may be the vCPU's first hypercall).
			 */
			c->started = true;
			xts_domain_vcpu_running(v->dom, c->id, true);
			xts_domain_vcpu_running(v->dom, c->id, false);
			if (!kvm_cpu__upcalls_owed(c))
				break;
		}
		if (!kvm_cpu__handle_exit(c, &dc))
			break;
	}
	if (dc.len)
		console__write(v, dc.buf, dc.len);
	this_run = NULL;
	return NULL;
}

int kvm_cpu__start_all(struct vmm *v)
{
	v->cpus[0].started = true;
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		struct vmm_cpu *c = &v->cpus[i];
		int r = pthread_create(&c->thread, NULL, kvm_cpu__thread, c);
		if (r) {
			fprintf(stderr, "xtshim: vCPU %u thread: %s\n", i, strerror(r));
			platform__stop(v, VMM_EXIT_ERROR, "thread creation failed");
			return -r;
		}
		c->thread_started = true;
	}
	return 0;
}

void kvm_cpu__join_all(struct vmm *v)
{
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		if (v->cpus[i].thread_started)
			pthread_join(v->cpus[i].thread, NULL);
}

void kvm_cpu__exit_all(struct vmm *v)
{
	if (!v->cpus)
		return;
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		struct vmm_cpu *c = &v->cpus[i];
		if (c->run)
			munmap(c->run, v->run_size);
		if (c->fd >= 0)
			close(c->fd);
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
	}
	free(v->cpus);
	v->cpus = NULL;
}
