/* guise: creating, renaming and removing files beneath a directory as a
 * token.
 *
 * openat2(2) can create with RESOLVE_BENEATH directly. mkdirat, unlinkat
 * and renameat have no resolve flags, so each path is split: its parent is
 * opened as the token with openat2(O_PATH | O_DIRECTORY, RESOLVE_BENEATH)
 * - which checks the token's search right on every directory on the way
 * and refuses any escape - and the operation then acts, as the token, on a
 * single plain name inside that descriptor, a last component the kernel
 * never follows. No step ever resolves a path with the server's own rights.
 */
#include "token/imp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

/* A path split into the directory to open beneath the root and the plain
 * name that names the entry in it. */
struct split_path {
    char parent[PATH_MAX];
    const char *base;
};

static guise_result split(const char *path, struct split_path *sp)
{
    path = imp_relative(path);
    size_t len = strlen(path);
    if (len + 3 > sizeof(sp->parent)) /* room for a "." parent before the base */
        return GUISE_RESULT_FROM_ERRNO(ENAMETOOLONG);
    memcpy(sp->parent, path, len + 1);
    /* "a/b/" names b: trailing slashes are not a component */
    while (len > 1 && sp->parent[len - 1] == '/')
        sp->parent[--len] = '\0';
    char *slash = strrchr(sp->parent, '/');
    if (slash) {
        *slash = '\0';
        sp->base = slash + 1;
    } else {
        sp->base = sp->parent;
    }
    if (!*sp->base || strcmp(sp->base, ".") == 0 || strcmp(sp->base, "..") == 0 ||
        strchr(sp->base, '/'))
        return GUISE_E_INVALIDARG;
    if (!slash) {
        /* the base stays in the buffer; the parent is the root itself */
        memmove(sp->parent + 2, sp->parent, len + 1);
        sp->parent[0] = '.';
        sp->parent[1] = '\0';
        sp->base = sp->parent + 2;
    } else if (!sp->parent[0]) {
        strcpy(sp->parent, ".");
    }
    return GUISE_S_OK;
}

/* Opens the parent directory of sp beneath root_fd as the token. */
static guise_result open_parent(guise_imp *imp, const guise_token *t, int root_fd,
                                const struct split_path *sp, int *fd_out)
{
    struct imp_op op = {
        .kind = IMP_OP_OPENAT2,
        .dirfd = root_fd,
        .path = sp->parent,
        .how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = BENEATH},
    };
    return imp_run_as(imp, t, &op, fd_out);
}

static guise_result check_common(const guise_imp *imp, int dir_fd, const char *path)
{
    if (!imp || !path)
        return GUISE_E_POINTER;
    /* AT_FDCWD would make "beneath" mean the current directory. */
    if (dir_fd < 0)
        return GUISE_E_INVALIDARG;
    return GUISE_S_OK;
}

guise_result guise_create_as(guise_imp *imp, const guise_token *token, int dir_fd, const char *path,
                             int flags, mode_t mode, int *fd_out)
{
    if (!fd_out)
        return GUISE_E_POINTER;
    *fd_out = -1;
    guise_result r = check_common(imp, dir_fd, path);
    if (r != GUISE_S_OK)
        return r;
    int access = flags & O_ACCMODE;
    if ((access != O_WRONLY && access != O_RDWR) || (flags & (O_TMPFILE & ~O_DIRECTORY)) ||
        (flags & O_PATH) || (mode & ~(mode_t)07777) || (mode & (S_ISUID | S_ISGID)))
        return GUISE_E_INVALIDARG;
    struct imp_op op = {
        .kind = IMP_OP_OPENAT2,
        .dirfd = dir_fd,
        .path = imp_relative(path),
        .how =
            {
                .flags = (uint64_t)(unsigned)(flags | O_CREAT | O_CLOEXEC),
                .mode = mode,
                .resolve = BENEATH,
            },
    };
    return imp_run_as(imp, token, &op, fd_out);
}

guise_result guise_mkdir_as(guise_imp *imp, const guise_token *token, int dir_fd, const char *path,
                            mode_t mode)
{
    guise_result r = check_common(imp, dir_fd, path);
    if (r != GUISE_S_OK)
        return r;
    if ((mode & ~(mode_t)07777) || (mode & S_ISUID))
        return GUISE_E_INVALIDARG;
    struct split_path sp;
    r = split(path, &sp);
    int parent = -1;
    if (r == GUISE_S_OK)
        r = open_parent(imp, token, dir_fd, &sp, &parent);
    if (r != GUISE_S_OK)
        return r;
    struct imp_op op = {.kind = IMP_OP_MKDIRAT, .dirfd = parent, .path = sp.base, .mode = mode};
    int ignored;
    r = imp_run_as(imp, token, &op, &ignored);
    close(parent);
    return r;
}

guise_result guise_unlink_as(guise_imp *imp, const guise_token *token, int dir_fd, const char *path,
                             int flags)
{
    guise_result r = check_common(imp, dir_fd, path);
    if (r != GUISE_S_OK)
        return r;
    if (flags & ~AT_REMOVEDIR)
        return GUISE_E_INVALIDARG;
    struct split_path sp;
    r = split(path, &sp);
    int parent = -1;
    if (r == GUISE_S_OK)
        r = open_parent(imp, token, dir_fd, &sp, &parent);
    if (r != GUISE_S_OK)
        return r;
    struct imp_op op = {
        .kind = IMP_OP_UNLINKAT, .dirfd = parent, .path = sp.base, .flags = (unsigned)flags};
    int ignored;
    r = imp_run_as(imp, token, &op, &ignored);
    close(parent);
    return r;
}

guise_result guise_rename_as(guise_imp *imp, const guise_token *token, int dir_fd, const char *from,
                             const char *to, unsigned flags)
{
    guise_result r = check_common(imp, dir_fd, from);
    if (r == GUISE_S_OK)
        r = check_common(imp, dir_fd, to);
    if (r != GUISE_S_OK)
        return r;
    if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
        return GUISE_E_INVALIDARG;
    struct split_path *sp = malloc(2 * sizeof(*sp));
    if (!sp)
        return GUISE_E_OUTOFMEMORY;
    int from_dir = -1, to_dir = -1;
    r = split(from, &sp[0]);
    if (r == GUISE_S_OK)
        r = split(to, &sp[1]);
    if (r == GUISE_S_OK)
        r = open_parent(imp, token, dir_fd, &sp[0], &from_dir);
    if (r == GUISE_S_OK)
        r = open_parent(imp, token, dir_fd, &sp[1], &to_dir);
    if (r == GUISE_S_OK) {
        struct imp_op op = {
            .kind = IMP_OP_RENAMEAT,
            .dirfd = from_dir,
            .path = sp[0].base,
            .dirfd2 = to_dir,
            .path2 = sp[1].base,
            .flags = flags,
        };
        int ignored;
        r = imp_run_as(imp, token, &op, &ignored);
    }
    if (from_dir >= 0)
        close(from_dir);
    if (to_dir >= 0)
        close(to_dir);
    free(sp);
    return r;
}
