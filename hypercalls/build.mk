# hypercalls/: the i386 layouts of hypercall argument structures exist only
# in the native i386 view of the Xen headers; a -m32 syntax check asserts them.
ifneq ($(ARCH),arm64)
ALL_TARGETS += $(B)/hypercalls/i386-abi.ok

$(B)/hypercalls/i386-abi.ok: hypercalls/i386/abi-check.c hypercalls/hcall.h | deps
	@mkdir -p $(dir $@)
	$(CC) -m32 -std=gnu11 -Wall -Wextra -Werror -I. -fsyntax-only $<
	@touch $@
endif

# test_hcall_runstate watches every write into guest memory (a reader's view
# of the runstate area while it is rewritten): it wraps xts_gmem_write.
$(B)/tests/test_hcall_runstate: private LDFLAGS += -Wl,--wrap=xts_gmem_write
