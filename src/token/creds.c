/* guise: per-thread switch of filesystem credentials with raw syscalls.
 *
 * Linux keeps credentials per thread; only the C library makes setuid()
 * and setgroups() process-wide, by signalling every thread. Calling the
 * system calls directly changes the calling thread alone, which is what
 * lets one worker open a file as a client while the others go on as the
 * server. Only the filesystem ids and groups change: the real and effective
 * uid stay the server's, and the kernel drops the capabilities that bypass
 * file permissions (CAP_DAC_OVERRIDE, ...) from the effective set while the
 * fsuid is not 0, so the file's mode bits and ACLs decide.
 */
#include "token/imp_internal.h"
#include "token/token_internal.h"

#include <errno.h>
#include <linux/securebits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* 32-bit x86 and arm have 16-bit legacy calls; the *32 ones take full ids. */
#ifdef SYS_setfsuid32
#define NR_SETFSUID  SYS_setfsuid32
#define NR_SETFSGID  SYS_setfsgid32
#define NR_SETGROUPS SYS_setgroups32
#define NR_GETGROUPS SYS_getgroups32
#else
#define NR_SETFSUID  SYS_setfsuid
#define NR_SETFSGID  SYS_setfsgid
#define NR_SETGROUPS SYS_setgroups
#define NR_GETGROUPS SYS_getgroups
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* setfsuid() cannot report failure: it returns the previous fsuid whatever
 * happens. Asking with an invalid id (-1) changes nothing and returns the
 * current one, which is how every switch is verified. */
static uid_t sys_setfsuid(uid_t uid)
{
    return (uid_t)syscall(NR_SETFSUID, uid);
}

static gid_t sys_setfsgid(gid_t gid)
{
    return (gid_t)syscall(NR_SETFSGID, gid);
}

static int sys_setgroups(size_t n, const gid_t *groups)
{
    return (int)syscall(NR_SETGROUPS, n, groups);
}

/* The seccomp filter (sandbox/seccomp_filter.c) sees only the pointer to
 * the list, never its contents: the check that a token's list holds no
 * gid 0 is made here, in user space, before the call. (The list restored
 * on leaving is the server's own, saved when the engine was made: a
 * switched server's, which sandbox/privilege.c refused to give gid 0.) */
static int sys_setgroups_token(size_t n, const gid_t *groups)
{
    for (size_t i = 0; i < n; i++) {
        if (groups[i] == 0) {
            errno = EPERM;
            return -1;
        }
    }
    return sys_setgroups(n, groups);
}

void guise_imp_thread_creds(uid_t *fsuid, gid_t *fsgid)
{
    if (fsuid)
        *fsuid = sys_setfsuid((uid_t)-1);
    if (fsgid)
        *fsgid = sys_setfsgid((gid_t)-1);
}

static bool cap_is_effective(cap_t caps, cap_value_t cap)
{
    cap_flag_value_t v = CAP_CLEAR;
    return cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}

guise_result imp_creds_check_caps(const char **why)
{
    cap_t caps = cap_get_proc();
    if (!caps) {
        *why = "cannot read the process capabilities (cap_get_proc failed)";
        return GUISE_E_FAIL;
    }
    bool ok = cap_is_effective(caps, CAP_SETUID) && cap_is_effective(caps, CAP_SETGID);
    cap_free(caps);
    if (!ok) {
        *why = "impersonation needs CAP_SETUID and CAP_SETGID in the effective set "
               "(start guised as root - it switches to server-account and keeps just "
               "those - or grant them, or set impersonation to off)";
        return GUISE_E_ACCESSDENIED;
    }
    return GUISE_S_OK;
}

guise_result imp_creds_save(struct imp_creds *c)
{
    memset(c, 0, sizeof(*c));
    c->fsuid = sys_setfsuid((uid_t)-1);
    c->fsgid = sys_setfsgid((gid_t)-1);
    for (;;) {
        long n = syscall(NR_GETGROUPS, 0, NULL);
        if (n < 0)
            return GUISE_RESULT_FROM_ERRNO(errno);
        gid_t *groups = calloc((size_t)n + 1, sizeof(gid_t));
        if (!groups)
            return GUISE_E_OUTOFMEMORY;
        long got = syscall(NR_GETGROUPS, n, groups);
        if (got >= 0) {
            c->groups = groups;
            c->ngroups = (size_t)got;
            return GUISE_S_OK;
        }
        free(groups);
        if (errno != EINVAL) /* EINVAL: the list grew in between; ask again */
            return GUISE_RESULT_FROM_ERRNO(errno);
    }
}

void imp_creds_release(struct imp_creds *c)
{
    free(c->groups);
    c->groups = NULL;
    c->ngroups = 0;
}

/* Written with write(2) alone: we may be about to abort() with the wrong
 * credentials and must not depend on stdio state. */
