/* The Digest plug-in through its descriptor, with a fake host. */
#include "plugins/digest/digest.h"
#include "plugins/digest/digest_config.h"
#include "plugins/digest/digest_header.h"
#include "plugins/digest/digest_nonce.h"

#include <guise/host_props.h>
#include "digest_fixture.h"

#include <guise/token.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static const char *const all_algs[] = {
    "algorithms", "SHA-256 MD5 SHA-512-256 MD5-sess SHA-256-sess SHA-512-256-sess", "qop",
    "auth,auth-int", NULL};

/* ---- descriptor and properties ---- */

static void test_descriptor(void **state)
{
    const struct guise_plugin_descriptor *d = &guise_digest_plugin;
    assert_int_equal(d->abi_major, GUISE_ABI_MAJOR);
    assert_int_equal(d->kind, GUISE_PLUGIN_AUTHENTICATION);
    assert_string_equal(d->name, "digest");
    assert_string_equal(d->package, "Digest");
    assert_string_equal(d->authn->protocol, "Digest");
    assert_int_equal(d->authn->flags, GUISE_AUTH_TEXT_CHALLENGE | GUISE_AUTH_CLIENT_SHOWS_UI |
                                          GUISE_AUTH_CHALLENGE_FIRST);
    assert_null(d->authz);
    static const char *keys[] = {"realm",          "algorithms",      "qop",
                                 "user-file",      "account-map",     "account",
                                 "nonce-key-file", "nonce-lifetime",  "nonce-cache-size",
                                 "userhash",       "md5-first-agents"};
    size_t n = 0;
    for (const struct guise_property_spec *p = d->properties; p->name; p++) {
        bool known = false;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            known |= strcmp(keys[i], p->name) == 0;
        assert_true(known);
        assert_non_null(p->help);
        n++;
    }
    assert_int_equal(n, sizeof keys / sizeof keys[0]);
}

static void test_init_validation(void **state)
{
    static const char *const bad[][2] = {
        {"algorithms", "SHA-1"},
        {"algorithms", "MD5 md5"},
        {"algorithms", " , "},
        {"qop", "auth-conf"},
        {"qop", "auth auth"},
        {"qop", ""},
        {"realm", "a:b"},
        {"realm", ""},
        {"realm", "tab\there"},
        {"user-file", "relative/users"},
        {"account-map", "map"},
        {"account", "two words"},
        {"account", "*"},
        {"nonce-key-file", "key"},
        {"nonce-lifetime", "5"},
        {"nonce-lifetime", "1h"},
        {"nonce-lifetime", "100000"},
        {"nonce-cache-size", "10"},
        {"nonce-cache-size", "-1"},
        {"userhash", "perhaps"},
        {"md5-first-agents", "Python-urllib caf\xc3\xa9"},
        {"md5-first-agents", "bell\x07"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fx f;
        const char *kv[] = {bad[i][0], bad[i][1], NULL};
        assert_int_equal(fx_init(&f, kv), GUISE_E_INVALIDARG);
        char expect[64];
        snprintf(expect, sizeof expect, "key '%s'", bad[i][0]);
        if (!strstr(guise_props_error(f.props), expect))
            fail_msg("%s=%s: '%s'", bad[i][0], bad[i][1], guise_props_error(f.props));
        f.plugin = NULL;
        fx_stop(&f);
    }

    /* user-file is required. */
    struct fx f;
    memset(&f, 0, sizeof f);
    test_mkdtemp(f.dir);
    fake_host_init(&f.host, f.dir, REALM);
    f.props = guise_props_new("test.conf");
    assert_int_equal(guise_digest_plugin.init(&f.host.svc, f.props, &f.plugin), GUISE_E_INVALIDARG);
    assert_non_null(strstr(guise_props_error(f.props), "user-file"));
    f.plugin = NULL;
    fx_stop(&f);
}

static void test_challenges(void **state)
{
    struct fx f;
    struct sink s;
    char v[128], nonce0[128], opaque0[128];
    fx_start(&f, all_algs);
    get_challenges(&f, &s);
    assert_int_equal(s.n, 6);
    static const char *order[] = {"SHA-256",  "MD5",          "SHA-512-256",
                                  "MD5-sess", "SHA-256-sess", "SHA-512-256-sess"};
    for (int i = 0; i < 6; i++) {
        assert_true(auth_param(s.v[i], "algorithm", v, sizeof v));
        assert_string_equal(v, order[i]);
        assert_true(auth_param(s.v[i], "realm", v, sizeof v));
        assert_string_equal(v, REALM);
        assert_true(auth_param(s.v[i], "qop", v, sizeof v));
        assert_string_equal(v, "auth, auth-int");
        assert_true(auth_param(s.v[i], "charset", v, sizeof v));
        assert_string_equal(v, "UTF-8");
        assert_true(auth_param(s.v[i], "userhash", v, sizeof v));
        assert_string_equal(v, "true");
        assert_false(auth_param(s.v[i], "stale", v, sizeof v));
        assert_true(auth_param(s.v[i], "nonce", v, sizeof v));
        if (i == 0)
            snprintf(nonce0, sizeof nonce0, "%s", v);
        assert_string_equal(v, nonce0); /* one nonce per 401 */
        assert_true(auth_param(s.v[i], "opaque", v, sizeof v));
        if (i == 0)
            snprintf(opaque0, sizeof opaque0, "%s", v);
        assert_string_equal(v, opaque0);
    }
    assert_non_null(strstr(s.v[0], "realm=\"" REALM "\", qop=\"auth, auth-int\", "
                                   "algorithm=SHA-256, nonce=\""));
    /* The next 401 has a new nonce, the same opaque. */
    get_challenges(&f, &s);
    assert_true(auth_param(s.v[0], "nonce", v, sizeof v));
    assert_string_not_equal(v, nonce0);
    assert_true(auth_param(s.v[0], "opaque", v, sizeof v));
    assert_string_equal(v, opaque0);
    fx_stop(&f);

    /* Defaults: SHA-256 then MD5, qop auth, realm from the host; options. */
    const char *kv[] = {"qop",   "auth-int",           "userhash", "false",
                        "realm", "a \"quoted\" realm", NULL};
    fx_start(&f, NULL);
    get_challenges(&f, &s);
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(s.v[0], "realm=\"" REALM "\", qop=\"auth\", algorithm=SHA-256,"));
    assert_non_null(strstr(s.v[1], "algorithm=MD5,"));
    fx_stop(&f);
    fx_start(&f, kv);
    get_challenges(&f, &s);
    assert_true(auth_param(s.v[0], "qop", v, sizeof v));
    assert_string_equal(v, "auth-int");
    assert_false(auth_param(s.v[0], "userhash", v, sizeof v));
    assert_true(auth_param(s.v[0], "realm", v, sizeof v));
    assert_string_equal(v, "a \"quoted\" realm");
    assert_non_null(strstr(s.v[0], "realm=\"a \\\"quoted\\\" realm\""));
    fx_stop(&f);
}

