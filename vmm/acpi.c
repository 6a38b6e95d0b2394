/*
 * ACPI tables for a PVH guest, as Xen's toolstack gives every PVH domU:
 * RSDP -> XSDT -> FADT (hardware-reduced) and MADT (one local APIC per
 * vCPU, no IOAPIC).  The guest finds them through hvm_start_info.rsdp_paddr.
 * The DSDT holds only _S5, with the FADT's sleep control/status registers
 * at two I/O ports: Linux registers its ACPI power-off only when the
 * platform has an S5 state (acpi_sleep_state_supported()), and without one
 * reboot(RB_POWER_OFF) halts instead of ending the guest.
 *
 * Why a time-ABI shim builds ACPI at all: Linux learns its CPUs and its APIC
 * mode from the MADT.  Without one it picks APIC_VIRTUAL_WIRE_NO_CONFIG, and
 * native_smp_prepare_cpus() then returns before it calls
 * x86_init.timers.setup_percpu_clockev() -- which on a Xen HVM/PVH guest is
 * xen_time_init(), the function that registers the Xen clocksource and the
 * per-vCPU singleshot clockevent.  Such a guest has no tick at all: jiffies
 * stop and the first sleeping initcall never returns.
 *
 * Layout, in a block the memory map marks as ACPI (VMM_ACPI_GPA..END, in the
 * legacy BIOS area where no PT_LOAD and no RAM allocation can land):
 *   +0x000 RSDP (36 bytes, revision 2)   +0x040 XSDT
 *   +0x100 FADT (276 bytes, revision 6)  +0x240 DSDT (header + _S5)
 *   +0x280 MADT (44 + 8 per vCPU)
 * Every table's bytes, checksum included, sum to 0 mod 256 (ACPI 6.4 5.2.5.3
 * for the RSDP's two checksums, 5.2.6 for the common header).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/vmm.h"

#define ACPI_HDR_LEN      36
#define RSDP_OFF          0x000
#define XSDT_OFF          0x040
#define FADT_OFF          0x100
#define FADT_LEN          276
#define DSDT_OFF          0x240
#define MADT_OFF          0x280
#define MADT_LAPIC_LEN    8

/* FADT fields (ACPI 6.4 table 5.9: byte offsets). */
#define FADT_DSDT         40
#define FADT_IAPC_BOOT    109
#define FADT_FLAGS        112
#define FADT_MINOR_REV    131
#define FADT_X_DSDT       140
#define FADT_SLEEP_CTL    244       /* Generic Address Structures, 12 bytes */
#define FADT_SLEEP_STS    256
#define FADT_HV_VENDOR    268
#define IAPC_NO_VGA       (1u << 2)
#define IAPC_NO_MSI       (1u << 3)
#define IAPC_NO_CMOS_RTC  (1u << 5)
#define FADT_HW_REDUCED   (1u << 20)

_Static_assert(MADT_OFF + 44 + MADT_LAPIC_LEN * XTS_MAX_VCPUS <= VMM_ACPI_END - VMM_ACPI_GPA,
	       "the MADT for the largest guest fits the ACPI block");
_Static_assert(FADT_OFF + FADT_LEN <= DSDT_OFF, "FADT before DSDT");

static void put16(uint8_t *p, uint16_t x) { memcpy(p, &x, 2); }
static void put32(uint8_t *p, uint32_t x) { memcpy(p, &x, 4); }
static void put64(uint8_t *p, uint64_t x) { memcpy(p, &x, 8); }

/* A Generic Address Structure for one byte in I/O space (ACPI 6.4 5.2.3.2). */
static void acpi__gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = 1;          /* address space: system I/O */
	g[1] = 8;          /* register bit width */
	g[2] = 0;          /* bit offset */
	g[3] = 1;          /* access size: byte */
	put64(g + 4, port);
}

static uint8_t acpi__sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

/* The common header; the checksum is filled by acpi__seal() once the body is in. */
static void acpi__header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "XTSHIM", 6);
	memcpy(t + 16, "XTSHIMVM", 8);
	put32(t + 24, 1);             /* OEM revision */
	memcpy(t + 28, "XTSH", 4);    /* creator ID */
	put32(t + 32, 1);             /* creator revision */
}

static void acpi__seal(uint8_t *t, size_t len, size_t csum_at)
{
	t[csum_at] = 0;
	t[csum_at] = (uint8_t)-acpi__sum(t, len);
}

