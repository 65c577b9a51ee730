/* guise: impersonation tokens and opening content as an account.
 *
 * A token is the Linux counterpart of a Windows access token: an immutable,
 * reference-counted handle to one account (name, uid, primary gid,
 * supplementary groups). A token may stand for a user account or for a group
 * account; a group-account token carries the group as its gid and sole group,
 * and the unprivileged "nobody" uid (65534), so access is granted through the
 * group alone.
 *
 * Tokens are made by a token store, which resolves names through NSS
 * (getpwnam_r, getgrouplist) - never while a thread is impersonating - and
 * caches them per account for a time-to-live, so that group changes are
 * picked up. The store refuses uid 0 and gid 0 always, and any uid below
 * min-uid or primary gid below min-gid unless the account name is
 * explicitly allowed (see struct guise_token_store_options).
 *
 * The impersonation engine opens, stats and lists files beneath a root
 * directory with a token's rights. Paths are resolved with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): "..", absolute symlinks
 * and symlinks pointing out of the root fail with EXDEV or ELOOP.
 */
#ifndef GUISE_TOKEN_H
#define GUISE_TOKEN_H

#include <guise/result.h>

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct guise_token guise_token;
typedef struct guise_token_store guise_token_store;
typedef struct guise_imp guise_imp;

#define GUISE_NOBODY_UID ((uid_t)65534)

/* ---- tokens ---------------------------------------------------------- */

/* Adds a reference; returns t. NULL-safe. Thread-safe. */
GUISE_API guise_token *guise_token_ref(guise_token *t);
/* Drops a reference; frees the token with the last one. NULL-safe. */
GUISE_API void guise_token_unref(guise_token *t);

GUISE_API const char *guise_token_name(const guise_token *t);
GUISE_API uid_t guise_token_uid(const guise_token *t);
GUISE_API gid_t guise_token_gid(const guise_token *t);
/* Supplementary groups (including the primary gid). */
GUISE_API size_t guise_token_groups(const guise_token *t, const gid_t **groups);
GUISE_API bool guise_token_is_group(const guise_token *t);
/* True when gid is the primary gid or one of the supplementary groups. */
GUISE_API bool guise_token_in_group(const guise_token *t, gid_t gid);
/* A process-unique serial number, never reused, for caches keyed by token. */
GUISE_API uint64_t guise_token_serial(const guise_token *t);

/* ---- token store ----------------------------------------------------- */

/* The store's policy (see docs/SECURITY.md, "Accounts"): uid 0 and gid 0 are
 * refused always and group 0 is never handed to a token. A user's uid must
 * be at least min_uid and its primary gid at least min_gid (100 by default:
 * "users", the shared primary group of SUSE, of Debian without user private
 * groups and of many directories, is an ordinary group), unless the account
 * is in allow. Supplementary groups below min_gid are dropped from the
 * token unless listed in allow_groups. A group account's gid follows the
 * primary-gid rule. The names in guests are allowed below the minimums
 * only through guise_token_for_guest(): the anonymous guest account (often
 * a system account) must not become reachable by a user mapped to it. */
struct guise_token_store_options {
    uid_t min_uid;            /* uids below this are refused (default 1000) */
    unsigned ttl_seconds;     /* cache lifetime of a resolved account (default 60) */
    const char *const *allow; /* NULL-terminated names allowed below min_uid/min_gid (never 0) */
    gid_t min_gid;            /* primary gids below this are refused (default 100) */
    /* NULL-terminated group names (or decimal gids) kept as supplementary
     * groups below min_gid (never gid 0); an unknown name fails
     * guise_token_store_new with GUISE_E_NOT_FOUND. */
    const char *const *allow_groups;
    const char *const *guests; /* NULL-terminated guest account names (see above) */
};

GUISE_API guise_result guise_token_store_new(const struct guise_token_store_options *opt,
                                             guise_token_store **out);
GUISE_API void guise_token_store_free(guise_token_store *s);

/* Resolves a user account by name. Returns GUISE_E_NOT_FOUND for an unknown
 * account, GUISE_E_ACCESSDENIED for uid 0 or an account below the minimum.
 * *out holds a new reference. May block on NSS: call it from a worker, never
 * while impersonating. Thread-safe. */
GUISE_API guise_result guise_token_for_user(guise_token_store *s, const char *name,
                                            guise_token **out);
/* Resolves a group account by name (see the top of this file). */
GUISE_API guise_result guise_token_for_group(guise_token_store *s, const char *name,
                                             guise_token **out);
/* User first, then group: what an "account name" means in configuration. */
GUISE_API guise_result guise_token_for_account(guise_token_store *s, const char *name,
                                               guise_token **out);
/* guise_token_for_account() for the anonymous guest: a name in the
 * options' guests is resolved without the min-uid/min-gid minimums (never
 * uid 0 or gid 0); any other name exactly as guise_token_for_account(). The
 * host offers it to anonymous authentication plug-ins only. */
GUISE_API guise_result guise_token_for_guest(guise_token_store *s, const char *name,
                                             guise_token **out);
/* Non-blocking guise_token_for_guest(), answering as
 * guise_token_store_lookup_cached() does. */
GUISE_API guise_result guise_token_store_lookup_cached_guest(guise_token_store *s, const char *name,
                                                             guise_token **out);
/* Non-blocking lookup: GUISE_S_OK with a new reference when name is cached
 * and fresh; GUISE_E_PENDING when only an NSS lookup could answer; the
 * cached refusal (GUISE_E_NOT_FOUND / GUISE_E_ACCESSDENIED) otherwise. */
GUISE_API guise_result guise_token_store_lookup_cached(guise_token_store *s, const char *name,
                                                       guise_token **out);
