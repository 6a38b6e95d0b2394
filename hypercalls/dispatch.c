/*
 * The hypercall dispatcher: one table from hypercall number to handler and
 * name.  Rules common to every hypercall live here: CPL > 0 is refused with
 * -EPERM as Xen does for HVM guests, a 32-bit caller's arguments are cut to
 * 32 bits, unknown numbers get -ENOSYS, and the platform ops that may
 * re-enter the domain run only after its lock is dropped.
 */
#include <string.h>
#include "hypercalls/hcall.h"

struct hcall_entry {
	const char *name;
	xts_handler_fn fn;    /* NULL: -ENOSYS */
};

#define H(nr, nm, f) [nr] = { nm, f }
static const struct hcall_entry table[] = {
	H(__HYPERVISOR_set_trap_table, "set_trap_table", NULL),
	H(__HYPERVISOR_mmu_update, "mmu_update", NULL),
	H(__HYPERVISOR_set_gdt, "set_gdt", NULL),
	H(__HYPERVISOR_stack_switch, "stack_switch", NULL),
	H(__HYPERVISOR_set_callbacks, "set_callbacks", NULL),
	H(__HYPERVISOR_fpu_taskswitch, "fpu_taskswitch", NULL),
	H(__HYPERVISOR_sched_op_compat, "sched_op_compat", NULL),
	H(__HYPERVISOR_platform_op, "platform_op", NULL),
	H(__HYPERVISOR_set_debugreg, "set_debugreg", NULL),
	H(__HYPERVISOR_get_debugreg, "get_debugreg", NULL),
	H(__HYPERVISOR_update_descriptor, "update_descriptor", NULL),
	H(__HYPERVISOR_memory_op, "memory_op", xts_do_memory_op),
	H(__HYPERVISOR_multicall, "multicall", NULL),
	H(__HYPERVISOR_update_va_mapping, "update_va_mapping", NULL),
	H(__HYPERVISOR_set_timer_op, "set_timer_op", xts_do_set_timer_op),
	H(__HYPERVISOR_event_channel_op_compat, "event_channel_op_compat", NULL),
	H(__HYPERVISOR_xen_version, "xen_version", xts_do_xen_version),
	H(__HYPERVISOR_console_io, "console_io", xts_do_console_io),
	H(__HYPERVISOR_physdev_op_compat, "physdev_op_compat", NULL),
	H(__HYPERVISOR_grant_table_op, "grant_table_op", xts_do_grant_table_op),
	H(__HYPERVISOR_vm_assist, "vm_assist", xts_do_vm_assist),
	H(__HYPERVISOR_update_va_mapping_otherdomain, "update_va_mapping_otherdomain", NULL),
	H(__HYPERVISOR_iret, "iret", NULL),
	H(__HYPERVISOR_vcpu_op, "vcpu_op", xts_do_vcpu_op),
	H(__HYPERVISOR_set_segment_base, "set_segment_base", NULL),
	H(__HYPERVISOR_mmuext_op, "mmuext_op", NULL),
	H(__HYPERVISOR_xsm_op, "xsm_op", NULL),
	H(__HYPERVISOR_nmi_op, "nmi_op", NULL),
	H(__HYPERVISOR_sched_op, "sched_op", xts_do_sched_op),
	H(__HYPERVISOR_callback_op, "callback_op", NULL),
	H(__HYPERVISOR_xenoprof_op, "xenoprof_op", NULL),
	H(__HYPERVISOR_event_channel_op, "event_channel_op", xts_do_event_channel_op),
	H(__HYPERVISOR_physdev_op, "physdev_op", NULL),
	H(__HYPERVISOR_hvm_op, "hvm_op", xts_do_hvm_op),
	H(__HYPERVISOR_sysctl, "sysctl", NULL),
	H(__HYPERVISOR_domctl, "domctl", NULL),
	H(__HYPERVISOR_kexec_op, "kexec_op", NULL),
	H(__HYPERVISOR_tmem_op, "tmem_op", NULL),
	H(__HYPERVISOR_argo_op, "argo_op", NULL),
	H(__HYPERVISOR_xenpmu_op, "xenpmu_op", NULL),
	H(__HYPERVISOR_dm_op, "dm_op", NULL),
	H(__HYPERVISOR_hypfs_op, "hypfs_op", NULL),
};
#define TABLE_SIZE (sizeof(table) / sizeof(table[0]))

