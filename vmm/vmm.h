/*
 * Internal state of the reference VMM (not installed).  One struct vmm per
 * guest; one struct vmm_cpu per vCPU thread.  Functions are named
 * subsystem__verb() after the file that defines them.
 */
#ifndef XTSHIM_VMM_H
#define XTSHIM_VMM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "abi/xen-abi.h"
#include "shim/xtshim.h"

#define VMM_HCALL_PORT     0x88     /* stubs `out` here (imm8: no register clobbered) */
#define VMM_DEBUGCON_PORT  0xe9     /* Bochs/Xen debug console */
/*
 * The FADT's hardware-reduced sleep control and status registers (one byte
 * each, vmm/acpi.c): writing SLP_EN with the SLP_TYP of the DSDT's _S5
 * powers the guest off.
 */
#define VMM_ACPI_SLEEP_CTL_PORT  0x600
#define VMM_ACPI_SLEEP_STS_PORT  0x601
#define VMM_ACPI_S5_TYPE         5        /* SLP_TYP in _S5 and in the write */
#define VMM_CONSOLE_PFN    0x4      /* PV console ring page (HVM_PARAM_CONSOLE_PFN) */
#define VMM_STORE_PFN      0x5      /* xenstore ring page (HVM_PARAM_STORE_PFN) */
#define VMM_RESERVED_GPA   0x4000   /* reserved in the memory map up to VMM_START_INFO_END */
#define VMM_START_INFO_GPA 0x6000   /* hvm_start_info, memmap, then the command line */
#define VMM_START_INFO_END 0x8000
#define VMM_LOW_RAM_END    0xa0000
#define VMM_ACPI_GPA       0xe0000  /* ACPI tables (acpi.c), type ACPI in the memory map */
#define VMM_ACPI_END       0x100000
#define VMM_HIGH_RAM_START 0x100000
#define VMM_MAX_MEM_MIB    3072     /* below the 32-bit MMIO hole (LAPIC, IOAPIC) */
#define VMM_CMDLINE_MAX    (VMM_START_INFO_END - VMM_START_INFO_GPA - 512)

/* Exit status of `xtshim run`, from the guest's shutdown reason. */
#define VMM_EXIT_POWEROFF     0
#define VMM_EXIT_ERROR        1   /* bad usage, KVM or loader failure */
#define VMM_EXIT_CRASH        2   /* SHUTDOWN_crash */
#define VMM_EXIT_WATCHDOG     3   /* SHUTDOWN_watchdog */
#define VMM_EXIT_REBOOT       4   /* SHUTDOWN_reboot: the VMM does not restart guests */
#define VMM_EXIT_SUSPEND      5   /* SHUTDOWN_suspend / soft_reset: not supported */
#define VMM_EXIT_TRIPLE_FAULT 6   /* KVM_EXIT_SHUTDOWN or an unhandled exit */

/* --backend, in the order of the option's names */
enum vmm_backend {
	VMM_BACKEND_AUTO,
	VMM_BACKEND_USERSPACE,
	VMM_BACKEND_KERNEL,             /* KVM transport + KVM records */
	VMM_BACKEND_KERNEL_TRANSPORT,   /* KVM transport + xtshim records */
};

struct vmm_options {
	unsigned nr_vcpus;
	uint64_t mem_mib;
	uint32_t xen_version;       /* major << 16 | minor */
	uint32_t tsc_mode;          /* enum xts_tsc_mode */
	const char *cmdline;
	enum vmm_backend backend;
	const char *console_path;
	bool console_stderr;        /* no --console, and stdout is taken (xl protocol) */
	const char *kernel;
	const char *initrd;         /* --initrd FILE: one PVH module */
	bool verbose;
	/* Migration (restore.c, save.c) */
	const char *from_xen;       /* --from-xen FILE, "-" for stdin; NULL: boot `kernel` */
	bool xl_migrate_receive;    /* --xl-migrate-receive: xl's receiver handshake on stdio */
	const char *save_path;      /* --save-on-suspend FILE */
	enum xts_policy clock_policy;
	uint64_t clock_threshold_ns;
	bool accept_rate_change;
	uint64_t save_time_ns;      /* --save-time: UTC of the save, ns; 0: mtime / now */
	bool vcpus_given, mem_given;
	struct xts_xen_import_opts import;   /* --pvclock VCPU:GPA */
};

