/* The Basic plug-in through its descriptor, with the htpasswd backend and a
 * fake host that counts password checks (each one is a work item). */
#include "plugins/basic/basic.h"

#include "basic_test_util.h"
#include <guise/host_props.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* alice/password ({SHA}), bob/myPassword (apr1), carol/correct horse
 * (yescrypt), dave: a plain-text entry, which is refused. */
static const char users[] =
    "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"
    "bob:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n"
    "carol:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79\n"
    "dave:secret\n";

/* Starts a plug-in on the users above plus extra properties kv. */
static void start(struct bt_plugin *bt, const char *const *kv)
{
    memset(bt, 0, sizeof *bt);
    test_mkdtemp(bt->dir);
    const char *file = test_write_file(bt->dir, "htpasswd", users, 0644);
    const char *all[32] = {"backend", "htpasswd", "user-file", file};
    size_t n = 4;
    for (; kv && kv[0]; kv += 2) {
        all[n++] = kv[0];
        all[n++] = kv[1];
    }
    all[n] = NULL;
    bt_plugin_start(bt, all);
}

/* ---- descriptor, properties, challenge ---- */

static void test_descriptor(void **state)
{
    const struct guise_plugin_descriptor *d = &guise_basic_plugin;
    assert_int_equal(d->abi_major, GUISE_ABI_MAJOR);
    assert_int_equal(d->kind, GUISE_PLUGIN_AUTHENTICATION);
    assert_string_equal(d->name, "basic");
    assert_string_equal(d->package, "Basic");
    assert_string_equal(d->authn->protocol, "Basic");
    assert_int_equal(d->authn->flags, GUISE_AUTH_TEXT_CHALLENGE | GUISE_AUTH_CLIENT_SHOWS_UI |
                                          GUISE_AUTH_CHALLENGE_FIRST);
    assert_null(d->authz);
    static const char *keys[] = {"realm",      "backend",        "pam-service", "pam-timeout",
                                 "user-file",  "account-map",    "account",     "cache-ttl",
                                 "cache-size", "allow-plaintext"};
    size_t n = 0;
    for (const struct guise_property_spec *p = d->properties; p->name; p++, n++) {
        bool known = false;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            known |= strcmp(keys[i], p->name) == 0;
        assert_true(known);
        assert_non_null(p->help);
    }
    assert_int_equal(n, sizeof keys / sizeof keys[0]);
}

