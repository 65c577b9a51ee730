/* Unit tests: creating, renaming and removing files beneath a directory as
 * a token, with both mechanisms.
 *
 * Runs as root only. What a token creates must belong to its uid (and its
 * gid, or the directory's group when that is setgid), a token without the
 * write right must get EACCES and leave nothing behind, and no path may
 * reach outside the directory.
 */
#include "imp_fixture.h"
#include "nsswrap.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct mech {
    enum guise_imp_mode mode;
    guise_imp *imp;
    const char *unsupported;
};

static struct mech mech_uring = {.mode = GUISE_IMP_IO_URING};
static struct mech mech_syscalls = {.mode = GUISE_IMP_SYSCALLS};
/* Each test works in a directory of its own under root/w. */
static int test_no;

static bool io_uring_usable(void)
{
    struct io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) != 0)
        return false;
    int id = io_uring_register_personality(&ring);
    io_uring_queue_exit(&ring);
    return id >= 0;
}

static int mech_setup(void **state)
{
    struct mech *m = *state;
    const char *why = NULL;
    m->unsupported = NULL;
    guise_result r = guise_imp_new(m->mode, &m->imp, &why);
    if (r == GUISE_E_NOT_SUPPORTED && m->mode == GUISE_IMP_IO_URING && !io_uring_usable()) {
        m->unsupported = why ? why : "io_uring unavailable";
        return 0;
    }
    if (r != GUISE_S_OK)
        fail_msg("guise_imp_new(%s): %s (%s)", guise_imp_mode_name(m->mode), guise_result_name(r),
                 why ? why : "");
    return 0;
}

static int mech_teardown(void **state)
{
    struct mech *m = *state;
    guise_imp_free(m->imp);
    m->imp = NULL;
    return 0;
}

static guise_imp *imp_of(void **state)
{
    struct mech *m = *state;
    if (m->unsupported) {
        printf("io_uring variant skipped: %s\n", m->unsupported);
        skip();
    }
    return m->imp;
}

/* The test's working tree, relative to the fixture root:
 *   w<N>/            root 0755
 *   w<N>/alice/      alice:alice 0755     (alice may write, nobody else)
 *   w<N>/media/      root:media 02775     (media members may write; setgid)
 *   w<N>/acl/        alice:alice 0700 + default ACL u::rwx,g::rwx,o::---
 *   w<N>/locked/     root:root 0700       (no one may search it)
 * and the relative name of w<N> in *base. */
static void make_tree(char *base, size_t len)
{
    snprintf(base, len, "w%d", ++test_no);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fx.root, base);
    assert_int_equal(mkdir(path, 0755), 0);
    static const struct {
        const char *name;
        uid_t uid;
        gid_t gid;
        mode_t mode;
    } dirs[] = {
        {"alice", 2001, 2001, 0755},
        {"media", 0, 2100, 02775},
        {"acl", 2001, 2001, 0700},
        {"locked", 0, 0, 0700},
    };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s/%s", fx.root, base, dirs[i].name);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(chown(path, dirs[i].uid, dirs[i].gid), 0);
        assert_int_equal(chmod(path, dirs[i].mode), 0);
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "setfacl -m 'd:u::rwx,d:g::rwx,d:o::---' '%s/%s/acl'", fx.root,
             base);
    if (system(cmd) != 0)
        fail_msg("'%s' failed (package acl needed)", cmd);
}

static void stat_rel(const char *base, const char *rel, struct stat *st)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/%s", fx.root, base, rel);
    if (lstat(path, st) != 0)
        fail_msg("%s: %s", path, strerror(errno));
}

static bool exists_rel(const char *base, const char *rel)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s/%s", fx.root, base, rel);
    return lstat(path, &st) == 0;
}

