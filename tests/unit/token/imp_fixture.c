/* Test helper: the content tree and accounts the impersonation tests use. */
#include "imp_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture fx = {.root_fd = -1};

static gid_t server_groups[256];
static long server_ngroups;
static uid_t server_fsuid;
static gid_t server_fsgid;

#define R   O_RDONLY
#define DIR (O_RDONLY | O_DIRECTORY)

/*                       alice bob carol dave erin frank media nobody */
const struct expect fixture_table[] = {
    {"pub.txt", R, "++++++++"},
    {"secret.txt", R, "AAAAAAAA"},
    {"alice.txt", R, "+AAAAAAA"},
    {"media.txt", R, "+++A+A+A"},        /* bob:media 0640 */
    {"owner-denied.txt", R, "++A+++++"}, /* carol:carol 0064: the owner class has nothing */
    {"group-denied.txt", R, "A+A+A+A+"}, /* root:media 0604: media members are refused */
    {"acl-allow.txt", R, "AA++A+AA"},    /* 0600 + user:dave:r, group:staff:r */
    {"acl-deny.txt", R, "+A++++++"},     /* 0644 + user:bob:--- */
    {"locked/inner.txt", R, "AAAAAAAA"}, /* locked/ is 0700 */
    {"locked/missing", R, "AAAAAAAA"},   /* no existence leak */
    {"grpdir/f.txt", R, "+A+A+A+A"},     /* grpdir/ root:media 0710 */
    {"listonly", DIR, "++++++++"},       /* 0744: readable, not searchable */
    {"listonly/f.txt", R, "AAAAAAAA"},
    {"xonly", DIR, "AAAAAAAA"}, /* 0711: searchable, not readable */
    {"xonly/f.txt", R, "++++++++"},
    {"acldir/f.txt", R, "+A+AA+AA"}, /* 0700 + user:alice:x, group:staff:x */
    {"pub.txt", O_WRONLY, "AAAAAAAA"},
    {"alice.txt", O_WRONLY, "+AAAAAAA"},
    {"media-rw.txt", O_RDWR, "+A+A+A+A"}, /* root:media 0660 */
    /* O_TRUNC makes io_uring hand the open to a worker thread: the
     * personality must hold there too */
    {"pub.txt", O_WRONLY | O_TRUNC, "AAAAAAAA"},
    {"alice.txt", O_WRONLY | O_TRUNC, "+AAAAAAA"},
    {"grpdir/f.txt", O_RDONLY | O_TRUNC, "AAAAAAAA"}, /* O_TRUNC needs write */
    {"media-rw.txt", O_RDONLY | O_TRUNC, "+A+A+A+A"},
    {"missing.txt", R, "NNNNNNNN"},
    {"", DIR, "++++++++"},
    {"/pub.txt", R, "++++++++"},
    {"///pub.txt", R, "++++++++"},
    {"pubdir/../pub.txt", R, "++++++++"},
    {"link-ok", R, "++++++++"},
    {"link-secret", R, "AAAAAAAA"},
    {"link-locked", R, "AAAAAAAA"},
    {"..", DIR, "XXXXXXXX"},
    {"../outside.txt", R, "XXXXXXXX"},
    {"pubdir/../../outside.txt", R, "XXXXXXXX"},
    {"abs-link", R, "XXXXXXXX"},
    {"rel-link", R, "XXXXXXXX"},
    {"deep-link", R, "XXXXXXXX"},
    {"proc-link", R, "XXXXXXXX"},
};
const size_t fixture_table_len = sizeof(fixture_table) / sizeof(fixture_table[0]);

const char *const fixture_escapes[] = {
    "..",
    "../outside.txt",
    "pubdir/../../outside.txt",
    "/../outside.txt",
    "abs-link",
    "rel-link",
    "deep-link",
    "proc-link",
    "pubdir/up-link",
};
const size_t fixture_escapes_len = sizeof(fixture_escapes) / sizeof(fixture_escapes[0]);

