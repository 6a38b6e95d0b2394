/* Console output: port 0xe9 (Xen's and Bochs' debug port), console_io later. */
#include "compat-tests/lib/guest.h"

void console_write_e9(const char *buf, size_t len)
{
	while (len--)
		outb(0xe9, (uint8_t)*buf++);
}

void console_write(const char *buf, size_t len)
{
	if (hypercall_page_ready() && console_io_write(buf, len) >= 0)
		return;
	console_write_e9(buf, len);
}

void printk(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
