# shim/: `make check` also installs the library into a scratch root and
# builds a program against the installed header and pkg-config file.
# (Native builds only: it runs what it builds.)
ifeq ($(ARCH),$(shell uname -m | sed -e 's/aarch64/arm64/'))
ifneq ($(SANITIZE),1)
DEPS_PKGS      += pkg-config
CHECK_PROGRAMS += $(B)/install-check.sh

$(B)/install-check.sh: shim/install-check/run.sh shim/install-check/main.c Makefile
	@mkdir -p $(dir $@)
	@printf '#!/bin/sh\nexec %s/shim/install-check/run.sh %s "%s"\n' "$(CURDIR)" "$(B)" "$(CC)" > $@
	@chmod +x $@
endif
endif