void fixture_require_root(void)
{
    cap_t caps = cap_get_proc();
    cap_flag_value_t su = CAP_CLEAR, sg = CAP_CLEAR;
    if (caps) {
        cap_get_flag(caps, CAP_SETUID, CAP_EFFECTIVE, &su);
        cap_get_flag(caps, CAP_SETGID, CAP_EFFECTIVE, &sg);
        cap_free(caps);
    }
    if (geteuid() != 0 || su != CAP_SET || sg != CAP_SET) {
        printf("SKIP: impersonation tests need root (CAP_SETUID/CAP_SETGID)\n");
        exit(77);
    }
}

static void path_of(char *buf, size_t len, const char *rel)
{
    int n = snprintf(buf, len, "%s/%s", fx.root, rel);
    assert_true(n > 0 && (size_t)n < len);
}

static void mk_file(const char *rel, uid_t uid, gid_t gid, mode_t mode)
{
    char path[512];
    path_of(path, sizeof(path), rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_true(write(fd, rel, strlen(rel)) == (ssize_t)strlen(rel));
    assert_int_equal(fchown(fd, uid, gid), 0);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void mk_dir(const char *rel, uid_t uid, gid_t gid, mode_t mode)
{
    char path[512];
    path_of(path, sizeof(path), rel);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(chown(path, uid, gid), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void mk_link(const char *rel, const char *target)
{
    char path[512];
    path_of(path, sizeof(path), rel);
    assert_int_equal(symlink(target, path), 0);
}

static void set_acl(const char *rel, const char *spec)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "setfacl -m '%s' '%s/%s'", spec, fx.root, rel);
    if (system(cmd) != 0)
        fail_msg("'%s' failed (package acl, and a file system with POSIX ACLs, needed)", cmd);
}

static void build_tree(void)
{
    strcpy(fx.outer, "/tmp/guise-imp-XXXXXX");
    assert_non_null(mkdtemp(fx.outer));
    snprintf(fx.root, sizeof(fx.root), "%s/root", fx.outer);
    snprintf(fx.outside, sizeof(fx.outside), "%s/outside.txt", fx.outer);
    /* outside.txt is readable by all: only the path rules keep it out. */
    int fd = open(fx.outside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_true(write(fd, "outside\n", 8) == 8);
    close(fd);
    assert_int_equal(mkdir(fx.root, 0755), 0);
    assert_int_equal(chmod(fx.root, 0755), 0);
    assert_int_equal(chmod(fx.outer, 0755), 0);

    mk_file("pub.txt", 0, 0, 0644);
    mk_file("secret.txt", 0, 0, 0600);
    mk_file("alice.txt", 2001, 2001, 0600);
    mk_file("media.txt", 2002, 2100, 0640);
    mk_file("owner-denied.txt", 2003, 2003, 0064);
    mk_file("group-denied.txt", 0, 2100, 0604);
    mk_file("acl-allow.txt", 0, 0, 0600);
    set_acl("acl-allow.txt", "u:2004:r,g:2101:r");
    mk_file("acl-deny.txt", 0, 0, 0644);
    set_acl("acl-deny.txt", "u:2002:-");
    mk_file("media-rw.txt", 0, 2100, 0660);
    mk_dir("locked", 0, 0, 0755);
    mk_file("locked/inner.txt", 0, 0, 0644);
    assert_int_equal(chmod(fx.root, 0755), 0);
    mk_dir("grpdir", 0, 2100, 0755);
    mk_file("grpdir/f.txt", 0, 0, 0644);
    mk_dir("listonly", 0, 0, 0755);
    mk_file("listonly/f.txt", 0, 0, 0644);
    mk_dir("xonly", 0, 0, 0711);
    mk_file("xonly/f.txt", 0, 0, 0644);
    mk_dir("acldir", 0, 0, 0755);
    mk_file("acldir/f.txt", 0, 0, 0644);
    mk_dir("pubdir", 0, 0, 0755);
    mk_link("link-ok", "pub.txt");
    mk_link("link-secret", "secret.txt");
    mk_link("link-locked", "locked/inner.txt");
    mk_link("abs-link", fx.outside);
    mk_link("rel-link", "../outside.txt");
    mk_link("deep-link", "pubdir/../../outside.txt");
    mk_link("pubdir/up-link", "../../outside.txt");
    char magic[256];
    snprintf(magic, sizeof(magic), "/proc/self/root%s", fx.outside);
    mk_link("proc-link", magic);

    /* Tighten the directories last, once their contents exist. */
    char path[512];
    path_of(path, sizeof(path), "locked");
    assert_int_equal(chmod(path, 0700), 0);
    path_of(path, sizeof(path), "grpdir");
    assert_int_equal(chmod(path, 0710), 0);
    path_of(path, sizeof(path), "listonly");
    assert_int_equal(chmod(path, 0744), 0);
    path_of(path, sizeof(path), "acldir");
    assert_int_equal(chmod(path, 0700), 0);
    set_acl("acldir", "u:2001:x,g:2101:x");

    fx.root_fd = open(fx.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fx.root_fd >= 0);
}

static void remove_tree(void)
{
    if (!fx.outer[0])
        return;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.outer);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fx.outer);
}

void fixture_save_server_creds(void)
{
    server_fsuid = (uid_t)syscall(SYS_setfsuid, -1);
    server_fsgid = (gid_t)syscall(SYS_setfsgid, -1);
    server_ngroups = syscall(SYS_getgroups, 256, server_groups);
    assert_true(server_ngroups >= 0);
}

int fixture_setup(void **state)
{
    (void)state;
    static const char *const names[NTOK] = {"alice", "bob",   "carol", "dave",
                                            "erin",  "frank", "media", "nobody"};
    fixture_save_server_creds();

    assert_int_equal(guise_token_store_new(NULL, &fx.store), GUISE_S_OK);
    for (int i = 0; i < NTOK; i++) {
        fx.tok_name[i] = names[i];
        guise_result r = i == TOK_MEDIA ? guise_token_for_group(fx.store, names[i], &fx.tok[i])
                                        : guise_token_for_user(fx.store, names[i], &fx.tok[i]);
        assert_int_equal(r, GUISE_S_OK);
    }
    build_tree();
    return 0;
}

int fixture_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NTOK; i++)
        guise_token_unref(fx.tok[i]);
    guise_token_store_free(fx.store);
    if (fx.root_fd >= 0)
        close(fx.root_fd);
    remove_tree();
    return 0;
}