/* Requests to a vCPU thread, set by other threads before kicking it. */
#define CPU_REQ_STOP   (1u << 0)
#define CPU_REQ_CTX    (1u << 1)    /* apply cpu->ctx (VCPUOP_initialise + up) */
#define CPU_REQ_DOWN   (1u << 2)
#define CPU_REQ_SYNC   (1u << 3)    /* --backend kernel: mirror registrations (xen_kernel__sync) */
#define CPU_REQ_UPCALL (1u << 4)    /* set the vectors in upcall_owed in the LAPIC's IRR */

struct vmm;

struct vmm_cpu {
	struct vmm *vmm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	atomic_bool thread_started;

	atomic_uint requests;       /* CPU_REQ_* */
	atomic_uint kicks;          /* bumped by every wake-up of a blocked vCPU */
	atomic_uint upcall_owed[8]; /* upcall vectors KVM refused (LAPIC disabled): bit v % 32 of word v / 32 */
	pthread_mutex_t lock;       /* protects ctx/ctx_valid and orders waits on cond */
	pthread_cond_t cond;
	vcpu_hvm_context_t ctx;     /* from VCPUOP_initialise */
	bool ctx_valid;
	bool started;               /* has executed guest code */
	bool down;                  /* VCPUOP_down: parked until up */
	/* --backend kernel: what KVM holds for this vCPU, and the domain generation it reflects */
	struct xts_kvm_xen_vcpu_state kx_has;
	uint64_t kx_gen;
};

struct vmm {
	struct vmm_options opts;
	int kvm_fd, vm_fd;
	size_t run_size;
	uint8_t *ram;
	uint64_t ram_size;
	struct xts_gmem gmem;
	struct xts_clock clock;
	struct xts_domain *dom;
	struct xts_host_timers *timers;
	struct vmm_cpu *cpus;
	unsigned nr_vcpus;
	int console_fd;
	uint64_t entry;             /* PVH 32-bit entry point */
	uint64_t image_lo, image_hi; /* guest-physical extent of the PT_LOADs */
	uint64_t initrd_gpa, initrd_size; /* --initrd; size 0: none */
	bool tsc_is_host_tsc;       /* KVM ignores TSC offsets (PVM) */
	bool restored;              /* resumed from a stream, not booted */
	uint64_t console_pfn, store_pfn;  /* PV console / xenstore rings; 0: none */
	bool sync_regs;             /* KVM_CAP_SYNC_REGS: registers travel in kvm_run */
	struct xts_kvm_xen kx;      /* in-kernel Xen: the plan, and KVM's state */
	/* --backend kernel (xen-kernel.c): KVM's VM attributes, under kx_lock */
	pthread_mutex_t kx_lock;
	struct xts_kvm_xen_vm_state kx_vm;
	uint64_t kx_gen;
	uint64_t kx_shinfo_maps;
	int kx_fds[XTS_MAX_VCPUS];

	pthread_mutex_t lock;       /* stopping, exit_status */
	bool stopping;
	int exit_status;
	const char *stop_why;
};

/* kvm.c: the VM, its memory and interrupt controller */
int kvm__init(struct vmm *v);
void kvm__exit(struct vmm *v);
int kvm__signal_msi(struct vmm *v, unsigned apic_id, uint8_t vector);
int kvm__signal_nmi(struct vmm *v, unsigned apic_id);

/* kvm-cpu.c: vCPU creation, threads, the exit loop */
int kvm_cpu__init(struct vmm *v);
int kvm_cpu__start_all(struct vmm *v);
void kvm_cpu__join_all(struct vmm *v);
void kvm_cpu__exit_all(struct vmm *v);
void kvm_cpu__request(struct vmm_cpu *c, unsigned req);
void kvm_cpu__wake(struct vmm_cpu *c);

