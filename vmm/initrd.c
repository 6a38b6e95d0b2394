/*
 * `run --initrd FILE`: a module for a PVH guest (Linux takes it as its
 * initramfs), copied into guest RAM and described by one hvm_modlist_entry
 * in hvm_start_info (pvh.c).
 *
 * Placement: the highest page-aligned address at which the whole file fits
 * below the end of guest RAM, as bootloaders place an initrd.  It stays
 * clear of the kernel image (which PVH kernels link low, at 16 MiB for
 * Linux), of the rings and start info block below 1 MiB, and of the legacy
 * hole, because it must lie in high RAM.  Anything else is refused: the
 * file is read whole and checked before a byte of guest RAM is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define PAGE_MASK_4K 0xfffULL

int initrd__place(uint64_t ram_size, uint64_t image_lo, uint64_t image_hi, uint64_t size,
		  uint64_t *gpa, const char **why)
{
	if (size == 0) {
		*why = "the file is empty";
		return -EINVAL;
	}
	if (ram_size <= VMM_HIGH_RAM_START || size > ram_size - VMM_HIGH_RAM_START) {
		*why = "larger than the guest RAM above 1 MiB (raise --mem?)";
		return -EFBIG;
	}
	uint64_t at = (ram_size - size) & ~PAGE_MASK_4K;
	/* at >= 1 MiB: size <= ram_size - 1 MiB and 1 MiB is page-aligned. */
	if (image_hi > image_lo && at < image_hi && at + size > image_lo) {
		*why = "does not fit between the kernel image and the end of guest RAM "
		       "(raise --mem?)";
		return -ENOSPC;
	}
	*gpa = at;
	return 0;
}

static int initrd__fail(const char *path, const char *why, int err)
{
	fprintf(stderr, "xtshim run: --initrd %s: %s\n", path, why);
	return err;
}

int initrd__load(struct vmm *v, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return initrd__fail(path, strerror(e), -e);
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return initrd__fail(path, "not a regular file", -EINVAL);
	}
	uint64_t gpa;
	const char *why;
	int r = initrd__place(v->ram_size, v->image_lo, v->image_hi, (uint64_t)st.st_size,
			      &gpa, &why);
	if (r) {
		close(fd);
		return initrd__fail(path, why, r);
	}
	/* Read into a buffer first: a short read leaves guest RAM untouched. */
	size_t size = (size_t)st.st_size, got = 0;
	uint8_t *buf = malloc(size);
	if (!buf) {
		close(fd);
		return initrd__fail(path, "out of memory", -ENOMEM);
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != size) {
		free(buf);
		return initrd__fail(path, "short read (the file changed while loading?)", -EIO);
	}
	uint8_t *dst = xts_gmem_ptr(&v->gmem, gpa, size, 0);
	if (!dst) {
		free(buf);
		return initrd__fail(path, "placement outside guest memory", -EFAULT);
	}
	memcpy(dst, buf, size);
	free(buf);
	v->initrd_gpa = gpa;
	v->initrd_size = size;
	return 0;
}
