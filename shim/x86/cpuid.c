/*
 * The CPUID table a Xen guest sees on KVM: the host's, with the hypervisor
 * range replaced by Xen's leaves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "shim/xtshim.h"

#define HV_RANGE_FIRST  0x40000000u
#define HV_RANGE_LAST   0x4fffffffu
#define XEN_BASE        0x40000000u
#define XEN_MAX_LEAVES  0x100u      /* Xen's leaves live in base .. base+0xff */
#define XEN_MAX_SUBLEAVES 8u

static int push(struct kvm_cpuid_entry2 *out, unsigned max, unsigned *n,
		const struct kvm_cpuid_entry2 *e)
{
	if (*n >= max)
		return -E2BIG;
	out[(*n)++] = *e;
	return 0;
}

static bool regs_equal(const uint32_t a[4], const uint32_t b[4])
{
	return memcmp(a, b, 4 * sizeof(uint32_t)) == 0;
}

/*
 * A leaf has subleaves when subleaf 1 answers and differs from subleaf 0;
 * then every subleaf that answers until the first that does not (or that
 * repeats subleaf 0 because the callee ignores the index) is listed.
 */
static int add_xen_leaf(uint32_t leaf, xts_cpuid_fn xen, void *arg,
			struct kvm_cpuid_entry2 *out, unsigned max, unsigned *n)
{
	uint32_t r0[4] = { 0 }, r[4] = { 0 };
	if (!xen(arg, leaf, 0, r0))
		return 0;
	bool indexed = xen(arg, leaf, 1, r) && !regs_equal(r, r0);
	struct kvm_cpuid_entry2 e = {
		.function = leaf, .index = 0,
		.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
		.eax = r0[0], .ebx = r0[1], .ecx = r0[2], .edx = r0[3],
	};
	int rc = push(out, max, n, &e);
	for (uint32_t sub = 1; indexed && !rc && sub < XEN_MAX_SUBLEAVES; sub++) {
		if (!xen(arg, leaf, sub, r))
			break;
		e.index = sub;
		e.eax = r[0], e.ebx = r[1], e.ecx = r[2], e.edx = r[3];
		rc = push(out, max, n, &e);
	}
	return rc;
}

int xts_x86_cpuid_merge(const struct kvm_cpuid_entry2 *host, unsigned nr_host,
			unsigned vcpu, xts_cpuid_fn xen, void *arg,
			struct kvm_cpuid_entry2 *out, unsigned max, unsigned *nr_out)
{
	unsigned n = 0;
	int rc;

	if (vcpu > 0xff)
		return -EINVAL;     /* initial APIC id is 8 bits in leaf 1 */

	for (unsigned i = 0; i < nr_host; i++) {
		struct kvm_cpuid_entry2 e = host[i];
		if (e.function >= HV_RANGE_FIRST && e.function <= HV_RANGE_LAST)
			continue;
		if (e.function == 1)
			e.ebx = (e.ebx & 0x00ffffffu) | (vcpu << 24);
		if (e.function == 0xb || e.function == 0x1f)
			e.edx = vcpu;   /* x2APIC id, every level */
		if ((rc = push(out, max, &n, &e)))
			return rc;
	}

	uint32_t base[4];
	if (xen(arg, XEN_BASE, 0, base)) {
		uint32_t last = base[0];
		if (last < XEN_BASE || last >= XEN_BASE + XEN_MAX_LEAVES)
			last = XEN_BASE;
		for (uint32_t leaf = XEN_BASE; leaf <= last; leaf++)
			if ((rc = add_xen_leaf(leaf, xen, arg, out, max, &n)))
				return rc;
	}
	*nr_out = n;
	return 0;
}

struct domain_vcpu {
	struct xts_domain *d;
	unsigned vcpu;
};

static bool domain_leaf(void *arg, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	const struct domain_vcpu *a = arg;
	return xts_domain_cpuid(a->d, a->vcpu, leaf, subleaf, regs);
}

int xts_kvm_cpuid(int kvm_fd, struct xts_domain *d, unsigned vcpu, struct kvm_cpuid2 **out)
{
	unsigned nent = 256;
	struct kvm_cpuid2 *host = NULL;

	/* KVM says E2BIG until the buffer holds its whole table. */
	for (;;) {
		free(host);
		host = calloc(1, sizeof(*host) + nent * sizeof(host->entries[0]));
		if (!host)
			return -ENOMEM;
		host->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, host) == 0)
			break;
		if (errno != E2BIG || nent >= 4096) {
			int e = -errno;
			free(host);
			return e;
		}
		nent *= 2;
	}

	unsigned max = host->nent + XEN_MAX_LEAVES;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));
	if (!c) {
		free(host);
		return -ENOMEM;
	}
	struct domain_vcpu arg = { d, vcpu };
	unsigned n;
	int rc = xts_x86_cpuid_merge(host->entries, host->nent, vcpu, domain_leaf, &arg,
				     c->entries, max, &n);
	free(host);
	if (rc) {
		free(c);
		return rc;
	}
	c->nent = n;
	*out = c;
	return 0;
}