/* regs.c: architectural entry states */
int regs__pvh_entry(struct vmm_cpu *c, uint64_t entry, uint64_t start_info);
int regs__hvm_context(struct vmm_cpu *c, const vcpu_hvm_context_t *ctx);
int regs__check_hvm_context(const vcpu_hvm_context_t *ctx);

/* elf.c: PVH ELF loading */
int elf__load_pvh(struct vmm *v, const char *path, uint64_t *entry);

/* initrd.c: --initrd */
/*
 * Where a module of `size` bytes goes in RAM of `ram_size` holding a kernel
 * image at [image_lo, image_hi): 0 and *gpa, or a negative errno and *why
 * (the operator's reason).  Pure, for the tests.
 */
int initrd__place(uint64_t ram_size, uint64_t image_lo, uint64_t image_hi, uint64_t size,
		  uint64_t *gpa, const char **why);
int initrd__load(struct vmm *v, const char *path);

/* acpi.c: RSDP, XSDT, FADT, DSDT, MADT at VMM_ACPI_GPA; the RSDP's address */
int acpi__build(struct vmm *v, uint64_t *rsdp_gpa);

/* pvh.c: hvm_start_info */
int pvh__build_start_info(struct vmm *v, uint64_t *gpa);

/* platform.c: xts_platform_ops on this VMM */
extern const struct xts_platform_ops platform__ops;
void platform__stop(struct vmm *v, int status, const char *why);

/* console.c */
int console__open(struct vmm *v);
void console__write(struct vmm *v, const char *buf, size_t len);

/* xen.c: the backend, the domain and the clock of this guest */
int xen__pick_backend(struct vmm *v);
int xen__init(struct vmm *v);                 /* a new clock, then xen__create_domain() */
int xen__create_domain(struct vmm *v);        /* host timers + domain over v->clock */
bool xen__host_tsc_invariant(void);
uint32_t xen__host_clock_flags(void);
int xen__setup_vcpu(struct vmm_cpu *c);
void xen__exit(struct vmm *v);

/* xen-kernel.c: --backend kernel, KVM keeps the records */
bool xen_kernel__active(const struct vmm *v);
int xen_kernel__load(struct vmm *v);
int xen_kernel__sync(struct vmm_cpu *c);
void xen_kernel__send_event(struct vmm *v, unsigned vcpu, uint32_t port);
int xen_kernel__ipi_port(struct vmm *v, uint32_t port, unsigned vcpu, bool bound);
int xen_kernel__read_runstate(struct vmm *v, unsigned caller, unsigned vcpu, uint32_t *state,
			      uint64_t *entry_ns, uint64_t time_ns[4]);
int xen_kernel__system_time(struct vmm *v, uint64_t *ns, uint64_t *host_tsc);
uint64_t xen_kernel__block_sleep_ns(struct vmm_cpu *c);
void xen_kernel__blocked(struct vmm_cpu *c, bool blocked);
int xen_kernel__adopt_clock(struct vmm *v);

/* restore.c: `run --from-xen` (and --xl-migrate-receive) */
int restore__run(struct vmm *v);
int restore__parse_policy(const char *s, enum xts_policy *policy, uint64_t *threshold_ns);
int restore__parse_pvclock(const char *s, struct xts_xen_import_opts *o);
/*
 * NULL for a record the resume applies (or the library reads for the time
 * state); otherwise the name it is reported under as "not emulated,
 * dropped" (HVM device entries, QEMU state, CPUID/MSR policies).
 */
const char *restore__dropped_label(const struct xts_stream_record *r);
/* save.c: `run --save-on-suspend FILE` */
int save__guest(struct vmm *v);

/* The message --tsc-mode always_emulate is refused with (vmm/run.c). */
extern const char vmm_always_emulate_refusal[];

#endif
