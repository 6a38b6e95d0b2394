/*
 * xtshim: the reference VMM for libxtshim.  `xtshim run GUEST.elf` boots a
 * PVH guest on KVM with the Xen time ABI; other subcommands live in their
 * own files and are listed here.
 */
#include <stdio.h>
#include <string.h>

#include "vmm/commands.h"

/* Replaced by vmm/inspect.c when that file is built. */
__attribute__((weak)) int xtshim__cmd_inspect(int argc, char **argv)
{
	fprintf(stderr, "xtshim inspect: not built into this binary\n");
	return 1;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", xtshim__cmd_run, "boot a PVH guest on KVM with the Xen time ABI" },
	{ "inspect", xtshim__cmd_inspect, "inspect a saved Xen or xtshim guest stream" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: xtshim COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`xtshim COMMAND --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "xtshim: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
