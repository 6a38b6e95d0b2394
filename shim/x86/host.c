/*
 * Host time sources and the guest TSC on KVM x86 (userspace backend).
 *
 * KVM runs the guest TSC as host_tsc * ratio + offset.  Without TSC scaling
 * (ratio 1.0) the model's guest TSC for a vCPU is host_tsc + tsc_offset +
 * skew, so the KVM offset is exactly that sum: no sampling, no rounding.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <time.h>
#include <x86intrin.h>
#include <linux/kvm.h>

#include "shim/xtshim.h"

uint64_t xts_host_tsc(void)
{
	return __rdtsc();
}

void xts_host_sample_now(struct xts_host_sample *now)
{
	uint64_t best_window = UINT64_MAX;

	/* Keep the pair whose realtime read took the fewest TSC ticks. */
	for (int i = 0; i < 4; i++) {
		struct timespec ts;
		uint64_t t0 = __rdtsc();
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t t1 = __rdtsc();
		if (t1 - t0 < best_window) {
			best_window = t1 - t0;
			now->host_tsc = t0 + (t1 - t0) / 2;
			now->realtime_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		}
	}
}

int xts_kvm_tsc_khz(int vcpu_fd, uint32_t *khz)
{
	int r = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ENODEV;
	*khz = (uint32_t)r;
	return 0;
}

int xts_kvm_tsc_offset(const struct xts_clock *c, unsigned vcpu, uint64_t *offset)
{
	if (vcpu >= c->nr_vcpus || vcpu >= XTS_MAX_VCPUS)
		return -EINVAL;
	if (c->tsc_ratio != XTS_TSC_RATIO_ONE)
		return -ENOTSUP;
	*offset = c->tsc_offset + (uint64_t)c->vcpu_tsc_skew[vcpu];
	return 0;
}

int xts_kvm_apply_tsc(int vcpu_fd, const struct xts_clock *c, unsigned vcpu)
{
	uint64_t offset;
	int r = xts_kvm_tsc_offset(c, vcpu, &offset);
	if (r)
		return r;
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)(uintptr_t)&offset,
	};
	if (ioctl(vcpu_fd, KVM_SET_DEVICE_ATTR, &attr) < 0)
		return -errno;
	/*
	 * Some KVM implementations accept the attribute and ignore it (PVM,
	 * which runs the guest on the host's TSC): read it back.
	 */
	uint64_t back = ~offset;
	attr.addr = (uint64_t)(uintptr_t)&back;
	if (ioctl(vcpu_fd, KVM_GET_DEVICE_ATTR, &attr) < 0)
		return -errno;
	return back == offset ? 0 : -EOPNOTSUPP;
}