/* ---- successful authentication ---- */

static void check_auth_info(struct fx *f, const struct digest_client *c, struct fake_req *req)
{
    char v[256];
    assert_int_equal(req->resp_headers, 1);
    assert_string_equal(req->resp_name, "Authentication-Info");
    const char *info = req->resp_value;
    assert_true(auth_param(info, "qop", v, sizeof v));
    assert_string_equal(v, c->qop);
    assert_true(auth_param(info, "nc", v, sizeof v));
    char nc[9];
    snprintf(nc, sizeof nc, "%08x", c->nc);
    assert_string_equal(v, nc);
    assert_true(auth_param(info, "cnonce", v, sizeof v));
    assert_string_equal(v, c->cnonce);
    if (strcmp(c->qop, "auth") == 0) {
        /* Mutual authentication: the client checks rspauth. */
        struct digest_client mutual = *c;
        char expect[DIGEST_MAX_HEX + 1];
        mutual.method = NULL;
        digest_client_response(&mutual, expect);
        assert_true(auth_param(info, "rspauth", v, sizeof v));
        assert_string_equal(v, expect);
    } else {
        assert_false(auth_param(info, "rspauth", v, sizeof v));
    }
}

static void test_all_algorithms(void **state)
{
    struct fx f;
    fx_start(&f, all_algs);
    for (int a = 0; a < DIGEST_ALG_COUNT; a++) {
        char nonce[128];
        struct digest_client c;
        struct fake_req req;
        struct auth_capture cap;
        fresh_nonce(&f, nonce);
        client_init(&f, &c, (enum digest_alg)a, nonce);
        auth_client(&f, &c, &req, &cap);
        if (cap.status != GUISE_AUTH_SUCCESS)
            fail_msg("%s: status %d", digest_alg_name((enum digest_alg)a), cap.status);
        assert_int_equal(cap.code, GUISE_S_OK);
        assert_false(cap.has_blob);
        assert_string_equal(logical_user(&f), "Mufasa");
        assert_string_equal(account_name(&f), "Mufasa");
        check_auth_info(&f, &c, &req);
        char v[128];
        assert_false(auth_param(req.resp_value, "nextnonce", v, sizeof v));

        /* The same credentials with a wrong password: denied, no stale. */
        fresh_nonce(&f, nonce);
        client_init(&f, &c, (enum digest_alg)a, nonce);
        c.password = "circle of life";
        auth_client(&f, &c, &req, &cap);
        assert_int_equal(cap.status, GUISE_AUTH_DENIED);
        assert_false(cap.has_blob);
        assert_int_not_equal(cap.code, GUISE_E_BAD_FORMAT);
        assert_int_equal(req.resp_headers, 0);
        /* The new authenticate reset the identity; the host may still ask
         * whom the wrong password was for (per-user throttling). */
        assert_null(account_name(&f));
        assert_string_equal(logical_user(&f), "Mufasa");
    }
    fx_stop(&f);
}

