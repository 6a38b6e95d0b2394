/*
 * xtshim subcommands.  Each is `int xtshim__cmd_<name>(argc, argv)` with
 * argv[0] the subcommand name; it returns the process exit status.
 */
#ifndef XTSHIM_VMM_COMMANDS_H
#define XTSHIM_VMM_COMMANDS_H

int xtshim__cmd_run(int argc, char **argv);
int xtshim__cmd_inspect(int argc, char **argv);

#endif
