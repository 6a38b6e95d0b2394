# xtshim top-level Makefile.
#
#   make                 library, tools, guest images       -> build/
#   make check           every test; ends with "N passed, N failed, N skipped"
#   make check SANITIZE=1  the same under ASan + UBSan        -> build/san/
#   make check ARCH=arm64  cross-build + run under qemu-user  -> build/arm64/
#   make bench           benchmarks, printing their figures
#   make run             boot the demo guest under the reference VMM
#   make testbed         the KVM tests in the test bed (nested KVM under QEMU TCG);
#                        check/run/compat/bench use it by themselves without /dev/kvm
#   make install PREFIX=/usr/local DESTDIR=
#   make clean
#
# Parts add their own rules in */build.mk (vmm/, compat-tests/, ...), so this
# file only holds what every part shares.  A part's build.mk may append to:
#   DEPS_PKGS       Debian packages it needs
#   ALL_TARGETS     what `make` builds
#   CHECK_PROGRAMS  extra test programs run by `make check` (after the unit tests)
#   BENCH_PROGRAMS  extra benchmark programs run by `make bench`
#   KVM_PROGRAMS    those of TEST_BINS/CHECK_PROGRAMS that need /dev/kvm
#   KVM_BENCH       those of BENCH_PROGRAMS that need /dev/kvm
#   INSTALL_BINS    programs `make install` copies to $(PREFIX)/bin

ARCH     ?= $(shell uname -m | sed -e 's/aarch64/arm64/')
SANITIZE ?= 0
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := 0.1.0
SOVERSION := 0

ifeq ($(ARCH),arm64)
  ifneq ($(shell uname -m),aarch64)
    CROSS ?= aarch64-linux-gnu-
    # The arm64 loader is started explicitly rather than with `-L`: under
    # Debian 12's qemu-user 7.2, `-L` leaves the child of a fork() of a
    # dynamically linked program spinning forever.
    TEST_PREFIX ?= qemu-aarch64 /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 \
                   --library-path /usr/aarch64-linux-gnu/lib:/usr/lib/aarch64-linux-gnu
    # Emulated atomics are slow: the torn-read test runs fewer fixed iterations.
    export XTS_TORN_PUBLICATIONS ?= 20000
  endif
  B ?= build/arm64
else ifeq ($(SANITIZE),1)
  B ?= build/san
else
  B ?= build
endif

CC      := $(CROSS)gcc
AR      := $(CROSS)ar
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
           -fno-strict-aliasing -D_GNU_SOURCE -I. -fPIC -MMD -MP
LDLIBS  += -lpthread
ifeq ($(SANITIZE),1)
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
endif

# Debian packages every build needs; parts add theirs.
DEPS_PKGS := libxen-dev libcmocka-dev
ifeq ($(ARCH),arm64)
  ifneq ($(shell uname -m),aarch64)
    # Cross build: the arm64 cmocka comes from Debian's arm64 archive
    # (multiarch), which scripts/deps-arm64.sh enables before installing.
    # libc6-dev-arm64-cross is only a Recommends of the cross compiler, which
    # deps.sh's --no-install-recommends drops: without it, no <asm/errno.h>.
    DEPS_PKGS += gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libcmocka-dev:arm64
    DEPS_SCRIPT := scripts/deps-arm64.sh
  endif
endif

# ---- the library: abi/ + shim/ (+ its arch folder) + hypercalls/ ----
# Architecture folders are named as the kernel names them: shim/x86, shim/arm64.
SARCH    := $(if $(filter arm64,$(ARCH)),arm64,x86)
# The hypercall layer implements Xen's x86 HVM/PVH hypercall ABI; arm64
# guests use the same clock model and counter API without it.
HCALL_DIR := $(if $(filter x86,$(SARCH)),hypercalls)
# Xen's migration streams (shim/stream-*) carry x86 guests only: Xen cannot
# migrate Arm guests, and the arm64 import path is the timer record (shim/arm64-*).
X86_ONLY := $(if $(filter x86,$(SARCH)),,shim/stream-%.c shim/tests/test_stream_%.c \
              shim/tests/test_xen_import_%.c)