static void test_md5_without_algorithm(void **state)
{
    struct fx f;
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, NULL);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_MD5, nonce);
    c.omit_algorithm = true;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    fx_stop(&f);
}

static void test_auth_int(void **state)
{
    struct fx f;
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, all_algs);
    for (int a = 0; a < DIGEST_ALG_COUNT; a++) {
        fresh_nonce(&f, nonce);
        client_init(&f, &c, (enum digest_alg)a, nonce);
        c.qop = "auth-int";
        c.method = "POST";
        c.body = "hello=world";
        c.body_len = 11;
        auth_client(&f, &c, &req, &cap);
        assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
        check_auth_info(&f, &c, &req);
    }
    /* Empty body (NULL in the request). */
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.qop = "auth-int";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);

    /* The body is protected: another body fails. */
    char header[4096];
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.qop = "auth-int";
    c.method = "POST";
    c.body = "amount=10";
    c.body_len = 9;
    digest_client_header(&c, header, sizeof header);
    fake_req_init(&req, "POST", URI);
    req.info.body = "amount=99";
    req.info.body_len = 9;
    auth_raw(&f, header, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    fx_stop(&f);

    /* Not offered (the default is auth only): denied with a fresh
     * challenge, not a 400. */
    fx_start(&f, NULL);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.qop = "auth-int";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_not_equal(cap.code, GUISE_E_BAD_FORMAT);
    fx_stop(&f);
}

static void test_userhash(void **state)
{
    struct fx f;
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, all_algs);
    for (int a = 0; a < DIGEST_ALG_COUNT; a++) {
        fresh_nonce(&f, nonce);
        client_init(&f, &c, (enum digest_alg)a, nonce);
        c.userhash = true;
        auth_client(&f, &c, &req, &cap);
        assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
        assert_string_equal(logical_user(&f), "Mufasa");
    }
    /* A wrong password for a hashed name: the claimed user is the real one. */
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.userhash = true;
    c.password = "wrong";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_string_equal(logical_user(&f), "Mufasa");
    /* The hash of an unknown user, and a plain name flagged as hashed. */
    char hex[DIGEST_MAX_HEX + 1];
    digest_userhash(DIGEST_HASH_SHA256, "Scar", REALM, hex);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.userhash = true;
    c.user = "Scar";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_string_equal(logical_user(&f), hex);
    char header[4096];
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    digest_client_header(&c, header, sizeof header);
    strcat(header, ", userhash=true");
    fake_req_init(&req, "GET", URI);
    auth_raw(&f, header, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    fx_stop(&f);
}

static void test_username_star(void **state)
{
    struct fx f;
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, all_algs);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.user = JASON;
    c.password = "Secret, or not?";
    c.username_star = true;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_string_equal(logical_user(&f), JASON);
    /* With charset=UTF-8 the plain quoted form works too. */
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_MD5, nonce);
    c.user = JASON;
    c.password = "Secret, or not?";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    /* No SHA-512-256 line for this user: that algorithm fails. */
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA512_256, nonce);
    c.user = JASON;
    c.password = "Secret, or not?";
    c.username_star = true;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    fx_stop(&f);
}

static void test_denials(void **state)
{
    struct fx f;
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    const char *kv[] = {"algorithms", "SHA-256 MD5", NULL};
    fx_start(&f, kv);

    /* Unknown user; user without this hash; user of another realm. */
    static const struct {
        const char *user, *pw;
        enum digest_alg alg;
    } who[] = {
        {"Scar", "Circle of Life", DIGEST_ALG_SHA256},
        {"md5only", "pw1", DIGEST_ALG_SHA256},
        {"other", "Circle of Life", DIGEST_ALG_MD5},
    };
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        fresh_nonce(&f, nonce);
        client_init(&f, &c, who[i].alg, nonce);
        c.user = who[i].user;
        c.password = who[i].pw;
        auth_client(&f, &c, &req, &cap);
        assert_int_equal(cap.status, GUISE_AUTH_DENIED);
        assert_false(cap.has_blob);
    }
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_MD5, nonce);
    c.user = "md5only";
    c.password = "pw1";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);

    /* Not offered (SHA-512-256), other realm, wrong opaque: plain denials. */
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA512_256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(cap.code, GUISE_E_ACCESSDENIED);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.realm = "elsewhere";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(cap.code, GUISE_E_ACCESSDENIED);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.opaque = "0123";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    /* Without opaque: accepted (it carries nothing the nonce does not). */
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.opaque = NULL;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_WARNING, 0), 0);
    fx_stop(&f);
}

