/*
 * Secondary time areas: VCPUOP_register_vcpu_time_memory_area (13, by
 * guest virtual address) and VCPUOP_register_vcpu_time_phys_area (15, by
 * guest physical address, Xen 4.18).  A registered area carries the same
 * record as vcpu_info's, and the same version (Xen 4.18 xen/arch/x86/time.c
 * write_time_guest_area() copies the primary's), except a physical area
 * just registered: version 0 (force_update_secondary_system_time() writes
 * it alone, from version -1).  With both registered only the physical one
 * is written; once it is unregistered the virtual one is again.  After
 * unregistering (13: a NULL address, 15: ~0) the area is left alone while
 * the primary record is republished; 15 refuses an area crossing a page
 * (-ENXIO) or outside RAM (-EINVAL).  With 2 vCPUs, vCPU 1 registers its
 * own areas and checks them the same way.  Before Xen 4.18 there is no
 * VCPUOP 15: common_vcpu_op()'s default, -ENOSYS.
 * backend=kernel (the runner's {backend}): KVM writes the records, each
 * area with its own version counter (kvm_setup_guest_pvclock()), so only
 * an even, non-zero version is asked there.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "timearea: secondary vcpu_time_info areas (VCPUOP 13 and 15)";

#define VCPUOP_register_vcpu_time_phys_area 15   /* Xen 4.18; not in 4.17's headers */
#define REPUBLISH_WAIT_NS (2 * NS_PER_S)

/* Areas in their own page, so a page-crossing one can be made from it. */
static uint8_t page[MAX_CPUS][4096] __attribute__((aligned(4096)));
static bool has_phys;   /* Xen 4.18 or later */
static bool kvm_records; /* --backend kernel */
static bool on_xen;      /* peer=xen: run on real Xen (xenpeer/) */

/* The version a secondary area must carry. */
enum want_version { VER_PRIMARY, VER_FRESH_PHYS };

static struct vcpu_time_info *area(unsigned cpu, unsigned off)
{
	return (struct vcpu_time_info *)(page[cpu] + off);
}

static long register_area(unsigned cpu, bool phys, uint64_t addr)
{
	struct vcpu_register_time_memory_area a;
	memset(&a, 0, sizeof(a));
	a.addr.p = addr;    /* identity mapped: virtual = physical */
	return vcpu_op(phys ? VCPUOP_register_vcpu_time_phys_area :
		       VCPUOP_register_vcpu_time_memory_area, cpu, &a);
}

static void snapshot(volatile struct vcpu_time_info *src, struct vcpu_time_info *t)
{
	uint32_t v;
	do {
		v = src->version;
		barrier();
		memcpy(t, (const void *)src, sizeof(*t));
		barrier();
	} while ((v & 1) || v != src->version);
}

/* The area and the primary record hold the same values (retried across an update). */
static void check_same(unsigned cpu, volatile struct vcpu_time_info *sec, const char *what,
		       enum want_version want)
{
	volatile struct vcpu_time_info *pri = &xen_vcpu_info(cpu)->time;
	struct vcpu_time_info p, s, p2;
	for (unsigned tries = 0; tries < 5; tries++) {
		snapshot(pri, &p);
		snapshot(sec, &s);
		snapshot(pri, &p2);
		if (p.version == p2.version)
			break;
	}
	if (kvm_records)
		check(s.version && !(s.version & 1), "vCPU %u %s: version %u", cpu, what, s.version);
	else if (want == VER_FRESH_PHYS)
		/* Real Xen may have updated it since (a context switch): then it is the primary's. */
		check(s.version == 0 || (on_xen && s.version == p.version),
		      "vCPU %u %s: version %u just registered, Xen 4.18 leaves 0", cpu, what,
		      s.version);
	else
		check(s.version == p.version, "vCPU %u %s: version %u, vcpu_info's %u", cpu, what,
		      s.version, p.version);
	check(s.tsc_timestamp == p.tsc_timestamp && s.system_time == p.system_time &&
	      s.tsc_to_system_mul == p.tsc_to_system_mul && s.tsc_shift == p.tsc_shift &&
	      s.flags == p.flags,
	      "vCPU %u %s: tsc %llu sys %llu mul %#x shift %d flags %#x; vcpu_info: tsc %llu "
	      "sys %llu mul %#x shift %d flags %#x", cpu, what,
	      (unsigned long long)s.tsc_timestamp, (unsigned long long)s.system_time,
	      s.tsc_to_system_mul, s.tsc_shift, s.flags, (unsigned long long)p.tsc_timestamp,
	      (unsigned long long)p.system_time, p.tsc_to_system_mul, p.tsc_shift, p.flags);
}

/*
 * Have the primary record republished: remap shared_info where it is
 * (xtshim republishes then) and wait for a version change (Xen also
 * republishes on its own, at least once a second).
 */
static bool republish(void)
{
	uint32_t v = xen_vcpu_info(0)->time.version;
	int rc = xen_map_shared_info();
	if (!expect_rc(rc, 0, "remapping shared_info"))
		return false;
	uint64_t limit = xen_system_time() + REPUBLISH_WAIT_NS;
	while (xen_vcpu_info(0)->time.version == v && xen_system_time() < limit)
		cpu_relax();
	if (xen_vcpu_info(0)->time.version == v) {
		xerror("the primary record was not republished within 2 s: cannot check unregistering");
		return false;
	}
	return true;
}