int acpi__build(struct vmm *v, uint64_t *rsdp_gpa)
{
	const uint64_t base = VMM_ACPI_GPA;
	const uint32_t madt_len = 44 + MADT_LAPIC_LEN * v->nr_vcpus;
	uint8_t *b = xts_gmem_ptr(&v->gmem, base, VMM_ACPI_END - base, 0);

	if (!b || v->nr_vcpus == 0 || v->nr_vcpus > XTS_MAX_VCPUS) {
		fprintf(stderr, "xtshim: ACPI tables: %s\n",
			!b ? "guest RAM does not cover 0xe0000..0x100000" : "bad vCPU count");
		return -EINVAL;
	}
	memset(b, 0, VMM_ACPI_END - base);

	/*
	 * No devices; one object: Name (_S5, Package (2) { 5, 0 }) in AML
	 * (ACPI 6.4 20.2.5: NameOp, NameSeg, PackageOp, PkgLength 5 = itself +
	 * NumElements + BytePrefix 5 + ZeroOp).
	 */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02,
				      0x0a, VMM_ACPI_S5_TYPE, 0x00 };
	uint8_t *dsdt = b + DSDT_OFF;
	acpi__header(dsdt, "DSDT", ACPI_HDR_LEN + sizeof(s5), 2);
	memcpy(dsdt + ACPI_HDR_LEN, s5, sizeof(s5));
	acpi__seal(dsdt, ACPI_HDR_LEN + sizeof(s5), 9);

	/*
	 * Hardware-reduced (no PM timer, no SCI, no PM1 blocks: xtshim emulates
	 * none), revision 6.0 because hardware-reduced needs 5 or later.
	 */
	uint8_t *fadt = b + FADT_OFF;
	acpi__header(fadt, "FACP", FADT_LEN, 6);
	put32(fadt + FADT_DSDT, (uint32_t)(base + DSDT_OFF));
	put16(fadt + FADT_IAPC_BOOT, IAPC_NO_VGA | IAPC_NO_MSI | IAPC_NO_CMOS_RTC);
	put32(fadt + FADT_FLAGS, FADT_HW_REDUCED);
	fadt[FADT_MINOR_REV] = 0;
	put64(fadt + FADT_X_DSDT, base + DSDT_OFF);
	acpi__gas_io8(fadt + FADT_SLEEP_CTL, VMM_ACPI_SLEEP_CTL_PORT);
	acpi__gas_io8(fadt + FADT_SLEEP_STS, VMM_ACPI_SLEEP_STS_PORT);
	memcpy(fadt + FADT_HV_VENDOR, "XenVMM\0\0", 8);
	acpi__seal(fadt, FADT_LEN, 9);

	/* Local APIC IDs are the KVM vCPU ids (KVM_CREATE_VCPU i, kvm-cpu.c). */
	uint8_t *madt = b + MADT_OFF;
	acpi__header(madt, "APIC", madt_len, 4);
	put32(madt + 36, 0xfee00000);     /* local APIC address */
	put32(madt + 40, 0);              /* flags: no 8259 pair (no PCAT_COMPAT) */
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		uint8_t *e = madt + 44 + MADT_LAPIC_LEN * i;
		e[0] = 0;                 /* Processor Local APIC */
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i;        /* ACPI processor UID */
		e[3] = (uint8_t)i;        /* APIC ID */
		put32(e + 4, 1);          /* enabled */
	}
	acpi__seal(madt, madt_len, 9);

	uint8_t *xsdt = b + XSDT_OFF;
	acpi__header(xsdt, "XSDT", ACPI_HDR_LEN + 16, 1);
	put64(xsdt + ACPI_HDR_LEN, base + FADT_OFF);
	put64(xsdt + ACPI_HDR_LEN + 8, base + MADT_OFF);
	acpi__seal(xsdt, ACPI_HDR_LEN + 16, 9);

	uint8_t *rsdp = b + RSDP_OFF;
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "XTSHIM", 6);
	rsdp[15] = 2;                     /* revision: XSDT present */
	put32(rsdp + 16, 0);              /* no RSDT: every consumer of rev 2 takes the XSDT */
	put32(rsdp + 20, 36);
	put64(rsdp + 24, base + XSDT_OFF);
	acpi__seal(rsdp, 20, 8);          /* the ACPI 1.0 checksum covers bytes 0..19 */
	acpi__seal(rsdp, 36, 32);         /* the extended one all 36 */

	*rsdp_gpa = base + RSDP_OFF;
	return 0;
}
