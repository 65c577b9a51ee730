/* Unit tests: opening content as a token, with both mechanisms.
 *
 * Runs as root only: it builds a tree of files owned by several accounts
 * and checks that the kernel answers every open exactly as the accounts'
 * rights say, that no path leaves the root, and that the calling thread is
 * always back to the server's credentials.
 */
#include "imp_fixture.h"
#include "nsswrap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <grp.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* One engine per test, made in the test's setup with the mechanism below. */
struct mech {
    enum guise_imp_mode mode;
    guise_imp *imp;
    const char *unsupported; /* why the mechanism is missing here */
};

static struct mech mech_uring = {.mode = GUISE_IMP_IO_URING};
static struct mech mech_syscalls = {.mode = GUISE_IMP_SYSCALLS};

/* Whether this kernel lets us make a ring and register a personality at
 * all (seccomp filters of container runtimes often forbid io_uring): only
 * then may the io_uring variants be skipped. */
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
    assert_int_equal(guise_imp_mode_of(m->imp), m->mode);
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

/* ---- access decisions ------------------------------------------------ */

static void test_access_table(void **state)
{
    guise_imp *imp = imp_of(state);
    int wrong = 0;
    for (size_t i = 0; i < fixture_table_len; i++) {
        for (int t = 0; t < NTOK; t++) {
            if (!fixture_check_open(imp, t, &fixture_table[i]))
                wrong++;
            if (!fixture_creds_are_servers())
                fail_msg("thread credentials not restored after %s", fixture_table[i].path);
        }
    }
    assert_int_equal(wrong, 0);
}

static void test_server_is_not_restricted(void **state)
{
    (void)state;
    /* Control: the same opens as the server succeed, so the refusals above
     * are the tokens' and not the tree's. */
    guise_imp *off = NULL;
    assert_int_equal(guise_imp_new(GUISE_IMP_OFF, &off, NULL), GUISE_S_OK);
    static const char *const paths[] = {"secret.txt", "locked/inner.txt", "grpdir/f.txt",
                                        "listonly/f.txt", "acl-allow.txt"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        int fd = -1;
        assert_int_equal(guise_open_as(off, NULL, fx.root_fd, paths[i], O_RDONLY, &fd), GUISE_S_OK);
        close(fd);
    }
    /* and the server cannot escape either */
    for (size_t i = 0; i < fixture_escapes_len; i++) {
        int fd = -1;
        assert_int_equal(
            guise_open_as(off, fx.tok[TOK_ALICE], fx.root_fd, fixture_escapes[i], O_RDONLY, &fd),
            GUISE_RESULT_FROM_ERRNO(EXDEV));
    }
    guise_imp_free(off);
}

static void test_stat_as(void **state)
{
    guise_imp *imp = imp_of(state);
    struct stat st, pub;
    char path[256];
    snprintf(path, sizeof(path), "%s/pub.txt", fx.root);
    assert_int_equal(stat(path, &pub), 0);

    /* stat needs no read right on the file itself */
    for (int t = 0; t < NTOK; t++) {
        assert_int_equal(guise_stat_as(imp, fx.tok[t], fx.root_fd, "secret.txt", &st), GUISE_S_OK);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(guise_stat_as(imp, fx.tok[t], fx.root_fd, "locked/inner.txt", &st),
                         GUISE_RESULT_FROM_ERRNO(EACCES));
        assert_int_equal(guise_stat_as(imp, fx.tok[t], fx.root_fd, "../outside.txt", &st),
                         GUISE_RESULT_FROM_ERRNO(EXDEV));
        assert_int_equal(guise_stat_as(imp, fx.tok[t], fx.root_fd, "rel-link", &st),
                         GUISE_RESULT_FROM_ERRNO(EXDEV));
        assert_int_equal(guise_stat_as(imp, fx.tok[t], fx.root_fd, "", &st), GUISE_S_OK);
        assert_true(S_ISDIR(st.st_mode));
        /* follows symlinks beneath the root */
        assert_int_equal(guise_stat_as(imp, fx.tok[t], fx.root_fd, "link-ok", &st), GUISE_S_OK);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_ino, pub.st_ino);
        assert_true(fixture_creds_are_servers());
    }
    assert_int_equal(guise_stat_as(imp, fx.tok[TOK_ALICE], fx.root_fd, "grpdir/f.txt", &st),
                     GUISE_S_OK);
    assert_int_equal(guise_stat_as(imp, fx.tok[TOK_BOB], fx.root_fd, "grpdir/f.txt", &st),
                     GUISE_RESULT_FROM_ERRNO(EACCES));
    assert_int_equal(guise_stat_as(imp, fx.tok[TOK_ALICE], fx.root_fd, "pub.txt", NULL),
                     GUISE_E_POINTER);
}

