/* guise: the server's own account - never root by construction.
 *
 * A guised started as root does the start-up work that needs root (reading
 * the configuration) and then, before any thread exists, switches the
 * whole process to an unprivileged service account (`server-account`,
 * default "guise"): real, effective and saved uid and gid, and the
 * account's supplementary groups. Of root's capabilities it keeps only
 * CAP_SETUID and CAP_SETGID (impersonation switches per-thread filesystem
 * ids and registers io_uring personalities) and CAP_NET_BIND_SERVICE (a
 * reload may bind a low port), permitted and effective; the inheritable
 * and ambient sets are emptied, and the bounding set is cut to the same
 * three when the process may (CAP_SETPCAP). From then on the server's own
 * opens - configuration, user files, keys, logs, sockets - obey ordinary
 * permissions as that account, and the seccomp filter (sandbox/seccomp_filter.h)
 * keeps the kept CAP_SETUID from ever being used to become root again.
 *
 * A server started by another user switches nothing.
 */
#ifndef GUISE_SANDBOX_PRIVILEGE_H
#define GUISE_SANDBOX_PRIVILEGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define GUISE_SERVER_ACCOUNT_DEFAULT "guise"
#define GUISE_SERVICE_MAX_GROUPS     256

/* The account the server runs as, resolved while still root. */
struct guise_service_account {
    char name[256];
    uid_t uid;
    gid_t gid;
    size_t ngroups;
    gid_t groups[GUISE_SERVICE_MAX_GROUPS];
};

/* True when the process runs with uid 0 (real, effective or saved) and so
 * must switch to the service account. */
bool guise_privilege_must_switch(void);

/* Resolves name (NULL: the default) through NSS. Returns 0, or -1 with a
 * sentence in why: the account does not exist (saying how to create it),
 * is uid 0 or has gid 0 as its primary group or among its groups, or has
 * more groups than this server handles. */
int guise_privilege_resolve(const char *name, struct guise_service_account *out, char *why,
                            size_t whysz);

/* Switches the process to a. Must run before any thread exists (checked:
 * -1 otherwise), because credentials and capabilities are per thread and a
 * thread started before would keep root's. keep_setid: keep CAP_SETUID and
 * CAP_SETGID (impersonation is on). Verifies the result with getresuid,
 * getresgid and the capability sets; returns 0, or -1 with why. */
int guise_privilege_switch(const struct guise_service_account *a, bool keep_setid, char *why,
                           size_t whysz);

/* For `guised -t`, once switched: whether the process (that is, the
 * service account) can open path. want_write: an existing file must open
 * for appending, a missing one must be creatable in its directory, a
 * directory must take new entries. Returns 0 or the errno of the refusal. */
int guise_privilege_check_access(const char *path, bool want_write);

#endif
