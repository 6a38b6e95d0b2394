/*
 * Test outcome: the worst of SUCCESS < SKIP < ERROR < FAILURE wins; the last
 * line an image prints is "Test result: <outcome>", then it powers off.
 */
#include "compat-tests/lib/guest.h"

enum outcome { SUCCESS, SKIP, ERROR, FAILURE };
static const char *const names[] = { "SUCCESS", "SKIP", "ERROR", "FAILURE" };
static volatile enum outcome result = SUCCESS;

static void note(enum outcome o, const char *fmt, va_list ap)
{
	char buf[200];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	printk("%s: %s\n", names[o], buf);
	/* Several vCPUs may report; a compare-and-swap loop keeps the worst. */
	enum outcome cur = result;
	while (o > cur && !__atomic_compare_exchange_n(&result, &cur, o, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

#define NOTE(o) do { va_list ap; va_start(ap, fmt); note(o, fmt, ap); va_end(ap); } while (0)
void xfail(const char *fmt, ...) { NOTE(FAILURE); }
void xerror(const char *fmt, ...) { NOTE(ERROR); }
void xskip(const char *fmt, ...) { NOTE(SKIP); }

void report_figure(const char *name, uint64_t value, const char *unit)
{
	printk("figure: %s %llu %s\n", name, (unsigned long long)value, unit);
}

void xen_shutdown(unsigned reason)
{
	if (hypercall_page_ready()) {
		struct sched_shutdown s = { .reason = reason };
		long rc = sched_op(SCHEDOP_shutdown, &s);
		printk("SCHEDOP_shutdown(%u) returned %ld\n", reason, rc);
	}
	/*
	 * No Xen, or it refused: a triple fault (no IDT, then an exception)
	 * stops any VMM, where a halt loop would leave the runner waiting.
	 */
	struct __attribute__((packed)) { uint16_t limit; uintptr_t base; } none = { 0, 0 };
	__asm__ __volatile__("cli; lidt %0; int3" :: "m"(none));
	for (;;)
		__asm__ __volatile__("hlt");
}

void report_and_exit(void)
{
	printk("Test result: %s\n", names[result]);
	xen_shutdown(SHUTDOWN_poweroff);
}

void panic(const char *fmt, ...)
{
	NOTE(ERROR);
	printk("Test result: %s\n", names[result]);
	xen_shutdown(SHUTDOWN_crash);
}
