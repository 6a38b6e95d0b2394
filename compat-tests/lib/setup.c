/* From the PVH entry to test_main(), and the command line. */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/internal.h"

const struct hvm_start_info *start_info;

const char *cmdline(void)
{
	if (!start_info || !start_info->cmdline_paddr)
		return "";
	return (const char *)(uintptr_t)start_info->cmdline_paddr;
}

/* The next space-separated word at or after *p: its start, and *len. */
static const char *next_word(const char **p, size_t *len)
{
	while (**p == ' ')
		(*p)++;
	const char *w = *p;
	while (**p && **p != ' ')
		(*p)++;
	*len = (size_t)(*p - w);
	return w;
}

const char *cmdline_arg(const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key), wlen;
	const char *p = cmdline();
	while (*p) {
		const char *w = next_word(&p, &wlen);
		if (wlen > klen && !strncmp(w, key, klen) && w[klen] == '=') {
			size_t n = wlen - klen - 1;
			if (!len)
				return NULL;
			if (n >= len)
				n = len - 1;
			memcpy(buf, w + klen + 1, n);
			buf[n] = '\0';
			return buf;
		}
	}
	return NULL;
}

bool cmdline_has(const char *word)
{
	size_t len = strlen(word), wlen;
	const char *p = cmdline();
	while (*p) {
		const char *w = next_word(&p, &wlen);
		if (wlen == len && !strncmp(w, word, len))
			return true;
	}
	return false;
}

void guest_start(const struct hvm_start_info *si)
{
	if (si && si->magic == XEN_HVM_START_MAGIC_VALUE)
		start_info = si;
	traps_init();
	lapic_init();
	printk("--- %s (%s) ---\n", test_title, sizeof(long) == 8 ? "64-bit" : "32-bit");
	if (!start_info)
		xerror("no hvm_start_info (magic %#x)", si ? si->magic : 0);
	test_main();
	report_and_exit();
}
