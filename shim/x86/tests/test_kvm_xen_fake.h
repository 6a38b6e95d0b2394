/*
 * A fake KVM for the kernel backend tests: records every ioctl (fd, request
 * and a copy of what the argument points to), answers KVM_CHECK_EXTENSION,
 * KVM_GET_CLOCK and KVM_XEN_VCPU_GET_ATTR with values the test chooses, and
 * fails the call with index fail_at.  Host samples come from a simulated
 * clock that advances by a fixed step per read.  No /dev/kvm is touched.
 */
#ifndef XTS_TEST_KVM_XEN_FAKE_H
#define XTS_TEST_KVM_XEN_FAKE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "abi/xen-abi.h"
#include "shim/xtshim.h"
#include "shim/x86/kvm-xen-uapi.h"

#define FK_MAX_CALLS 1024
#define FK_ARG_BYTES 128
#define FK_VM_FD     7
#define FK_KVM_FD    3
#define FK_VCPU_FD0  100
#define FK_MAX_VCPUS 128

struct fk_call {
	int fd;
	unsigned long req;
	uint64_t value;                 /* _IO requests: the integer argument */
	uint64_t pointee;               /* KVM_SET_DEVICE_ATTR: *(u64 *)addr */
	uint8_t arg[FK_ARG_BYTES];      /* _IOW/_IOWR requests: the struct as passed */
};

struct fk {
	unsigned n;
	struct fk_call calls[FK_MAX_CALLS];
	int fail_at;                    /* call index to fail; -1 none */
	int fail_err;                   /* -errno returned there */
	int caps;                       /* KVM_CHECK_EXTENSION answer */
	struct kvm_clock_data get_clock; /* KVM_GET_CLOCK answer */
	uint64_t host_tsc, tsc_step;    /* simulated host TSC */
	uint64_t tsc_off[FK_MAX_VCPUS]; /* KVM_VCPU_TSC_OFFSET per vCPU fd */
	bool ignore_tsc_offset;         /* a KVM that accepts the offset and drops it (PVM) */
	bool no_clock_flags;            /* KVM_SET_CLOCK refuses any flag (before Linux 5.16) */
	uint64_t realtime_ns;
	unsigned samples;
	/* KVM_XEN_VCPU_GET_ATTR answers by attribute type: u is copied out, type stays as asked. */
	struct kvm_xen_vcpu_attr vcpu_get[16];
};

static __attribute__((unused)) int fk_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct fk *f = ctx;
	assert_true(f->n < FK_MAX_CALLS);
	struct fk_call *c = &f->calls[f->n];
	int idx = (int)f->n++;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->req = req;
	if (_IOC_DIR(req) == _IOC_NONE) {
		c->value = (uint64_t)(uintptr_t)arg;
	} else {
		size_t sz = _IOC_SIZE(req);
		assert_true(sz <= FK_ARG_BYTES);
		memcpy(c->arg, arg, sz);
		if (req == KVM_SET_DEVICE_ATTR) {
			const struct kvm_device_attr *da = arg;
			memcpy(&c->pointee, (const void *)(uintptr_t)da->addr, 8);
		}
	}
	if (idx == f->fail_at)
		return f->fail_err;
	if (req == KVM_SET_CLOCK && f->no_clock_flags && ((struct kvm_clock_data *)arg)->flags)
		return -EINVAL;
	if (req == KVM_SET_DEVICE_ATTR && !f->ignore_tsc_offset && fd >= FK_VCPU_FD0 &&
	    fd < FK_VCPU_FD0 + FK_MAX_VCPUS)
		f->tsc_off[fd - FK_VCPU_FD0] = c->pointee;
	if (req == KVM_GET_DEVICE_ATTR && fd >= FK_VCPU_FD0 && fd < FK_VCPU_FD0 + FK_MAX_VCPUS) {
		const struct kvm_device_attr *da = arg;
		memcpy((void *)(uintptr_t)da->addr, &f->tsc_off[fd - FK_VCPU_FD0], 8);
	}
	if (req == KVM_CHECK_EXTENSION)
		return f->caps;
	if (req == KVM_GET_CLOCK)
		memcpy(arg, &f->get_clock, sizeof(f->get_clock));
	if (req == KVM_XEN_VCPU_GET_ATTR) {
		struct kvm_xen_vcpu_attr *a = arg;
		if (a->type >= sizeof(f->vcpu_get) / sizeof(f->vcpu_get[0]))
			return -ENOENT;             /* what KVM answers for an unknown type */
		memcpy(&a->u, &f->vcpu_get[a->type].u, sizeof(a->u));
	}
	return 0;
}

static __attribute__((unused)) void fk_host_sample(void *ctx, struct xts_host_sample *now)
{
	struct fk *f = ctx;
	now->host_tsc = f->host_tsc;
	now->realtime_ns = f->realtime_ns;
	f->host_tsc += f->tsc_step;
	f->realtime_ns += f->tsc_step;   /* 1 GHz host: a tick is a ns */
	f->samples++;
}

static __attribute__((unused)) const struct xts_kvm_xen_ops fk_ops = { .ioctl = fk_ioctl, .host_sample = fk_host_sample };

static __attribute__((unused)) const struct kvm_xen_hvm_attr *fk_vm_attr(const struct fk_call *c)
{
	return (const struct kvm_xen_hvm_attr *)c->arg;
}

static __attribute__((unused)) const struct kvm_xen_vcpu_attr *fk_vcpu_attr(const struct fk_call *c)
{
	return (const struct kvm_xen_vcpu_attr *)c->arg;
}

/* Index of the first call at or after `from` with this request (and attr type, if >= 0). */
static __attribute__((unused)) int fk_find(const struct fk *f, unsigned from, int fd,
					   unsigned long req, int type)
{
	for (unsigned i = from; i < f->n; i++) {
		const struct fk_call *c = &f->calls[i];
		if (c->req != req || (fd >= 0 && c->fd != fd))
			continue;
		if (type >= 0 && (req == KVM_XEN_HVM_SET_ATTR || req == KVM_XEN_VCPU_SET_ATTR ||
				  req == KVM_XEN_VCPU_GET_ATTR) &&
		    ((const uint16_t *)c->arg)[0] != type)
			continue;
		return (int)i;
	}
	return -1;
}

#endif