/* ---- escapes ------------------------------------------------------------ */

static void test_escapes_never_open(void **state)
{
    guise_imp *imp = imp_of(state);
    /* Any open of outside.txt, or of the directory above the root, would
     * queue an inotify event. */
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(in >= 0);
    assert_true(inotify_add_watch(in, fx.outside, IN_OPEN | IN_ACCESS) >= 0);
    assert_true(inotify_add_watch(in, fx.outer, IN_OPEN | IN_ACCESS) >= 0);

    for (size_t i = 0; i < fixture_escapes_len; i++) {
        for (int t = 0; t < NTOK; t++) {
            static const int flag_sets[] = {O_RDONLY, O_RDONLY | O_DIRECTORY, O_PATH, O_WRONLY};
            for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
                int fd = -2;
                guise_result r = guise_open_as(imp, fx.tok[t], fx.root_fd, fixture_escapes[i],
                                               flag_sets[f], &fd);
                if (r != GUISE_RESULT_FROM_ERRNO(EXDEV))
                    fail_msg("%s escaped or failed oddly with \"%s\": %s", fx.tok_name[t],
                             fixture_escapes[i], guise_result_name(r));
                assert_int_equal(fd, -1);
            }
        }
    }
    char buf[4096];
    ssize_t n = read(in, buf, sizeof(buf));
    assert_int_equal(n, -1);
    assert_int_equal(errno, EAGAIN);

    /* the watch works: a real open is seen */
    int fd = open(fx.outside, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    close(fd);
    assert_true(read(in, buf, sizeof(buf)) > 0);
    close(in);
}

static void test_magic_links(void **state)
{
    guise_imp *imp = imp_of(state);
    /* Beneath /proc/<pid>, "root", "cwd", "exe" and "fd/N" are magic links. */
    int proc = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(proc >= 0);
    char fdpath[64], rootpath[256];
    snprintf(fdpath, sizeof(fdpath), "fd/%d", fx.root_fd);
    snprintf(rootpath, sizeof(rootpath), "root%s", fx.outside);
    const char *const paths[] = {rootpath, "cwd", "exe", fdpath, "root"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (int t = 0; t < NTOK; t++) {
            int fd = -2;
            guise_result r = guise_open_as(imp, fx.tok[t], proc, paths[i], O_RDONLY, &fd);
            if (r != GUISE_RESULT_FROM_ERRNO(ELOOP))
                fail_msg("%s: /proc/self/%s gave %s, want ELOOP", fx.tok_name[t], paths[i],
                         guise_result_name(r));
            assert_int_equal(fd, -1);
        }
    }
    /* a plain file there is fine */
    int fd = -1;
    assert_int_equal(guise_open_as(imp, fx.tok[TOK_ALICE], proc, "comm", O_RDONLY, &fd),
                     GUISE_S_OK);
    close(fd);
    close(proc);
}

/* ---- arguments ---------------------------------------------------------- */

