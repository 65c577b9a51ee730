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
 * service account. Call once, before any thread exists. On failure returns
 * -1 with "FILE:LINE: key 'server-account': WHY" (or WHY) in err. */
int server_privilege_enter(const char *config_path, const struct guise_config *cfg, char *err,
                           size_t errsz);

/* For -t, after server_privilege_enter: tries every file and directory the
 * server opens as itself and prints one line per refusal to report.
 * Returns the number of refusals that would stop the server (a refused
 * admin-state file is only a warning: it is written on admin changes). */
int server_privilege_check_files(const char *config_path, const struct guise_config *cfg,
                                 FILE *report);

#endif