static void test_init_validation(void **state)
{
    static const char *const bad[][5] = {
        {"backend", "ldap", NULL},
        {"backend", "htpasswd", NULL},        /* user-file missing */
        {"user-file", "/etc/htpasswd", NULL}, /* with pam */
        {"backend", "htpasswd", "user-file", "users"},
        {"backend", "htpasswd", "pam-service", "guise"},
        {"pam-service", "../etc/x", NULL},
        {"pam-service", "", NULL},
        {"pam-timeout", "0", NULL},
        {"pam-timeout", "301", NULL},
        {"cache-ttl", "-1", NULL},
        {"cache-size", "0", NULL},
        {"allow-plaintext", "sometimes", NULL},
        {"realm", "a\tb", NULL},
        {"realm", "", NULL},
        {"account", "two words", NULL},
        {"account-map", "map", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct bt_plugin bt;
        memset(&bt, 0, sizeof bt);
        assert_int_equal(bt_plugin_init(&bt, bad[i]), GUISE_E_INVALIDARG);
        const char *err = guise_props_error(bt.props);
        if (!strstr(err, "key '"))
            fail_msg("case %zu: '%s'", i, err);
        bt.plugin = NULL;
        bt_plugin_stop(&bt);
    }
}

struct sink {
    struct guise_challenge_sink base;
    int n;
    char v[4][512];
};

static void sink_add(struct guise_challenge_sink *s, const char *params)
{
    struct sink *k = (struct sink *)s;
    if (k->n < 4)
        snprintf(k->v[k->n], sizeof k->v[0], "%s", params);
    k->n++;
}

static int challenges(struct bt_plugin *bt, bool secure, struct sink *s)
{
    struct fake_req req;
    bt_req_init(&req, secure);
    memset(s, 0, sizeof *s);
    s->base.add = sink_add;
    assert_int_equal(bt->ops->challenge(bt->plugin, &req.info, &s->base), GUISE_S_OK);
    return s->n;
}

static void test_challenge(void **state)
{
    struct bt_plugin bt;
    struct sink s;
    start(&bt, NULL);
    assert_int_equal(challenges(&bt, true, &s), 1);
    assert_string_equal(s.v[0], "realm=\"media@example.org\", charset=\"UTF-8\"");
    /* Not offered over plain HTTP. */
    assert_int_equal(challenges(&bt, false, &s), 0);
    bt_plugin_stop(&bt);

    static const char *const kv[] = {"allow-plaintext", "true", "realm", "say \"hi\" \\o/", NULL};
    start(&bt, kv);
    assert_int_equal(challenges(&bt, false, &s), 1);
    assert_string_equal(s.v[0], "realm=\"say \\\"hi\\\" \\\\o/\", charset=\"UTF-8\"");
    bt_plugin_stop(&bt);
}

/* ---- authentication ---- */

static void test_right_and_wrong(void **state)
{
    static const char *const kv[] = {"cache-ttl", "0", NULL};
    static const char *const right[][2] = {
        {"alice", "password"}, {"bob", "myPassword"}, {"carol", "correct horse"}};
    struct bt_plugin bt;
    struct auth_capture cap;
    start(&bt, kv);
    for (size_t i = 0; i < 3; i++) {
        int works = fake_host_works(&bt.host);
        bt_auth(&bt, bt_blob(right[i][0], right[i][1]), true, &cap, 10);
        assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
        assert_int_equal(fake_host_works(&bt.host), works + 1); /* checked on a worker */
        assert_string_equal(bt_logical_user(&bt), right[i][0]);
        assert_string_equal(bt_account(&bt), right[i][0]);
        guise_token *t = (guise_token *)&t;
        assert_int_equal(bt.ops->impersonation_token(bt.ctx, &t), GUISE_S_OK);
        assert_null(t); /* the fake host runs without impersonation */

        bt_auth(&bt, bt_blob(right[i][0], "wrong"), true, &cap, 10);
        assert_int_equal(cap.status, GUISE_AUTH_DENIED);
        assert_int_equal(cap.code, GUISE_E_ACCESSDENIED);
        /* The claimed name, for the host's per-user throttling. */
        assert_string_equal(bt_logical_user(&bt), right[i][0]);
        assert_null(bt_account(&bt));
    }
    /* Unknown users and plain-text entries are checked (against a dummy
     * hash) and denied. */
    int works = fake_host_works(&bt.host);
    bt_auth(&bt, bt_blob("mallory", "password"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_string_equal(bt_logical_user(&bt), "mallory");
    bt_auth(&bt, bt_blob("dave", "secret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(fake_host_works(&bt.host), works + 2);
    /* The plain-text entry was reported at enable, as a WARNING (an ERROR
     * would disable the plug-in). */
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_WARNING, BASIC_EVENT_USER_FILE), 1);
    assert_non_null(strstr(bt.host.events[0].msg, "dave"));
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_ERROR, 0), 0);
    bt_plugin_stop(&bt);
}

static void test_malformed(void **state)
{
    static const char *const blobs[] = {"", "%%%%", "YWxpY2U=", "YWwAaWNlOnB3", "Zm9v"};
    struct bt_plugin bt;
    struct auth_capture cap;
    start(&bt, NULL);
    for (size_t i = 0; i < sizeof blobs / sizeof blobs[0]; i++) {
        bt_auth(&bt, blobs[i], true, &cap, 1);
        assert_int_equal(cap.status, GUISE_AUTH_DENIED);
        assert_int_equal(cap.code, GUISE_E_BAD_FORMAT);
        assert_null(bt_logical_user(&bt));
    }
    /* 4 KiB of base64 and more. */
    char *big = malloc(8192);
    memset(big, 'A', 8188);
    big[8188] = '\0';
    bt_auth(&bt, big, true, &cap, 1);
    free(big);
    assert_int_equal(cap.code, GUISE_E_BAD_FORMAT);
    assert_int_equal(fake_host_works(&bt.host), 0);
    /* Rate-limited: one WARNING for the burst. */
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_WARNING, BASIC_EVENT_MALFORMED), 1);
    bt_plugin_stop(&bt);
}