/* ---- nonces ---- */

static void read_key(struct fx *f, uint8_t *key)
{
    int fd = open(f->key_file, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, key, DIGEST_NONCE_KEY_SIZE), DIGEST_NONCE_KEY_SIZE);
    close(fd);
}

static void test_stale_nonce(void **state)
{
    struct fx f;
    char nonce[128], v[256];
    uint8_t key[DIGEST_NONCE_KEY_SIZE];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, all_algs);
    fresh_nonce(&f, nonce); /* for the opaque */
    read_key(&f, key);
    /* Issued 301 s ago with the server's key: authentic but expired. */
    digest_nonce_make(key, REALM, digest_nonce_now_us() - 301 * UINT64_C(1000000), nonce);
    client_init(&f, &c, DIGEST_ALG_SHA512_256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    /* stale, not a failure: the host must not throttle it */
    assert_int_equal(cap.code, GUISE_E_CONTEXT_EXPIRED);
    assert_true(cap.has_blob);
    assert_true(auth_param(cap.blob, "stale", v, sizeof v));
    assert_string_equal(v, "true");
    assert_true(auth_param(cap.blob, "algorithm", v, sizeof v));
    assert_string_equal(v, "SHA-512-256");
    assert_true(auth_param(cap.blob, "realm", v, sizeof v));
    assert_string_equal(v, REALM);
    /* The client retries with the new nonce, without asking the user. */
    char fresh[128];
    assert_true(auth_param(cap.blob, "nonce", fresh, sizeof fresh));
    assert_string_not_equal(fresh, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA512_256, fresh);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);

    /* A stale nonce with a wrong password gets no stale hint. */
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.password = "wrong";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_not_equal(cap.code, GUISE_E_CONTEXT_EXPIRED);
    assert_false(cap.has_blob);
    fx_stop(&f);
}

/* ---- md5-first-agents ---- */

/* The algorithms of the challenges a client with user_agent gets, joined by
 * blanks; every challenge must carry the same nonce. */
static void challenge_algs(struct fx *f, const char *user_agent, char *out, size_t size)
{
    struct sink s;
    char v[128], nonce0[128];
    get_challenges_for(f, user_agent, &s);
    out[0] = '\0';
    for (int i = 0; i < s.n; i++) {
        assert_true(auth_param(s.v[i], "algorithm", v, sizeof v));
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%s%s", i ? " " : "", v);
        assert_true(auth_param(s.v[i], "nonce", v, sizeof v));
        if (i == 0)
            snprintf(nonce0, sizeof nonce0, "%s", v);
        assert_string_equal(v, nonce0);
        assert_false(auth_param(s.v[i], "stale", v, sizeof v));
    }
}