int fixture_errno(char want)
{
    switch (want) {
    case '+':
        return 0;
    case 'A':
        return EACCES;
    case 'N':
        return ENOENT;
    case 'X':
        return EXDEV;
    case 'L':
        return ELOOP;
    }
    fail_msg("bad table character %c", want);
    return -1;
}

bool fixture_creds_are_servers(void)
{
    uid_t fsuid;
    gid_t fsgid;
    gid_t groups[256];
    guise_imp_thread_creds(&fsuid, &fsgid);
    long n = syscall(SYS_getgroups, 256, groups);
    return fsuid == server_fsuid && fsgid == server_fsgid && n == server_ngroups &&
           memcmp(groups, server_groups, (size_t)n * sizeof(gid_t)) == 0;
}

bool fixture_check_open(guise_imp *imp, int tok, const struct expect *e)
{
    int fd = -2;
    guise_result r = guise_open_as(imp, fx.tok[tok], fx.root_fd, e->path, e->flags, &fd);
    int want = fixture_errno(e->want[tok]);
    bool ok = r == GUISE_RESULT_FROM_ERRNO(want);
    if (r == GUISE_S_OK) {
        /* O_CLOEXEC is always added; O_NONBLOCK (which io_uring uses for
         * its first attempt) never leaks into the descriptor */
        ok = ok && fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
             !(fcntl(fd, F_GETFL) & O_NONBLOCK);
        close(fd);
    } else {
        ok = ok && fd == -1;
    }
    /* report the first few only: the thread test makes thousands of calls */
    static atomic_int reported;
    if (!ok && atomic_fetch_add(&reported, 1) < 40)
        fprintf(stderr, "  %s: open(\"%s\", %#x): got %s (fd %d), want %s\n", fx.tok_name[tok],
                e->path, (unsigned)e->flags, guise_result_name(r), fd,
                want ? strerror(want) : "success");
    return ok;
}
