/* The shared account map: parsing, resolution order, reloads. */
#include "plugins/common/account_map.h"
#include "plugins/common/account_token.h"

#include "digest_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static pk_account_map *parse_ok(const char *text)
{
    pk_account_map *m = NULL;
    char err[256] = "";
    if (pk_account_map_parse(text, strlen(text), &m, err, sizeof err) != GUISE_S_OK)
        fail_msg("refused: %s", err);
    return m;
}

static void parse_bad(const char *text, const char *expect)
{
    pk_account_map *m = NULL;
    char err[256] = "";
    assert_int_equal(pk_account_map_parse(text, strlen(text), &m, err, sizeof err),
                     GUISE_E_BAD_FORMAT);
    assert_null(m);
    if (!strstr(err, expect))
        fail_msg("'%s' does not contain '%s'", err, expect);
}

static void test_parse(void **state)
{
    pk_account_map *m = parse_ok("# logical user   account\n"
                                 "alice   alice\n"
                                 "\n"
                                 "bob@EXAMPLE.ORG\tmedia   # a comment\n"
                                 "  carol  staff\r\n"
                                 "*  guests\n"
                                 "J\xc3\xa4s\xc3\xb8n  jason");
    assert_int_equal(pk_account_map_count(m), 5);
    assert_string_equal(pk_account_map_lookup(m, "alice"), "alice");
    assert_string_equal(pk_account_map_lookup(m, "bob@EXAMPLE.ORG"), "media");
    assert_string_equal(pk_account_map_lookup(m, "carol"), "staff");
    assert_string_equal(pk_account_map_lookup(m, "J\xc3\xa4s\xc3\xb8n"), "jason");
    assert_null(pk_account_map_lookup(m, "bob"));
    assert_null(pk_account_map_lookup(m, "*"));
    pk_account_map_free(m);

    m = parse_ok("");
    assert_int_equal(pk_account_map_count(m), 0);
    pk_account_map_free(m);
}

static void test_parse_errors(void **state)
{
    parse_bad("alice\n", "line 1: expected 'user account'");
    parse_bad("ok ok\nalice # x\n", "line 2: expected");
    parse_bad("alice a b\n", "line 1: more than two fields");
    parse_bad("alice a:b\n", "invalid account");
    parse_bad("alice a/b\n", "invalid account");
    parse_bad("alice *\n", "invalid account");
    parse_bad("al\x01ice a\n", "control character");
    parse_bad("alice a\nbob b\nalice c\n", "line 3: user 'alice' already mapped on line 1");
    parse_bad("* a\n* b\n", "line 2: second '*' line (first on line 1)");
    pk_account_map *m = NULL;
    char err[64];
    assert_int_equal(pk_account_map_parse("a b\0c d", 7, &m, err, sizeof err), GUISE_E_BAD_FORMAT);
}

/* Map entry, then '*', then the fixed account, then the user's own name. */
static void test_resolution_order(void **state)
{
    pk_account_map *with_star = parse_ok("alice media\n* guests\n");
    pk_account_map *no_star = parse_ok("alice media\n");

    assert_string_equal(pk_account_map_resolve(with_star, "alice", "fixed"), "media");
    assert_string_equal(pk_account_map_resolve(with_star, "bob", "fixed"), "guests");
    assert_string_equal(pk_account_map_resolve(no_star, "alice", "fixed"), "media");
    assert_string_equal(pk_account_map_resolve(no_star, "bob", "fixed"), "fixed");
    assert_string_equal(pk_account_map_resolve(no_star, "bob", NULL), "bob");
    assert_string_equal(pk_account_map_resolve(NULL, "bob", "fixed"), "fixed");
    assert_string_equal(pk_account_map_resolve(NULL, "bob", NULL), "bob");
    assert_string_equal(pk_account_map_resolve(NULL, "bob", ""), "bob");
    pk_account_map_free(with_star);
    pk_account_map_free(no_star);

    assert_true(pk_account_name_ok("media"));
    assert_false(pk_account_name_ok(""));
    assert_false(pk_account_name_ok("*"));
    assert_false(pk_account_name_ok("a b"));
    assert_false(pk_account_name_ok(NULL));
}

static void test_load_file(void **state)
{
    char dir[256], err[512];
    pk_account_map *m = NULL;
    test_mkdtemp(dir);
    const char *path = test_write_file(dir, "map", "a b\nc\n", 0600);
    assert_int_equal(pk_account_map_load(path, &m, err, sizeof err), GUISE_E_BAD_FORMAT);
    assert_non_null(strstr(err, "/map: line 2:"));
    path = test_write_file(dir, "map", "a b\n", 0600);
    assert_int_equal(pk_account_map_load(path, &m, err, sizeof err), GUISE_S_OK);
    pk_account_map_free(m);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none", dir);
    assert_int_not_equal(pk_account_map_load(missing, &m, err, sizeof err), GUISE_S_OK);
    test_rmtree(dir);
}