LIB_SRCS := $(filter-out $(X86_ONLY),$(wildcard abi/*.c shim/*.c shim/$(SARCH)/*.c \
              $(addsuffix /*.c,$(HCALL_DIR))))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
LIB_A    := $(B)/lib/libxtshim.a
LIB_SO   := $(B)/lib/libxtshim.so.$(SOVERSION)

# ---- unit tests and benchmarks: one program per file ----
TEST_SRCS  := $(wildcard abi/tests/test_*.c shim/tests/test_*.c shim/$(SARCH)/tests/test_*.c \
                $(addsuffix /tests/test_*.c,$(HCALL_DIR)))
TEST_SRCS  := $(filter-out $(X86_ONLY),$(TEST_SRCS))
TEST_BINS  := $(patsubst %.c,$(B)/tests/%,$(notdir $(TEST_SRCS)))
BENCH_SRCS := $(wildcard shim/bench/bench_*.c $(addsuffix /bench/bench_*.c,$(HCALL_DIR)))
BENCH_BINS := $(patsubst %.c,$(B)/bench/%,$(notdir $(BENCH_SRCS)))

ALL_TARGETS    := $(LIB_A) $(LIB_SO) $(B)/xtshim.pc
CHECK_PROGRAMS :=
BENCH_PROGRAMS :=
INSTALL_BINS   :=
# Of those, the ones that need /dev/kvm (they also stay in CHECK_PROGRAMS,
# TEST_BINS or BENCH_PROGRAMS).
KVM_PROGRAMS   :=
KVM_BENCH      :=

# ---- the test bed (testbed/, docs/testbed.md) ----
# Without a usable /dev/kvm, the KVM programs run inside a nested KVM under
# QEMU's software emulation; TESTBED=0 forces the host, TESTBED=1 the bed.
ifeq ($(ARCH),x86_64)
  TESTBED ?= $(shell test -w /dev/kvm || echo 1)
endif
ifeq ($(TESTBED),1)
  TESTBED_DEPS := $(B)/testbed/init
  TESTBED_NOTE := xtshim: no usable /dev/kvm here: KVM work runs in the test bed (QEMU TCG nested KVM, docs/testbed.md)
  # $(call on_kvm,NAME,COMMAND): run COMMAND where there is a KVM.
  on_kvm = echo "$(TESTBED_NOTE)"; testbed/run.sh --name $(1) --build $(B) $(2)
else
  on_kvm = $(2)
endif

.DEFAULT_GOAL := all
-include $(sort $(wildcard */build.mk))

.PHONY: all check bench install clean deps run testbed
all: $(ALL_TARGETS)

deps:
	@$(or $(DEPS_SCRIPT),scripts/deps.sh) $(DEPS_PKGS)

$(B)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libxtshim.so.$(SOVERSION) $(LDFLAGS) -o $@ $^ $(LDLIBS)
	ln -sf libxtshim.so.$(SOVERSION) $(B)/lib/libxtshim.so

$(B)/xtshim.pc: shim/xtshim.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

# Unit tests link the static library so they test exactly what ships.
define test_rule
$(B)/tests/$(notdir $(1:.c=)): $(B)/obj/$(1:.c=.o) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $(LIB_A) -lcmocka $$(LDLIBS)
endef
$(foreach t,$(TEST_SRCS),$(eval $(call test_rule,$(t))))

define bench_rule
$(B)/bench/$(notdir $(1:.c=)): $(B)/obj/$(1:.c=.o) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $(LIB_A) $$(LDLIBS)
endef
$(foreach t,$(BENCH_SRCS),$(eval $(call bench_rule,$(t))))

ifeq ($(TESTBED),1)
# One boot of the bed runs every KVM program; its summary line is summed with
# the host's by run-tests.sh like any other runner's.
check: $(ALL_TARGETS) $(TEST_BINS) $(CHECK_PROGRAMS) $(TESTBED_DEPS)
	@echo "$(TESTBED_NOTE)"
	@printf '#!/bin/sh\nexec testbed/run.sh --name check --build %s scripts/run-tests.sh %s\n' \
		"$(B)" "$(KVM_PROGRAMS)" > $(B)/testbed-check && chmod +x $(B)/testbed-check
	@scripts/run-tests.sh $(filter-out $(KVM_PROGRAMS),$(TEST_BINS) $(CHECK_PROGRAMS)) $(B)/testbed-check

bench: $(BENCH_BINS) $(BENCH_PROGRAMS) $(TESTBED_DEPS)
	@set -e; for b in $(BENCH_BINS) $(filter-out $(KVM_BENCH),$(BENCH_PROGRAMS)); do \
		echo "=== $$(basename $$b)"; $(TEST_PREFIX) $$b; done
	@$(call on_kvm,bench,sh -c 'for b in $(KVM_BENCH); do echo "=== $$(basename $$b)"; $$b || exit 1; done')
else
check: $(ALL_TARGETS) $(TEST_BINS) $(CHECK_PROGRAMS)
	@scripts/run-tests.sh $(if $(TEST_PREFIX),--prefix "$(TEST_PREFIX)") $(TEST_BINS) $(CHECK_PROGRAMS)

bench: $(BENCH_BINS) $(BENCH_PROGRAMS)
	@set -e; for b in $(BENCH_BINS) $(BENCH_PROGRAMS); do echo "=== $$(basename $$b)"; $(TEST_PREFIX) $$b; done
endif

install: $(ALL_TARGETS)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libxtshim.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libxtshim.so
	install -m 644 shim/xtshim.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' shim/xtshim.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/xtshim.pc
	install -m 644 $(wildcard man/*.3) $(DESTDIR)$(PREFIX)/share/man/man3/
	$(if $(wildcard man/*.1),install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(INSTALL_BINS),install -m 755 $(INSTALL_BINS) $(DESTDIR)$(PREFIX)/bin/)

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