static void test_md5_first_agents(void **state)
{
    struct fx f;
    char got[256];

    /* Default: Python's urllib (first challenge only, MD5 only) gets MD5
     * first; every other client the configured order. The match is a
     * case-sensitive prefix of the whole User-Agent. */
    fx_start(&f, NULL);
    challenge_algs(&f, "Python-urllib/3.11", got, sizeof got);
    assert_string_equal(got, "MD5 SHA-256");
    challenge_algs(&f, "Python-urllib", got, sizeof got);
    assert_string_equal(got, "MD5 SHA-256");
    /* GStreamer's souphttpsrc (libsoup 2) fails after one request otherwise. */
    challenge_algs(&f, "GStreamer souphttpsrc 1.22.0 libsoup/2.74.3", got, sizeof got);
    assert_string_equal(got, "MD5 SHA-256");
    static const char *const others[] = {"curl/7.88.1",    "python-urllib/3.11",
                                         "Python-urlli",   "Mozilla/5.0 Python-urllib/3.11",
                                         "Lavf/59.27.100", ""};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        challenge_algs(&f, others[i], got, sizeof got);
        if (strcmp(got, "SHA-256 MD5") != 0)
            fail_msg("'%s': %s", others[i], got);
    }
    challenge_algs(&f, NULL, got, sizeof got);
    assert_string_equal(got, "SHA-256 MD5");

    /* A Python client answering the first challenge logs in with MD5. */
    struct sink s;
    char nonce[128], v[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    get_challenges_for(&f, "Python-urllib/3.11", &s);
    assert_true(auth_param(s.v[0], "nonce", nonce, sizeof nonce));
    assert_true(auth_param(s.v[0], "opaque", f.opaque, sizeof f.opaque));
    client_init(&f, &c, DIGEST_ALG_MD5, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    fx_stop(&f);

    /* MD5, then MD5-sess, then the others in configured order. */
    fx_start(&f, all_algs);
    challenge_algs(&f, "Python-urllib/3.11", got, sizeof got);
    assert_string_equal(got, "MD5 MD5-sess SHA-256 SHA-512-256 SHA-256-sess SHA-512-256-sess");
    challenge_algs(&f, "curl/7.88.1", got, sizeof got);
    assert_string_equal(got, "SHA-256 MD5 SHA-512-256 MD5-sess SHA-256-sess SHA-512-256-sess");
    fx_stop(&f);

    /* MD5-sess listed before MD5: plain MD5 still comes first. */
    const char *sess_first[] = {"algorithms", "SHA-512-256 MD5-sess SHA-256 MD5", NULL};
    fx_start(&f, sess_first);
    challenge_algs(&f, "Python-urllib/3.11", got, sizeof got);
    assert_string_equal(got, "MD5 MD5-sess SHA-512-256 SHA-256");
    fx_stop(&f);

    /* Without plain MD5 nothing changes: such a client cannot log in. */
    const char *no_md5[] = {"algorithms", "SHA-256 MD5-sess", NULL};
    fx_start(&f, no_md5);
    challenge_algs(&f, "Python-urllib/3.11", got, sizeof got);
    assert_string_equal(got, "SHA-256 MD5-sess");
    fx_stop(&f);

    /* Empty: the configured order for everyone. */
    const char *none[] = {"md5-first-agents", "", NULL};
    fx_start(&f, none);
    challenge_algs(&f, "Python-urllib/3.11", got, sizeof got);
    assert_string_equal(got, "SHA-256 MD5");
    fx_stop(&f);

    /* Several prefixes, blanks around them; Python no longer listed. */
    const char *mine[] = {"md5-first-agents", " \tokhttp/  Wget/1.21 ", NULL};
    fx_start(&f, mine);
    challenge_algs(&f, "okhttp/4.12.0", got, sizeof got);
    assert_string_equal(got, "MD5 SHA-256");
    challenge_algs(&f, "Wget/1.21.3", got, sizeof got);
    assert_string_equal(got, "MD5 SHA-256");
    challenge_algs(&f, "Wget/1.20", got, sizeof got);
    assert_string_equal(got, "SHA-256 MD5");
    challenge_algs(&f, "Python-urllib/3.11", got, sizeof got);
    assert_string_equal(got, "SHA-256 MD5");

    /* A stale=true replacement is one challenge, for the client's own
     * algorithm, whatever the User-Agent. */
    uint8_t key[DIGEST_NONCE_KEY_SIZE];
    fresh_nonce(&f, nonce);
    read_key(&f, key);
    digest_nonce_make(key, REALM, digest_nonce_now_us() - 301 * UINT64_C(1000000), nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    char header[4096];
    digest_client_header(&c, header, sizeof header);
    fake_req_init(&req, "GET", URI);
    req.user_agent = "okhttp/4.12.0";
    auth_raw(&f, header, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_true(cap.has_blob);
    assert_true(auth_param(cap.blob, "stale", v, sizeof v));
    assert_true(auth_param(cap.blob, "algorithm", v, sizeof v));
    assert_string_equal(v, "SHA-256");
    fx_stop(&f);

    /* Limits: 32 prefixes of 128 bytes. */
    char many[33 * 3 + 1] = "";
    for (int i = 0; i < 33; i++)
        strcat(many, "a  ");
    char long_one[DIGEST_AGENT_PREFIX_MAX + 2];
    memset(long_one, 'x', sizeof long_one - 1);
    long_one[sizeof long_one - 1] = '\0';
    const char *const *bad[] = {
        (const char *const[]){"md5-first-agents", many, NULL},
        (const char *const[]){"md5-first-agents", long_one, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fx_init(&f, bad[i]), GUISE_E_INVALIDARG);
        assert_non_null(strstr(guise_props_error(f.props), "key 'md5-first-agents'"));
        f.plugin = NULL;
        fx_stop(&f);
    }
    many[32 * 3] = '\0';
    long_one[DIGEST_AGENT_PREFIX_MAX] = '\0';
    const char *const *good[] = {
        (const char *const[]){"md5-first-agents", many, NULL},
        (const char *const[]){"md5-first-agents", long_one, NULL},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(fx_init(&f, good[i]), GUISE_S_OK);
        fx_stop(&f);
    }
}

static void test_nextnonce(void **state)
{
    struct fx f;
    char nonce[128], next[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    const char *kv[] = {"nonce-lifetime", "10", NULL};
    fx_start(&f, kv);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_false(auth_param(req.resp_value, "nextnonce", next, sizeof next));
    /* 7 s into a 10 s life: not yet. */
    usleep(7000000);
    c.nc = 2;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_false(auth_param(req.resp_value, "nextnonce", next, sizeof next));
    /* 8.2 s: the last fifth. */
    usleep(1200000);
    c.nc = 3;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_true(auth_param(req.resp_value, "nextnonce", next, sizeof next));
    assert_string_not_equal(next, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, next);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    fx_stop(&f);
}

/* Counts used before a restart (or by the instance a reload replaced) are
 * unknown: such nonces are stale, never replayable. */
static void test_restart_forgets(void **state)
{
    struct fx f;
    char nonce[128], v[64];
    uint8_t key[DIGEST_NONCE_KEY_SIZE];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, NULL);
    fresh_nonce(&f, nonce);
    read_key(&f, key);
    digest_nonce_make(key, REALM, digest_nonce_now_us() - 2 * UINT64_C(1000000), nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_true(auth_param(cap.blob, "stale", v, sizeof v));
    assert_null(logical_user(&f)); /* not a password guess */
    fx_stop(&f);
}

static void test_forged_nonce(void **state)
{
    struct fx f;
    char nonce[128];
    uint8_t other[DIGEST_NONCE_KEY_SIZE] = {42};
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, NULL);
    fresh_nonce(&f, nonce);
    /* Bad MAC: one character changed. */
    nonce[40] = nonce[40] == 'x' ? 'y' : 'x';
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_false(cap.has_blob);
    /* Made with another key (another cluster). */
    digest_nonce_make(other, REALM, digest_nonce_now_us(), nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_false(cap.has_blob);
    /* The RFC's example nonce. */
    client_init(&f, &c, DIGEST_ALG_SHA256, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    fx_stop(&f);
}

/* Two plug-ins (two nodes) with the same key file accept each other's nonces. */
static void test_shared_key(void **state)
{
    struct fx a, b;
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&a, NULL);
    const char *kv[] = {"nonce-key-file", a.key_file, "user-file", a.user_file, NULL};
    fx_start(&b, kv);
    fresh_nonce(&a, nonce);
    snprintf(b.opaque, sizeof b.opaque, "%s", a.opaque);
    client_init(&b, &c, DIGEST_ALG_SHA256, nonce);
    auth_client(&b, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    fx_stop(&b);
    fx_stop(&a);
}

static void test_replay(void **state)
{
    struct fx f;
    char nonce[128], header[4096], v[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, NULL);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    digest_client_header(&c, header, sizeof header);

    /* The very same Authorization header, twice. */
    fake_req_init(&req, "GET", URI);
    auth_raw(&f, header, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    fake_req_init(&req, "GET", URI);
    auth_raw(&f, header, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_null(logical_user(&f));
    assert_int_equal(req.resp_headers, 0);
    /* A legitimate client that reused a count just takes the new nonce. */
    assert_true(cap.has_blob);
    assert_true(auth_param(cap.blob, "stale", v, sizeof v));

    /* Counts out of order are fine (parallel requests), repeats are not. */
    static const uint32_t counts[] = {3, 2, 5, 4, 60};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        c.nc = counts[i];
        auth_client(&f, &c, &req, &cap);
        if (cap.status != GUISE_AUTH_SUCCESS)
            fail_msg("nc %u refused", counts[i]);
    }
    c.nc = 4;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    /* 70 slides the window past 6: below it is refused, never seen or not. */
    c.nc = 70;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    c.nc = 6;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    c.nc = 69;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);

    /* Wrong responses do not burn counts. */
    c.nc = 71;
    c.password = "wrong";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    c.password = "Circle of Life";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    fx_stop(&f);
}

static void test_window_eviction(void **state)
{
    struct fx f;
    char first[128], nonce[128], v[64];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    const char *kv[] = {"nonce-cache-size", "64", NULL};
    fx_start(&f, kv);
    fresh_nonce(&f, first);
    client_init(&f, &c, DIGEST_ALG_SHA256, first);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    /* 64 more nonces push the first one out of the cache. */
    for (int i = 0; i < 64; i++) {
        fresh_nonce(&f, nonce);
        client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
        auth_client(&f, &c, &req, &cap);
        assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    }
    /* Its next count would be fine, but it is forgotten: stale, not accepted. */
    client_init(&f, &c, DIGEST_ALG_SHA256, first);
    c.nc = 2;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_true(auth_param(cap.blob, "stale", v, sizeof v));
    fx_stop(&f);
}

/* ---- malformed ---- */

static void test_malformed(void **state)
{
    struct fx f;
    char nonce[128], header[4096];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, NULL);
    fake_req_init(&req, "GET", URI);
    auth_raw(&f, "username=\"Mufasa\", realm=", &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(cap.code, GUISE_E_BAD_FORMAT);
    assert_false(cap.has_blob);
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_WARNING, DIGEST_EVENT_MALFORMED), 1);
    assert_non_null(strstr(fake_host_last_message(&f.host), "192.0.2.7"));
    /* Within the same second: still refused, the warning is rate-limited. */
    auth_raw(&f, "", &req, &cap);
    assert_int_equal(cap.code, GUISE_E_BAD_FORMAT);
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_WARNING, DIGEST_EVENT_MALFORMED), 1);

    /* A uri other than the request-target (RFC 7616 3.4.6). */
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    digest_client_header(&c, header, sizeof header);
    fake_req_init(&req, "GET", "/dir/other.html");
    auth_raw(&f, header, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(cap.code, GUISE_E_BAD_FORMAT);
    /* Duplicated parameter. */
    strcat(header, ", nc=00000009");
    fake_req_init(&req, "GET", URI);
    auth_raw(&f, header, &req, &cap);
    assert_int_equal(cap.code, GUISE_E_BAD_FORMAT);
    /* A NULL blob. */
    auth_capture_init(&cap);
    assert_int_equal(f.ops->authenticate(f.plugin, f.ctx, NULL, &req.info, auth_capture_done, &cap),
                     GUISE_S_OK);
    assert_int_equal(cap.code, GUISE_E_BAD_FORMAT);
    /* Never an ERROR event (that would disable the plug-in). */
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_ERROR, 0), 0);
    sleep(1);
    auth_raw(&f, "x", &req, &cap);
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_WARNING, DIGEST_EVENT_MALFORMED), 2);
    assert_non_null(strstr(fake_host_last_message(&f.host), "4 more suppressed"));
    fx_stop(&f);
}