static char *resolve(pk_account_mapper *m, const char *user, guise_result *r)
{
    char *a = NULL;
    *r = pk_account_mapper_resolve(m, user, &a);
    return a;
}

static void test_mapper_reload(void **state)
{
    char dir[256], err[512];
    struct fake_host host;
    pk_account_mapper *m = NULL;
    guise_result r;
    char *a;
    test_mkdtemp(dir);
    fake_host_init(&host, dir, "media");

    const char *path = test_write_file(dir, "map", "alice media\n", 0600);
    assert_int_equal(pk_account_mapper_new(&host.svc, 77, path, "fixed", &m, err, sizeof err),
                     GUISE_S_OK);
    a = resolve(m, "alice", &r);
    assert_string_equal(a, "media");
    free(a);
    a = resolve(m, "bob", &r);
    assert_string_equal(a, "fixed");
    free(a);

    /* A change is seen within about a second, without a restart. */
    sleep(1);
    test_write_file(dir, "map", "alice staff\n* guests\n", 0600);
    usleep(1100000);
    a = resolve(m, "alice", &r);
    assert_string_equal(a, "staff");
    free(a);
    a = resolve(m, "bob", &r);
    assert_string_equal(a, "guests");
    free(a);
    assert_int_equal(fake_host_events(&host, GUISE_EVENT_INFORMATION, 77), 1);

    /* A broken file denies everyone (never falls back) and says so once. */
    usleep(1100000);
    test_write_file(dir, "map", "alice\n", 0600);
    a = resolve(m, "alice", &r);
    assert_int_equal(r, GUISE_E_BAD_FORMAT);
    assert_null(a);
    a = resolve(m, "bob", &r);
    assert_int_equal(r, GUISE_E_BAD_FORMAT);
    usleep(1100000);
    a = resolve(m, "bob", &r);
    assert_int_equal(r, GUISE_E_BAD_FORMAT);
    assert_int_equal(fake_host_events(&host, GUISE_EVENT_WARNING, 77), 1);
    assert_non_null(strstr(fake_host_last_message(&host), "line 1"));
    assert_int_equal(fake_host_events(&host, GUISE_EVENT_ERROR, 0), 0);

    /* Fixed again. */
    test_write_file(dir, "map", "alice media\n", 0600);
    usleep(1100000);
    a = resolve(m, "alice", &r);
    assert_int_equal(r, GUISE_S_OK);
    assert_string_equal(a, "media");
    free(a);
    pk_account_mapper_free(m);

    /* Without a map file: the fixed account, else the user's name. */
    assert_int_equal(pk_account_mapper_new(NULL, 0, NULL, NULL, &m, err, sizeof err), GUISE_S_OK);
    a = resolve(m, "bob", &r);
    assert_string_equal(a, "bob");
    free(a);
    pk_account_mapper_free(m);

    /* The first read must work. */
    test_write_file(dir, "map", "x\n", 0600);
    assert_int_equal(pk_account_mapper_new(NULL, 0, path, NULL, &m, err, sizeof err),
                     GUISE_E_BAD_FORMAT);
    assert_null(m);
    test_rmtree(dir);
}

struct token_result {
    struct auth_capture cap;
    guise_result r;
};

static void on_token(guise_result r, guise_token *token, void *arg)
{
    struct token_result *t = arg;
    t->r = r;
    guise_token_unref(token);
    auth_capture_done(GUISE_AUTH_SUCCESS, r, NULL, &t->cap);
}

static void test_account_token(void **state)
{
    struct fake_host host;
    struct token_result t;
    fake_host_init(&host, "/tmp", "media");

    auth_capture_init(&t.cap);
    pk_account_token_get(&host.svc, "alice", on_token, &t);
    assert_int_equal(t.cap.calls, 1); /* cached: synchronous */
    assert_int_equal(t.r, GUISE_S_OK);
    assert_int_equal(host.works_submitted, 0);

    auth_capture_init(&t.cap);
    pk_account_token_get(&host.svc, "ghost", on_token, &t);
    assert_int_equal(t.cap.calls, 1);
    assert_int_equal(t.r, GUISE_E_NOT_FOUND);

    auth_capture_init(&t.cap);
    pk_account_token_get(&host.svc, "slowpoke", on_token, &t);
    assert_true(auth_capture_wait(&t.cap, 5));
    assert_int_equal(t.r, GUISE_S_OK);
    assert_int_equal(host.works_submitted, 1);

    host.refuse_work = true;
    auth_capture_init(&t.cap);
    pk_account_token_get(&host.svc, "slowpoke", on_token, &t);
    assert_int_equal(t.cap.calls, 1);
    assert_int_equal(t.r, GUISE_E_BUSY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_resolution_order),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_mapper_reload),
        cmocka_unit_test(test_account_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