/* Drops every cached entry (used on reload and by tests). */
GUISE_API void guise_token_store_flush(guise_token_store *s);

/* ---- impersonation engine --------------------------------------------- */

enum guise_imp_mode {
    GUISE_IMP_AUTO = 0,     /* io_uring when it works, else syscalls */
    GUISE_IMP_IO_URING = 1, /* io_uring personality per token: the thread never switches */
    GUISE_IMP_SYSCALLS = 2, /* per-thread setgroups/setfsgid/setfsuid raw syscalls */
    GUISE_IMP_OFF = 3,      /* no impersonation: opens run with the server's credentials */
};

/* Creates the engine. AUTO picks io_uring when a probe ring can register a
 * personality, else syscalls. IO_URING or SYSCALLS fail with
 * GUISE_E_NOT_SUPPORTED when unavailable; any mode but OFF fails with
 * GUISE_E_ACCESSDENIED without CAP_SETUID and CAP_SETGID, and writes why to
 * *why (a static string) when why is not NULL. AUTO also says there why it
 * did not pick io_uring (success, *why != NULL); otherwise *why is NULL on
 * success. Every mode but OFF also fails with GUISE_E_ACCESSDENIED when
 * switching the fsuid would not drop the capabilities that bypass file
 * permissions (a non-root server holding CAP_DAC_OVERRIDE, or
 * SECBIT_NO_SETUID_FIXUP). */
GUISE_API guise_result guise_imp_new(enum guise_imp_mode mode, guise_imp **out, const char **why);
GUISE_API void guise_imp_free(guise_imp *imp);
/* The mode actually in use (never AUTO). */
GUISE_API enum guise_imp_mode guise_imp_mode_of(const guise_imp *imp);
GUISE_API const char *guise_imp_mode_name(enum guise_imp_mode mode);
/* Parses "auto", "io_uring", "syscalls", "off". Returns false otherwise. */
GUISE_API bool guise_imp_mode_parse(const char *s, enum guise_imp_mode *out);

/* Opens path (relative; a leading '/' is ignored) beneath root_fd with the
 * token's credentials. flags are open(2) flags; O_CLOEXEC is always added,
 * O_CREAT and O_TMPFILE are refused (GUISE_E_INVALIDARG). On success *fd_out
 * is the new descriptor. Failures carry the kernel's errno:
 * GUISE_RESULT_FROM_ERRNO(EACCES), (ENOENT), (EXDEV) for an escape, (ELOOP)
 * for a magic link... token NULL means the server's own credentials and is
 * only accepted in GUISE_IMP_OFF mode. Thread-safe; the calling thread's
 * credentials are the server's own again on return. */
GUISE_API guise_result guise_open_as(guise_imp *imp, const guise_token *token, int root_fd,
                                     const char *path, int flags, int *fd_out);

/* fstatat beneath root_fd as the token (same resolution rules). */
GUISE_API guise_result guise_stat_as(guise_imp *imp, const guise_token *token, int root_fd,
                                     const char *path, struct stat *st);

/* ---- writing beneath a directory as a token (src/token/imp_write.c) --
 *
 * What a publisher writes is written as the publisher: each call below
 * runs as the token with the engine's mechanism (an io_uring personality,
 * or the thread's switched fsuid/fsgid/groups), so the kernel decides with
 * the token's rights (write and search on the directory, its ACLs) and new
 * files and directories belong to the token's uid and fsgid (or the
 * directory's group when it is setgid). The process umask applies, unless
 * the directory has a default ACL, which then decides the new entry's ACL
 * and mode as it would for the account itself. Every path is relative to
 * dir_fd (a leading '/' is ignored) and resolved with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS as the token; the last component of mkdir, unlink
 * and rename is never followed and must be a plain name (not "", "." or
 * ".."; GUISE_E_INVALIDARG). Failures carry the kernel's errno
 * (GUISE_RESULT_FROM_ERRNO(EACCES), (EEXIST), (EXDEV) for an escape...).
 * token NULL is only accepted in GUISE_IMP_OFF mode. Thread-safe. */

/* Creates (or, with O_TRUNC and without O_EXCL, truncates) path and opens
 * it. flags must hold O_WRONLY or O_RDWR; O_CREAT and O_CLOEXEC are always
 * added; O_TMPFILE is refused. mode holds permission bits only (07777 minus
 * S_ISUID and S_ISGID: the server never makes a set-id file). */
GUISE_API guise_result guise_create_as(guise_imp *imp, const guise_token *token, int dir_fd,
                                       const char *path, int flags, mode_t mode, int *fd_out);
/* mkdirat beneath dir_fd; mode may hold S_ISGID and S_ISVTX, not S_ISUID. */
GUISE_API guise_result guise_mkdir_as(guise_imp *imp, const guise_token *token, int dir_fd,
                                      const char *path, mode_t mode);
/* unlinkat beneath dir_fd; flags 0 or AT_REMOVEDIR. */
GUISE_API guise_result guise_unlink_as(guise_imp *imp, const guise_token *token, int dir_fd,
                                       const char *path, int flags);
/* renameat2 of from to to, both beneath dir_fd; flags 0, RENAME_NOREPLACE
 * or RENAME_EXCHANGE. A rename over an existing file replaces it
 * atomically (how a live playlist is published). */
GUISE_API guise_result guise_rename_as(guise_imp *imp, const guise_token *token, int dir_fd,
                                       const char *from, const char *to, unsigned flags);

/* The calling thread's current filesystem credentials, for tests and
 * assertions: fsuid and fsgid (compare the groups with getgroups(2)). */
GUISE_API void guise_imp_thread_creds(uid_t *fsuid, gid_t *fsgid);

#ifdef __cplusplus
}
#endif
#endif
