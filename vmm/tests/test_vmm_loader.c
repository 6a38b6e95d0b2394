/*
 * The VMM's guest-controlled inputs before the guest runs: PVH ELF images
 * (every header field checked, nothing copied unless all of it is valid) and
 * VCPUOP_initialise contexts (refused unless KVM could run them).
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/vmm.h"

#define RAM_SIZE (4u << 20)
#define LOAD_GPA 0x100000u
#define ENTRY    0x100040u

static struct vmm *vmm_new(void)
{
	struct vmm *v = calloc(1, sizeof(*v));
	v->ram_size = RAM_SIZE;
	v->ram = calloc(1, RAM_SIZE);
	memset(v->ram, 0xa5, RAM_SIZE);     /* so "untouched" and "zeroed" differ */
	assert_int_equal(xts_gmem_add(&v->gmem, 0, RAM_SIZE, v->ram), 0);
	return v;
}

static void vmm_free(struct vmm *v)
{
	free(v->ram);
	free(v);
}

/* A minimal PVH image: ELF header, PT_LOAD, PT_NOTE, note, 64 bytes of code. */
struct img {
	uint8_t b[1024];
	size_t len;
	Elf64_Ehdr *eh;
	Elf64_Phdr *load, *note;
	uint32_t *note_words;     /* namesz, descsz, type, "Xen\0", desc */
};

static void build64(struct img *im, uint32_t memsz)
{
	memset(im, 0, sizeof(*im));
	im->eh = (Elf64_Ehdr *)im->b;
	memcpy(im->eh->e_ident, ELFMAG, SELFMAG);
	im->eh->e_ident[EI_CLASS] = ELFCLASS64;
	im->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh->e_ident[EI_VERSION] = EV_CURRENT;
	im->eh->e_type = ET_EXEC;
	im->eh->e_machine = EM_X86_64;
	im->eh->e_phoff = sizeof(Elf64_Ehdr);
	im->eh->e_phentsize = sizeof(Elf64_Phdr);
	im->eh->e_phnum = 2;
	im->load = (Elf64_Phdr *)(im->b + sizeof(Elf64_Ehdr));
	im->note = im->load + 1;
	size_t note_off = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
	im->note_words = (uint32_t *)(im->b + note_off);
	im->note_words[0] = 4;
	im->note_words[1] = 4;
	im->note_words[2] = XEN_ELFNOTE_PHYS32_ENTRY;
	memcpy(&im->note_words[3], "Xen", 4);
	im->note_words[4] = ENTRY;
	*im->note = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = 20 };
	size_t code_off = 512;
	for (unsigned i = 0; i < 64; i++)
		im->b[code_off + i] = (uint8_t)(i + 1);
	*im->load = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = code_off, .p_paddr = LOAD_GPA,
				   .p_filesz = 64, .p_memsz = memsz };
	im->len = code_off + 64;
}

static int load(struct vmm *v, const void *data, size_t len, uint64_t *entry)
{
	char path[] = "/tmp/xtshim-elf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	int r = elf__load_pvh(v, path, entry);
	unlink(path);
	return r;
}

static bool ram_untouched(const struct vmm *v)
{
	for (size_t i = 0; i < RAM_SIZE; i++)
		if (v->ram[i] != 0xa5)
			return false;
	return true;
}

static void test_valid_elf64(void **state)
{
	struct vmm *v = vmm_new();
	struct img im;
	uint64_t entry = 0;
	build64(&im, 4096);
	assert_int_equal(load(v, im.b, im.len, &entry), 0);
	assert_int_equal(entry, ENTRY);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(v->ram[LOAD_GPA + i], i + 1);
	for (unsigned i = 64; i < 4096; i++)            /* p_memsz beyond p_filesz is zeroed */
		assert_int_equal(v->ram[LOAD_GPA + i], 0);
	assert_int_equal(v->ram[LOAD_GPA + 4096], 0xa5); /* and nothing past it */
	vmm_free(v);
}

static void test_valid_elf32(void **state)
{
	struct vmm *v = vmm_new();
	uint8_t b[1024] = { 0 };
	Elf32_Ehdr *eh = (Elf32_Ehdr *)b;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = EM_386;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf32_Phdr);
	eh->e_phnum = 2;
	Elf32_Phdr *ph = (Elf32_Phdr *)(b + sizeof(*eh));
	uint32_t note_off = sizeof(*eh) + 2 * sizeof(Elf32_Phdr);
	uint32_t words[] = { 4, 4, XEN_ELFNOTE_PHYS32_ENTRY, 0x006e6558 /* "Xen\0" */, 0x200010 };
	memcpy(b + note_off, words, sizeof(words));
	ph[0] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = 512, .p_paddr = 0x200000,
			      .p_filesz = 16, .p_memsz = 16 };
	ph[1] = (Elf32_Phdr){ .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = sizeof(words) };
	memset(b + 512, 0x5a, 16);
	uint64_t entry = 0;
	assert_int_equal(load(v, b, 528, &entry), 0);
	assert_int_equal(entry, 0x200010);
	assert_int_equal(v->ram[0x200000], 0x5a);
	assert_int_equal(v->ram[0x20000f], 0x5a);
	vmm_free(v);
}

