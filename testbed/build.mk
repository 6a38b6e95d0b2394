# testbed/: a nested KVM under QEMU's software emulation, for hosts without
# /dev/kvm (docs/testbed.md).  The Makefile decides when it is used
# (TESTBED); this part builds its /init and offers `make testbed`.
ifeq ($(ARCH),x86_64)

ifeq ($(TESTBED),1)
  DEPS_PKGS += qemu-system-x86 cpio
else ifneq ($(filter testbed,$(MAKECMDGOALS)),)
  DEPS_PKGS += qemu-system-x86 cpio
endif

# Static: the initramfs has no loader until /init has run.
$(B)/testbed/init: testbed/init.c | deps
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

# The bed's own contract (exit status passed on, infra failures retried),
# checked on this host whenever the bed is in use.
ifeq ($(TESTBED)$(SANITIZE),10)
$(B)/testbed-selftest: testbed/selftest.sh $(B)/testbed/init
	printf '#!/bin/sh\nexec "%s"\n' "$(CURDIR)/testbed/selftest.sh" > $@ && chmod +x $@
CHECK_PROGRAMS += $(B)/testbed-selftest
endif

# Every KVM program, in the bed even where this host has a KVM.
testbed: $(ALL_TARGETS) $(TEST_BINS) $(CHECK_PROGRAMS) $(B)/testbed/init
	@testbed/run.sh --name testbed --build $(B) scripts/run-tests.sh $(KVM_PROGRAMS)

endif
