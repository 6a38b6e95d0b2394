# abi/: the i386-only layouts (u64 aligned to 4 bytes) exist only in the
# native i386 view of the Xen headers, so they are asserted by compiling a
# check file with -m32.  It produces no code; the stamp records success.
ifneq ($(ARCH),arm64)
# gcc-multilib conflicts with gcc-aarch64-linux-gnu on Debian 12; these two give -m32.
DEPS_PKGS   += libc6-dev-i386 lib32gcc-12-dev
ALL_TARGETS += $(B)/abi/i386-layout.ok

$(B)/abi/i386-layout.ok: abi/i386/layout-check.c abi/layout.h abi/xen-abi.h | deps
	@mkdir -p $(dir $@)
	$(CC) -m32 -std=gnu11 -Wall -Wextra -Werror -I. -fsyntax-only $<
	@touch $@
endif
