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

/* One file-system operation beneath a directory, as either mechanism
 * performs it: the syscall path runs it with the thread's switched
 * credentials, the io_uring path as the same opcode with a personality.
 * Only operations whose last component the kernel never follows (mkdirat,
 * unlinkat, renameat) or that resolve with RESOLVE_BENEATH (openat2) are
 * expressible, so no operation can reach outside its directory. */
enum imp_op_kind {
    IMP_OP_OPENAT2,  /* dirfd, path, how: the result is the new descriptor */
    IMP_OP_MKDIRAT,  /* dirfd, path, mode */
    IMP_OP_UNLINKAT, /* dirfd, path, flags (AT_REMOVEDIR) */
    IMP_OP_RENAMEAT, /* dirfd, path -> dirfd2, path2, flags (RENAME_NOREPLACE) */
};

struct imp_op {
    enum imp_op_kind kind;
    int dirfd;
    const char *path;
    int dirfd2;
    const char *path2;
    struct open_how how;
    mode_t mode;
    unsigned flags;
};

/* Runs op with the calling thread's current credentials (no switch),
 * retrying the kernel's EAGAIN (a rename race seen by RESOLVE_BENEATH) and
 * EINTR. Returns the descriptor (OPENAT2) or 0, or -errno. */
GUISE_HIDDEN int imp_sys_run(const struct imp_op *op);

/* ---- uring.c ---------------------------------------------------------- */

/* Checks on a throw-away ring that io_uring can open a file with a
 * registered personality and that the kernel applies it. */
GUISE_HIDDEN guise_result imp_uring_probe(const struct imp_creds *server, const char **why);
/* Runs op with the token's personality on the calling thread's ring.
 * Returns GUISE_E_NOT_SUPPORTED when this thread cannot get a ring (the
 * caller may fall back to syscalls), else the operation's result; *res_out
 * is its non-negative return value (the descriptor of an OPENAT2). */
GUISE_HIDDEN guise_result imp_uring_run(const struct imp_creds *server, const guise_token *t,
                                        const struct imp_op *op, int *res_out);

/* ---- imp.c ------------------------------------------------------------ */

/* Runs op as the token with the engine's mechanism (token NULL: the
 * server's own credentials, OFF mode only). Refuses root's ids. On success
 * *res_out is the operation's non-negative result. The thread's credentials
 * are the server's again on return. */
GUISE_HIDDEN guise_result imp_run_as(guise_imp *imp, const guise_token *t, const struct imp_op *op,
                                     int *res_out);
/* A path relative to a root: leading slashes dropped, "" meaning ".". */
GUISE_HIDDEN const char *imp_relative(const char *path);

#endif
