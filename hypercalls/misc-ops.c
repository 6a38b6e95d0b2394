/* xen_version, memory_op, console_io, grant_table_op, vm_assist. */
#include <string.h>
#include "hypercalls/hcall.h"

#define CONSOLE_WRITE_MAX (1u << 20)   /* bytes per CONSOLEIO_write (Xen: unbounded) */

static int64_t put_string(struct xts_call *c, uint64_t arg, const char *s, size_t size)
{
	char buf[1024] = { 0 };

	strncpy(buf, s, size - 1);
	return xts_copy_to_guest(c, arg, buf, size) ? -XEN_EFAULT : 0;
}

int64_t xts_do_xen_version(struct xts_call *c)
{
	/* Xen's handlers take `int cmd`: the upper half of a 64-bit register is ignored. */
	uint32_t cmd = (uint32_t)c->h->args[0];
	uint64_t arg = c->h->args[1];

	switch (cmd) {
	case XENVER_version:
		return c->d->cfg.xen_version;
	case XENVER_extraversion:
		return put_string(c, arg, ".0-xtshim", sizeof(xen_extraversion_t));
	case XENVER_capabilities:
		return put_string(c, arg, "hvm-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p",
				  sizeof(xen_capabilities_info_t));
	case XENVER_changeset:
		return put_string(c, arg, "xtshim", sizeof(xen_changeset_info_t));
	case XENVER_get_features: {
		struct xen_feature_info fi;

		if (xts_copy_from_guest(c, arg, &fi, sizeof(fi)))
			return -XEN_EFAULT;
		/* Xen has one submap: common/kernel.c do_xen_version answers -EINVAL for others. */
		if (fi.submap_idx != 0)
			return -XEN_EINVAL;
		/*
		 * What Xen's do_xen_version (common/kernel.c) gives a translated
		 * HVM/PVH domU that has no PIRQs.  linux_rsdp_unrestricted is a
		 * guest kernel's ELF-note feature, never set by Xen.  No
		 * pae_pgdir_above_4gb: HVM_VM_ASSIST_MASK has no pae_extended_cr3.
		 */
		fi.submap = (1u << XENFEAT_memory_op_vnode_supported) |
			    (1u << XENFEAT_writable_page_tables) |
			    (1u << XENFEAT_auto_translated_physmap) |
			    (1u << XENFEAT_hvm_callback_vector) |
			    (1u << XENFEAT_hvm_safe_pvclock) |
			    (1u << XENFEAT_not_direct_mapped);
		/* The physical-address areas (VCPUOP 14, 15) and their feature bits came in 4.18. */
		if (c->d->cfg.xen_version >= XTS_XEN_4_18)
			fi.submap |= (1u << XTS_XENFEAT_runstate_phys_area) |
				     (1u << XTS_XENFEAT_vcpu_time_phys_area);
		return xts_copy_to_guest(c, arg, &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
	}
	case XENVER_pagesize:
		return XTS_PAGE_SIZE;
	case XENVER_guest_handle: {
		xen_domain_handle_t h = { 0 };

		return xts_copy_to_guest(c, arg, h, sizeof(h)) ? -XEN_EFAULT : 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}

/*
 * XENMEM_add_to_physmap of shared_info: xtshim cannot move a page under
 * the guest, so "mapping" shared_info at a frame means keeping it in that
 * (RAM) frame from now on: the current contents are copied there and the
 * time records are republished.  A remap moves it again; the old frame
 * keeps a stale copy (on Xen it becomes the RAM page it was before).
 */
static int64_t add_to_physmap(struct xts_call *c, uint64_t arg)
{
	struct xts_domain *d = c->d;
	const struct xts_hcall_abi *abi = c->abi;
	uint8_t raw[32];
	uint16_t domid;
	uint32_t space;
	uint64_t idx, gpfn, gpa;
	uint8_t *old, *new;
	unsigned i;

	if (xts_copy_from_guest(c, arg, raw, abi->atp_size))
		return -XEN_EFAULT;
	memcpy(&domid, raw, 2);
	memcpy(&space, raw + 4, 4);
	idx = xts_ld(raw + abi->atp_idx, abi->ulong_bytes);
	gpfn = xts_ld(raw + abi->atp_gpfn, abi->ulong_bytes);
	if (!xts_dom_domid_ok(d, domid))
		return -XEN_ESRCH;
	/*
	 * No grant frames to map: Xen without CONFIG_GRANT_TABLE answers
	 * -EINVAL (xen/include/xen/grant_table.h: the gnttab_map_frame() stub,
	 * called by arch/x86/mm/p2m.c:xenmem_add_to_physmap_one).  Linux then
	 * logs "grant table add_to_physmap failed, err=-22" and goes on.
	 */
	if (space == XENMAPSPACE_grant_table)
		return -XEN_EINVAL;
	if (space != XENMAPSPACE_shared_info)
		return space <= XENMAPSPACE_dev_mmio ? -XEN_EOPNOTSUPP : -XEN_EINVAL;
	if (idx != 0 || gpfn >= (UINT64_MAX >> 12))
		return -XEN_EINVAL;
	gpa = gpfn << 12;
	new = xts_gmem_ptr(d->cfg.mem, gpa, XTS_PAGE_SIZE, XTS_GMEM_NO_PAGE_CROSS);
	if (!new)
		return -XEN_EINVAL;
	old = xts_dom_shinfo(d);
	if (old != new)
		memmove(new, old, XTS_PAGE_SIZE);
	d->shinfo_gpa = gpa;
	d->shinfo_maps++;
	d->generation++;
	for (i = 0; i < d->cfg.nr_vcpus; i++)
		if (d->v[i].vcpu_info_gpa == XTS_NO_GPA)
			xts_dom_publish_vcpu_time(d, c, i);
	xts_dom_publish_wallclock(d);
	return 0;
}

/*
 * xtshim gives a guest no virtual NUMA topology: Xen's answer for a domain
 * without one (common/memory.c do_memory_op), after the same checks in the
 * same order.  The structure is 40 bytes for both widths.
 */
static int64_t get_vnumainfo(struct xts_call *c, uint64_t arg)
{
	struct xen_vnuma_topology_info t;

	_Static_assert(sizeof(t) == 40, "xen_vnuma_topology_info");
	if (c->h->args[0] & ~(uint64_t)XTS_MEMOP_CMD_MASK)
		return -XEN_EINVAL;            /* a start extent */
	if (xts_copy_from_guest(c, arg, &t, sizeof(t)))
		return -XEN_EFAULT;
	if (t.pad != 0)
		return -XEN_EINVAL;
	if (!xts_dom_domid_ok(c->d, t.domid))
		return -XEN_ESRCH;
	return -XEN_EOPNOTSUPP;
}

int64_t xts_do_memory_op(struct xts_call *c)
{
	/* Bits above MEMOP_CMD_MASK carry a continuation's start extent: not used here. */
	switch (c->h->args[0] & XTS_MEMOP_CMD_MASK) {
	case XENMEM_add_to_physmap:
		return add_to_physmap(c, c->h->args[1]);
	case XENMEM_get_vnumainfo:
		return get_vnumainfo(c, c->h->args[1]);
	default:
		return -XEN_ENOSYS;
	}
}

int64_t xts_do_console_io(struct xts_call *c)
{
	uint32_t cmd = (uint32_t)c->h->args[0], count = (uint32_t)c->h->args[1];
	uint64_t buffer = c->h->args[2];
	char buf[256];
	uint64_t done;

	switch (cmd) {
	case CONSOLEIO_write:
		if (count > CONSOLE_WRITE_MAX)
			return -XEN_EINVAL;
		/* All or nothing: the whole buffer is checked before any byte goes out. */
		if (xts_check_guest(c, buffer, count))
			return -XEN_EFAULT;
		for (done = 0; done < count; ) {
			uint64_t n = count - done < sizeof(buf) ? count - done : sizeof(buf);

			if (xts_copy_from_guest(c, buffer + done, buf, n))
				return -XEN_EFAULT;
			c->d->cfg.ops->console_write(c->d->cfg.opaque, buf, n);
			done += n;
		}
		return 0;
	case CONSOLEIO_read:
		return 0;                /* no console input */
	default:
		return -XEN_ENOSYS;
	}
}

/*
 * xtshim has no grant table (there is no other domain to grant to), and
 * answers as a Xen built without CONFIG_GRANT_TABLE does: the hypercall is
 * absent, so every sub-op is -ENOSYS (Xen 4.17 xen/include/hypercall-defs.c
 * lists grant_table_op only #ifdef CONFIG_GRANT_TABLE; a NULL table slot is
 * -ENOSYS in arch/x86/hvm/hypercall.c:hvm_hypercall).
 *
 * Why not "a grant table of 0 frames": Linux reads GNTTABOP_query_size's
 * max_nr_frames through gnttab_max_grant_frames() and a PVH guest hands it
 * to xen_xlate_map_ballooned_pages(), which has BUG_ON(nr_grant_frames == 0)
 * (Linux 6.12 drivers/xen/xlate_mmu.c:224, from xen_pvh_gnttab_setup in
 * arch/x86/xen/grant-table.c).  On a failed query Linux assumes the legacy 4
 * frames instead (__max_nr_grant_frames), then XENMEM_add_to_physmap of
 * XENMAPSPACE_grant_table fails (-EINVAL, misc-ops.c:add_to_physmap) and
 * gnttab_init() gives up with a warning: a guest without grant-using
 * devices boots on.
 */
int64_t xts_do_grant_table_op(struct xts_call *c)
{
	return -XEN_ENOSYS;
}

int64_t xts_do_vm_assist(struct xts_call *c)
{
	uint32_t cmd = (uint32_t)c->h->args[0], type = (uint32_t)c->h->args[1];

	/* HVM guests may only use the runstate update flag (Xen's HVM_VM_ASSIST_MASK). */
	if (type != VMASST_TYPE_runstate_update_flag)
		return -XEN_EINVAL;
	switch (cmd) {
	case VMASST_CMD_enable:
		c->d->runstate_update_flag = true;
		c->d->generation++;
		return 0;
	case VMASST_CMD_disable:
		c->d->runstate_update_flag = false;
		c->d->generation++;
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}
