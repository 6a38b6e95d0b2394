/*
 * `run --initrd`: where the module goes (bounds computed here independently,
 * by division rather than the loader's mask), what is refused (and that a
 * refusal writes nothing), and how hvm_start_info describes it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/vmm.h"

#define MiB (1ull << 20)
#define RAM_SIZE (32 * MiB)

static struct vmm *vmm_new(void)
{
	struct vmm *v = calloc(1, sizeof(*v));
	v->ram_size = RAM_SIZE;
	v->ram = malloc(RAM_SIZE);
	memset(v->ram, 0xa5, RAM_SIZE);     /* so "untouched" is visible */
	assert_int_equal(xts_gmem_add(&v->gmem, 0, RAM_SIZE, v->ram), 0);
	v->image_lo = 16 * MiB;             /* where Linux links itself */
	v->image_hi = 20 * MiB + 123;
	v->nr_vcpus = 1;
	return v;
}

static void vmm_free(struct vmm *v)
{
	free(v->ram);
	free(v);
}

static bool ram_untouched(const struct vmm *v)
{
	for (uint64_t i = 0; i < v->ram_size; i++)
		if (v->ram[i] != 0xa5)
			return false;
	return true;
}

static char *write_file(size_t size, uint8_t seed)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/xtshim-initrd-test.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint8_t *b = malloc(size ? size : 1);
	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(seed + i * 7);
	assert_int_equal(write(fd, b, size), (ssize_t)size);
	close(fd);
	free(b);
	return path;
}

/* The highest page-aligned start that fits, and nothing it must avoid. */
static void test_place_top_of_ram(void **state)
{
	const uint64_t sizes[] = { 1, 4095, 4096, 4097, 3 * MiB + 5, RAM_SIZE - 21 * MiB };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t gpa = 0, size = sizes[i];
		const char *why = NULL;
		assert_int_equal(initrd__place(RAM_SIZE, 16 * MiB, 21 * MiB, size, &gpa, &why), 0);
		uint64_t want = (RAM_SIZE - size) / 4096 * 4096;
		assert_int_equal(gpa, want);
		assert_int_equal(gpa % 4096, 0);
		assert_true(gpa + size <= RAM_SIZE);
		assert_true(gpa + 4096 + size > RAM_SIZE);          /* no higher page fits */
		assert_true(gpa >= 21 * MiB);                        /* above the image */
		assert_true(gpa >= VMM_HIGH_RAM_START);              /* not low RAM / reserved */
	}
}

static void test_place_refusals(void **state)
{
	uint64_t gpa = 0x1234;
	const char *why = NULL;

	assert_int_equal(initrd__place(RAM_SIZE, 16 * MiB, 21 * MiB, 0, &gpa, &why), -EINVAL);
	assert_non_null(why);
	/* More than the RAM above 1 MiB, or more than all RAM, or the top of uint64. */
	assert_int_equal(initrd__place(RAM_SIZE, 0, 0, RAM_SIZE - MiB + 1, &gpa, &why), -EFBIG);
	assert_int_equal(initrd__place(RAM_SIZE, 0, 0, RAM_SIZE, &gpa, &why), -EFBIG);
	assert_int_equal(initrd__place(RAM_SIZE, 0, 0, UINT64_MAX, &gpa, &why), -EFBIG);
	assert_int_equal(initrd__place(MiB, 0, 0, 1, &gpa, &why), -EFBIG);
	assert_non_null(strstr(why, "--mem"));
	/* Would overlap the kernel image by one byte / by one page. */
	assert_int_equal(initrd__place(RAM_SIZE, 16 * MiB, 28 * MiB + 1, 4 * MiB, &gpa, &why),
			 -ENOSPC);
	assert_int_equal(initrd__place(RAM_SIZE, 16 * MiB, 30 * MiB, 4 * MiB, &gpa, &why),
			 -ENOSPC);
	assert_int_equal(gpa, 0x1234);                               /* never set on refusal */
	/* Starting exactly at the image's end is allowed. */
	assert_int_equal(initrd__place(RAM_SIZE, 16 * MiB, 28 * MiB, 4 * MiB, &gpa, &why), 0);
	assert_int_equal(gpa, 28 * MiB);
}

