/*
 * Hostile arguments, and the guest keeps running:
 *  - pointers the hypervisor cannot use get -EFAULT: beyond guest RAM,
 *    wrapping past the top of the address space, unmapped or
 *    non-canonical (64-bit), for reads and writes of several hypercalls;
 *  - vCPU ids the domain does not have get -ENOENT (Xen's domain_vcpu()
 *    check); ids that exist but are not allowed get -EINVAL;
 *  - unknown hypercalls and unknown sub-ops get -ENOSYS;
 *  - calls from ring 3 get -EPERM: through the hypercall page (the stub or
 *    the hypervisor refuses), and, where the page's stub is xtshim's port
 *    I/O one, by trapping to the VMM directly (IOPL 3), so the VMM's own
 *    CPL check is exercised too;
 *  - after all that, hypercalls still work and time still moves.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "hostile: bad pointers, vCPU ids, hypercalls, ring 3";

static uint64_t ram_end;   /* end of the RAM the guest was given */

static void find_ram_end(void)
{
	const struct hvm_memmap_table_entry *m =
		(const void *)(uintptr_t)start_info->memmap_paddr;
	for (unsigned i = 0; start_info->memmap_paddr && i < start_info->memmap_entries; i++)
		if (m[i].type == XEN_HVM_MEMMAP_TYPE_RAM && m[i].addr + m[i].size > ram_end &&
		    m[i].addr + m[i].size <= 0xc0000000ULL)
			ram_end = m[i].addr + m[i].size;
	printk("RAM ends at %#llx\n", (unsigned long long)ram_end);
}

struct bad_ptr {
	const char *what;
	uint64_t addr;
};

static void check_pointers(void)
{
	struct bad_ptr bad[] = {
		{ "beyond RAM", ram_end + 0x100000 },
		{ "straddling the end of RAM", ram_end - 2 },  /* every argument is >= 4 bytes */
		{ "in the MMIO hole", 0xfec00000 },
#ifdef __x86_64__
		{ "unmapped (above the 4 GiB identity map)", 0x100000000ULL },
		{ "non-canonical", 0x8000000000000000ULL },
		/* Bit 48 set: canonical only with 5-level paging; the low bits are RAM. */
		{ "non-canonical for 4-level paging", 0x0001000000100000ULL },
		{ "wrapping the address space", 0xfffffffffffffff8ULL },
#else
		{ "wrapping the address space", 0xfffffff8 },
#endif
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		void *p = (void *)(uintptr_t)bad[i].addr;
		const char *w = bad[i].what;
		/* Reads of the argument. */
		expect_rc(vcpu_op(VCPUOP_set_singleshot_timer, 0, p), -XEN_EFAULT,
			  "set_singleshot_timer, argument %s", w);
		expect_rc(evtchn_op(EVTCHNOP_bind_virq, p), -XEN_EFAULT, "bind_virq, argument %s", w);
		expect_rc(hvm_op(HVMOP_get_param, p), -XEN_EFAULT, "HVMOP_get_param, argument %s", w);
		expect_rc(memory_op(XENMEM_add_to_physmap, p), -XEN_EFAULT,
			  "add_to_physmap, argument %s", w);
		expect_rc(sched_op(SCHEDOP_shutdown, p), -XEN_EFAULT, "SCHEDOP_shutdown, argument %s", w);
		expect_rc(HYPERCALL3(__HYPERVISOR_console_io, CONSOLEIO_write, 8, p), -XEN_EFAULT,
			  "console_io write, buffer %s", w);
		/* Writes of a result. */
		expect_rc(vcpu_op(VCPUOP_get_runstate_info, 0, p), -XEN_EFAULT,
			  "get_runstate_info, result %s", w);
		expect_rc(xen_version(XENVER_get_features, p), -XEN_EFAULT,
			  "XENVER_get_features, result %s", w);
		expect_rc(hvm_op(HVMOP_get_time, p), -XEN_EFAULT, "HVMOP_get_time, result %s", w);
	}
}

static void check_vcpu_ids(unsigned n)
{
	static struct vcpu_runstate_info rs;
	uint32_t ids[] = { n, n + 1, 4096, 0x7fffffff, 0xffffffff };
	for (unsigned i = 0; i < ARRAY_SIZE(ids); i++) {
		expect_rc(vcpu_op(VCPUOP_is_up, ids[i], NULL), -XEN_ENOENT, "VCPUOP_is_up(%u)", ids[i]);
		expect_rc(vcpu_op(VCPUOP_get_runstate_info, ids[i], &rs), -XEN_ENOENT,
			  "get_runstate_info(%u)", ids[i]);
		struct evtchn_bind_virq b = { .virq = VIRQ_TIMER, .vcpu = ids[i] };
		expect_rc(evtchn_op(EVTCHNOP_bind_virq, &b), -XEN_ENOENT, "bind_virq to vCPU %u", ids[i]);
		struct xen_hvm_evtchn_upcall_vector u = { .vcpu = ids[i], .vector = UPCALL_VECTOR };
		expect_rc(hvm_op(HVMOP_set_evtchn_upcall_vector, &u), -XEN_ENOENT,
			  "set_evtchn_upcall_vector for vCPU %u", ids[i]);
	}
	/* Existing but refused. */
	struct xen_hvm_evtchn_upcall_vector u = { .vcpu = 0, .vector = 0x0f };
	expect_rc(hvm_op(HVMOP_set_evtchn_upcall_vector, &u), -XEN_EINVAL, "upcall vector 0x0f");
	struct evtchn_bind_virq b = { .virq = NR_VIRQS, .vcpu = 0 };
	expect_rc(evtchn_op(EVTCHNOP_bind_virq, &b), -XEN_EINVAL, "bind_virq of virq %u", NR_VIRQS);
	if (n > 1) {
		struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = xen_system_time() + NS_PER_S };
		expect_rc(vcpu_op(VCPUOP_set_singleshot_timer, 1, &t), -XEN_EINVAL,
			  "vCPU 0 setting vCPU 1's singleshot timer");
	}
}