static void check_kind(bool phys)
{
	const char *name = phys ? "phys area (15)" : "memory area (13)";
	struct vcpu_time_info *a = area(0, 64);
	memset(a, 0, sizeof(*a));
	if (!expect_rc(register_area(0, phys, (uintptr_t)a), 0, "registering the %s", name))
		return;
	check_same(0, a, name, phys ? VER_FRESH_PHYS : VER_PRIMARY);
	if (phys && republish())
		check_same(0, a, "phys area (15) after an update", VER_PRIMARY);

	/* Unregister, poison, republish: the area must keep the poison. */
	long rc = register_area(0, phys, phys ? ~0ULL : 0);
	if (!expect_rc(rc, 0, "unregistering the %s", name))
		return;
	static struct vcpu_time_info poison;
	memset(&poison, 0xa5, sizeof(poison));
	poison.version = 0x5a5a5a5a;
	memcpy(a, &poison, sizeof(poison));
	if (republish())
		check(!memcmp(a, &poison, sizeof(poison)),
		      "the %s was written after unregistering (version %u)", name, a->version);

	/* Re-registering elsewhere works and publishes there at once. */
	struct vcpu_time_info *b = area(0, 512);
	memset(b, 0, sizeof(*b));
	if (expect_rc(register_area(0, phys, (uintptr_t)b), 0, "registering the %s again", name))
		check_same(0, b, name, phys ? VER_FRESH_PHYS : VER_PRIMARY);
	expect_rc(register_area(0, phys, phys ? ~0ULL : 0), 0, "unregistering the %s", name);
	printk("%s: registered, same record, unregistered, registered elsewhere\n", name);
}

/* Both kinds at once: the physical area gets the record, the virtual one again once it goes. */
static void check_both(void)
{
	struct vcpu_time_info *v = area(0, 1024), *p = area(0, 1536);
	static struct vcpu_time_info poison;
	memset(v, 0, sizeof(*v));
	memset(p, 0, sizeof(*p));
	if (!expect_rc(register_area(0, false, (uintptr_t)v), 0, "both: memory area") ||
	    !expect_rc(register_area(0, true, (uintptr_t)p), 0, "both: phys area"))
		return;
	memset(&poison, 0x3c, sizeof(poison));
	poison.version = 0x3c3c3c3c;
	memcpy(v, &poison, sizeof(poison));
	if (!republish())
		return;
	check_same(0, p, "both: phys area (15)", VER_PRIMARY);
	check(!memcmp(v, &poison, sizeof(poison)),
	      "both: the memory area was written while a phys area is registered (version %u)",
	      v->version);
	if (!expect_rc(register_area(0, true, ~0ULL), 0, "both: unregistering the phys area") ||
	    !republish())
		return;
	check_same(0, v, "both: memory area (13) once the phys area is gone", VER_PRIMARY);
	expect_rc(register_area(0, false, 0), 0, "both: unregistering the memory area");
	printk("both areas: the phys one wins, the memory one takes over when it goes\n");
}

static void check_refusals(void)
{
	if (!has_phys) {
		expect_rc(register_area(0, true, (uintptr_t)area(0, 64)), -XEN_ENOSYS,
			  "phys area before Xen 4.18");
		expect_rc(register_area(0, false, 0), 0, "unregistering a memory area never registered");
		return;
	}
	/* Crossing a page: Xen's map_guest_area() says -ENXIO. */
	expect_rc(register_area(0, true, (uintptr_t)page[0] + 4096 - 16), -XEN_ENXIO,
		  "phys area crossing a page");
	/* Beyond RAM (the guest has at most a few GiB below 4 GiB here): not a RAM page. */
	expect_rc(register_area(0, true, 0xfffff000ULL << 12), -XEN_EINVAL,
		  "phys area outside guest RAM");
	expect_rc(register_area(0, false, 0), 0, "unregistering a memory area never registered");
}

static void secondary(unsigned cpu)
{
	struct vcpu_time_info *a = area(cpu, 128);
	memset(a, 0, sizeof(*a));
	if (expect_rc(register_area(cpu, false, (uintptr_t)a), 0, "vCPU %u: memory area", cpu))
		check_same(cpu, a, "memory area (13)", VER_PRIMARY);
	a = area(cpu, 256);
	memset(a, 0, sizeof(*a));
	if (!has_phys)
		expect_rc(register_area(cpu, true, (uintptr_t)a), -XEN_ENOSYS, "vCPU %u: phys area", cpu);
	else if (expect_rc(register_area(cpu, true, (uintptr_t)a), 0, "vCPU %u: phys area", cpu))
		check_same(cpu, a, "phys area (15)", VER_FRESH_PHYS);
	printk("vCPU %u: its own areas carry its record\n", cpu);
}

void test_main(void)
{
	/* vCPU 0 keeps its vcpu_info in shared_info, where a remap republishes it. */
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO))
		return;
	has_phys = xen_version(XENVER_version, NULL) >= 0x40012;
	kvm_records = cmdline_has("backend=kernel");
	on_xen = cmdline_has("peer=xen");
	check_kind(false);
	if (has_phys) {
		check_kind(true);
		check_both();
	}
	check_refusals();
	unsigned n = smp_possible_cpus();
	for (unsigned cpu = 1; cpu < n && cpu < MAX_CPUS; cpu++)
		smp_run(cpu, secondary, 5 * NS_PER_S);
}
