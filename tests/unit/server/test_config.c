/* guised's configuration parser: typed [server] keys, registered point keys,
 * and allocation failure. Every allocation the parse makes is failed in
 * turn (a malloc hook of this test build): each failure must refuse the
 * file - a configuration with a list silently left empty (no authorization
 * at all) must never come out. */
#include <guise/host_props.h>
#include "server/config.h"
#include "server/config_keys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the allocation-failure hook: glibc lets a program replace malloc;
 * these forward to glibc's own allocator except for the one armed call.
 * Under AddressSanitizer, which owns malloc, there is no hook (the test
 * that needs it is skipped there). */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ALLOC_HOOK 0
#else
#define HAVE_ALLOC_HOOK 1
#endif

static long fail_at = -1; /* index of the call to fail, -1: none */
static long calls;
static int injected;

#if HAVE_ALLOC_HOOK
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);

static int should_fail(void)
{
    if (fail_at < 0)
        return 0;
    if (calls++ == fail_at) {
        injected = 1;
        return 1;
    }
    return 0;
}

void *malloc(size_t n)
{
    return should_fail() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    return should_fail() ? NULL : __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __libc_realloc(p, n);
}
#endif

static void arm(long n)
{
    calls = 0;
    injected = 0;
    fail_at = n;
}

static void disarm(void)
{
    fail_at = -1;
}

/* Every kind of key: lists, repeatable keys, custom keys, plug-ins, points
 * with ACLs and registered keys. */
static const char full_config[] = "[server]\n"
                                  "listen = 127.0.0.1:8080\n"
                                  "listen = [::1]:8080\n"
                                  "authentication = anonymous digest\n"
                                  "authorization = ip fs-acl\n"
                                  "allow-accounts = guise-a guise-b\n"
                                  "load = /nonexistent/a.so\n"
                                  "load = /nonexistent/b.so\n"
                                  "realm = guise test\n"
                                  "state-directory = /var/lib/guise-test\n"
                                  "access-log = /tmp/guise-test.log\n"
                                  "public-url = https://media.example/\n"
                                  "admin-listen = 127.0.0.1:8081\n"
                                  "admin-state = /tmp/guise-test.state\n"
                                  "admin-group = guise-admin\n"
                                  "workers = 3\n"
                                  "\n"
                                  "[plugin \"digest\"]\n"
                                  "user-file = /etc/guise/users\n"
                                  "\n"
                                  "[publishing-point \"media\"]\n"
                                  "path = /srv/media\n"
                                  "authentication = digest\n"
                                  "authorization = pp-acl\n"
                                  "read = alice bob\n"
                                  "write = alice\n"
                                  "active-content = off\n"
                                  "test-burst = 4096\n"
                                  "test-source = srt://0.0.0.0:9000\n";

/* A registered table, as the broadcast subsystem declares its keys. */
struct test_point_values {
    unsigned burst;
    char *source;
};
static const struct cfg_key test_keys[] = {
    {"test-burst", CFG_UINT, 0, offsetof(struct test_point_values, burst), 1, 1u << 20,
     "a size from 1 to 1048576", NULL, NULL, 0},
    {"test-source", CFG_STRING, CFG_NONEMPTY, offsetof(struct test_point_values, source), 0, 0,
     NULL, NULL, NULL, 0},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0},
};
static void test_defaults(void *v)
{
    ((struct test_point_values *)v)->burst = 1;
}
static int test_check(const char *point, void *v, char *why, size_t whysz)
{
    (void)point;
    struct test_point_values *t = v;
    if (t->burst == 13) {
        snprintf(why, whysz, "test-burst 13 is unlucky");
        return -1;
    }
    return 0;
}
static const struct cfg_point_keys test_point_keys = {
    "test", test_keys, sizeof(struct test_point_values), test_defaults, test_check};

static int setup(void **state)
{
    (void)state;
    return guise_config_register_point_keys(&test_point_keys);
}

