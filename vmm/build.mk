# vmm/: the reference VMM `xtshim` (KVM x86), and the x86 KVM backend of the
# library (shim/x86/).
ifeq ($(ARCH),x86_64)

# The Makefile collects shim/$(ARCH)/ = shim/x86_64/; the x86 backend lives in
# shim/x86/ (shared by 32- and 64-bit hosts), so it is added here unless the
# Makefile already picked it up.
ifeq ($(filter shim/x86/%,$(LIB_SRCS)),)
X86_LIB_SRCS  := $(wildcard shim/x86/*.c)
LIB_SRCS      += $(X86_LIB_SRCS)
LIB_OBJS      += $(X86_LIB_SRCS:%.c=$(B)/obj/%.o)
X86_TEST_SRCS := $(wildcard shim/x86/tests/test_*.c)
TEST_SRCS     += $(X86_TEST_SRCS)
TEST_BINS     += $(patsubst %.c,$(B)/tests/%,$(notdir $(X86_TEST_SRCS)))
endif

VMM_SRCS := $(wildcard vmm/*.c)
VMM_OBJS := $(VMM_SRCS:%.c=$(B)/obj/%.o)
VMM_BIN  := $(B)/xtshim

$(VMM_BIN): $(VMM_OBJS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(VMM_OBJS) $(LIB_A) $(LDLIBS)

ALL_TARGETS  += $(VMM_BIN)
INSTALL_BINS += $(VMM_BIN)

# VMM unit tests link every VMM object except main.o.
VMM_TEST_SRCS := $(wildcard vmm/tests/test_*.c)
VMM_TEST_BINS := $(patsubst %.c,$(B)/tests/%,$(notdir $(VMM_TEST_SRCS)))
TEST_BINS     += $(VMM_TEST_BINS)
define vmm_test_rule
$(B)/tests/$(notdir $(1:.c=)): $(B)/obj/$(1:.c=.o) $(filter-out $(B)/obj/vmm/main.o,$(VMM_OBJS)) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB_A) -lcmocka $$(LDLIBS)
endef
$(foreach t,$(VMM_TEST_SRCS),$(eval $(call vmm_test_rule,$(t))))

# Exit status per shutdown reason, booting compat-tests/shutdown.
$(B)/vmm-exit-status: vmm/tests/exit-status.sh vmm/build.mk $(VMM_BIN) \
		$(B)/compat-tests/shutdown-64.elf $(B)/compat-tests/shutdown-32.elf
	printf '#!/bin/sh\nexec "%s" "%s" "%s"\n' "$(CURDIR)/vmm/tests/exit-status.sh" \
		"$(CURDIR)/$(VMM_BIN)" "$(CURDIR)/$(B)/compat-tests" > $@
	chmod +x $@
CHECK_PROGRAMS += $(B)/vmm-exit-status
KVM_PROGRAMS   += $(B)/vmm-exit-status

# run --from-xen / --save-on-suspend / xl migrate receive, from the operator's side.
$(B)/vmm-from-xen: vmm/tests/from-xen.sh vmm/build.mk $(VMM_BIN) \
		$(B)/compat-tests/migrate-64.elf $(B)/xtshim-gen-fixtures
	printf '#!/bin/sh\nexec "%s" "%s" "%s"\n' "$(CURDIR)/vmm/tests/from-xen.sh" \
		"$(CURDIR)/$(VMM_BIN)" "$(CURDIR)/$(B)/compat-tests" > $@
	chmod +x $@
CHECK_PROGRAMS += $(B)/vmm-from-xen
KVM_PROGRAMS   += $(B)/vmm-from-xen
# Unsupported TSC modes are refused by name (no KVM needed: option parsing).
$(B)/vmm-tsc-mode: vmm/tests/tsc-mode.sh vmm/build.mk $(VMM_BIN)
	printf '#!/bin/sh\nexec "%s" "%s"\n' "$(CURDIR)/vmm/tests/tsc-mode.sh" \
		"$(CURDIR)/$(VMM_BIN)" > $@
	chmod +x $@
CHECK_PROGRAMS += $(B)/vmm-tsc-mode
# Unit tests that program a real vCPU (shim/x86/tests).
KVM_PROGRAMS   += $(B)/tests/test_x86_time $(B)/tests/test_kvm_xen_host

# `make run`: the demo guest on 2 vCPUs, showing its Xen time for 3 seconds.
DEMO_IMAGE := $(B)/compat-tests/demo-64.elf
run: $(VMM_BIN) $(DEMO_IMAGE) $(TESTBED_DEPS)
	@$(call on_kvm,run,$(VMM_BIN) run --vcpus 2 --cmdline "seconds=3" $(DEMO_IMAGE))

endif # x86_64
