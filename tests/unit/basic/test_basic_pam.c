/* The Basic plug-in's PAM backend, against pam_wrapper's pam_matrix module:
 * right and wrong passwords, unknown users, account management, the cache,
 * the deadline and broken PAM stacks.
 *
 * pam_wrapper works by LD_PRELOAD: the test writes its service files into a
 * temporary directory, then re-executes itself with the wrapper loaded. */
#include "plugins/basic/basic.h"
#include "plugins/basic/basic_pam.h"

#include "basic_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define WRAPPER "libpam_wrapper.so"
#define LIBDIR  "/usr/lib/x86_64-linux-gnu"
#define MATRIX  LIBDIR "/pam_wrapper/pam_matrix.so"

static const char *service_dir(void)
{
    const char *d = getenv("PAM_WRAPPER_SERVICE_DIR");
    assert_non_null(d);
    return d;
}

static void start_pam(struct bt_plugin *bt, const char *service, const char *timeout,
                      const char *ttl)
{
    memset(bt, 0, sizeof *bt);
    const char *kv[] = {"pam-service", service, "pam-timeout", timeout, "cache-ttl", ttl, NULL};
    bt_plugin_start(bt, kv);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_passwords(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    start_pam(&bt, "guise", "10", "0");
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_string_equal(bt_logical_user(&bt), "alice");
    assert_string_equal(bt_account(&bt), "alice");
    assert_int_equal(fake_host_works(&bt.host), 1);

    bt_auth(&bt, bt_blob("alice", "alice secreT"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(cap.code, GUISE_E_ACCESSDENIED);
    assert_string_equal(bt_logical_user(&bt), "alice");

    bt_auth(&bt, bt_blob("nobody-here", "alice secret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_string_equal(bt_logical_user(&bt), "nobody-here");

    /* A password with a blank and UTF-8 (pam_matrix cannot store a colon). */
    bt_auth(&bt,
            bt_blob("bob", "b\xc3\xb6"
                           "b pw"),
            true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    /* Denials are no PAM failures: no event. */
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_WARNING, 0), 0);
    bt_plugin_stop(&bt);
}

static void test_cache(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    start_pam(&bt, "guise", "10", "60");
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 0);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(fake_host_works(&bt.host), 1); /* no second PAM conversation */
    bt_plugin_stop(&bt);
}

/* pam_authenticate succeeds, pam_acct_mgmt refuses (pam_deny). */
static void test_account_refused(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    start_pam(&bt, "guise-noacct", "10", "60");
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(cap.code, GUISE_E_ACCESSDENIED);
    /* Not cached either. */
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(fake_host_works(&bt.host), 2);
    bt_plugin_stop(&bt);
}

/* A PAM stack that hangs (pam_exec sleep 3) with pam-timeout 1: denied after
 * about a second with a WARNING; the abandoned thread finishes later. */
static void test_timeout(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    start_pam(&bt, "guise-slow", "1", "60");
    double t0 = now_s();
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 5);
    double took = now_s() - t0;
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_true(took >= 0.9 && took < 2.5);
    assert_null(bt_logical_user(&bt)); /* not the user's fault */
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_WARNING, BASIC_EVENT_PAM_TIMEOUT), 1);
    assert_non_null(strstr(fake_host_last_message(&bt.host), "within 1000 ms"));
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_ERROR, 0), 0);
    assert_int_equal(basic_pam_running(), 1);
    /* The plug-in goes away while PAM still runs: the thread owns its data. */
    bt_plugin_stop(&bt);
    for (int i = 0; i < 100 && basic_pam_running(); i++)
        usleep(50 * 1000);
    assert_int_equal(basic_pam_running(), 0);
}

/* A module renames the user (pam_set_items sets PAM_USER from the
 * environment): the account follows PAM_USER, the logical user stays the
 * name the client sent, on a cache hit too. */
static void test_pam_user_mapping(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    setenv("PAM_USER", "alice-mapped", 1);
    start_pam(&bt, "guise-map", "10", "60");
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 10);
    unsetenv("PAM_USER");
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_string_equal(bt_logical_user(&bt), "alice");
    assert_string_equal(bt_account(&bt), "alice-mapped");
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 0);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_string_equal(bt_logical_user(&bt), "alice");
    assert_string_equal(bt_account(&bt), "alice-mapped");
    assert_int_equal(fake_host_works(&bt.host), 1);
    bt_plugin_stop(&bt);
}

/* A module that cannot be loaded: a PAM failure, denied with a WARNING. */
static void test_broken_stack(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    start_pam(&bt, "guise-broken", "10", "60");
    bt_auth(&bt, bt_blob("alice", "alice secret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_WARNING, BASIC_EVENT_PAM_FAILURE), 1);
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_ERROR, 0), 0);
    assert_null(bt_logical_user(&bt));
    bt_plugin_stop(&bt);
}