static void test_full_config_parses(void **state)
{
    (void)state;
    char err[512] = "";
    struct guise_config *c = guise_config_parse("t.conf", full_config, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->nlisten, 2);
    assert_int_equal(c->authz.n, 2);
    assert_string_equal(c->authz.v[1], "fs-acl");
    assert_int_equal(c->modules.n, 2);
    assert_int_equal(c->workers, 3);
    assert_string_equal(c->public_url, "https://media.example");
    assert_int_equal(c->npoints, 1);
    assert_int_equal(c->points[0].authz.n, 1);
    assert_int_equal(c->points[0].active_content, CFG_ACTIVE_OFF);
    const struct test_point_values *t = guise_config_point_values(&c->points[0], &test_point_keys);
    assert_non_null(t);
    assert_int_equal(t->burst, 4096);
    assert_string_equal(t->source, "srt://0.0.0.0:9000");
    guise_config_free(c);
}

static void assert_refused(const char *text, const char *expect)
{
    char err[512] = "";
    struct guise_config *c = guise_config_parse("t.conf", text, err, sizeof err);
    if (c)
        guise_config_free(c);
    assert_null(c);
    if (!strstr(err, expect))
        fail_msg("error '%s' does not contain '%s'", err, expect);
}

static void test_typed_keys_refuse_bad_values(void **state)
{
    (void)state;
    assert_refused("[server]\nlisten = 127.0.0.1:1\nworkers = 0\n",
                   "t.conf:3: key 'workers': '0' is not a number from 1 to 1024");
    assert_refused("[server]\nlisten = 127.0.0.1:1\nmin-uid = -5\n", "t.conf:3: key 'min-uid'");
    assert_refused("[server]\nlisten = 127.0.0.1:1\nstate-directory = var/lib\n",
                   "t.conf:3: key 'state-directory': 'var/lib' is not an absolute path");
    assert_refused("[server]\nlisten = 127.0.0.1:1\ncolour = blue\n",
                   "t.conf:3: key 'colour': unknown key in [server]");
    assert_refused("[server]\nlisten = 127.0.0.1:1\nallow-accounts = alice root\n",
                   "key 'allow-accounts': 'root' is uid 0");
    assert_refused("[server]\nlisten = 127.0.0.1:1\npublic-url = ftp://x\n", "key 'public-url'");
    assert_refused("[server]\nlisten = 127.0.0.1:1\n[publishing-point \"p\"]\npath = /tmp\n"
                   "active-content = maybe\n",
                   "t.conf:5: key 'active-content': 'maybe' is not off, sandbox or on");
    assert_refused("[server]\nlisten = 127.0.0.1:1\n[publishing-point \"p\"]\npath = /tmp\n"
                   "test-burst = 0\n",
                   "t.conf:5: key 'test-burst': '0' is not a size from 1 to 1048576");
    assert_refused("[server]\nlisten = 127.0.0.1:1\n[publishing-point \"p\"]\npath = /tmp\n"
                   "test-burst = 13\n",
                   "t.conf:3: [publishing-point \"p\"]: test-burst 13 is unlucky");
    assert_refused("[server]\nlisten = 127.0.0.1:1\n[publishing-point \"p\"]\npath = /tmp\n"
                   "nonsense = 1\n",
                   "t.conf:5: key 'nonsense': unknown key in [publishing-point \"p\"]");
}

static void test_registered_keys_have_one_owner(void **state)
{
    (void)state;
    static const struct cfg_key clash[] = {{"path", CFG_STRING, 0, 0, 0, 0, NULL, NULL, NULL, 0},
                                           {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0}};
    static const struct cfg_point_keys k = {"clash", clash, sizeof(char *), NULL, NULL};
    assert_int_equal(guise_config_register_point_keys(&k), -1);
    assert_int_equal(guise_config_register_point_keys(&test_point_keys), 0); /* again: no-op */
}

/* The heart of it: fail allocation 0, 1, 2, ... of the parse, one at a
 * time, until a parse runs without reaching the armed call. */
