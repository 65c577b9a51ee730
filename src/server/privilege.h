/* guised: entering the sandbox at start-up, and `guised -t`'s check of the
 * files the server opens as itself.
 *
 * The glue between the configuration and src/sandbox: which account
 * (`server-account`), whether impersonation needs CAP_SETUID/CAP_SETGID,
 * and the files the server's own account must be able to open once it has
 * switched (see docs/SECURITY.md, "What the service account must read").
 */
#ifndef GUISE_SERVER_PRIVILEGE_H
#define GUISE_SERVER_PRIVILEGE_H

#include "server/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Installs the seccomp filter and, when started as root, switches to the
 * service account. Call once, before any thread exists. Before switching,
 * unless test_only, creates a missing state directory (state_dir) and
 * gives it to the account (server/statedir.h): root may create it where
 * the account could not; an existing one is left as it is (`guised -t`
 * and the plug-ins then say when the account cannot write it). With
 * test_only, a missing state directory is checked here instead, as root,
 * the way the start would create it (statedir_check), and *state_checked
 * says so: the account could not create it itself. On failure returns -1
 * with "FILE:LINE: key 'server-account': WHY" (or WHY) in err. */
int server_privilege_enter(const char *config_path, const struct guise_config *cfg,
                           const char *state_dir, bool test_only, bool *state_checked, char *err,
                           size_t errsz);

/* For -t, after server_privilege_enter: tries every file and directory the
 * server opens as itself and prints one line per refusal to report.
 * Returns the number of refusals that would stop the server (a refused
 * admin-state file is only a warning: it is written on admin changes). */
int server_privilege_check_files(const char *config_path, const struct guise_config *cfg,
                                 FILE *report);

#endif