/* ---- user file ---- */

static void test_user_file_reload(void **state)
{
    struct fx f;
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    fx_start(&f, NULL);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);

    /* New password on disk: seen within about a second, no restart. */
    write_users(&f, "Hakuna Matata", 0600);
    usleep(1100000);
    c.nc = 2;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    c.password = "Hakuna Matata";
    c.nc = 3;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_INFORMATION, DIGEST_EVENT_USER_FILE), 1);

    /* A broken file denies everyone until fixed, with one WARNING. */
    usleep(1100000);
    test_write_file(f.dir, "users", "Mufasa:" REALM ":nothex\n", 0600);
    usleep(1100000);
    c.nc = 4;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    usleep(1100000);
    c.nc = 5;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_WARNING, DIGEST_EVENT_USER_FILE), 1);
    assert_non_null(strstr(fake_host_last_message(&f.host), "line 1"));

    /* Deleted: still denied. Back, world-readable: works, with a warning. */
    unlink(f.user_file);
    usleep(1100000);
    c.nc = 6;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    write_users(&f, "Hakuna Matata", 0644);
    usleep(1100000);
    c.nc = 7;
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_non_null(strstr(f.host.events[f.host.nevents - 2].msg, "world-readable"));
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_ERROR, 0), 0);
    fx_stop(&f);
}