static void test_every_allocation_failure_refuses(void **state)
{
    (void)state;
#if !HAVE_ALLOC_HOOK
    skip(); /* ASan owns malloc: the hook cannot replace it there */
#endif
    long n = 0;
    for (;; n++) {
        char err[512] = "";
        arm(n);
        struct guise_config *c = guise_config_parse("t.conf", full_config, err, sizeof err);
        disarm();
        if (!injected) {
            assert_non_null(c); /* no failure: the file is good */
            guise_config_free(c);
            break;
        }
        if (c) {
            fail_msg("allocation %ld failed, yet the configuration was accepted "
                     "(server authorization list: %zu entries)",
                     n, c->authz.n);
        }
        assert_true(err[0] != '\0');
    }
    print_message("%ld allocations, each failure refused the file\n", n);
    assert_true(n > 50); /* the hook really saw the parse allocate */
}

/* What a configuration decides, as text: two loads that print the same
 * serve the same content to the same people. */
static void list_print(FILE *f, const char *what, const struct cfg_list *l)
{
    fprintf(f, "%s(%d)", what, l->set);
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, " %s", l->v[i]);
    fputc('\n', f);
}

static char *fingerprint(const struct guise_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    disarm();
    FILE *f = open_memstream(&buf, &len);
    list_print(f, "authn", &c->authn);
    list_print(f, "authz", &c->authz);
    list_print(f, "allow", &c->allow_accounts);
    fprintf(f, "admin-gid %d %u min-uid %lu listen %zu\n", c->admin_gid_valid,
            (unsigned)c->admin_gid, c->min_uid, c->nlisten);
    for (size_t i = 0; i < c->npoints; i++) {
        const struct cfg_point *p = &c->points[i];
        fprintf(f, "point %s %s %d ac=%d\n", p->name, p->path, p->is_dir, p->active_content);
        list_print(f, "  authn", &p->authn);
        list_print(f, "  authz", &p->authz);
        for (size_t j = 0; j < guise_props_size(p->acl); j++) {
            const char *k, *v;
            guise_props_entry(p->acl, j, &k, &v, NULL);
            fprintf(f, "  %s=%s\n", k, v);
        }
    }
    fclose(f);
    return buf;
}

/* The same through guise_config_load: the file read, the paths checked,
 * the admin group and allow-accounts looked up (NSS allocates too). The C
 * library recovers from some failures by itself (stdio reads unbuffered
 * without its buffer): a load may then succeed, but only with exactly the
 * configuration a load without failure gives. */
static void test_every_allocation_failure_refuses_the_file(void **state)
{
    (void)state;
#if !HAVE_ALLOC_HOOK
    skip();
#endif
    char dir[] = "/tmp/guise-test-config.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf[128];
    snprintf(conf, sizeof conf, "%s/guised.conf", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "[server]\nlisten = 127.0.0.1:8080\nauthentication = anonymous\n"
            "authorization = fs-acl\nallow-accounts = nobody daemon\nadmin-group = root\n"
            "[publishing-point \"p\"]\npath = %s\nauthorization = pp-acl\nread = alice\n",
            dir);
    fclose(f);
    char err0[512] = "";
    struct guise_config *base = guise_config_load(conf, err0, sizeof err0);
    if (!base)
        fail_msg("refused without any failure: %s", err0);
    char *want = fingerprint(base);
    guise_config_free(base);
    long n = 0, recovered = 0;
    for (;; n++) {
        char err[512] = "";
        arm(n);
        struct guise_config *c = guise_config_load(conf, err, sizeof err);
        disarm();
        if (!injected) {
            assert_non_null(c);
            guise_config_free(c);
            break;
        }
        if (c) {
            char *got = fingerprint(c);
            if (strcmp(got, want) != 0)
                fail_msg("allocation %ld failed, and the file loaded differently:\n%s\n"
                         "instead of\n%s",
                         n, got, want);
            free(got);
            guise_config_free(c);
            recovered++;
            continue;
        }
        assert_true(err[0] != '\0');
    }
    free(want);
    print_message("%ld allocations in guise_config_load: %ld failures refused the file, %ld "
                  "were absorbed by the C library with the same result\n",
                  n, n - recovered, recovered);
    unlink(conf);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config_parses),
        cmocka_unit_test(test_typed_keys_refuse_bad_values),
        cmocka_unit_test(test_registered_keys_have_one_owner),
        cmocka_unit_test(test_every_allocation_failure_refuses),
        cmocka_unit_test(test_every_allocation_failure_refuses_the_file),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
