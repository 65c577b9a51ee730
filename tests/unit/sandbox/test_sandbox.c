/* Unit tests: the seccomp filter and the switch to the service account.
 *
 * Each case runs in a forked child (the filter and the switch cannot be
 * undone): the filter must kill the child with SIGSYS for every set*id
 * call with an id of 0 and let the others through; the switch must leave
 * exactly the service account's ids and the kept capabilities, refuse a
 * second thread, and - with the filter - leave no way back to uid 0 or
 * fsuid 0. The switch cases need root (exit 77 otherwise for them).
 */
#include "sandbox/privilege.h"
#include "sandbox/seccomp_filter.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* Runs fn in a child; returns its wait status. */
static int in_child(int (*fn)(long), long arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn(arg));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static bool killed_by_sigsys(int status)
{
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

enum call {
    SETUID0,
    SETGID0,
    SETREUID0,
    SETREGID0,
    SETRESUID0,
    SETRESGID0,
    SETFSUID0,
    SETFSGID0,
    SETFSUID_HIGH0,
    NCALLS
};

static long forbidden(enum call c)
{
    switch (c) {
    case SETUID0:
        return syscall(SYS_setuid, 0);
    case SETGID0:
        return syscall(SYS_setgid, 0);
    case SETREUID0:
        return syscall(SYS_setreuid, -1, 0);
    case SETREGID0:
        return syscall(SYS_setregid, 0, -1);
    case SETRESUID0:
        return syscall(SYS_setresuid, -1, -1, 0);
    case SETRESGID0:
        return syscall(SYS_setresgid, -1, 0, -1);
    case SETFSUID0:
        return syscall(SYS_setfsuid, 0);
    case SETFSGID0:
        return syscall(SYS_setfsgid, 0);
    case SETFSUID_HIGH0:
        return syscall(SYS_setfsuid, 0x100000000L);
    case NCALLS:
        break;
    }
    return -1;
}

static int child_forbidden(long c)
{
    char why[256];
    if (guise_seccomp_install(why, sizeof why) != 0)
        return 10;
    forbidden((enum call)c);
    return 0; /* survived: the filter let it through */
}

static void test_filter_kills_id_0(void **state)
{
    (void)state;
    for (long c = 0; c < NCALLS; c++) {
        int status = in_child(child_forbidden, c);
        if (!killed_by_sigsys(status))
            fail_msg("call %ld: not killed by SIGSYS (status %#x)", c, status);
    }
}

/* What stays allowed: "unchanged" (-1) and non-zero ids. */
static int child_allowed(long unused)
{
    char why[256];
    if (guise_seccomp_install(why, sizeof why) != 0)
        return 10;
    if (guise_seccomp_mode() != 2)
        return 11;
    if (syscall(SYS_setresuid, -1, -1, -1) != 0 || syscall(SYS_setresgid, -1, -1, -1) != 0)
        return 12;
    /* the current fsuid again (as root that is 0: itself forbidden) */
    long fsuid = syscall(SYS_setfsuid, -1);
    if (fsuid != 0 && syscall(SYS_setfsuid, fsuid) != fsuid)
        return 15;
    if (getuid() != 0)
        return 0; /* the id changes below need CAP_SETUID */
    if (syscall(SYS_setfsuid, 65534) != 0 || syscall(SYS_setfsuid, -1) != 65534)
        return 13;
    if (syscall(SYS_setresgid, 65534, 65534, 65534) != 0 ||
        syscall(SYS_setresuid, 65534, 65534, 65534) != 0)
        return 14;
    return 0;
}

static void test_filter_allows_the_rest(void **state)
{
    (void)state;
    int status = in_child(child_allowed, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("status %#x (exit %d)", status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* io_uring stays usable for what the token layer does; other
 * registrations fail with EPERM. */
static int child_io_uring(long unused)
{
    char why[256];
    if (guise_seccomp_install(why, sizeof why) != 0)
        return 10;
    struct io_uring ring;
    if (io_uring_queue_init(4, &ring, 0) != 0)
        return 0; /* no io_uring here: nothing to check */
    io_uring_register_ring_fd(&ring);
    int id = io_uring_register_personality(&ring);
    if (id < 0)
        return 11;
    if (io_uring_unregister_personality(&ring, id) != 0)
        return 12;
    int fds[1] = {0};
    if (io_uring_register_files(&ring, fds, 1) != -EPERM)
        return 13;
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    if (io_uring_register_buffers(&ring, &iov, 1) != -EPERM)
        return 14;
    io_uring_queue_exit(&ring);
    return 0;
}

static void test_filter_io_uring(void **state)
{
    (void)state;
    int status = in_child(child_io_uring, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("status %#x (exit %d)", status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* ---- the switch (root) ---------------------------------------------------- */

static struct guise_service_account nobody_account(void)
{
    struct guise_service_account a = {.uid = 65534, .gid = 65534, .ngroups = 1};
    a.groups[0] = 65534;
    snprintf(a.name, sizeof a.name, "nobody");
    return a;
}

static bool cap_in(cap_t c, cap_value_t cap, cap_flag_t set)
{
    cap_flag_value_t v = CAP_CLEAR;
    cap_get_flag(c, cap, set, &v);
    return v == CAP_SET;
}

static int child_switch(long keep_setid)
{
    char why[512];
    struct guise_service_account a = nobody_account();
    if (guise_seccomp_install(why, sizeof why) != 0)
        return 10;
    if (guise_privilege_switch(&a, keep_setid, why, sizeof why) != 0) {
        fprintf(stderr, "switch: %s\n", why);
        return 11;
    }
    uid_t r, e, s;
    gid_t groups[8];
    if (getresuid(&r, &e, &s) != 0 || r != 65534 || e != 65534 || s != 65534)
        return 12;
    if (getgroups(8, groups) != 1 || groups[0] != 65534)
        return 13;
    cap_t c = cap_get_proc();
    bool ok = cap_in(c, CAP_NET_BIND_SERVICE, CAP_EFFECTIVE) &&
              cap_in(c, CAP_SETUID, CAP_EFFECTIVE) == (keep_setid != 0) &&
              cap_in(c, CAP_SETGID, CAP_PERMITTED) == (keep_setid != 0) &&
              !cap_in(c, CAP_DAC_OVERRIDE, CAP_PERMITTED) &&
              !cap_in(c, CAP_SYS_ADMIN, CAP_PERMITTED) && !cap_in(c, CAP_SETUID, CAP_INHERITABLE);
    cap_free(c);
    if (!ok)
        return 14;
    if (CAP_IS_SUPPORTED(CAP_SYS_ADMIN) && cap_get_bound(CAP_SYS_ADMIN) != 0)
        return 15; /* the bounding set was cut (root holds CAP_SETPCAP) */
    /* the kept CAP_SETUID still switches to other accounts... */
    if (keep_setid && (syscall(SYS_setfsuid, 2001) != 65534 || syscall(SYS_setfsuid, -1) != 2001))
        return 16;
    /* ...and this is the filter's whole point: with CAP_SETUID, this call
     * would succeed without it */
    syscall(SYS_setfsuid, 0);
    return 17;
}

static void test_switch_keeps_only_what_it_must(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    for (long keep = 0; keep < 2; keep++) {
        int status = in_child(child_switch, keep);
        if (!killed_by_sigsys(status))
            fail_msg("keep_setid=%ld: status %#x (exit %d)", keep, status,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

static void *idle(void *arg)
{
    pause();
    return arg;
}

static int child_switch_with_thread(long unused)
{
    pthread_t t;
    if (pthread_create(&t, NULL, idle, NULL) != 0)
        return 20;
    char why[512];
    struct guise_service_account a = nobody_account();
    if (guise_privilege_switch(&a, true, why, sizeof why) == 0)
        return 21;
    if (!strstr(why, "before any thread"))
        return 22;
    return getuid() == 0 ? 0 : 23; /* nothing changed */
}

static void test_switch_refuses_threads(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    int status = in_child(child_switch_with_thread, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_resolve(void **state)
{
    (void)state;
    struct guise_service_account a;
    char why[512];
    assert_int_equal(guise_privilege_resolve("root", &a, why, sizeof why), -1);
    assert_non_null(strstr(why, "uid or gid 0"));
    assert_int_equal(guise_privilege_resolve("guise-no-such-account-x", &a, why, sizeof why), -1);
    assert_non_null(strstr(why, "does not exist"));
    assert_non_null(strstr(why, "useradd --system"));
    assert_int_equal(guise_privilege_resolve("nobody", &a, why, sizeof why), 0);
    assert_int_equal(a.uid, 65534);
    assert_string_equal(a.name, "nobody");
    struct guise_service_account bad = nobody_account();
    bad.uid = 0;
    assert_int_equal(guise_privilege_switch(&bad, true, why, sizeof why), -1);
    assert_int_equal(getuid() == 0 ? geteuid() : 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_kills_id_0),
        cmocka_unit_test(test_filter_allows_the_rest),
        cmocka_unit_test(test_filter_io_uring),
        cmocka_unit_test(test_switch_keeps_only_what_it_must),
        cmocka_unit_test(test_switch_refuses_threads),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL) ? 1 : 0;
}