static void write_services(const char *dir)
{
    char passdb[512], text[2048];
    snprintf(passdb, sizeof passdb, "%s/passdb", dir);
    test_write_file(dir, "passdb",
                    "alice:alice secret:guise\n"
                    "bob:b\xc3\xb6"
                    "b pw:guise\n"
                    "alice:alice secret:guise-noacct\n"
                    "alice:alice secret:guise-slow\n"
                    "alice:alice secret:guise-map\n",
                    0644);
    snprintf(text, sizeof text,
             "auth required " MATRIX " passdb=%s\n"
             "account required " MATRIX " passdb=%s\n",
             passdb, passdb);
    test_write_file(dir, "guise", text, 0644);
    snprintf(text, sizeof text,
             "auth required " MATRIX " passdb=%s\n"
             "account required " LIBDIR "/security/pam_deny.so\n",
             passdb);
    test_write_file(dir, "guise-noacct", text, 0644);
    snprintf(text, sizeof text,
             "auth required " LIBDIR "/security/pam_exec.so quiet /bin/sleep 3\n"
             "account required " MATRIX " passdb=%s\n",
             passdb);
    test_write_file(dir, "guise-slow", text, 0644);
    snprintf(text, sizeof text,
             "auth required " MATRIX " passdb=%s\n"
             "auth required " LIBDIR "/pam_wrapper/pam_set_items.so\n"
             "account required " LIBDIR "/security/pam_permit.so\n",
             passdb);
    test_write_file(dir, "guise-map", text, 0644);
    /* libpam reads "other" for every service; deny, as distributions do. */
    test_write_file(dir, "other",
                    "auth required " LIBDIR "/security/pam_deny.so\n"
                    "account required " LIBDIR "/security/pam_deny.so\n",
                    0644);
    test_write_file(dir, "guise-broken",
                    "auth required /nonexistent/pam_nothing.so\n"
                    "account required /nonexistent/pam_nothing.so\n",
                    0644);
}

/* A service without a file would be libpam's "other" (on Debian every
 * local account): enabling fails closed, with an ERROR event naming it. */
static void test_missing_service_fails_closed(void **state)
{
    struct bt_plugin bt;
    memset(&bt, 0, sizeof bt);
    const char *kv[] = {"pam-service", "guise-no-such-service", NULL};
    assert_int_equal(bt_plugin_init(&bt, kv), GUISE_S_OK);
    assert_int_equal(guise_basic_plugin.enable(bt.plugin), GUISE_E_PLUGIN_ERROR_REPORTED);
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_ERROR, BASIC_EVENT_ENABLE_FAILED), 1);
    assert_non_null(strstr(fake_host_last_message(&bt.host), "guise-no-such-service"));
    assert_non_null(strstr(fake_host_last_message(&bt.host), "'other'"));
    guise_basic_plugin.shutdown(bt.plugin);
    bt.plugin = NULL;
    bt_plugin_stop(&bt);
    /* The helper itself: the wrapper's directory holds "guise". */
    char found[4096];
    assert_true(basic_pam_service_file("guise", found, sizeof found));
    assert_false(basic_pam_service_file("guise-no-such-service", found, sizeof found));
}

int main(int argc, char **argv)
{
    if (!getenv("PAM_WRAPPER")) {
        if (access(LIBDIR "/" WRAPPER, R_OK) != 0 || access(MATRIX, R_OK) != 0) {
            printf("SKIP: pam_wrapper (libpam-wrapper) is not installed\n");
            return 77;
        }
        char dir[256];
        snprintf(dir, sizeof dir, "/tmp/guise-basic-pam-XXXXXX");
        if (!mkdtemp(dir))
            return 1;
        write_services(dir);
        setenv("LD_PRELOAD", WRAPPER, 1);
        /* Sanitizer builds: ASan wants to come first in the library list,
         * which a preloaded wrapper breaks; it works regardless. */
        char asan[512];
        const char *prev = getenv("ASAN_OPTIONS");
        snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", prev ? prev : "",
                 prev && *prev ? ":" : "");
        setenv("ASAN_OPTIONS", asan, 1);
        /* ... and RTLD_DEEPBIND, which pam_wrapper (1.1.4) turns off under
         * the name it shares with uid_wrapper. */
        setenv("UID_WRAPPER_DISABLE_DEEPBIND", "1", 1);
        setenv("PAM_WRAPPER", "1", 1);
        setenv("PAM_WRAPPER_SERVICE_DIR", dir, 1);
        execv("/proc/self/exe", argv);
        perror("execv");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_account_refused),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_broken_stack),
        cmocka_unit_test(test_pam_user_mapping),
        cmocka_unit_test(test_missing_service_fails_closed),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_rmtree(service_dir());
    return failed;
}
