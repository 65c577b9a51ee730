/* guise-passwd, and files made by Apache's htdigest, against the plug-in. */
#include "plugins/digest/digest_userfile.h"

#include "digest_fixture.h"

#include "plugins/digest/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char tool[512];

/* Runs guise-passwd with args, feeding input on stdin (NULL: /dev/null).
 * Returns the exit status; stdout+stderr go to out. */
static int run(const char *input, char *out, size_t out_size, const char *const *args)
{
    int in[2], res[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(res), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *argv[16] = {tool};
        int n = 1;
        for (; args[n - 1] && n < 15; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        dup2(in[0], 0);
        dup2(res[1], 1);
        dup2(res[1], 2);
        close(in[1]);
        close(res[0]);
        /* No terminal: setsid drops the controlling tty of the test runner. */
        setsid();
        execv(tool, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(res[1]);
    if (input && write(in[1], input, strlen(input)) < 0)
        fail();
    close(in[1]);
    size_t got = 0;
    ssize_t k;
    while ((k = read(res[0], out + got, out_size - 1 - got)) > 0)
        got += (size_t)k;
    out[got] = '\0';
    close(res[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define RUN(input, ...) run(input, out, sizeof out, (const char *const[]){__VA_ARGS__, NULL})

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int authenticate(struct fx *f, const char *user, const char *pw, enum digest_alg alg)
{
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fresh_nonce(f, nonce);
    client_init(f, &c, alg, nonce);
    c.user = user;
    c.password = pw;
    auth_client(f, &c, &req, &cap);
    return cap.status;
}

#define MUFASA_MD5 "Mufasa:" REALM ":3d78807defe7de2157e2b0b6573a855f\n"
#define MUFASA_SHA256                                                                              \
    "Mufasa:" REALM ":7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232\n"
#define MUFASA_SHA512                                                                              \
    "Mufasa:" REALM                                                                                \
    ":SHA-512-256:fb174f5c3c7802721517cae13b98e2b8dae2e0118cb705d94ee29946319204ce\n"
#define MD5ONLY "md5only:" REALM ":cc1dc9639784f954e88fcfeb0d03167a\n"

static const char *const all_algs[] = {
    "algorithms", "SHA-256 MD5 SHA-512-256 MD5-sess SHA-256-sess SHA-512-256-sess", NULL};

static void test_tool_file_accepted(void **state)
{
    struct fx f;
    char out[4096];
    struct stat st;
    assert_int_equal(fx_init(&f, all_algs), GUISE_S_OK);

    /* -c: a new file, mode 0600, with -a one line: the one Apache's
     * htdigest writes for MD5. */
    assert_int_equal(
        RUN("Circle of Life\n", "-c", "-a", "MD5", "--stdin", f.user_file, REALM, "Mufasa"), 0);
    assert_int_equal(stat(f.user_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_string_equal(slurp(f.user_file), MUFASA_MD5);
    /* One line per hash; SHA-512-256 with its marker. */
    assert_int_equal(
        RUN("Circle of Life\n", "-a", "SHA-256", "--stdin", f.user_file, REALM, "Mufasa"), 0);
    assert_int_equal(
        RUN("Circle of Life\n", "--algorithm=sha-512-256", "--stdin", f.user_file, REALM, "Mufasa"),
        0);
    assert_int_equal(RUN("pw1\r\n", "-a", "md5", "--stdin", f.user_file, REALM, "md5only"), 0);
    assert_string_equal(slurp(f.user_file), MUFASA_MD5 MUFASA_SHA256 MUFASA_SHA512 MD5ONLY);
    /* Without -a: the three lines at once, in place of the user's old ones;
     * a password piped in is read without --stdin. */
    assert_int_equal(RUN("Circle of Life\n", f.user_file, REALM, "Mufasa"), 0);
    assert_string_equal(slurp(f.user_file), MUFASA_MD5 MUFASA_SHA256 MUFASA_SHA512 MD5ONLY);
    assert_int_equal(RUN("Circle of Life\n", "-c", f.user_file, REALM, "Mufasa"), 0);
    assert_string_equal(slurp(f.user_file), MUFASA_MD5 MUFASA_SHA256 MUFASA_SHA512);
    assert_int_equal(RUN("pw1\n", "-a", "MD5", f.user_file, REALM, "md5only"), 0);
    assert_string_equal(slurp(f.user_file), MUFASA_MD5 MUFASA_SHA256 MUFASA_SHA512 MD5ONLY);

    /* The plug-in accepts all of it. */
    assert_int_equal(guise_digest_plugin.enable(f.plugin), GUISE_S_OK);
    assert_int_equal(f.ops->create_context(f.plugin, &f.ctx), GUISE_S_OK);
    for (int a = 0; a < DIGEST_ALG_COUNT; a++)
        assert_int_equal(authenticate(&f, "Mufasa", "Circle of Life", (enum digest_alg)a),
                         GUISE_AUTH_SUCCESS);
    assert_int_equal(authenticate(&f, "md5only", "pw1", DIGEST_ALG_MD5), GUISE_AUTH_SUCCESS);
    assert_int_equal(authenticate(&f, "md5only", "pw1", DIGEST_ALG_SHA256), GUISE_AUTH_DENIED);

    /* A new password replaces the line in place; the others stay. */
    sleep(1);
    assert_int_equal(
        RUN("Hakuna Matata\n", "-a", "SHA-256", "--stdin", f.user_file, REALM, "Mufasa"), 0);
    char *text = slurp(f.user_file);
    assert_memory_equal(text, MUFASA_MD5, strlen(MUFASA_MD5));
    assert_non_null(strstr(text, MUFASA_SHA512 MD5ONLY));
    assert_null(strstr(text, MUFASA_SHA256));
    usleep(1100000);
    assert_int_equal(authenticate(&f, "Mufasa", "Hakuna Matata", DIGEST_ALG_SHA256),
                     GUISE_AUTH_SUCCESS);
    assert_int_equal(authenticate(&f, "Mufasa", "Circle of Life", DIGEST_ALG_SHA256),
                     GUISE_AUTH_DENIED);
    assert_int_equal(authenticate(&f, "Mufasa", "Circle of Life", DIGEST_ALG_MD5),
                     GUISE_AUTH_SUCCESS);

    /* -D with -a removes one hash; without, every line of the user. */
    assert_int_equal(RUN(NULL, "-D", "-a", "MD5", f.user_file, REALM, "Mufasa"), 0);
    text = slurp(f.user_file);
    assert_null(strstr(text, MUFASA_MD5));
    assert_non_null(strstr(text, MUFASA_SHA512));
    assert_int_equal(RUN(NULL, "-D", f.user_file, REALM, "Mufasa"), 0);
    assert_string_equal(slurp(f.user_file), MD5ONLY);
    assert_int_equal(RUN(NULL, "-D", f.user_file, REALM, "Mufasa"), 4);
    assert_non_null(strstr(out, "not found"));
    assert_int_equal(RUN(NULL, "-D", f.user_file, "other realm", "md5only"), 4);
    sleep(1);
    assert_int_equal(authenticate(&f, "Mufasa", "Circle of Life", DIGEST_ALG_SHA512_256),
                     GUISE_AUTH_DENIED);
    fx_stop(&f);
}

static void test_tool_keeps_file(void **state)
{
    char dir[256], out[4096];
    struct stat st;
    test_mkdtemp(dir);
    /* Lines it does not own are kept byte for byte, with the file's mode. */
    const char *path = test_write_file(dir, "users",
                                       "# managed by hand\n"
                                       "\n"
                                       "zed:other:SHA-512-256:"
                                       "fb174f5c3c7802721517cae13b98e2b8"
                                       "dae2e0118cb705d94ee29946319204ce\n"
                                       "amy:" REALM ":3d78807defe7de2157e2b0b6573a855f",
                                       0640);
    assert_int_equal(RUN("pw1\n", "-a", "MD5", "--stdin", path, REALM, "md5only"), 0);
    assert_string_equal(slurp(path), "# managed by hand\n"
                                     "\n"
                                     "zed:other:SHA-512-256:fb174f5c3c7802721517cae13b98e2b8"
                                     "dae2e0118cb705d94ee29946319204ce\n"
                                     "amy:" REALM ":3d78807defe7de2157e2b0b6573a855f\n" MD5ONLY);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    /* No temporary file left. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    test_rmtree(dir);
}

static void test_tool_errors(void **state)
{
    char dir[256], out[4096], path[300];
    test_mkdtemp(dir);
    snprintf(path, sizeof path, "%s/users", dir);

    assert_int_equal(RUN(NULL, "--help"), 0);
    assert_non_null(strstr(out, "Exit status"));
    assert_non_null(strstr(out, "SHA-512-256"));
    assert_int_equal(RUN(NULL, "--version"), 0);
    assert_non_null(strstr(out, "guise-passwd"));

    /* Usage errors: 1. */
    assert_int_equal(RUN(NULL, path, REALM), 1);
    assert_int_equal(RUN(NULL, "-x", path, REALM, "u"), 1);
    assert_int_equal(RUN("pw\n", "--stdin", "-a", "SHA-1", path, REALM, "u"), 1);
    assert_int_equal(RUN("pw\n", "-c", "--stdin", path, REALM, "a:b"), 1);
    assert_int_equal(RUN("pw\n", "-c", "--stdin", path, "r:x", "u"), 1);
    assert_int_equal(RUN("pw\n", "-c", "--stdin", path, REALM, "#u"), 1);
    assert_int_equal(RUN("pw\n", "-c", "--stdin", path, REALM, ""), 1);
    assert_int_equal(RUN("pw\n", "-c", "-D", path, REALM, "u"), 1);
    /* No file without -c: 2. */
    assert_int_equal(RUN("pw\n", "--stdin", path, REALM, "u"), 2);
    assert_non_null(strstr(out, "-c"));
    /* Password problems: 3 (empty, none, no terminal to prompt on). */
    assert_int_equal(RUN("\n", "-c", "--stdin", path, REALM, "u"), 3);
    assert_int_equal(RUN("", "-c", "--stdin", path, REALM, "u"), 3);
    assert_int_equal(RUN(NULL, "-c", path, REALM, "u"), 3);
    assert_int_equal(access(path, F_OK), -1);
    /* Malformed file: 5, untouched. */
    test_write_file(dir, "users", "good:r:3d78807defe7de2157e2b0b6573a855f\nbad line\n", 0600);
    assert_int_equal(RUN("pw\n", "--stdin", path, REALM, "u"), 5);
    assert_non_null(strstr(out, "line 2"));
    assert_string_equal(slurp(path), "good:r:3d78807defe7de2157e2b0b6573a855f\nbad line\n");
    /* -c replaces it. */
    assert_int_equal(RUN("pw\n", "-c", "--stdin", path, "r", "u"), 0);
    assert_null(strstr(slurp(path), "bad"));
    test_rmtree(dir);
}

/* Reads from the pty until text shows up (or 5 s pass). */
static bool expect(int fd, const char *text)
{
    char buf[1024];
    size_t n = 0;
    time_t end = time(NULL) + 5;
    while (time(NULL) < end) {
        fd_set set;
        struct timeval tv = {0, 100000};
        FD_ZERO(&set);
        FD_SET(fd, &set);
        if (select(fd + 1, &set, NULL, NULL, &tv) <= 0)
            continue;
        ssize_t k = read(fd, buf + n, sizeof buf - 1 - n);
        if (k <= 0)
            return false;
        n += (size_t)k;
        buf[n] = '\0';
        if (strstr(buf, text))
            return true;
        if (n > sizeof buf / 2)
            n = 0;
    }
    return false;
}

/* Waits until the program has turned echo off: it flushes pending input
 * when it does (TCSAFLUSH), so typing before that could be lost. The master
 * side of a pty reports the terminal's settings. */
static bool wait_echo_off(int fd)
{
    for (int i = 0; i < 500; i++) {
        struct termios t;
        if (tcgetattr(fd, &t) == 0 && !(t.c_lflag & ECHO))
            return true;
        usleep(10000);
    }
    return false;
}

static bool type_password(int fd, const char *line)
{
    return expect(fd, "password: ") && wait_echo_off(fd) && write(fd, line, strlen(line)) > 0;
}

/* Answers a program's two password prompts on a terminal. */
static int run_on_pty(const char *const *argv, const char *password)
{
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    char line[256];
    snprintf(line, sizeof line, "%s\n", password);
    bool ok = type_password(master, line) && type_password(master, line);
    /* Drain the terminal until the program closes it (it exits), 5 s at
     * most; a program still running then is killed. */
    bool closed = false;
    for (int i = 0; i < 500 && !closed; i++) {
        char buf[256];
        struct pollfd pfd = {master, POLLIN, 0};
        if (poll(&pfd, 1, 10) > 0)
            closed = read(master, buf, sizeof buf) <= 0;
    }
    if (!closed) {
        kill(pid, SIGKILL);
        ok = false;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    close(master);
    return ok && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_tool_prompts(void **state)
{
    struct fx f;
    assert_int_equal(fx_init(&f, NULL), GUISE_S_OK);
    const char *argv[] = {tool, "-c", "-a", "SHA-256", f.user_file, REALM, "Mufasa", NULL};
    assert_int_equal(run_on_pty(argv, "Circle of Life"), 0);
    assert_string_equal(slurp(f.user_file), MUFASA_SHA256);
    assert_int_equal(guise_digest_plugin.enable(f.plugin), GUISE_S_OK);
    assert_int_equal(f.ops->create_context(f.plugin, &f.ctx), GUISE_S_OK);
    assert_int_equal(authenticate(&f, "Mufasa", "Circle of Life", DIGEST_ALG_SHA256),
                     GUISE_AUTH_SUCCESS);
    fx_stop(&f);
}

/* A file made by Apache's own htdigest (apache2-utils) works unchanged. */
static void test_apache_htdigest(void **state)
{
    static const char *const paths[] = {"/usr/bin/htdigest", "/usr/sbin/htdigest"};
    const char *htdigest = NULL;
    for (size_t i = 0; i < 2; i++)
        if (access(paths[i], X_OK) == 0)
            htdigest = paths[i];
    if (!htdigest) {
        print_message("htdigest not installed (apache2-utils): skipped\n");
        skip();
    }
    struct fx f;
    assert_int_equal(fx_init(&f, NULL), GUISE_S_OK);
    const char *argv[] = {htdigest, "-c", f.user_file, REALM, "Mufasa", NULL};
    assert_int_equal(run_on_pty(argv, "Circle of Life"), 0);
    const char *argv2[] = {htdigest, f.user_file, REALM, JASON, NULL};
    assert_int_equal(run_on_pty(argv2, "Secret, or not?"), 0);
    assert_non_null(strstr(slurp(f.user_file), MUFASA_MD5));
    assert_int_equal(guise_digest_plugin.enable(f.plugin), GUISE_S_OK);
    assert_int_equal(f.ops->create_context(f.plugin, &f.ctx), GUISE_S_OK);
    assert_int_equal(authenticate(&f, "Mufasa", "Circle of Life", DIGEST_ALG_MD5),
                     GUISE_AUTH_SUCCESS);
    assert_int_equal(authenticate(&f, JASON, "Secret, or not?", DIGEST_ALG_MD5),
                     GUISE_AUTH_SUCCESS);
    assert_int_equal(authenticate(&f, "Mufasa", "Circle of Life", DIGEST_ALG_SHA256),
                     GUISE_AUTH_DENIED);
    fx_stop(&f);
}

int main(void)
{
    const char *b = getenv("GUISE_BUILD_DIR");
    snprintf(tool, sizeof tool, "%s/src/cli/guise-passwd", b ? b : ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tool_file_accepted), cmocka_unit_test(test_tool_keeps_file),
        cmocka_unit_test(test_tool_errors),        cmocka_unit_test(test_tool_prompts),
        cmocka_unit_test(test_apache_htdigest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
