# xenpeer/: real Xen 4.17 as a peer (docs/xen-peer.md).  Xen and a Debian
# dom0 boot under QEMU TCG; dom0 runs the compat suite's cases as PVH domUs.
#   make xen-peer   build the dom0 image (cached in build/xenpeer/) and run the suite
# Not part of `make check`: a whole run takes minutes and needs root once
# (debootstrap of dom0's root).
ifeq ($(ARCH),x86_64)

ifneq ($(filter xen-peer xen-peer-image,$(MAKECMDGOALS)),)
  DEPS_PKGS += qemu-system-x86 cpio debootstrap
endif

XP := $(B)/xenpeer
# Xen's multiboot ELF and dom0's kernel and Xen modules (Debian 12's archive).
$(XP)/boot/version: xenpeer/fetch.sh scripts/fetch-debs.sh | deps
	rm -f $@ && xenpeer/fetch.sh $(XP)/boot

# dom0's initramfs: rebuilt when its inputs change; the debootstrap root
# inside it only when mkimage.sh's package list does (its own stamp).
$(XP)/dom0.cpio: xenpeer/mkimage.sh xenpeer/dom0-init $(XP)/boot/version | deps
	xenpeer/mkimage.sh $@ $(XP)/boot

.PHONY: xen-peer xen-peer-image
xen-peer-image: $(XP)/dom0.cpio

# The suite per peer: the same tests and vCPU counts as compat-check.
xen-peer: $(XP)/dom0.cpio $(COMPAT_IMAGES)
	@xenpeer/run.sh $(XP)/boot $(XP)/dom0.cpio $(GB) "$(COMPAT_VCPUS)" $(COMPAT_TESTS)

endif
