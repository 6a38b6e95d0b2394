# compat-tests/: freestanding Xen PVH guest images (64- and 32-bit), one per
# folder with a main.c, linked with the guest library in compat-tests/lib/.
#   make compat   boot every test image under build/xtshim (also part of check)
ifeq ($(ARCH),x86_64)

# gcc-12-multilib, not gcc-multilib: the latter conflicts with the arm64 cross compiler.
DEPS_PKGS += gcc-12-multilib

# Folders that are images but not pass/fail tests.
COMPAT_NOT_TESTS := demo bench shutdown
COMPAT_ALL   := $(filter-out lib,$(patsubst compat-tests/%/main.c,%,$(wildcard compat-tests/*/main.c)))
COMPAT_TESTS := $(filter-out $(COMPAT_NOT_TESTS),$(COMPAT_ALL))
COMPAT_VCPUS ?= 1 2

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-strict-aliasing \
	-fno-asynchronous-unwind-tables -mgeneral-regs-only -mno-red-zone -I. -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,compat-tests/lib/link.ld \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
GUEST_ENV_64 := -m64
GUEST_ENV_32 := -m32 -march=i686

GUEST_LIB_SRCS := $(wildcard compat-tests/lib/*.c compat-tests/lib/*.S)
GB := $(B)/compat-tests

# $(1) = env (64|32)
define guest_env_rules
$(GB)/$(1)/%.o: %.c | deps
	@mkdir -p $$(dir $$@)
	$$(CC) $(GUEST_ENV_$(1)) $$(GUEST_CFLAGS) -c -o $$@ $$<
$(GB)/$(1)/%.o: %.S | deps
	@mkdir -p $$(dir $$@)
	$$(CC) $(GUEST_ENV_$(1)) $$(GUEST_CFLAGS) -D__ASSEMBLY__ -c -o $$@ $$<
GUEST_LIB_OBJS_$(1) := $(patsubst %,$(GB)/$(1)/%.o,$(basename $(GUEST_LIB_SRCS)))
endef
$(foreach e,64 32,$(eval $(call guest_env_rules,$(e))))

# $(1) = test folder, $(2) = env
define guest_image_rule
$(GB)/$(1)-$(2).elf: $(GB)/$(2)/compat-tests/$(1)/main.o $(GUEST_LIB_OBJS_$(2)) compat-tests/lib/link.ld
	$$(CC) $(GUEST_ENV_$(2)) $(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^) -lgcc
endef
$(foreach t,$(COMPAT_ALL),$(foreach e,64 32,$(eval $(call guest_image_rule,$(t),$(e)))))

COMPAT_IMAGES := $(foreach t,$(COMPAT_ALL),$(GB)/$(t)-64.elf $(GB)/$(t)-32.elf)
ALL_TARGETS += $(COMPAT_IMAGES)

# The runner as a program `make check` can call without arguments.  A new
# test folder (main.c, cases) is newer than the wrapper and rewrites it.
$(B)/compat-check: compat-tests/lib/run-guests.sh compat-tests/build.mk \
		$(wildcard compat-tests/*/main.c compat-tests/*/cases)
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec "%s" "%s" "%s" "%s" %s\n' "$(CURDIR)/compat-tests/lib/run-guests.sh" \
		"$(CURDIR)/$(B)/xtshim" "$(CURDIR)/$(GB)" "$(COMPAT_VCPUS)" "$(COMPAT_TESTS)" > $@
	chmod +x $@
CHECK_PROGRAMS += $(B)/compat-check
KVM_PROGRAMS   += $(B)/compat-check

# The same suite once per other backend mode (--backend; docs/kernel-backend.md).
# compat-check itself runs the default, auto.
COMPAT_BACKENDS ?= userspace kernel-transport kernel
define compat_backend_rule
$(B)/compat-check-$(1): $(B)/compat-check
	printf '#!/bin/sh\nCOMPAT_BACKEND=%s exec "%s"\n' "$(1)" "$(CURDIR)/$(B)/compat-check" > $$@
	chmod +x $$@
CHECK_PROGRAMS += $(B)/compat-check-$(1)
KVM_PROGRAMS   += $(B)/compat-check-$(1)
endef
$(foreach b,$(COMPAT_BACKENDS),$(eval $(call compat_backend_rule,$(b))))

# `make bench`: the benchmark guest (64-bit; a 32-bit guest measures the host's
# instruction emulator on hosts that emulate non-long-mode code).
$(B)/bench-guest: compat-tests/build.mk $(B)/xtshim $(GB)/bench-64.elf
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\n# One run per backend: hypercalls that exit to userspace vs ones KVM keeps.\nfor b in userspace kernel-transport kernel; do\n\techo "--- backend $$b"\n\t"%s" run --backend $$b "%s" || exit 1\ndone\n' \
		"$(CURDIR)/$(B)/xtshim" "$(CURDIR)/$(GB)/bench-64.elf" > $@
	chmod +x $@
BENCH_PROGRAMS += $(B)/bench-guest
KVM_BENCH      += $(B)/bench-guest

.PHONY: compat
compat: $(B)/xtshim $(COMPAT_IMAGES) $(B)/compat-check $(TESTBED_DEPS)
	@$(call on_kvm,compat,$(B)/compat-check)

-include $(shell find $(GB) -name '*.d' 2>/dev/null)

endif