static void test_load_copies_whole_file(void **state)
{
	struct vmm *v = vmm_new();
	const size_t size = 2 * 4096 + 17;
	char *path = write_file(size, 3);

	assert_int_equal(initrd__load(v, path), 0);
	uint64_t want = (RAM_SIZE - size) / 4096 * 4096;
	assert_int_equal(v->initrd_gpa, want);
	assert_int_equal(v->initrd_size, size);
	for (size_t i = 0; i < size; i++)
		assert_int_equal(v->ram[want + i], (uint8_t)(3 + i * 7));
	/* Below and after it, RAM is as it was. */
	assert_int_equal(v->ram[want - 1], 0xa5);
	for (uint64_t a = want + size; a < RAM_SIZE; a++)
		assert_int_equal(v->ram[a], 0xa5);
	unlink(path);
	vmm_free(v);
}

static void test_load_refusals_write_nothing(void **state)
{
	struct vmm *v = vmm_new();

	assert_int_equal(initrd__load(v, "/nonexistent/initrd.cpio"), -ENOENT);
	assert_int_equal(initrd__load(v, "/tmp"), -EINVAL);           /* a directory */
	char *path = write_file(0, 0);
	assert_int_equal(initrd__load(v, path), -EINVAL);             /* empty */
	unlink(path);
	path = write_file(RAM_SIZE - MiB + 1, 9);
	assert_int_equal(initrd__load(v, path), -EFBIG);              /* too large */
	unlink(path);
	v->image_hi = RAM_SIZE - 4096;                                /* image up to the top */
	path = write_file(8192, 9);
	assert_int_equal(initrd__load(v, path), -ENOSPC);
	unlink(path);
	if (geteuid() != 0) {                                         /* root reads anything */
		path = write_file(16, 1);
		chmod(path, 0);
		assert_int_equal(initrd__load(v, path), -EACCES);
		unlink(path);
	}
	assert_int_equal(v->initrd_size, 0);
	assert_int_equal(v->initrd_gpa, 0);
	assert_true(ram_untouched(v));
	vmm_free(v);
}

/* hvm_start_info names one module; its entry is in the reserved block. */
static void test_start_info_modlist(void **state)
{
	struct vmm *v = vmm_new();
	struct hvm_start_info si;
	struct hvm_modlist_entry m;
	uint64_t gpa;

	v->opts.cmdline = "console=hvc0";
	v->initrd_gpa = 24 * MiB;
	v->initrd_size = 5 * MiB + 3;
	assert_int_equal(pvh__build_start_info(v, &gpa), 0);
	memcpy(&si, v->ram + gpa, sizeof(si));
	assert_int_equal(si.magic, XEN_HVM_START_MAGIC_VALUE);
	assert_int_equal(si.nr_modules, 1);
	assert_true(si.modlist_paddr >= VMM_RESERVED_GPA);
	assert_true(si.modlist_paddr + sizeof(m) <= VMM_START_INFO_END);
	assert_true(si.modlist_paddr % 8 == 0);
	/* It overlaps neither the start info, the memory map nor the command line. */
	assert_true(si.modlist_paddr >= gpa + sizeof(si));
	assert_true(si.modlist_paddr >= si.memmap_paddr +
		    si.memmap_entries * sizeof(struct hvm_memmap_table_entry) ||
		    si.modlist_paddr + sizeof(m) <= si.memmap_paddr);
	assert_true(si.modlist_paddr + sizeof(m) <= si.cmdline_paddr);
	assert_string_equal((const char *)v->ram + si.cmdline_paddr, "console=hvc0");
	memcpy(&m, v->ram + si.modlist_paddr, sizeof(m));
	assert_int_equal(m.paddr, 24 * MiB);
	assert_int_equal(m.size, 5 * MiB + 3);
	assert_int_equal(m.cmdline_paddr, 0);

	/* Without --initrd: no module list at all. */
	v->initrd_size = 0;
	v->initrd_gpa = 0;
	assert_int_equal(pvh__build_start_info(v, &gpa), 0);
	memcpy(&si, v->ram + gpa, sizeof(si));
	assert_int_equal(si.nr_modules, 0);
	assert_int_equal(si.modlist_paddr, 0);
	vmm_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place_top_of_ram),
		cmocka_unit_test(test_place_refusals),
		cmocka_unit_test(test_load_copies_whole_file),
		cmocka_unit_test(test_load_refusals_write_nothing),
		cmocka_unit_test(test_start_info_modlist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