const char *xts_hypercall_name(uint32_t nr)
{
	if (nr < TABLE_SIZE && table[nr].name)
		return table[nr].name;
	return "unknown";
}

/* Ops that may call back into the domain, with the lock dropped. */
static int64_t run_deferred(struct xts_call *c, int64_t ret)
{
	struct xts_domain *d = c->d;
	const struct xts_platform_ops *ops = d->cfg.ops;
	int rc;

	switch (c->defer) {
	case XTS_DEFER_NONE:
		break;
	case XTS_DEFER_INIT:
		rc = ops->vcpu_initialise ? ops->vcpu_initialise(d->cfg.opaque, c->defer_vcpu,
								 &c->defer_ctx,
								 sizeof(c->defer_ctx))
					  : -XEN_ENOSYS;
		if (rc) {
			pthread_mutex_lock(&d->lock);
			d->v[c->defer_vcpu].initialised = false;
			pthread_mutex_unlock(&d->lock);
			ret = rc;
		}
		break;
	case XTS_DEFER_UP:
		rc = ops->vcpu_up ? ops->vcpu_up(d->cfg.opaque, c->defer_vcpu) : -XEN_ENOSYS;
		if (rc) {
			pthread_mutex_lock(&d->lock);
			d->v[c->defer_vcpu].online = false;
			xts_runstate_set(d, c->defer_vcpu);
			pthread_mutex_unlock(&d->lock);
			ret = rc;
		}
		break;
	case XTS_DEFER_DOWN:
		if (ops->vcpu_down)
			ops->vcpu_down(d->cfg.opaque, c->defer_vcpu);
		break;
	case XTS_DEFER_SHUTDOWN:
		/* Xen's domain_shutdown(): a SCHEDOP_shutdown_code given earlier wins. */
		pthread_mutex_lock(&d->lock);
		if (d->shutdown_code_set)
			c->defer_reason = d->shutdown_code;
		pthread_mutex_unlock(&d->lock);
		if (ops->shutdown)
			ops->shutdown(d->cfg.opaque, c->defer_reason);
		break;
	}
	return ret;
}

enum xts_hcall_action xts_hypercall(struct xts_domain *d, unsigned vcpu,
				    const struct xts_hcall *h, int64_t *ret)
{
	struct xts_hcall h32;
	struct xts_call c = { .d = d, .vcpu = vcpu, .h = h, .action = XTS_HCALL_DONE };
	unsigned i;
	int64_t r;

	if (vcpu >= d->cfg.nr_vcpus) {
		*ret = -XEN_EINVAL;
		return XTS_HCALL_DONE;
	}
	if (h->cpl > 0) {
		*ret = -XEN_EPERM;
		return XTS_HCALL_DONE;
	}
	if (h->nr >= TABLE_SIZE || !table[h->nr].fn) {
		*ret = -XEN_ENOSYS;
		return XTS_HCALL_DONE;
	}
	if (!h->long_mode) {
		h32 = *h;
		for (i = 0; i < 6; i++)
			h32.args[i] = (uint32_t)h32.args[i];
		c.h = &h32;
	}
	c.abi = xts_hcall_abi(c.h->long_mode);

	pthread_mutex_lock(&d->lock);
	r = table[h->nr].fn(&c);
	pthread_mutex_unlock(&d->lock);
	*ret = run_deferred(&c, r);
	return c.action;
}