static void test_enable_failures(void **state)
{
    struct fx f;
    /* Missing user file. */
    assert_int_equal(fx_init(&f, NULL), GUISE_S_OK);
    assert_int_equal(guise_digest_plugin.enable(f.plugin), GUISE_E_PLUGIN_ERROR_REPORTED);
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_ERROR, DIGEST_EVENT_ENABLE_FAILED), 1);
    assert_non_null(strstr(fake_host_last_message(&f.host), "user file"));
    /* Bad line: the message names it. */
    test_write_file(f.dir, "users", "ok:r:3d78807defe7de2157e2b0b6573a855f\nbad\n", 0600);
    assert_int_equal(guise_digest_plugin.enable(f.plugin), GUISE_E_PLUGIN_ERROR_REPORTED);
    assert_non_null(strstr(fake_host_last_message(&f.host), "line 2"));
    /* Fixed: enable works. */
    write_users(&f, "x", 0600);
    assert_int_equal(guise_digest_plugin.enable(f.plugin), GUISE_S_OK);
    fx_stop(&f);

    /* Key file of a wrong size. */
    assert_int_equal(fx_init(&f, NULL), GUISE_S_OK);
    write_users(&f, "x", 0600);
    test_write_file(f.dir, "digest-nonce.key", "short", 0600);
    assert_int_equal(guise_digest_plugin.enable(f.plugin), GUISE_E_PLUGIN_ERROR_REPORTED);
    assert_non_null(strstr(fake_host_last_message(&f.host), "exactly 32"));
    fx_stop(&f);

    /* Bad account map. */
    char map[256];
    test_mkdtemp(map);
    const char *path = test_write_file(map, "map", "alice\n", 0600);
    const char *kv[] = {"account-map", path, NULL};
    assert_int_equal(fx_init(&f, kv), GUISE_S_OK);
    write_users(&f, "x", 0600);
    assert_int_equal(guise_digest_plugin.enable(f.plugin), GUISE_E_PLUGIN_ERROR_REPORTED);
    assert_non_null(strstr(fake_host_last_message(&f.host), "account map"));
    fx_stop(&f);
    test_rmtree(map);
}

/* ---- accounts ---- */

