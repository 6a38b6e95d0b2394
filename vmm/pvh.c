/*
 * hvm_start_info for a PVH guest: the structure, a memory map, the module
 * list (--initrd, one entry) and the command line, in one reserved block
 * below the image (next to the PV console and xenstore ring pages, reserved
 * too), and the ACPI tables' RSDP (acpi.c).  The module itself is in RAM (initrd.c); the guest reserves it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/vmm.h"

int pvh__build_start_info(struct vmm *v, uint64_t *gpa)
{
	const char *cmdline = v->opts.cmdline ? v->opts.cmdline : "";
	size_t len = strlen(cmdline) + 1;
	if (len > VMM_CMDLINE_MAX) {
		fprintf(stderr, "xtshim: --cmdline longer than %d bytes\n", VMM_CMDLINE_MAX - 1);
		return -EINVAL;
	}

	uint64_t rsdp;
	int r = acpi__build(v, &rsdp);
	if (r)
		return r;

	const struct hvm_memmap_table_entry map[] = {
		{ 0, VMM_RESERVED_GPA, XEN_HVM_MEMMAP_TYPE_RAM, 0 },
		/* PV console and xenstore rings, then this block. */
		{ VMM_RESERVED_GPA, VMM_START_INFO_END - VMM_RESERVED_GPA,
		  XEN_HVM_MEMMAP_TYPE_RESERVED, 0 },
		{ VMM_START_INFO_END, VMM_LOW_RAM_END - VMM_START_INFO_END,
		  XEN_HVM_MEMMAP_TYPE_RAM, 0 },
		{ VMM_ACPI_GPA, VMM_ACPI_END - VMM_ACPI_GPA, XEN_HVM_MEMMAP_TYPE_ACPI, 0 },
		{ VMM_HIGH_RAM_START, v->ram_size - VMM_HIGH_RAM_START, XEN_HVM_MEMMAP_TYPE_RAM, 0 },
	};
	const uint64_t map_gpa = VMM_START_INFO_GPA + 64;
	const uint64_t mod_gpa = map_gpa + sizeof(map);
	const uint64_t cmdline_gpa = mod_gpa + sizeof(struct hvm_modlist_entry);
	_Static_assert(sizeof(struct hvm_start_info) <= 64, "start info fits before the map");
	_Static_assert(VMM_START_INFO_GPA + 64 + 5 * sizeof(struct hvm_memmap_table_entry) +
		       sizeof(struct hvm_modlist_entry) <= VMM_START_INFO_END - VMM_CMDLINE_MAX,
		       "map and module list fit before the command line");
	/* cmdline_paddr 0: the module has no command line of its own. */
	const struct hvm_modlist_entry mod = {
		.paddr = v->initrd_gpa, .size = v->initrd_size, .cmdline_paddr = 0,
	};

	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC_VALUE,
		.version = 1,
		.cmdline_paddr = cmdline_gpa,
		.memmap_paddr = map_gpa,
		.memmap_entries = sizeof(map) / sizeof(map[0]),
		.modlist_paddr = v->initrd_size ? mod_gpa : 0,
		.nr_modules = v->initrd_size ? 1 : 0,
		.rsdp_paddr = rsdp,
	};
	r = xts_gmem_write(&v->gmem, VMM_START_INFO_GPA, &si, sizeof(si));
	if (!r)
		r = xts_gmem_write(&v->gmem, map_gpa, map, sizeof(map));
	if (!r && v->initrd_size)
		r = xts_gmem_write(&v->gmem, mod_gpa, &mod, sizeof(mod));
	if (!r)
		r = xts_gmem_write(&v->gmem, cmdline_gpa, cmdline, len);
	if (r)
		return r;
	*gpa = VMM_START_INFO_GPA;
	return 0;
}