static void test_plaintext(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    start(&bt, NULL);
    bt_auth(&bt, bt_blob("alice", "password"), false, &cap, 1);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(cap.code, GUISE_E_ACCESSDENIED);
    assert_int_equal(fake_host_works(&bt.host), 0);
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_INFORMATION, BASIC_EVENT_PLAINTEXT), 1);
    assert_non_null(strstr(fake_host_last_message(&bt.host), "plain HTTP"));
    assert_null(bt_logical_user(&bt));
    bt_plugin_stop(&bt);

    static const char *const kv[] = {"allow-plaintext", "yes", NULL};
    start(&bt, kv);
    bt_auth(&bt, bt_blob("alice", "password"), false, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    bt_plugin_stop(&bt);
}

/* ---- the cache ---- */

static void test_cache(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    start(&bt, NULL); /* default TTL 60 s */
    bt_auth(&bt, bt_blob("carol", "correct horse"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(fake_host_works(&bt.host), 1);
    /* Within the TTL: no second check, and a synchronous completion. */
    for (int i = 0; i < 5; i++) {
        bt_auth(&bt, bt_blob("carol", "correct horse"), true, &cap, 0);
        assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
        assert_string_equal(bt_account(&bt), "carol");
    }
    assert_int_equal(fake_host_works(&bt.host), 1);
    /* Another password is a miss; its failure drops carol's entries. */
    bt_auth(&bt, bt_blob("carol", "correct horsf"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(fake_host_works(&bt.host), 2);
    bt_auth(&bt, bt_blob("carol", "correct horse"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(fake_host_works(&bt.host), 3);
    bt_plugin_stop(&bt);

    /* Expiry. */
    static const char *const short_ttl[] = {"cache-ttl", "1", NULL};
    start(&bt, short_ttl);
    bt_auth(&bt, bt_blob("alice", "password"), true, &cap, 10);
    bt_auth(&bt, bt_blob("alice", "password"), true, &cap, 0);
    assert_int_equal(fake_host_works(&bt.host), 1);
    usleep(1100 * 1000);
    bt_auth(&bt, bt_blob("alice", "password"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(fake_host_works(&bt.host), 2);
    bt_plugin_stop(&bt);

    /* Disabled. */
    static const char *const off[] = {"cache-ttl", "0", NULL};
    start(&bt, off);
    for (int i = 0; i < 3; i++)
        bt_auth(&bt, bt_blob("alice", "password"), true, &cap, 10);
    assert_int_equal(fake_host_works(&bt.host), 3);
    bt_plugin_stop(&bt);
}

/* ---- accounts and the user file ---- */

static void test_accounts(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    memset(&bt, 0, sizeof bt);
    test_mkdtemp(bt.dir);
    const char *map = test_write_file(bt.dir, "map", "alice media\nbob ghost\n* guests\n", 0644);
    char map_path[512];
    snprintf(map_path, sizeof map_path, "%s", map);
    const char *file = test_write_file(bt.dir, "htpasswd", users, 0644);
    const char *kv[] = {"backend", "htpasswd", "user-file", file, "account-map", map_path, NULL};
    bt_plugin_start(&bt, kv);
    bt_auth(&bt, bt_blob("alice", "password"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_string_equal(bt_logical_user(&bt), "alice");
    assert_string_equal(bt_account(&bt), "media");
    bt_auth(&bt, bt_blob("carol", "correct horse"), true, &cap, 10);
    assert_string_equal(bt_account(&bt), "guests");
    /* An account that does not exist: denied, WARNING (not ERROR). */
    bt_auth(&bt, bt_blob("bob", "myPassword"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_WARNING, BASIC_EVENT_ACCOUNT_REFUSED),
                     1);
    assert_null(bt_account(&bt));
    bt_plugin_stop(&bt);
}

static void test_user_file_reload(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    start(&bt, NULL);
    bt_auth(&bt, bt_blob("alice", "password"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    /* alice's password changes (htpasswd -nbs alice s3cret). */
    usleep(1100 * 1000);
    test_write_file(bt.dir, "htpasswd", "alice:{SHA}/vNB+F2HQ559kaLUZbmHHvZrXpg=\n", 0644);
    bt_auth(&bt, bt_blob("alice", "password"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED); /* the cache was emptied */
    bt_auth(&bt, bt_blob("alice", "s3cret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_INFORMATION, BASIC_EVENT_USER_FILE), 1);
    /* A broken file: everybody denied, WARNING, plug-in still enabled. */
    usleep(1100 * 1000);
    test_write_file(bt.dir, "htpasswd", "alice\n", 0644);
    bt_auth(&bt, bt_blob("alice", "s3cret"), true, &cap, 10);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_non_null(strstr(fake_host_last_message(&bt.host), "line 1"));
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_ERROR, 0), 0);
    bt_plugin_stop(&bt);
}

static void test_enable_failure(void **state)
{
    struct bt_plugin bt;
    memset(&bt, 0, sizeof bt);
    test_mkdtemp(bt.dir);
    char path[300];
    snprintf(path, sizeof path, "%s/missing", bt.dir);
    const char *kv[] = {"backend", "htpasswd", "user-file", path, NULL};
    assert_int_equal(bt_plugin_init(&bt, kv), GUISE_S_OK);
    assert_int_equal(guise_basic_plugin.enable(bt.plugin), GUISE_E_PLUGIN_ERROR_REPORTED);
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_ERROR, BASIC_EVENT_ENABLE_FAILED), 1);
    bt_plugin_stop(&bt);
}

static void test_queue_full(void **state)
{
    static const char *const kv[] = {"cache-ttl", "0", NULL};
    struct bt_plugin bt;
    struct auth_capture cap;
    start(&bt, kv);
    bt.host.refuse_work = true;
    bt_auth(&bt, bt_blob("alice", "password"), true, &cap, 1);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    /* A temporary refusal (503), not a wrong password and not a failure. */
    assert_int_equal(cap.code, GUISE_E_BUSY);
    /* Load is not the user's fault: no claimed name to throttle. */
    assert_null(bt_logical_user(&bt));
    assert_int_equal(fake_host_events(&bt.host, GUISE_EVENT_WARNING, BASIC_EVENT_PAM_FAILURE), 1);
    bt_plugin_stop(&bt);
}

/* backend = htdigest: Basic checks passwords against Digest's user file (one
 * credential store serving both schemes): H(user:realm:password) with the
 * strongest hash the user has; users of another realm are not users. */
static const char htdigest_users[] =
    "alice:basic-realm:e239e9fc0a46cafecb0595bfb7061677eda3d4bc5176980fda1a2fd5d8243d8e\n"
    "alice:basic-realm:7195a62963347e224d073ed78957290a\n"
    "mufasa:basic-realm:a776ed165ef3e6311654f34efd25cb23\n"
    "eve:other-realm:78a63399e5ab32cdb72b8def3dc44a25\n";

static void test_htdigest_backend(void **state)
{
    struct bt_plugin bt;
    struct auth_capture cap;
    memset(&bt, 0, sizeof bt);
    test_mkdtemp(bt.dir);
    const char *file = test_write_file(bt.dir, "htdigest", htdigest_users, 0600);
    const char *kv[] = {"backend",     "htdigest",  "user-file", file, "realm",
                        "basic-realm", "cache-ttl", "0",         NULL};
    bt_plugin_start(&bt, kv);
    int works = fake_host_works(&bt.host);
    bt_auth(&bt, bt_blob("alice", "alice pw"), true, &cap, 1);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_string_equal(bt_logical_user(&bt), "alice");
    bt_auth(&bt, bt_blob("mufasa", "Circle Of Life"), true, &cap, 1);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS); /* an MD5-only user */
    bt_auth(&bt, bt_blob("alice", "alice PW"), true, &cap, 1);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(cap.code, GUISE_E_ACCESSDENIED);
    assert_string_equal(bt_logical_user(&bt), "alice"); /* claimed, for throttling */
    bt_auth(&bt, bt_blob("eve", "eve pw"), true, &cap, 1);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED); /* another realm */
    bt_auth(&bt, bt_blob("nobody-here", "x"), true, &cap, 1);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    /* Cheap hashes: checked inline, no worker job. */
    assert_int_equal(fake_host_works(&bt.host), works);
    bt_plugin_stop(&bt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_init_validation),
        cmocka_unit_test(test_challenge),
        cmocka_unit_test(test_right_and_wrong),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_plaintext),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_user_file_reload),
        cmocka_unit_test(test_enable_failure),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_htdigest_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