static int base_fd(const char *base)
{
    int fd = openat(fx.root_fd, base, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* ---- create --------------------------------------------------------------- */

static void test_create_owned_by_token(void **state)
{
    guise_imp *imp = imp_of(state);
    char base[32];
    make_tree(base, sizeof(base));
    int dir = base_fd(base);
    struct stat st;
    int fd = -2;

    assert_int_equal(
        guise_create_as(imp, fx.tok[TOK_ALICE], dir, "alice/seg1.ts", O_WRONLY | O_EXCL, 0644, &fd),
        GUISE_S_OK);
    assert_true(fixture_creds_are_servers());
    assert_true(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    stat_rel(base, "alice/seg1.ts", &st);
    assert_int_equal(st.st_uid, 2001);
    assert_int_equal(st.st_gid, 2001);
    assert_int_equal(st.st_mode & 07777, 0644 & ~022); /* the umask main() set */
    assert_int_equal(st.st_size, 1);

    /* a media member writes into the setgid media directory: the file is
     * the member's, its group the directory's */
    assert_int_equal(guise_create_as(imp, fx.tok[TOK_CAROL], dir, "media/c.ts",
                                     O_WRONLY | O_CREAT | O_EXCL, 0666, &fd),
                     GUISE_S_OK);
    close(fd);
    stat_rel(base, "media/c.ts", &st);
    assert_int_equal(st.st_uid, 2003);
    assert_int_equal(st.st_gid, 2100);
    assert_int_equal(st.st_mode & 07777, 0644);

    /* the directory's default ACL decides instead of the umask */
    assert_int_equal(
        guise_create_as(imp, fx.tok[TOK_ALICE], dir, "acl/a.ts", O_WRONLY | O_EXCL, 0666, &fd),
        GUISE_S_OK);
    close(fd);
    stat_rel(base, "acl/a.ts", &st);
    assert_int_equal(st.st_uid, 2001);
    assert_int_equal(st.st_mode & 07777, 0660);

    /* O_TRUNC of the token's own file */
    assert_int_equal(guise_create_as(imp, fx.tok[TOK_ALICE], dir, "/alice/seg1.ts",
                                     O_WRONLY | O_TRUNC, 0644, &fd),
                     GUISE_S_OK);
    close(fd);
    stat_rel(base, "alice/seg1.ts", &st);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(
        guise_create_as(imp, fx.tok[TOK_ALICE], dir, "alice/seg1.ts", O_WRONLY | O_EXCL, 0644, &fd),
        GUISE_RESULT_FROM_ERRNO(EEXIST));
    assert_int_equal(fd, -1);
    close(dir);
}

static void test_create_refused_without_write(void **state)
{
    guise_imp *imp = imp_of(state);
    char base[32];
    make_tree(base, sizeof(base));
    int dir = base_fd(base);
    int fd = -2;
    /* bob has no write right in alice's directory, bob and nobody none in
     * media's, and no one may search locked/ */
    static const struct {
        int tok;
        const char *path;
    } refused[] = {
        {TOK_BOB, "alice/b.ts"},    {TOK_BOB, "media/b.ts"}, {TOK_NOBODY, "media/n.ts"},
        {TOK_ALICE, "locked/a.ts"}, {TOK_CAROL, "acl/c.ts"}, {TOK_MEDIA, "alice/m.ts"},
        {TOK_ALICE, "b.ts"}, /* w<N> itself is root's 0755 */
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        guise_result r = guise_create_as(imp, fx.tok[refused[i].tok], dir, refused[i].path,
                                         O_WRONLY | O_EXCL, 0644, &fd);
        if (r != GUISE_RESULT_FROM_ERRNO(EACCES))
            fail_msg("%s creating %s: %s, want EACCES", fx.tok_name[refused[i].tok],
                     refused[i].path, guise_result_name(r));
        assert_int_equal(fd, -1);
        assert_false(exists_rel(base, refused[i].path));
        assert_true(fixture_creds_are_servers());
    }
    /* truncating alice's file needs alice's right too */
    assert_int_equal(
        guise_create_as(imp, fx.tok[TOK_ALICE], dir, "alice/own.ts", O_WRONLY, 0600, &fd),
        GUISE_S_OK);
    close(fd);
    assert_int_equal(
        guise_create_as(imp, fx.tok[TOK_BOB], dir, "alice/own.ts", O_WRONLY | O_TRUNC, 0600, &fd),
        GUISE_RESULT_FROM_ERRNO(EACCES));
    close(dir);
}

static void test_create_never_escapes(void **state)
{
    guise_imp *imp = imp_of(state);
    /* outside.txt and the directory above the root must see no event */
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(in >= 0);
    assert_true(inotify_add_watch(in, fx.outside, IN_OPEN | IN_MODIFY | IN_ATTRIB) >= 0);
    assert_true(inotify_add_watch(in, fx.outer, IN_CREATE | IN_OPEN | IN_DELETE | IN_MOVE) >= 0);
    guise_imp *off = NULL;
    assert_int_equal(guise_imp_new(GUISE_IMP_OFF, &off, NULL), GUISE_S_OK);
    static const char *const paths[] = {
        "../evil",        "../outside.txt", "pubdir/../../evil", "abs-link",     "rel-link",
        "pubdir/up-link", "rel-link/x",     "proc-link",         "../root/evil", /* even a way back
                                                                                    in is an escape
                                                                                  */
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (int as_server = 0; as_server < 2; as_server++) {
            guise_imp *e = as_server ? off : imp;
            const guise_token *t = as_server ? NULL : fx.tok[TOK_ALICE];
            int fd = -2;
            guise_result r =
                guise_create_as(e, t, fx.root_fd, paths[i], O_WRONLY | O_TRUNC, 0666, &fd);
            if (r != GUISE_RESULT_FROM_ERRNO(EXDEV) && r != GUISE_RESULT_FROM_ERRNO(ELOOP))
                fail_msg("create %s: %s", paths[i], guise_result_name(r));
            assert_int_equal(fd, -1);
            r = guise_mkdir_as(e, t, fx.root_fd, paths[i], 0755);
            /* mkdir does not follow its last component: a symlink there
             * already exists */
            if (r != GUISE_RESULT_FROM_ERRNO(EXDEV) && r != GUISE_RESULT_FROM_ERRNO(EEXIST))
                fail_msg("mkdir %s: %s", paths[i], guise_result_name(r));
            r = guise_rename_as(e, t, fx.root_fd, "pub.txt", paths[i], RENAME_NOREPLACE);
            if (r != GUISE_RESULT_FROM_ERRNO(EXDEV) && r != GUISE_RESULT_FROM_ERRNO(EEXIST))
                fail_msg("rename to %s: %s", paths[i], guise_result_name(r));
        }
    }
    char buf[4096];
    assert_int_equal(read(in, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    close(in);
    guise_imp_free(off);
    struct stat st;
    assert_int_equal(stat(fx.outside, &st), 0);
    assert_int_equal(st.st_size, 8);
}

/* ---- mkdir, rename, unlink ---------------------------------------------- */

static void test_mkdir_as(void **state)
{
    guise_imp *imp = imp_of(state);
    char base[32];
    make_tree(base, sizeof(base));
    int dir = base_fd(base);
    struct stat st;
    assert_int_equal(guise_mkdir_as(imp, fx.tok[TOK_ALICE], dir, "alice/live", 0750), GUISE_S_OK);
    assert_int_equal(guise_mkdir_as(imp, fx.tok[TOK_ALICE], dir, "alice/live/sub/", 0700),
                     GUISE_S_OK);
    stat_rel(base, "alice/live", &st);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_uid, 2001);
    assert_int_equal(st.st_gid, 2001);
    assert_int_equal(st.st_mode & 07777, 0750);
    stat_rel(base, "alice/live/sub", &st);
    assert_int_equal(st.st_uid, 2001);
    /* in the setgid directory the new one inherits group and setgid bit */
    assert_int_equal(guise_mkdir_as(imp, fx.tok[TOK_ERIN], dir, "media/e", 0755), GUISE_S_OK);
    stat_rel(base, "media/e", &st);
    assert_int_equal(st.st_uid, 2005);
    assert_int_equal(st.st_gid, 2100);
    assert_true(st.st_mode & S_ISGID);

    assert_int_equal(guise_mkdir_as(imp, fx.tok[TOK_BOB], dir, "alice/b", 0755),
                     GUISE_RESULT_FROM_ERRNO(EACCES));
    assert_int_equal(guise_mkdir_as(imp, fx.tok[TOK_ALICE], dir, "locked/a", 0755),
                     GUISE_RESULT_FROM_ERRNO(EACCES));
    assert_false(exists_rel(base, "alice/b"));
    assert_int_equal(guise_mkdir_as(imp, fx.tok[TOK_ALICE], dir, "alice/live", 0755),
                     GUISE_RESULT_FROM_ERRNO(EEXIST));
    assert_true(fixture_creds_are_servers());
    close(dir);
}

static void test_rename_and_unlink_as(void **state)
{
    guise_imp *imp = imp_of(state);
    char base[32];
    make_tree(base, sizeof(base));
    int dir = base_fd(base);
    int fd;
    struct stat st;
    guise_token *alice = fx.tok[TOK_ALICE], *bob = fx.tok[TOK_BOB];
    assert_int_equal(guise_create_as(imp, alice, dir, "alice/index.m3u8.tmp", O_WRONLY, 0644, &fd),
                     GUISE_S_OK);
    assert_int_equal(write(fd, "new", 3), 3);
    close(fd);
    assert_int_equal(guise_create_as(imp, alice, dir, "alice/index.m3u8", O_WRONLY, 0644, &fd),
                     GUISE_S_OK);
    close(fd);

    /* bob may neither replace alice's playlist nor remove it */
    assert_int_equal(guise_rename_as(imp, bob, dir, "alice/index.m3u8.tmp", "alice/index.m3u8", 0),
                     GUISE_RESULT_FROM_ERRNO(EACCES));
    assert_int_equal(guise_unlink_as(imp, bob, dir, "alice/index.m3u8", 0),
                     GUISE_RESULT_FROM_ERRNO(EACCES));
    assert_true(exists_rel(base, "alice/index.m3u8"));
    /* alice replaces it atomically */
    assert_int_equal(
        guise_rename_as(imp, alice, dir, "alice/index.m3u8.tmp", "alice/index.m3u8", 0),
        GUISE_S_OK);
    stat_rel(base, "alice/index.m3u8", &st);
    assert_int_equal(st.st_size, 3);
    assert_int_equal(st.st_uid, 2001);
    assert_false(exists_rel(base, "alice/index.m3u8.tmp"));
    assert_int_equal(guise_create_as(imp, alice, dir, "alice/other", O_WRONLY, 0644, &fd),
                     GUISE_S_OK);
    close(fd);
    assert_int_equal(
        guise_rename_as(imp, alice, dir, "alice/other", "alice/index.m3u8", RENAME_NOREPLACE),
        GUISE_RESULT_FROM_ERRNO(EEXIST));
    /* a move into a directory alice may not write */
    assert_int_equal(guise_rename_as(imp, alice, dir, "alice/other", "locked/other", 0),
                     GUISE_RESULT_FROM_ERRNO(EACCES));

    /* unlink removes a symlink, never what it points to */
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/alice/to-outside", fx.root, base);
    assert_int_equal(symlink(fx.outside, path), 0);
    assert_int_equal(lchown(path, 2001, 2001), 0);
    assert_int_equal(guise_unlink_as(imp, alice, dir, "alice/to-outside", 0), GUISE_S_OK);
    assert_false(exists_rel(base, "alice/to-outside"));
    assert_int_equal(stat(fx.outside, &st), 0);

    assert_int_equal(guise_unlink_as(imp, alice, dir, "alice/index.m3u8", 0), GUISE_S_OK);
    assert_false(exists_rel(base, "alice/index.m3u8"));
    assert_int_equal(guise_mkdir_as(imp, alice, dir, "alice/d", 0755), GUISE_S_OK);
    assert_int_equal(guise_unlink_as(imp, alice, dir, "alice/d", 0),
                     GUISE_RESULT_FROM_ERRNO(EISDIR));
    assert_int_equal(guise_unlink_as(imp, bob, dir, "alice/d", AT_REMOVEDIR),
                     GUISE_RESULT_FROM_ERRNO(EACCES));
    assert_int_equal(guise_unlink_as(imp, alice, dir, "alice/d", AT_REMOVEDIR), GUISE_S_OK);
    assert_false(exists_rel(base, "alice/d"));
    assert_true(fixture_creds_are_servers());
    close(dir);
}

/* Accounts named as sssd and winbind name them, two of them with the
 * shared primary group users (100), impersonate as themselves. */
static void test_directory_style_accounts(void **state)
{
    guise_imp *imp = imp_of(state);
    char base[32];
    make_tree(base, sizeof(base));
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/shared", fx.root, base);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(chown(path, 0, 2200), 0);
    assert_int_equal(chmod(path, 0770), 0);
    snprintf(path, sizeof(path), "%s/%s/users", fx.root, base);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(chown(path, 0, 100), 0);
    assert_int_equal(chmod(path, 0770), 0);
    int dir = base_fd(base);
    static const struct {
        const char *name;
        uid_t uid;
        gid_t gid;
        bool in_users;
    } accounts[] = {
        {"alice@example.org", 2010, 100, true},
        {"EXAMPLE\\alice", 2011, 2011, false},
        {"Mixed.Case", 2012, 100, true},
    };
    for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
        guise_token *t = NULL;
        assert_int_equal(guise_token_for_account(fx.store, accounts[i].name, &t), GUISE_S_OK);
        char rel[64];
        snprintf(rel, sizeof(rel), "shared/f%zu", i);
        int fd = -1;
        assert_int_equal(guise_create_as(imp, t, dir, rel, O_WRONLY | O_EXCL, 0640, &fd),
                         GUISE_S_OK);
        close(fd);
        struct stat st;
        stat_rel(base, rel, &st);
        assert_int_equal(st.st_uid, accounts[i].uid);
        assert_int_equal(st.st_gid, accounts[i].gid);
        snprintf(rel, sizeof(rel), "users/d%zu", i);
        guise_result r = guise_mkdir_as(imp, t, dir, rel, 0750);
        assert_int_equal(r, accounts[i].in_users ? GUISE_S_OK : GUISE_RESULT_FROM_ERRNO(EACCES));
        /* what one of them made, another member of shared cannot open
         * for writing (0640), but may read through the group */
        snprintf(rel, sizeof(rel), "shared/f%zu", i);
        guise_token *other = NULL;
        assert_int_equal(guise_token_for_account(fx.store, accounts[(i + 1) % 3].name, &other),
                         GUISE_S_OK);
        assert_int_equal(guise_open_as(imp, other, dir, rel, O_WRONLY, &fd),
                         GUISE_RESULT_FROM_ERRNO(EACCES));
        guise_token_unref(other);
        guise_token_unref(t);
        assert_true(fixture_creds_are_servers());
    }
    close(dir);
}

static void test_write_arguments(void **state)
{
    guise_imp *imp = imp_of(state);
    char base[32];
    make_tree(base, sizeof(base));
    int dir = base_fd(base);
    guise_token *alice = fx.tok[TOK_ALICE];
    int fd = -2;
    /* read-only, set-id, O_TMPFILE, O_PATH, a negative or AT_FDCWD root */
    assert_int_equal(guise_create_as(imp, alice, dir, "alice/a", O_RDONLY, 0644, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(fd, -1);
    assert_int_equal(guise_create_as(imp, alice, dir, "alice/a", O_WRONLY, 04755, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(guise_create_as(imp, alice, dir, "alice/a", O_WRONLY, 02755, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(guise_create_as(imp, alice, dir, "alice", O_TMPFILE | O_WRONLY, 0600, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(guise_create_as(imp, alice, AT_FDCWD, "a", O_WRONLY, 0600, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(guise_create_as(imp, NULL, dir, "alice/a", O_WRONLY, 0600, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(guise_create_as(imp, alice, dir, "alice/a", O_WRONLY, 0600, NULL),
                     GUISE_E_POINTER);
    assert_int_equal(guise_mkdir_as(imp, alice, dir, "alice/s", 04755), GUISE_E_INVALIDARG);
    assert_int_equal(guise_mkdir_as(imp, alice, -1, "alice/s", 0755), GUISE_E_INVALIDARG);
    /* last components that are not a plain name */
    static const char *const bad[] = {"", "/", ".", "alice/.", "alice/..", "..", "alice/../"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (guise_mkdir_as(imp, alice, dir, bad[i], 0755) != GUISE_E_INVALIDARG ||
            guise_unlink_as(imp, alice, dir, bad[i], AT_REMOVEDIR) != GUISE_E_INVALIDARG ||
            guise_rename_as(imp, alice, dir, bad[i], "alice/x", 0) != GUISE_E_INVALIDARG ||
            guise_rename_as(imp, alice, dir, "alice/x", bad[i], 0) != GUISE_E_INVALIDARG)
            fail_msg("\"%s\" accepted as a name", bad[i]);
    }
    assert_int_equal(guise_unlink_as(imp, alice, dir, "alice/x", AT_SYMLINK_NOFOLLOW),
                     GUISE_E_INVALIDARG);
    assert_int_equal(guise_rename_as(imp, alice, dir, "alice/x", "alice/y", RENAME_WHITEOUT),
                     GUISE_E_INVALIDARG);
    /* a name as long as PATH_MAX is the kernel's ENAMETOOLONG, not an overflow */
    char *huge = malloc(8192);
    assert_non_null(huge);
    memset(huge, 'a', 8191);
    huge[8191] = '\0';
    assert_int_equal(guise_mkdir_as(imp, alice, dir, huge, 0755),
                     GUISE_RESULT_FROM_ERRNO(ENAMETOOLONG));
    assert_int_equal(guise_create_as(imp, alice, dir, huge, O_WRONLY, 0600, &fd),
                     GUISE_RESULT_FROM_ERRNO(ENAMETOOLONG));
    free(huge);
    assert_true(fixture_creds_are_servers());
    close(dir);
}

#define BOTH(fn)                                                                                   \
    {#fn " [io_uring]", fn, mech_setup, mech_teardown, &mech_uring},                               \
    {                                                                                              \
#fn " [syscalls]", fn, mech_setup, mech_teardown, &mech_syscalls                           \
    }

int main(int argc, char **argv)
{
    (void)argc;
    fixture_require_root();
    nsswrap_init(argv);
    umask(022);
    const struct CMUnitTest tests[] = {
        BOTH(test_create_owned_by_token), BOTH(test_create_refused_without_write),
        BOTH(test_create_never_escapes),  BOTH(test_mkdir_as),
        BOTH(test_rename_and_unlink_as),  BOTH(test_directory_style_accounts),
        BOTH(test_write_arguments),
    };
    int failed = cmocka_run_group_tests_name("imp-write", tests, fixture_setup, fixture_teardown);
    return failed ? 1 : 0;
}
