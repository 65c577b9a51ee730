/* guise: the impersonation engine - opening content as a token.
 *
 * Every path is resolved by the kernel with RESOLVE_BENEATH and
 * RESOLVE_NO_MAGICLINKS, so no component, symlink or ".." can leave the
 * root; the access decision itself is the kernel's too, made with the
 * token's credentials (mode bits, POSIX ACLs, LSMs), never re-implemented
 * here.
 */
#include "token/imp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct guise_imp {
    enum guise_imp_mode mode;
    /* AUTO chose io_uring: a thread that cannot get a ring of its own (fd
     * limit, memory) may use the syscall mechanism instead. */
    bool may_fall_back;
    struct imp_creds server;
};

static const char *const mode_names[] = {
    [GUISE_IMP_AUTO] = "auto",
    [GUISE_IMP_IO_URING] = "io_uring",
    [GUISE_IMP_SYSCALLS] = "syscalls",
    [GUISE_IMP_OFF] = "off",
};

const char *guise_imp_mode_name(enum guise_imp_mode mode)
{
    if ((unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0]))
        return mode_names[mode];
    return "unknown";
}

bool guise_imp_mode_parse(const char *s, enum guise_imp_mode *out)
{
    for (unsigned i = 0; s && i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
        if (strcmp(s, mode_names[i]) == 0) {
            if (out)
                *out = (enum guise_imp_mode)i;
            return true;
        }
    }
    return false;
}

enum guise_imp_mode guise_imp_mode_of(const guise_imp *imp)
{
    return imp->mode;
}

guise_result guise_imp_new(enum guise_imp_mode mode, guise_imp **out, const char **why)
{
    const char *reason = NULL;
    if (why)
        *why = NULL;
    if (!out)
        return GUISE_E_POINTER;
    *out = NULL;
    if ((unsigned)mode > GUISE_IMP_OFF)
        return GUISE_E_INVALIDARG;
    guise_imp *imp = calloc(1, sizeof(*imp));
    if (!imp)
        return GUISE_E_OUTOFMEMORY;
    imp->mode = mode;
    if (mode == GUISE_IMP_OFF) {
        *out = imp;
        return GUISE_S_OK;
    }

    guise_result r = imp_creds_check_caps(&reason);
    if (r == GUISE_S_OK)
        r = imp_creds_save(&imp->server);
    if (r == GUISE_S_OK)
        r = imp_creds_probe(&imp->server, &reason);
    if (r == GUISE_S_OK && mode != GUISE_IMP_SYSCALLS) {
        guise_result ur = imp_uring_probe(&imp->server, &reason);
        if (ur == GUISE_S_OK) {
            imp->mode = GUISE_IMP_IO_URING;
            imp->may_fall_back = mode == GUISE_IMP_AUTO;
        } else if (mode == GUISE_IMP_AUTO) {
            imp->mode = GUISE_IMP_SYSCALLS; /* reason says why io_uring was not used */
        } else {
            r = ur;
        }
    }
    if (why)
        *why = reason;
    if (r != GUISE_S_OK) {
        guise_imp_free(imp);
        return r;
    }
    *out = imp;
    return GUISE_S_OK;
}

void guise_imp_free(guise_imp *imp)
{
    if (!imp)
        return;
    imp_creds_release(&imp->server);
    free(imp);
}

static guise_result run_syscalls(const guise_imp *imp, const guise_token *t,
                                 const struct imp_op *op, int *res_out)
{
    sigset_t mask;
    guise_result r = imp_creds_enter(&imp->server, t, &mask);
    if (r != GUISE_S_OK)
        return r;
    int res = imp_sys_run(op);
    imp_creds_leave(&imp->server, &mask);
    if (res < 0)
        return GUISE_RESULT_FROM_ERRNO(-res);
    *res_out = res;
    return GUISE_S_OK;
}

guise_result imp_run_as(guise_imp *imp, const guise_token *t, const struct imp_op *op, int *res_out)
{
    if (imp->mode != GUISE_IMP_OFF) {
        if (!t)
            return GUISE_E_INVALIDARG;
        if (guise_token_uid(t) == 0 || guise_token_gid(t) == 0)
            return GUISE_E_ACCESSDENIED;
    }
    switch (imp->mode) {
    case GUISE_IMP_IO_URING: {
        guise_result r = imp_uring_run(&imp->server, t, op, res_out);
        if (r != GUISE_E_NOT_SUPPORTED || !imp->may_fall_back)
            return r;
        return run_syscalls(imp, t, op, res_out);
    }
    case GUISE_IMP_SYSCALLS:
        return run_syscalls(imp, t, op, res_out);
    case GUISE_IMP_OFF: {
        int res = imp_sys_run(op);
        if (res < 0)
            return GUISE_RESULT_FROM_ERRNO(-res);
        *res_out = res;
        return GUISE_S_OK;
    }
    case GUISE_IMP_AUTO:
        break;
    }
    return GUISE_E_UNEXPECTED;
}

const char *imp_relative(const char *path)
{
    while (*path == '/')
        path++;
    return *path ? path : ".";
}

static guise_result open_beneath(guise_imp *imp, const guise_token *t, int root_fd,
                                 const char *path, int flags, int *fd_out)
{
    if (!imp || !path || !fd_out)
        return GUISE_E_POINTER;
    *fd_out = -1;
    /* A negative root (AT_FDCWD included) would make "beneath" mean the
     * current directory, whatever that happens to be. */
    if (root_fd < 0)
        return GUISE_E_INVALIDARG;
    /* Opening content never creates a file, named or not. */
    if (flags & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY)))
        return GUISE_E_INVALIDARG;
    struct imp_op op = {
        .kind = IMP_OP_OPENAT2,
        .dirfd = root_fd,
        .path = imp_relative(path),
        .how =
            {
                .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
            },
    };
    return imp_run_as(imp, t, &op, fd_out);
}

guise_result guise_open_as(guise_imp *imp, const guise_token *token, int root_fd, const char *path,
                           int flags, int *fd_out)
{
    return open_beneath(imp, token, root_fd, path, flags, fd_out);
}

guise_result guise_stat_as(guise_imp *imp, const guise_token *token, int root_fd, const char *path,
                           struct stat *st)
{
    if (!st)
        return GUISE_E_POINTER;
    /* An O_PATH open checks exactly what fstatat() would - search rights on
     * every directory on the way - and reading the inode's attributes
     * through it needs no further right, so the server's own fstat() of
     * the token's descriptor answers as the token would. statx() has no
     * RESOLVE_BENEATH, which is why it is not used. */
    int fd;
    guise_result r = open_beneath(imp, token, root_fd, path, O_PATH, &fd);
    if (r != GUISE_S_OK)
        return r;
    if (fstat(fd, st) != 0)
        r = GUISE_RESULT_FROM_ERRNO(errno);
    close(fd);
    return r;
}