static void check_unknown(void)
{
	/* PV-only or absent for HVM guests; 23 (iret) is a ud2 in the page and is skipped. */
	static const unsigned nrs[] = { __HYPERVISOR_set_trap_table, __HYPERVISOR_mmu_update,
					__HYPERVISOR_stack_switch, __HYPERVISOR_update_va_mapping,
					__HYPERVISOR_mmuext_op, 45, 63, 64, 100, 127 };
	for (unsigned i = 0; i < ARRAY_SIZE(nrs); i++)
		expect_rc(hypercall(nrs[i], 0, 0, 0, 0, 0), -XEN_ENOSYS, "hypercall %u", nrs[i]);
	expect_rc(vcpu_op(99, 0, NULL), -XEN_ENOSYS, "vcpu_op 99");
	expect_rc(sched_op(99, NULL), -XEN_ENOSYS, "sched_op 99");
	expect_rc(evtchn_op(99, NULL), -XEN_ENOSYS, "event_channel_op 99");
	expect_rc(hvm_op(999, NULL), -XEN_ENOSYS, "hvm_op 999");
	expect_rc(memory_op(60, NULL), -XEN_ENOSYS, "memory_op 60");
}

/* ---- ring 3 ---- */
static volatile unsigned long user_cs;
static const uint8_t ioport_prefix[] = { 0x8c, 0xc8, 0xa8, 0x03, 0x75, 0x08 };

static long user_version(void *arg)
{
	unsigned long cs;
	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	user_cs = cs;
	return xen_version(XENVER_version, NULL);
}

static long user_sched_shutdown(void *arg)
{
	struct sched_shutdown s = { .reason = SHUTDOWN_poweroff };
	return sched_op(SCHEDOP_shutdown, &s);   /* refused: we are still here after it */
}

/* Past the stub's own CPL check: `mov $nr,%eax; out %eax,$port; ret` reaches the VMM. */
static long user_direct(void *arg)
{
	long ret = (long)(uintptr_t)(hypercall_page + __HYPERVISOR_xen_version * 32 +
				     sizeof(ioport_prefix));
#ifdef __x86_64__
	unsigned long a1 = XENVER_version, a2 = 0;
	__asm__ __volatile__("call *%%rax" : "+a"(ret), "+D"(a1), "+S"(a2)
			     :: "memory", "rcx", "rdx", "r8", "r9", "r10", "r11");
#else
	unsigned long a1 = XENVER_version, a2 = 0;
	__asm__ __volatile__("call *%%eax" : "+a"(ret), "+b"(a1), "+c"(a2) :: "memory", "edx");
#endif
	return ret;
}

static void check_user_mode(void)
{
	usermode_init();
	long rc = user_call(user_version, NULL);
	printk("ring 3: CS %#lx, xen_version -> %ld\n", user_cs, rc);
	if (!check((user_cs & 3) == 3, "user_call ran at CS %#lx, not ring 3", user_cs))
		return;
	expect_rc(rc, -XEN_EPERM, "xen_version through the page from ring 3");
	expect_rc(user_call(user_sched_shutdown, NULL), -XEN_EPERM,
		  "SCHEDOP_shutdown through the page from ring 3");
	if (!memcmp(hypercall_page + __HYPERVISOR_xen_version * 32, ioport_prefix,
		    sizeof(ioport_prefix))) {
		expect_rc(user_call(user_direct, NULL), -XEN_EPERM,
			  "xen_version trapping to the VMM from ring 3 (IOPL 3)");
	} else {
		printk("the page's stubs are not xtshim's port I/O ones: no direct ring-3 trap\n");
	}
}

void test_main(void)
{
	if (!xtest_setup(SETUP_ALL))
		return;
	find_ram_end();
	uint64_t t0 = xen_system_time();
	check_pointers();
	check_vcpu_ids(smp_possible_cpus());
	check_unknown();
	check_user_mode();
	/* Still alive and well. */
	check(xen_version(XENVER_version, NULL) > 0, "xen_version fails after the hostile calls");
	check(xen_system_time() > t0, "system time stopped");
	struct vcpu_runstate_info rs;
	expect_rc(vcpu_op(VCPUOP_get_runstate_info, 0, &rs), 0, "get_runstate_info afterwards");
}