/* Each corruption must be refused with -EINVAL and leave RAM as it was. */
static void test_hostile_images(void **state)
{
	struct vmm *v = vmm_new();
	struct img im;
	uint64_t entry = 0;
	unsigned cases = 0;

	for (unsigned c = 0;; c++) {
		build64(&im, 4096);
		switch (c) {
		case 0: im.b[1] = 'X'; break;                              /* not ELF */
		case 1: im.eh->e_ident[EI_DATA] = ELFDATA2MSB; break;
		case 2: im.eh->e_ident[EI_CLASS] = 7; break;
		case 3: im.eh->e_machine = EM_AARCH64; break;
		case 4: im.eh->e_phentsize = 32; break;
		case 5: im.eh->e_phnum = 0; break;
		case 6: im.eh->e_phnum = 1000; break;
		case 7: im.eh->e_phoff = 0xfffffffffffffff0ULL; break;     /* wraps */
		case 8: im.load->p_offset = 1000; break;                   /* data past EOF */
		case 9: im.load->p_filesz = 8192; break;                   /* filesz > memsz */
		case 10: im.load->p_paddr = RAM_SIZE - 16; break;          /* runs out of RAM */
		case 11: im.load->p_paddr = 0xfffffffffffff000ULL; break;  /* wraps */
		case 12: im.load->p_memsz = 0xffffffffffffffffULL; break;
		case 13: im.load->p_paddr = 0x5000; break;                 /* over the rings */
		case 14: im.load->p_paddr = 0x7ff0; break;                 /* over start info */
		case 15: im.note->p_type = PT_NULL; break;                 /* no entry note */
		case 16: im.note_words[2] = 17; break;                     /* other note type */
		case 17: memcpy(&im.note_words[3], "Xxn", 4); break;       /* other owner */
		case 18: im.note_words[1] = 2; break;                      /* descsz 2 */
		case 19: im.note_words[0] = 0x7ffffff0; break;             /* name past segment */
		case 20: im.note->p_filesz = 4096; break;                  /* note past EOF */
		case 21: im.note_words[4] = RAM_SIZE; break;               /* entry outside RAM */
		case 22: im.load->p_type = PT_NULL; break;                 /* nothing to load */
		case 23: im.len = 40; break;                               /* truncated header */
		case 24: im.load->p_paddr = 0xdf800; break;                /* into the ACPI tables */
		case 25: im.load->p_paddr = 0xfff00; break;                /* out of them */
		default: goto done;
		}
		int r = load(v, im.b, im.len, &entry);
		if (r != -EINVAL)
			fail_msg("case %u: got %d, want -EINVAL", c, r);
		if (!ram_untouched(v))
			fail_msg("case %u: guest RAM was written", c);
		cases++;
	}
done:
	assert_int_equal(cases, 26);
	assert_int_equal(load(v, "", 0, &entry), -EINVAL);           /* empty file */
	vmm_free(v);
}

static vcpu_hvm_context_t ctx32(void)
{
	vcpu_hvm_context_t c;
	memset(&c, 0, sizeof(c));
	c.mode = VCPU_HVM_MODE_32B;
	c.cpu_regs.x86_32.cr0 = 0x11;
	c.cpu_regs.x86_32.cs_ar = 0xc9b;
	c.cpu_regs.x86_32.ds_ar = c.cpu_regs.x86_32.ss_ar = c.cpu_regs.x86_32.es_ar = 0xc93;
	c.cpu_regs.x86_32.tr_ar = 0x8b;
	return c;
}

static vcpu_hvm_context_t ctx64(void)
{
	vcpu_hvm_context_t c;
	memset(&c, 0, sizeof(c));
	c.mode = VCPU_HVM_MODE_64B;
	c.cpu_regs.x86_64.cr0 = 0x80000011;
	c.cpu_regs.x86_64.cr4 = 0x20;
	c.cpu_regs.x86_64.efer = 0x500;
	return c;
}

static void test_hvm_contexts(void **state)
{
	vcpu_hvm_context_t c = ctx32();
	assert_int_equal(regs__check_hvm_context(&c), 0);
	c = ctx64();
	assert_int_equal(regs__check_hvm_context(&c), 0);

	c = ctx32(); c.mode = 2;
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx32(); c.cpu_regs.x86_32.ds_ar |= 0x1000;            /* reserved _ar bits */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx32(); c.cpu_regs.x86_32.cs_ar = 0xc13;              /* not present */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx32(); c.cpu_regs.x86_32.cs_ar = 0xc93;              /* a data segment in CS */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx32(); c.cpu_regs.x86_32.ss_ar = 0;                  /* null SS */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx32(); c.cpu_regs.x86_32.tr_ar = 0;                  /* null TR */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx32(); c.cpu_regs.x86_32.tr_ar = 0x89;               /* available, not busy, TSS */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx32(); c.cpu_regs.x86_32.tr_ar = 0x9b;               /* a code segment in TR */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx32(); c.cpu_regs.x86_32.efer = 0x500;               /* LMA without paging */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx64(); c.cpu_regs.x86_64.cr0 = 0x11;                 /* long mode, paging off */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx64(); c.cpu_regs.x86_64.cr4 = 0;                    /* no PAE */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
	c = ctx64(); c.cpu_regs.x86_64.efer = 0x100;               /* LME without LMA */
	assert_int_equal(regs__check_hvm_context(&c), -XEN_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_elf64),
		cmocka_unit_test(test_valid_elf32),
		cmocka_unit_test(test_hostile_images),
		cmocka_unit_test(test_hvm_contexts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
