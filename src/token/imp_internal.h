/* guise: internals of the impersonation engine, shared by its three parts:
 * imp.c (public API and path rules), creds.c (per-thread credential switch
 * with raw syscalls) and uring.c (per-thread io_uring with personalities).
 */
#ifndef GUISE_IMP_INTERNAL_H
#define GUISE_IMP_INTERNAL_H

#include <guise/token.h>

#include <linux/openat2.h>
#include <signal.h>

#define GUISE_HIDDEN __attribute__((visibility("hidden")))

/* The server's own filesystem credentials, saved when the engine is made:
 * what every impersonating thread returns to. */
struct imp_creds {
    uid_t fsuid;
    gid_t fsgid;
    size_t ngroups;
    gid_t *groups;
};

/* ---- creds.c ---------------------------------------------------------- */

/* GUISE_E_ACCESSDENIED with *why unless CAP_SETUID and CAP_SETGID are in the
 * calling thread's effective set. */
GUISE_HIDDEN guise_result imp_creds_check_caps(const char **why);
/* Saves the calling thread's fsuid, fsgid and supplementary groups. */
GUISE_HIDDEN guise_result imp_creds_save(struct imp_creds *c);
GUISE_HIDDEN void imp_creds_release(struct imp_creds *c);
/* Switches to an unprivileged identity and back, checking that the kernel
 * really drops the capabilities that bypass file permissions. */
GUISE_HIDDEN guise_result imp_creds_probe(const struct imp_creds *server, const char **why);

/* Blocks signals (so no handler ever runs with the token's rights), then
 * switches the calling thread's groups, fsgid and fsuid to the token's and
 * verifies them. On failure the thread is back to server's credentials and
 * its signal mask is restored. */
GUISE_HIDDEN guise_result imp_creds_enter(const struct imp_creds *server, const guise_token *t,
                                          sigset_t *saved_mask);
/* Back to server's credentials and the saved signal mask; abort()s if the
 * kernel does not confirm them, because a thread with a client's
 * credentials must never go on serving. */
GUISE_HIDDEN void imp_creds_leave(const struct imp_creds *server, const sigset_t *saved_mask);

/* openat2(2) without impersonation, retrying the kernel's EAGAIN (a rename
 * race seen by RESOLVE_BENEATH). Returns the fd or -errno. */
GUISE_HIDDEN int imp_sys_openat2(int dirfd, const char *path, const struct open_how *how);

/* ---- uring.c ---------------------------------------------------------- */

/* Checks on a throw-away ring that io_uring can open a file with a
 * registered personality and that the kernel applies it. */
GUISE_HIDDEN guise_result imp_uring_probe(const struct imp_creds *server, const char **why);
/* Opens path with the token's personality on the calling thread's ring.
 * Returns GUISE_E_NOT_SUPPORTED when this thread cannot get a ring (the
 * caller may fall back to syscalls), else the open's result. */
GUISE_HIDDEN guise_result imp_uring_openat2(const struct imp_creds *server, const guise_token *t,
                                            int dirfd, const char *path, const struct open_how *how,
                                            int *fd_out);

#endif