static void test_accounts(void **state)
{
    struct fx f;
    char nonce[128], map_dir[256];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    test_mkdtemp(map_dir);
    const char *map = test_write_file(map_dir, "map",
                                      "alice slowalice\n"
                                      "eve ghost\n"
                                      "mallory root\n",
                                      0600);
    const char *kv[] = {"account-map", map, "account", "media", NULL};
    fx_start(&f, kv);

    static const struct {
        const char *user;
        enum guise_auth_status status;
        const char *account;
    } cases[] = {
        {"alice", GUISE_AUTH_SUCCESS, "slowalice"}, /* map entry; token from a worker */
        {"bob", GUISE_AUTH_SUCCESS, "media"},       /* fixed account property */
        {"eve", GUISE_AUTH_DENIED, NULL},           /* account does not exist */
        {"mallory", GUISE_AUTH_DENIED, NULL},       /* account refused (min-uid) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fresh_nonce(&f, nonce);
        client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
        c.user = cases[i].user;
        c.password = "pw";
        auth_client(&f, &c, &req, &cap);
        assert_int_equal(cap.status, cases[i].status);
        if (cases[i].account) {
            assert_string_equal(logical_user(&f), cases[i].user);
            assert_string_equal(account_name(&f), cases[i].account);
            assert_int_equal(req.resp_headers, 1);
        } else {
            assert_null(logical_user(&f));
            assert_int_equal(req.resp_headers, 0);
        }
    }
    assert_int_equal(f.host.works_submitted, 1);
    /* Refused accounts are WARNINGs naming user and account, never ERRORs. */
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_WARNING, DIGEST_EVENT_ACCOUNT_REFUSED),
                     2);
    assert_non_null(strstr(f.host.events[f.host.nevents - 2].msg, "'eve'"));
    assert_non_null(strstr(f.host.events[f.host.nevents - 2].msg, "'ghost'"));
    assert_non_null(strstr(fake_host_last_message(&f.host), "'root'"));
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_ERROR, 0), 0);

    /* A full worker queue is load, not a broken plug-in: this request is
     * refused with GUISE_E_BUSY and a warning, the plug-in keeps working. */
    f.host.refuse_work = true;
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    c.user = "alice";
    c.password = "pw";
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_DENIED);
    /* GUISE_E_BUSY: the server answers 503, not 401. */
    assert_int_equal(cap.code, GUISE_E_BUSY);
    assert_null(logical_user(&f));
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_WARNING, DIGEST_EVENT_ACCOUNT_REFUSED),
                     3);
    assert_non_null(strstr(fake_host_last_message(&f.host), "'slowalice'"));
    assert_int_equal(fake_host_events(&f.host, GUISE_EVENT_ERROR, 0), 0);
    fx_stop(&f);

    /* No map, no fixed account: the user's own name. */
    fx_start(&f, NULL);
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_string_equal(account_name(&f), "Mufasa");
    fx_stop(&f);
    test_rmtree(map_dir);
}

/* The context keeps its identity and hands out new token references. */
static void test_token_reference(void **state)
{
    struct fx f;
    char nonce[128];
    struct digest_client c;
    struct fake_req req;
    struct auth_capture cap;
    guise_token_store *store = NULL;
    guise_token *token = NULL, *got = NULL;
    struct guise_token_store_options opt = {.min_uid = 1000, .ttl_seconds = 60};
    if (guise_token_store_new(&opt, &store) != GUISE_S_OK ||
        guise_token_for_account(store, "nobody", &token) != GUISE_S_OK) {
        guise_token_store_free(store);
        skip();
    }
    fx_start(&f, NULL);
    f.host.token = token;
    fresh_nonce(&f, nonce);
    client_init(&f, &c, DIGEST_ALG_SHA256, nonce);
    auth_client(&f, &c, &req, &cap);
    assert_int_equal(cap.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(f.ops->impersonation_token(f.ctx, &got), GUISE_S_OK);
    assert_ptr_equal(got, token);
    guise_token_unref(got);
    assert_int_equal(f.ops->impersonation_token(f.ctx, &got), GUISE_S_OK);
    assert_int_equal(guise_token_uid(got), GUISE_NOBODY_UID);
    guise_token_unref(got);
    fx_stop(&f);
    guise_token_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_init_validation),
        cmocka_unit_test(test_challenges),
        cmocka_unit_test(test_all_algorithms),
        cmocka_unit_test(test_md5_without_algorithm),
        cmocka_unit_test(test_auth_int),
        cmocka_unit_test(test_userhash),
        cmocka_unit_test(test_username_star),
        cmocka_unit_test(test_denials),
        cmocka_unit_test(test_stale_nonce),
        cmocka_unit_test(test_nextnonce),
        cmocka_unit_test(test_md5_first_agents),
        cmocka_unit_test(test_restart_forgets),
        cmocka_unit_test(test_forged_nonce),
        cmocka_unit_test(test_shared_key),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_window_eviction),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_user_file_reload),
        cmocka_unit_test(test_enable_failures),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_token_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
