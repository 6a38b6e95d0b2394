/*
 * Putting the model's arm64 counter into KVM.
 *
 * Linux >= 6.4 (KVM_CAP_COUNTER_OFFSET) takes the offset itself, VM-wide,
 * for the virtual and physical counters: exact, and later one-reg writes of
 * the counter are ignored.  It needs every vCPU mutex, so it answers -EBUSY
 * while any vCPU ioctl (KVM_RUN) is in flight.  Older kernels only let
 * userspace write the counter value through KVM_SET_ONE_REG, from which
 * KVM derives the offset against its own read of the physical counter; we
 * write host_counter() - offset on every vCPU, exact up to the few ticks
 * between our read and the kernel's.  Everything goes through
 * xts_arm64_kvm_ops so the sequence is testable without KVM.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include "shim/arm64-uapi.h"
#include "shim/xtshim.h"

int xts_arm64_sys_ioctl(void *opaque, int fd, unsigned long request, void *arg)
{
	int r = ioctl(fd, request, arg);

	return r < 0 ? -errno : r;
}

const char *xts_arm64_counter_path_name(enum xts_arm64_counter_path path)
{
	switch (path) {
	case XTS_ARM64_COUNTER_VM_OFFSET:
		return "KVM_ARM_SET_COUNTER_OFFSET";
	case XTS_ARM64_COUNTER_ONE_REG:
		return "KVM_SET_ONE_REG(KVM_REG_ARM_TIMER_CNT)";
	default:
		return "none";
	}
}

static int set_vm_offset(const struct xts_arm64_kvm *k, uint64_t offset,
			 struct xts_arm64_apply_report *r)
{
	struct kvm_arm_counter_offset arg = { .counter_offset = offset, .reserved = 0 };
	uint32_t retries = k->busy_retries ? k->busy_retries : XTS_ARM64_BUSY_RETRIES;
	int rc;

	for (;;) {
		rc = k->ops->ioctl(k->opaque, k->vm_fd, KVM_ARM_SET_COUNTER_OFFSET, &arg);
		if (rc != -EBUSY)
			return rc < 0 ? rc : 0;
		if (r->busy_retries == retries)
			return -EBUSY;
		r->busy_retries++;
		if (k->ops->busy_wait)
			k->ops->busy_wait(k->opaque, r->busy_retries);
		else
			sched_yield();
	}
}

static int set_one_reg(const struct xts_arm64_kvm *k, uint64_t offset,
		       struct xts_arm64_apply_report *r)
{
	uint32_t i;

	for (i = 0; i < k->nr_vcpus; i++) {
		uint64_t value = k->ops->host_counter(k->opaque) - offset;
		struct kvm_one_reg reg = {
			.id = KVM_REG_ARM_TIMER_CNT,
			.addr = (uint64_t)(uintptr_t)&value,
		};
		int rc = k->ops->ioctl(k->opaque, k->vcpu_fds[i], KVM_SET_ONE_REG, &reg);

		if (rc < 0)
			return rc;
		r->vcpus_written++;
	}
	return 0;
}

int xts_arm64_apply_counter(const struct xts_arm64_kvm *k, const struct xts_clock *c,
			    struct xts_arm64_apply_report *rep)
{
	struct xts_arm64_apply_report r = { .path = XTS_ARM64_COUNTER_NONE };
	uint64_t offset;
	int cap, rc;

	rc = xts_arm64_kvm_offset(c, &offset);
	if (rc)
		return rc;
	if (!k || !k->ops || !k->ops->ioctl || k->nr_vcpus != c->nr_vcpus)
		return -EINVAL;
	r.counter_offset = offset;

	cap = k->ops->ioctl(k->opaque, k->vm_fd, KVM_CHECK_EXTENSION,
			    (void *)(uintptr_t)KVM_CAP_COUNTER_OFFSET);
	if (cap > 0) {
		r.path = XTS_ARM64_COUNTER_VM_OFFSET;
		rc = set_vm_offset(k, offset, &r);
	} else {
		/* 0: no such capability; < 0: a kernel too old to be asked on the VM fd. */
		r.path = XTS_ARM64_COUNTER_ONE_REG;
		if (!k->vcpu_fds || !k->ops->host_counter)
			rc = -EINVAL;
		else
			rc = set_one_reg(k, offset, &r);
	}
	if (rep)
		*rep = r;
	return rc;
}
