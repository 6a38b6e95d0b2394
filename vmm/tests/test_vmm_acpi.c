/*
 * The ACPI tables a PVH guest gets (vmm/acpi.c), read back the way a guest
 * reads them: the RSDP found both through hvm_start_info.rsdp_paddr and by the
 * legacy scan of 0xe0000..0xfffff on 16-byte boundaries (ACPI 6.4 5.2.5.1),
 * every checksum summed here byte by byte, the XSDT followed to FACP and APIC
 * by signature, and field offsets taken from the ACPI spec tables rather than
 * from the builder's names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/vmm.h"

#define MiB (1ull << 20)
#define RAM_SIZE (8 * MiB)

static struct vmm *vmm_new(unsigned nr_vcpus)
{
	struct vmm *v = calloc(1, sizeof(*v));
	v->ram_size = RAM_SIZE;
	v->ram = malloc(RAM_SIZE);
	memset(v->ram, 0xa5, RAM_SIZE);
	assert_int_equal(xts_gmem_add(&v->gmem, 0, RAM_SIZE, v->ram), 0);
	v->nr_vcpus = nr_vcpus;
	return v;
}

static void vmm_free(struct vmm *v)
{
	free(v->ram);
	free(v);
}

static uint32_t rd32(const uint8_t *p) { uint32_t x; memcpy(&x, p, 4); return x; }
static uint64_t rd64(const uint8_t *p) { uint64_t x; memcpy(&x, p, 8); return x; }

static unsigned sum8(const uint8_t *p, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s & 0xff;
}

/* A table by physical address: signature, length in bounds, checksum 0. */
static const uint8_t *table(const struct vmm *v, uint64_t gpa, const char *sig)
{
	if (gpa < VMM_ACPI_GPA || gpa + 36 > VMM_ACPI_END)
		fail_msg("%.4s at %#llx is outside the ACPI block", sig, (unsigned long long)gpa);
	const uint8_t *t = v->ram + gpa;
	uint32_t len = rd32(t + 4);
	if (memcmp(t, sig, 4))
		fail_msg("table at %#llx is '%.4s', want '%s'", (unsigned long long)gpa, t, sig);
	if (len < 36 || gpa + len > VMM_ACPI_END)
		fail_msg("%s length %u runs past the ACPI block", sig, len);
	if (sum8(t, len))
		fail_msg("%s checksum: bytes sum to %#x mod 256", sig, sum8(t, len));
	return t;
}

static const uint8_t *xsdt_find(const struct vmm *v, const uint8_t *xsdt, const char *sig)
{
	uint32_t n = (rd32(xsdt + 4) - 36) / 8;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t gpa = rd64(xsdt + 36 + 8 * i);
		if (gpa >= VMM_ACPI_GPA && gpa + 4 <= VMM_ACPI_END && !memcmp(v->ram + gpa, sig, 4))
			return table(v, gpa, sig);
	}
	fail_msg("XSDT (%u entries) names no %s", n, sig);
	return NULL;
}

