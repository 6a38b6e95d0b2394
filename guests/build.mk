# guests/: real operating systems as xtshim guests (docs/linux-guest.md).
# guests/linux: the test bed's own Debian 6.12 cloud kernel booted as a Xen
# PVH guest by `xtshim run --initrd`, with a static /init that checks its
# Xen clock and powers off.  x86-64 only: it needs the bed's kernel.
ifeq ($(ARCH),x86_64)

DEPS_PKGS += cpio zstd xz-utils

LINUX_GUEST_DIR := $(B)/guests/linux
LINUX_BZIMAGE   := build/testbed/kernel/vmlinuz

$(LINUX_GUEST_DIR)/init: guests/linux/init.c | deps
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

$(LINUX_GUEST_DIR)/initramfs.cpio: guests/linux/mkinitramfs.sh $(LINUX_GUEST_DIR)/init
	guests/linux/mkinitramfs.sh $@ $(LINUX_GUEST_DIR)/init

# The vmlinux inside the bed's bzImage (fetched by testbed/fetch.sh).  Kept
# under $(B)/guests, not build/testbed: the bed's initramfs carries $(B).
$(LINUX_BZIMAGE):
	testbed/fetch.sh $(dir $@)

$(LINUX_GUEST_DIR)/vmlinux: guests/linux/extract-vmlinux.sh $(LINUX_BZIMAGE)
	@mkdir -p $(dir $@)
	guests/linux/extract-vmlinux.sh $(LINUX_BZIMAGE) $@

$(B)/linux-guest: guests/linux/run.sh guests/build.mk $(VMM_BIN) \
		$(LINUX_GUEST_DIR)/vmlinux $(LINUX_GUEST_DIR)/initramfs.cpio
	printf '#!/bin/sh\nexec "%s" "%s" "%s" "%s"\n' "$(CURDIR)/guests/linux/run.sh" \
		"$(CURDIR)/$(VMM_BIN)" "$(CURDIR)/$(LINUX_GUEST_DIR)/vmlinux" \
		"$(CURDIR)/$(LINUX_GUEST_DIR)/initramfs.cpio" > $@
	chmod +x $@
# In `make check` (in the bed without /dev/kvm): boot to power-off with the
# KVM transport and with KVM keeping the records, on 1 and 2 vCPUs
# (`kernel-transport` is the same plan as `auto` in the bed); `make
# linux-guest` runs every combination.
$(B)/linux-guest-check: $(B)/linux-guest
	printf '#!/bin/sh\nLINUX_GUEST_VCPUS="1 2" LINUX_GUEST_BACKENDS="auto kernel" exec "%s"\n' \
		"$(CURDIR)/$(B)/linux-guest" > $@
	chmod +x $@
CHECK_PROGRAMS += $(B)/linux-guest-check
KVM_PROGRAMS   += $(B)/linux-guest-check
.PHONY: linux-guest
linux-guest: $(B)/linux-guest $(TESTBED_DEPS)
	@$(call on_kvm,linux-guest,$(B)/linux-guest)

endif # x86_64
