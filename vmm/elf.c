/*
 * Loading a PVH guest: an ELF32 or ELF64 x86 image whose "Xen" note
 * XEN_ELFNOTE_PHYS32_ENTRY gives the 32-bit physical entry point.  Every
 * header field is checked against the file and guest RAM before anything is
 * copied, so a bad image leaves guest memory untouched.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define ELF_MAX_SIZE (256u << 20)
#define ELF_MAX_PHDRS 64

/* The fields the loader needs, widened from either ELF class. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct image {
	const uint8_t *data;
	size_t size;
	const char *path;
};

static bool in_file(const struct image *im, uint64_t off, uint64_t len)
{
	return off <= im->size && len <= im->size - off;
}

static int bad(const struct image *im, const char *what)
{
	fprintf(stderr, "xtshim: %s: %s\n", im->path, what);
	return -EINVAL;
}

static int read_phdrs(const struct image *im, struct phdr *ph, unsigned *nr)
{
	const unsigned char *id = im->data;
	if (im->size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG))
		return bad(im, "not an ELF file");
	if (id[EI_DATA] != ELFDATA2LSB)
		return bad(im, "ELF data encoding is not little-endian");

	uint64_t phoff;
	unsigned phnum, phentsize, want;
	if (id[EI_CLASS] == ELFCLASS64) {
		if (im->size < sizeof(Elf64_Ehdr))
			return bad(im, "truncated ELF header");
		const Elf64_Ehdr *eh = (const void *)im->data;
		if (eh->e_machine != EM_X86_64)
			return bad(im, "e_machine is not x86-64");
		phoff = eh->e_phoff, phnum = eh->e_phnum, phentsize = eh->e_phentsize;
		want = sizeof(Elf64_Phdr);
	} else if (id[EI_CLASS] == ELFCLASS32) {
		if (im->size < sizeof(Elf32_Ehdr))
			return bad(im, "truncated ELF header");
		const Elf32_Ehdr *eh = (const void *)im->data;
		if (eh->e_machine != EM_386)
			return bad(im, "e_machine is not i386");
		phoff = eh->e_phoff, phnum = eh->e_phnum, phentsize = eh->e_phentsize;
		want = sizeof(Elf32_Phdr);
	} else {
		return bad(im, "unknown ELF class");
	}
	if (phentsize != want)
		return bad(im, "e_phentsize does not match the ELF class");
	if (phnum == 0 || phnum > ELF_MAX_PHDRS)
		return bad(im, "e_phnum is 0 or too large");
	if (!in_file(im, phoff, (uint64_t)phnum * phentsize))
		return bad(im, "program headers outside the file");

	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *p = im->data + phoff + (uint64_t)i * phentsize;
		if (id[EI_CLASS] == ELFCLASS64) {
			Elf64_Phdr h;
			memcpy(&h, p, sizeof(h));
			ph[i] = (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
		} else {
			Elf32_Phdr h;
			memcpy(&h, p, sizeof(h));
			ph[i] = (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
		}
	}
	*nr = phnum;
	return 0;
}

/* Walk the notes of one PT_NOTE segment for Xen's PHYS32_ENTRY. */
static int find_entry_note(const struct image *im, const struct phdr *ph,
			   bool *found, uint64_t *entry)
{
	if (!in_file(im, ph->offset, ph->filesz))
		return bad(im, "PT_NOTE outside the file");
	uint64_t off = 0;
	while (ph->filesz - off >= 12) {
		const uint8_t *n = im->data + ph->offset + off;
		uint32_t namesz, descsz, type;
		memcpy(&namesz, n, 4);
		memcpy(&descsz, n + 4, 4);
		memcpy(&type, n + 8, 4);
		uint64_t name_len = ((uint64_t)namesz + 3) & ~3ULL;
		uint64_t desc_len = ((uint64_t)descsz + 3) & ~3ULL;
		if (12 + name_len + desc_len > ph->filesz - off)
			return bad(im, "ELF note runs past its segment");
		const uint8_t *name = n + 12, *desc = name + name_len;
		if (namesz == 4 && !memcmp(name, "Xen", 4) && type == XEN_ELFNOTE_PHYS32_ENTRY) {
			if (descsz == 4) {
				uint32_t e;
				memcpy(&e, desc, 4);
				*entry = e;
			} else if (descsz == 8) {
				memcpy(entry, desc, 8);
			} else {
				return bad(im, "PHYS32_ENTRY note is neither 4 nor 8 bytes");
			}
			*found = true;
		}
		off += 12 + name_len + desc_len;
	}
	return 0;
}