static void die(const char *msg)
{
    ssize_t ignored = write(STDERR_FILENO, msg, strlen(msg));
    (void)ignored;
    abort();
}

void imp_creds_leave(const struct imp_creds *server, const sigset_t *saved_mask)
{
    /* The reverse order of imp_creds_enter(). Returning the fsuid to 0
     * also gives the DAC capabilities back to the effective set. */
    sys_setfsuid(server->fsuid);
    sys_setfsgid(server->fsgid);
    if (sys_setgroups(server->ngroups, server->groups) != 0)
        die("guise: FATAL: cannot restore the server's groups after impersonation\n");
    if (sys_setfsuid((uid_t)-1) != server->fsuid || sys_setfsgid((gid_t)-1) != server->fsgid)
        die("guise: FATAL: cannot restore the server's fsuid/fsgid after impersonation\n");
    pthread_sigmask(SIG_SETMASK, saved_mask, NULL);
}

guise_result imp_creds_enter(const struct imp_creds *server, const guise_token *t,
                             sigset_t *saved_mask)
{
    uid_t uid = guise_token_uid(t);
    gid_t gid = guise_token_gid(t);
    /* Tokens cannot hold root's ids; refuse again here so that no bug
     * elsewhere can ever make a client act as root. */
    if (uid == 0 || gid == 0)
        return GUISE_E_ACCESSDENIED;

    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, saved_mask);

    const gid_t *groups;
    size_t n = guise_token_groups(t, &groups);
    if (sys_setgroups_token(n, groups) != 0) {
        int err = errno;
        imp_creds_leave(server, saved_mask);
        return err == EPERM ? GUISE_E_ACCESSDENIED : GUISE_RESULT_FROM_ERRNO(err);
    }
    sys_setfsgid(gid);
    sys_setfsuid(uid);
    if (sys_setfsuid((uid_t)-1) != uid || sys_setfsgid((gid_t)-1) != gid) {
        imp_creds_leave(server, saved_mask);
        return GUISE_E_ACCESSDENIED;
    }
    return GUISE_S_OK;
}

guise_result imp_creds_probe(const struct imp_creds *server, const char **why)
{
    /* With SECBIT_NO_SETUID_FIXUP the kernel keeps the DAC capabilities when
     * the fsuid leaves 0, and a server not running as root but holding them
     * keeps them anyway: in both cases the "impersonated" open would ignore
     * file permissions. Check what the kernel actually does. */
    int bits = prctl(PR_GET_SECUREBITS);
    if (bits > 0 && (bits & SECBIT_NO_SETUID_FIXUP)) {
        *why = "SECBIT_NO_SETUID_FIXUP is set: changing the fsuid would not drop "
               "CAP_DAC_OVERRIDE, so impersonation could not restrict access";
        return GUISE_E_ACCESSDENIED;
    }
    guise_token *nobody =
        guise_token_make("nobody", GUISE_NOBODY_UID, GUISE_NOBODY_UID, NULL, 0, false);
    if (!nobody)
        return GUISE_E_OUTOFMEMORY;
    sigset_t mask;
    guise_result r = imp_creds_enter(server, nobody, &mask);
    if (r != GUISE_S_OK) {
        guise_token_unref(nobody);
        *why = "the kernel refused to switch the thread's fsuid/fsgid/groups";
        return r;
    }
    cap_t caps = cap_get_proc();
    bool bypass = !caps || cap_is_effective(caps, CAP_DAC_OVERRIDE) ||
                  cap_is_effective(caps, CAP_DAC_READ_SEARCH) || cap_is_effective(caps, CAP_FOWNER);
    if (caps)
        cap_free(caps);
    imp_creds_leave(server, &mask);
    guise_token_unref(nobody);
    if (bypass) {
        *why = "CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH or CAP_FOWNER stays effective while "
               "impersonating (server not running as uid 0 but holding them?): file "
               "permissions would be bypassed";
        return GUISE_E_ACCESSDENIED;
    }
    return GUISE_S_OK;
}

static long sys_op(const struct imp_op *op)
{
    switch (op->kind) {
    case IMP_OP_OPENAT2:
        return syscall(SYS_openat2, op->dirfd, op->path, &op->how, sizeof(op->how));
    case IMP_OP_MKDIRAT:
        return syscall(SYS_mkdirat, op->dirfd, op->path, op->mode);
    case IMP_OP_UNLINKAT:
        return syscall(SYS_unlinkat, op->dirfd, op->path, (int)op->flags);
    case IMP_OP_RENAMEAT:
        return syscall(SYS_renameat2, op->dirfd, op->path, op->dirfd2, op->path2, op->flags);
    }
    errno = EINVAL;
    return -1;
}

int imp_sys_run(const struct imp_op *op)
{
    for (int tries = 0;; tries++) {
        long res = sys_op(op);
        if (res >= 0)
            return (int)res;
        if ((errno != EAGAIN && errno != EINTR) || tries >= 16)
            return -errno;
    }
}
