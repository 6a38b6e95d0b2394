# fuzz/: the Xen stream fuzzer (`make fuzz`), the fixture generator, and the
# Xen-side exporter xtshim-xen-export (built only where libxenctrl is).
#
#   make fuzz                 seeds from the fixture generator, then libFuzzer
#                             for FUZZ_TIME seconds (default 60)
#   build/xtshim-gen-fixtures DIR    sample streams for inspect / the corpus

FUZZ_CC   ?= clang
FUZZ_TIME ?= 60
FUZZ_SRCS := fuzz/fuzz_stream.c $(wildcard shim/stream-*.c) abi/layout.c shim/scale.c \
             shim/line.c shim/pvclock.c shim/gmem.c
FUZZ_BIN  := $(B)/fuzz/fuzz_stream
FIXTURE_GEN := $(B)/xtshim-gen-fixtures

$(FIXTURE_GEN): fuzz/gen-fixtures.c shim/tests/xen-stream-gen.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) -o $@ $<
ALL_TARGETS += $(FIXTURE_GEN)

# libFuzzer ships with clang's runtime; installed only for `make fuzz`.
FUZZ_PKGS := clang libclang-rt-14-dev

$(FUZZ_BIN): $(FUZZ_SRCS) $(wildcard shim/*.h abi/*.h)
	@scripts/deps.sh $(FUZZ_PKGS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -Wall -Wno-unused-parameter \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ $(FUZZ_SRCS)

.PHONY: fuzz
fuzz: $(FUZZ_BIN) $(FIXTURE_GEN)
	@rm -rf $(B)/fuzz/seeds && mkdir -p $(B)/fuzz/seeds $(B)/fuzz/corpus
	$(FIXTURE_GEN) $(B)/fuzz/seeds
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 $(B)/fuzz/corpus $(B)/fuzz/seeds fuzz/regressions

# Xen's own verifier over the fixtures and xtshim's exports (skips when absent).
ifeq ($(ARCH),x86_64)
REEXPORT   := $(B)/fuzz/reexport
XEN_VERIFY := $(B)/fuzz/xen-verify
$(REEXPORT): fuzz/reexport.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)
# Xen's tools are unpacked from Debian's xen-utils-4.17, not installed: the
# package would pull systemd updates into a build machine (scripts/fetch-debs.sh).
DEPS_PKGS  += python3
XEN_UTILS  := build/xen-utils
$(XEN_UTILS)/.fetched: scripts/fetch-debs.sh | deps
	scripts/fetch-debs.sh $(XEN_UTILS) xen-utils-4.17 >/dev/null && touch $@
$(XEN_VERIFY): fuzz/xen-verify.sh $(FIXTURE_GEN) $(REEXPORT) $(XEN_UTILS)/.fetched
	@mkdir -p $(dir $@)
	sed -e 's|@B@|$(B)|' -e 's|@XEN_UTILS@|$(CURDIR)/$(XEN_UTILS)|' $< > $@ && chmod +x $@
CHECK_PROGRAMS += $(XEN_VERIFY)

# `xtshim inspect` end to end (the VMM binary is built by vmm/build.mk).
INSPECT_CHECK := $(B)/fuzz/inspect-check
$(INSPECT_CHECK): fuzz/inspect-check.sh $(FIXTURE_GEN) $(B)/xtshim
	@mkdir -p $(dir $@)
	sed -e 's|@B@|$(B)|' $< > $@ && chmod +x $@
CHECK_PROGRAMS += $(INSPECT_CHECK)
endif

# The exporter runs on a Xen host (dom0); its logic is in the library
# (shim/stream-xenctl.c) and tested there through a seam.
ifeq ($(ARCH),x86_64)
ifeq ($(shell pkg-config --exists xencontrol 2>/dev/null && echo yes),yes)
XEN_EXPORT := $(B)/xtshim-xen-export
$(XEN_EXPORT): vmm/xen-export/main.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(shell pkg-config --cflags xencontrol) $(LDFLAGS) \
		-o $@ $< $(LIB_A) $(shell pkg-config --libs xencontrol) $(LDLIBS)
ALL_TARGETS  += $(XEN_EXPORT)
INSTALL_BINS += $(XEN_EXPORT)
endif
endif