static void test_arguments(void **state)
{
    guise_imp *imp = imp_of(state);
    guise_token *alice = fx.tok[TOK_ALICE];
    int fd = -2;
    char path[256];
    struct stat st;

    assert_int_equal(guise_open_as(imp, alice, fx.root_fd, "new.txt", O_WRONLY | O_CREAT, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(fd, -1);
    assert_int_equal(
        guise_open_as(imp, alice, fx.root_fd, "pub.txt", O_WRONLY | O_CREAT | O_EXCL, &fd),
        GUISE_E_INVALIDARG);
    assert_int_equal(guise_open_as(imp, alice, fx.root_fd, "", O_TMPFILE | O_RDWR, &fd),
                     GUISE_E_INVALIDARG);
    snprintf(path, sizeof(path), "%s/new.txt", fx.root);
    assert_int_equal(stat(path, &st), -1);

    assert_int_equal(guise_open_as(imp, NULL, fx.root_fd, "pub.txt", O_RDONLY, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(guise_open_as(imp, alice, -1, "pub.txt", O_RDONLY, &fd), GUISE_E_INVALIDARG);
    assert_int_equal(guise_open_as(imp, alice, AT_FDCWD, "pub.txt", O_RDONLY, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(guise_open_as(imp, alice, fx.root_fd, NULL, O_RDONLY, &fd), GUISE_E_POINTER);
    assert_int_equal(guise_open_as(imp, alice, fx.root_fd, "pub.txt", O_RDONLY, NULL),
                     GUISE_E_POINTER);
    assert_int_equal(guise_open_as(NULL, alice, fx.root_fd, "pub.txt", O_RDONLY, &fd),
                     GUISE_E_POINTER);
    /* flags the kernel does not know are its to refuse */
    assert_int_equal(guise_open_as(imp, alice, fx.root_fd, "pub.txt", O_RDONLY | (1 << 30), &fd),
                     GUISE_RESULT_FROM_ERRNO(EINVAL));
    assert_true(fixture_creds_are_servers());
}

static void test_never_as_root(void **state)
{
    guise_imp *imp = imp_of(state);
    /* The only way to a token is the store, and the store has no token for
     * uid 0; without a token there is no impersonated open at all. */
    guise_token *root = NULL;
    assert_int_equal(guise_token_for_user(fx.store, "root", &root), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_for_account(fx.store, "toor", &root), GUISE_E_ACCESSDENIED);
    assert_null(root);
    int fd = -2;
    assert_int_equal(guise_open_as(imp, root, fx.root_fd, "secret.txt", O_RDONLY, &fd),
                     GUISE_E_INVALIDARG);
    assert_int_equal(fd, -1);
}

/* ---- personalities and thread lifetime --------------------------------- */

static void test_many_tokens(void **state)
{
    guise_imp *imp = imp_of(state);
    /* Every flush makes new tokens with new serials: more than the
     * per-thread personality cache holds, so entries are evicted and
     * registered again, and each must still carry its own account. */
    guise_token_store *s = NULL;
    assert_int_equal(guise_token_store_new(NULL, &s), GUISE_S_OK);
    const struct expect *alice_only = &fixture_table[2];
    const struct expect *media = &fixture_table[3];
    assert_string_equal(alice_only->path, "alice.txt");
    assert_string_equal(media->path, "media.txt");
    for (int round = 0; round < 300; round++) {
        guise_token *a = NULL, *d = NULL;
        guise_token_store_flush(s);
        assert_int_equal(guise_token_for_user(s, "alice", &a), GUISE_S_OK);
        assert_int_equal(guise_token_for_user(s, "dave", &d), GUISE_S_OK);
        guise_token *saved_a = fx.tok[TOK_ALICE], *saved_d = fx.tok[TOK_DAVE];
        fx.tok[TOK_ALICE] = a;
        fx.tok[TOK_DAVE] = d;
        bool ok = fixture_check_open(imp, TOK_ALICE, alice_only) &&
                  fixture_check_open(imp, TOK_DAVE, alice_only) &&
                  fixture_check_open(imp, TOK_ALICE, media) &&
                  fixture_check_open(imp, TOK_DAVE, media) &&
                  /* an old token, long evicted, still works */
                  fixture_check_open(imp, TOK_BOB, media);
        fx.tok[TOK_ALICE] = saved_a;
        fx.tok[TOK_DAVE] = saved_d;
        guise_token_unref(a);
        guise_token_unref(d);
        if (!ok)
            fail_msg("wrong answer in round %d", round);
    }
    guise_token_store_free(s);
    assert_true(fixture_creds_are_servers());
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void *one_open(void *arg)
{
    guise_imp *imp = arg;
    bool ok = fixture_check_open(imp, TOK_CAROL, &fixture_table[6]) &&
              fixture_check_open(imp, TOK_ALICE, &fixture_table[6]);
    return ok ? arg : NULL;
}

static void test_thread_exit_releases_ring(void **state)
{
    guise_imp *imp = imp_of(state);
    int before = count_fds();
    for (int i = 0; i < 32; i++) {
        pthread_t th;
        void *ret = NULL;
        assert_int_equal(pthread_create(&th, NULL, one_open, imp), 0);
        assert_int_equal(pthread_join(th, &ret), 0);
        assert_ptr_equal(ret, imp);
    }
    /* 32 threads, each with its own ring (io_uring mode): none left open */
    assert_int_equal(count_fds(), before);
}

static void test_fork_child(void **state)
{
    guise_imp *imp = imp_of(state);
    assert_true(fixture_check_open(imp, TOK_FRANK, &fixture_table[6]));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the child must not use the parent's ring, but can make its own */
        bool ok = true;
        for (size_t i = 0; i < fixture_table_len; i++)
            ok = fixture_check_open(imp, TOK_FRANK, &fixture_table[i]) &&
                 fixture_creds_are_servers() && ok;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(fixture_check_open(imp, TOK_FRANK, &fixture_table[6]));
}

/* ---- concurrency -------------------------------------------------------- */

#define THREADS        8
#define OPENS_PER_TEST 5000

struct worker {
    guise_imp *imp;
    int tok;
    int wrong;
    int bad_creds;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    unsigned seed = 0x9e3779b9u * (unsigned)(w->tok + 1);
    for (int i = 0; i < OPENS_PER_TEST; i++) {
        const struct expect *e = &fixture_table[(unsigned)rand_r(&seed) % fixture_table_len];
        /* mostly the thread's own account, sometimes another one */
        int tok = rand_r(&seed) % 4 ? w->tok : rand_r(&seed) % NTOK;
        if (!fixture_check_open(w->imp, tok, e))
            w->wrong++;
        if (!fixture_creds_are_servers())
            w->bad_creds++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    guise_imp *imp = imp_of(state);
    struct worker workers[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.imp = imp, .tok = i % NTOK};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &workers[i]), 0);
    }
    int wrong = 0, bad_creds = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        wrong += workers[i].wrong;
        bad_creds += workers[i].bad_creds;
    }
    printf("%d threads x %d opens (%s): %d wrong answers, %d credential leaks\n", THREADS,
           OPENS_PER_TEST, guise_imp_mode_name(guise_imp_mode_of(imp)), wrong, bad_creds);
    assert_int_equal(wrong, 0);
    assert_int_equal(bad_creds, 0);
    assert_true(fixture_creds_are_servers());
}

/* ---- engine creation ---------------------------------------------------- */

static void test_modes(void **state)
{
    (void)state;
    enum guise_imp_mode m;
    assert_true(guise_imp_mode_parse("auto", &m));
    assert_int_equal(m, GUISE_IMP_AUTO);
    assert_true(guise_imp_mode_parse("io_uring", &m));
    assert_int_equal(m, GUISE_IMP_IO_URING);
    assert_true(guise_imp_mode_parse("syscalls", &m));
    assert_int_equal(m, GUISE_IMP_SYSCALLS);
    assert_true(guise_imp_mode_parse("off", &m));
    assert_int_equal(m, GUISE_IMP_OFF);
    assert_false(guise_imp_mode_parse("uring", &m));
    assert_false(guise_imp_mode_parse("", &m));
    assert_false(guise_imp_mode_parse(NULL, &m));
    for (int i = GUISE_IMP_AUTO; i <= GUISE_IMP_OFF; i++) {
        assert_true(guise_imp_mode_parse(guise_imp_mode_name((enum guise_imp_mode)i), &m));
        assert_int_equal(m, i);
    }

    guise_imp *imp = NULL;
    const char *why = NULL;
    assert_int_equal(guise_imp_new(GUISE_IMP_AUTO, &imp, &why), GUISE_S_OK);
    enum guise_imp_mode chosen = guise_imp_mode_of(imp);
    assert_true(chosen == GUISE_IMP_IO_URING || chosen == GUISE_IMP_SYSCALLS);
    printf("auto chose %s%s%s\n", guise_imp_mode_name(chosen), why ? ": " : "", why ? why : "");
    assert_true(fixture_check_open(imp, TOK_ERIN, &fixture_table[3]));
    guise_imp_free(imp);

    assert_int_equal(guise_imp_new((enum guise_imp_mode)7, &imp, NULL), GUISE_E_INVALIDARG);
    assert_int_equal(guise_imp_new(GUISE_IMP_AUTO, NULL, NULL), GUISE_E_POINTER);
    guise_imp_free(NULL);
}

/* Runs fn in a child process (so it may drop privileges) and returns its
 * exit status. */
static int in_child(int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int set_effective(const cap_value_t *caps, int n)
{
    cap_t c = cap_get_proc();
    if (!c || cap_clear_flag(c, CAP_EFFECTIVE) != 0 ||
        (n && cap_set_flag(c, CAP_EFFECTIVE, n, caps, CAP_SET) != 0) || cap_set_proc(c) != 0)
        return -1;
    cap_free(c);
    return 0;
}

static int child_without_setuid(void)
{
    static const cap_value_t keep[] = {CAP_SETGID, CAP_DAC_OVERRIDE, CAP_CHOWN};
    if (set_effective(keep, 3) != 0)
        return 10;
    static const enum guise_imp_mode modes[] = {GUISE_IMP_AUTO, GUISE_IMP_IO_URING,
                                                GUISE_IMP_SYSCALLS};
    for (size_t i = 0; i < 3; i++) {
        guise_imp *imp = NULL;
        const char *why = NULL;
        if (guise_imp_new(modes[i], &imp, &why) != GUISE_E_ACCESSDENIED || imp)
            return 11;
        if (!why || !strstr(why, "CAP_SETUID"))
            return 12;
    }
    guise_imp *off = NULL;
    if (guise_imp_new(GUISE_IMP_OFF, &off, NULL) != GUISE_S_OK)
        return 13;
    guise_imp_free(off);
    return 0;
}

static void test_without_capabilities(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_without_setuid), 0);
}

/* A server that is not root but holds CAP_SETUID and CAP_SETGID. */
static int become_unprivileged_server(void)
{
    static const gid_t none[] = {3999};
    if (prctl(PR_SET_KEEPCAPS, 1) != 0 || setgroups(1, none) != 0 ||
        setresgid(3999, 3999, 3999) != 0 || setresuid(3999, 3999, 3999) != 0)
        return -1;
    return 0;
}

static int child_unprivileged_server(void)
{
    static const cap_value_t caps[] = {CAP_SETUID, CAP_SETGID};
    if (become_unprivileged_server() != 0 || set_effective(caps, 2) != 0)
        return 20;
    /* the server's own credentials are now 3999's */
    fixture_save_server_creds();
    static const enum guise_imp_mode modes[] = {GUISE_IMP_IO_URING, GUISE_IMP_SYSCALLS};
    for (size_t m = 0; m < 2; m++) {
        guise_imp *imp = NULL;
        const char *why = NULL;
        guise_result r = guise_imp_new(modes[m], &imp, &why);
        if (r == GUISE_E_NOT_SUPPORTED && modes[m] == GUISE_IMP_IO_URING)
            continue;
        if (r != GUISE_S_OK) {
            fprintf(stderr, "unprivileged server: %s: %s\n", guise_result_name(r), why);
            return 21;
        }
        for (size_t i = 0; i < fixture_table_len; i++) {
            for (int t = 0; t < NTOK; t++) {
                if (!fixture_check_open(imp, t, &fixture_table[i]))
                    return 22;
                if (!fixture_creds_are_servers())
                    return 23;
            }
        }
        guise_imp_free(imp);
    }
    return 0;
}

static int child_unprivileged_with_dac_override(void)
{
    static const cap_value_t caps[] = {CAP_SETUID, CAP_SETGID, CAP_DAC_OVERRIDE};
    if (become_unprivileged_server() != 0 || set_effective(caps, 3) != 0)
        return 30;
    guise_imp *imp = NULL;
    const char *why = NULL;
    if (guise_imp_new(GUISE_IMP_SYSCALLS, &imp, &why) != GUISE_E_ACCESSDENIED || imp)
        return 31;
    if (!why || !strstr(why, "CAP_DAC_OVERRIDE"))
        return 32;
    return 0;
}

static int child_no_setuid_fixup(void)
{
    if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) != 0)
        return 40;
    guise_imp *imp = NULL;
    const char *why = NULL;
    if (guise_imp_new(GUISE_IMP_AUTO, &imp, &why) != GUISE_E_ACCESSDENIED || imp)
        return 41;
    if (!why || !strstr(why, "SECBIT_NO_SETUID_FIXUP"))
        return 42;
    return 0;
}

static void test_unprivileged_server(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_unprivileged_server), 0);
}

static void test_refuses_when_dac_caps_stay(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_unprivileged_with_dac_override), 0);
    assert_int_equal(in_child(child_no_setuid_fixup), 0);
}

/* Each such test runs once per mechanism, named after it. */
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        BOTH(test_access_table),
        cmocka_unit_test(test_server_is_not_restricted),
        BOTH(test_stat_as),
        BOTH(test_escapes_never_open),
        BOTH(test_magic_links),
        BOTH(test_arguments),
        BOTH(test_never_as_root),
        BOTH(test_many_tokens),
        BOTH(test_thread_exit_releases_ring),
        BOTH(test_fork_child),
        BOTH(test_threads),
        cmocka_unit_test(test_without_capabilities),
        cmocka_unit_test(test_unprivileged_server),
        cmocka_unit_test(test_refuses_when_dac_caps_stay),
    };
    int failed = cmocka_run_group_tests_name("imp", tests, fixture_setup, fixture_teardown);
    return failed ? 1 : 0;
}
