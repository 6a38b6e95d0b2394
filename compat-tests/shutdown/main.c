/*
 * Not a pass/fail test: the image vmm/tests/exit-status.sh boots to check
 * that `xtshim run` turns each way a guest can stop into its exit status.
 * Command line: reason=N (SCHEDOP_shutdown with reason N) or reason=fault
 * (a triple fault, as xen_shutdown() does without a hypercall page).
 */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/xtest.h"

const char test_title[] = "shutdown: stop the way the command line says";

void test_main(void)
{
	char buf[16];
	if (!cmdline_arg("reason", buf, sizeof(buf))) {
		xerror("no reason= on the command line");
		return;
	}
	if (!strcmp(buf, "fault")) {
		printk("triple fault next\n");
		xen_shutdown(SHUTDOWN_poweroff);    /* no hypercall page yet: it triple-faults */
	}
	if (!xtest_setup(SETUP_HCALL))
		return;
	unsigned reason = (unsigned)strtou64(buf, NULL);
	printk("SCHEDOP_shutdown reason %u\n", reason);
	xen_shutdown(reason);
}