static int check_and_load(struct vmm *v, const struct image *im, uint64_t *entry)
{
	struct phdr ph[ELF_MAX_PHDRS];
	unsigned nr;
	int r = read_phdrs(im, ph, &nr);
	if (r)
		return r;

	bool found = false, any_load = false;
	for (unsigned i = 0; i < nr; i++) {
		if (ph[i].type == PT_NOTE && (r = find_entry_note(im, &ph[i], &found, entry)))
			return r;
		if (ph[i].type != PT_LOAD)
			continue;
		any_load = true;
		if (ph[i].filesz > ph[i].memsz)
			return bad(im, "PT_LOAD p_filesz > p_memsz");
		if (!in_file(im, ph[i].offset, ph[i].filesz))
			return bad(im, "PT_LOAD data outside the file");
		if (ph[i].memsz && !xts_gmem_ptr(&v->gmem, ph[i].paddr, ph[i].memsz, 0))
			return bad(im, "PT_LOAD p_paddr range outside guest RAM (raise --mem?)");
		if (ph[i].paddr < VMM_START_INFO_END &&
		    ph[i].paddr + ph[i].memsz > VMM_RESERVED_GPA)
			return bad(im, "PT_LOAD overlaps the rings and hvm_start_info at 0x4000..0x8000");
		if (ph[i].paddr < VMM_ACPI_END && ph[i].paddr + ph[i].memsz > VMM_ACPI_GPA)
			return bad(im, "PT_LOAD overlaps the ACPI tables at 0xe0000..0x100000");
	}
	if (!any_load)
		return bad(im, "no PT_LOAD segment");
	if (!found)
		return bad(im, "no Xen PHYS32_ENTRY note (not a PVH image)");
	if (*entry >= v->ram_size)
		return bad(im, "PHYS32_ENTRY outside guest RAM");

	uint64_t lo = UINT64_MAX, hi = 0;
	for (unsigned i = 0; i < nr; i++) {
		if (ph[i].type != PT_LOAD || !ph[i].memsz)
			continue;
		/* In RAM (checked above), so paddr + memsz does not wrap. */
		if (ph[i].paddr < lo)
			lo = ph[i].paddr;
		if (ph[i].paddr + ph[i].memsz > hi)
			hi = ph[i].paddr + ph[i].memsz;
		uint8_t *dst = xts_gmem_ptr(&v->gmem, ph[i].paddr, ph[i].memsz, 0);
		memcpy(dst, im->data + ph[i].offset, ph[i].filesz);
		memset(dst + ph[i].filesz, 0, ph[i].memsz - ph[i].filesz);
	}
	/* What --initrd must not overlap (initrd.c). */
	v->image_lo = hi ? lo : 0;
	v->image_hi = hi;
	return 0;
}

int elf__load_pvh(struct vmm *v, const char *path, uint64_t *entry)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xtshim: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > ELF_MAX_SIZE) {
		close(fd);
		fprintf(stderr, "xtshim: %s: not a regular file of a sane size\n", path);
		return -EINVAL;
	}
	uint8_t *buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	struct image im = { buf, got, path };
	int r = check_and_load(v, &im, entry);
	free(buf);
	return r;
}