static void check_tables(unsigned nr_vcpus)
{
	struct vmm *v = vmm_new(nr_vcpus);
	struct hvm_start_info si;
	uint64_t gpa;

	assert_int_equal(pvh__build_start_info(v, &gpa), 0);
	memcpy(&si, v->ram + gpa, sizeof(si));
	assert_true(si.version >= 1);      /* rsdp_paddr is valid from version 1 */

	/* The legacy scan finds the same RSDP the start info names. */
	uint64_t scanned = 0;
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(v->ram + a, "RSD PTR ", 8)) {
			scanned = a;
			break;
		}
	assert_int_not_equal(scanned, 0);
	assert_int_equal(scanned, si.rsdp_paddr);

	const uint8_t *rsdp = v->ram + si.rsdp_paddr;
	assert_int_equal(sum8(rsdp, 20), 0);               /* ACPI 1.0 part */
	assert_int_equal(rsdp[15], 2);                     /* revision 2: XSDT */
	assert_int_equal(rd32(rsdp + 20), 36);
	assert_int_equal(sum8(rsdp, 36), 0);               /* extended checksum */

	const uint8_t *xsdt = table(v, rd64(rsdp + 24), "XSDT");
	const uint8_t *fadt = xsdt_find(v, xsdt, "FACP");
	const uint8_t *madt = xsdt_find(v, xsdt, "APIC");

	/* FADT: revision >= 5 (hardware-reduced needs it), flag bit 20, X_DSDT. */
	assert_true(fadt[8] >= 5);
	assert_true(rd32(fadt + 4) >= 276);
	assert_true(rd32(fadt + 112) & (1u << 20));
	uint64_t x_dsdt = rd64(fadt + 140);
	const uint8_t *dsdt = table(v, x_dsdt, "DSDT");
	assert_int_equal(rd32(fadt + 40), x_dsdt);         /* the 32-bit copy agrees */

	/*
	 * Power-off as Linux finds it (acpi_sleep_state_supported(S5) on a
	 * hardware-reduced platform): an _S5 package in the DSDT whose first
	 * element is SLP_TYP, and both FADT sleep registers (6.4 table 5.9,
	 * offsets 244 and 256) as Generic Address Structures in I/O space.
	 */
	uint32_t dlen = rd32(dsdt + 4);
	const uint8_t *s5 = NULL;
	for (uint32_t i = 36; i + 11 <= dlen; i++)
		if (dsdt[i] == 0x08 && !memcmp(dsdt + i + 1, "_S5_", 4))
			s5 = dsdt + i;
	if (!s5)
		fail_msg("no Name (_S5, ...) in the DSDT");
	assert_int_equal(s5[5], 0x12);                     /* PackageOp */
	assert_true(s5[7] >= 1);                           /* NumElements */
	unsigned slp_typ = s5[8] == 0x0a ? s5[9] : s5[8] == 0x01 ? 1 : s5[8] == 0 ? 0 : 99;
	assert_true(slp_typ <= 7);                         /* 3 bits in the control register */
	for (unsigned off = 244; off <= 256; off += 12) {
		assert_int_equal(fadt[off], 1);            /* system I/O */
		assert_int_equal(fadt[off + 1], 8);        /* one byte */
		assert_int_not_equal(rd64(fadt + off + 4), 0);
	}
	assert_int_not_equal(rd64(fadt + 244 + 4), rd64(fadt + 256 + 4));

	/* MADT: one enabled Processor Local APIC per vCPU, ids 0..n-1, no IOAPIC. */
	assert_int_equal(rd32(madt + 36), 0xfee00000);
	uint32_t len = rd32(madt + 4), off = 44, lapics = 0;
	uint8_t seen[256] = { 0 };
	while (off + 2 <= len) {
		const uint8_t *e = madt + off;
		if (e[1] < 2 || off + e[1] > len)
			fail_msg("MADT entry at %u: length %u", off, e[1]);
		if (e[0] == 1)
			fail_msg("MADT has an IOAPIC entry: PVH has none");
		if (e[0] == 0) {
			assert_int_equal(e[1], 8);
			assert_true(rd32(e + 4) & 1);
			if (e[3] >= nr_vcpus || seen[e[3]]++)
				fail_msg("APIC id %u: duplicate or not a vCPU of %u", e[3], nr_vcpus);
			lapics++;
		}
		off += e[1];
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, nr_vcpus);

	/* The memory map calls the block ACPI, and no RAM range overlaps it. */
	struct hvm_memmap_table_entry map[8];
	assert_true(si.memmap_entries <= 8);
	memcpy(map, v->ram + si.memmap_paddr, si.memmap_entries * sizeof(map[0]));
	bool covered = false;
	for (unsigned i = 0; i < si.memmap_entries; i++) {
		uint64_t lo = map[i].addr, hi = map[i].addr + map[i].size;
		if (map[i].type == XEN_HVM_MEMMAP_TYPE_ACPI && lo <= VMM_ACPI_GPA && hi >= VMM_ACPI_GPA + len)
			covered = true;
		if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && lo < VMM_ACPI_END && hi > VMM_ACPI_GPA)
			fail_msg("RAM entry %#llx..%#llx overlaps the ACPI tables",
				 (unsigned long long)lo, (unsigned long long)hi);
	}
	assert_true(covered);
	vmm_free(v);
}

static void test_tables_1(void **state) { check_tables(1); }
static void test_tables_2(void **state) { check_tables(2); }
static void test_tables_max(void **state) { check_tables(XTS_MAX_VCPUS); }

/* Nothing but the block is written: RAM below and above keeps its pattern. */
static void test_writes_only_its_block(void **state)
{
	struct vmm *v = vmm_new(4);
	uint64_t rsdp;

	assert_int_equal(acpi__build(v, &rsdp), 0);
	for (uint64_t a = 0; a < RAM_SIZE; a++)
		if ((a < VMM_ACPI_GPA || a >= VMM_ACPI_END) && v->ram[a] != 0xa5)
			fail_msg("byte at %#llx written", (unsigned long long)a);
	v->nr_vcpus = 0;
	assert_int_not_equal(acpi__build(v, &rsdp), 0);
	vmm_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_1),
		cmocka_unit_test(test_tables_2),
		cmocka_unit_test(test_tables_max),
		cmocka_unit_test(test_writes_only_its_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
