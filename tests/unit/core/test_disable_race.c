/* The host's rule for calls in flight (plugin.h): an administrator disables
 * and re-enables plug-ins in a loop while 8 threads authenticate with every
 * built-in scheme (Anonymous, Basic, Digest, Negotiate, NTLM) through the
 * real plug-ins, the real worker pool and a real token store. Before the
 * host drained calls, Digest's disable freed its replay window under a
 * running authenticate (a crash), and Basic and Negotiate each kept their own
 * reference-counted snapshot. Meant for ASan and ThreadSanitizer builds as
 * much as for the plain one: the assertions check that every waited-for
 * request completed exactly once, that each scheme succeeded (or was
 * refused by its GSSAPI check, for the Kerberos and NTLM garbage tokens),
 * that toggling really happened with calls in flight, and that no plug-in
 * ended in the error state. Some requests drop their context before the
 * completion (a client going away): the host must neither call them back
 * nor free the plug-in's context under a running job. */
#include <guise/host.h>

#include <guise/host_props.h>
#include "core/workers.h"
#include "digest_test_util.h"
#include "plugins/basic/basic.h"
#include "plugins/builtin.h"
#include "plugins/digest/digest.h"
#include "plugins/negotiate/negotiate.h"

#include <krb5.h>

#include <crypt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS  8
#define REQUESTS 200 /* per thread, at least; then until the toggling ends */
#define TOGGLES  60  /* disable/enable rounds of every plug-in */
#define REALM    "race.test"
#define USER     "alice"
#define PASSWORD "race pw"
#define ACCOUNT  "nobody"
#define NSCHEMES 5

enum scheme { ANON, BASIC, DIGEST, NEGOTIATE, NTLM };
static const char *const scheme_names[NSCHEMES] = {"anonymous", "basic", "digest", "negotiate",
                                                   "ntlm"};

static char dir[256];
static guise_host *host;
static guise_plugin *plugins[NSCHEMES];
static atomic_bool toggling_done;
static atomic_uint toggles_with_calls; /* disables that found calls in flight */
static atomic_uint outcome[NSCHEMES][4];
static atomic_uint refused_disabled[NSCHEMES];
static atomic_uint late_callbacks; /* completions of abandoned requests: must stay 0 */
static atomic_int errors;

static void thread_error(const char *what)
{
    fprintf(stderr, "%s\n", what);
    atomic_fetch_add(&errors, 1);
}

static void on_event(const struct guise_event *e, void *arg)
{
    if (e->level == GUISE_EVENT_ERROR) {
        fprintf(stderr, "ERROR event from %s: %s\n", e->source, e->message);
        atomic_fetch_add(&errors, 1);
    }
}

/* ---- fixtures: files for every scheme ---- */

static void write_keytab(const char *path)
{
    krb5_context kc;
    assert_int_equal(krb5_init_context(&kc), 0);
    char name[320];
    snprintf(name, sizeof name, "WRFILE:%s", path);
    krb5_keytab kt;
    assert_int_equal(krb5_kt_resolve(kc, name, &kt), 0);
    krb5_keytab_entry e;
    memset(&e, 0, sizeof e);
    assert_int_equal(krb5_parse_name(kc, "HTTP/localhost@GUISE.TEST", &e.principal), 0);
    e.vno = 1;
    uint8_t key[32];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    e.key.enctype = ENCTYPE_AES256_CTS_HMAC_SHA1_96;
    e.key.length = sizeof key;
    e.key.contents = key;
    assert_int_equal(krb5_kt_add_entry(kc, kt, &e), 0);
    krb5_free_principal(kc, e.principal);
    krb5_kt_close(kc, kt);
    krb5_free_context(kc);
}

static void write_files(void)
{
    test_mkdtemp(dir);
    /* Basic: a cheap sha256crypt hash, the race is the point, not the cost. */
    struct crypt_data cd;
    memset(&cd, 0, sizeof cd);
    const char *h = crypt_r(PASSWORD, "$5$rounds=1000$racesalt$", &cd);
    assert_non_null(h);
    char line[512];
    snprintf(line, sizeof line, USER ":%s\n", h);
    test_write_file(dir, "htpasswd", line, 0600);
    /* Digest: HA1 = MD5(user:realm:password). */
    char ha1[DIGEST_MAX_HEX + 1];
    digest_ha1(DIGEST_HASH_MD5, USER, REALM, PASSWORD, strlen(PASSWORD), ha1);
    snprintf(line, sizeof line, USER ":" REALM ":%s\n", ha1);
    test_write_file(dir, "htdigest", line, 0600);
    char path[300];
    snprintf(path, sizeof path, "%s/http.keytab", dir);
    write_keytab(path);
    const char *ntlm = test_write_file(dir, "ntlm-users", "GUISE:" USER ":" PASSWORD "\n", 0600);
    setenv("NTLM_USER_FILE", ntlm, 1);
}

static guise_props *props_of(enum scheme s)
{
    guise_props *p = guise_props_new("race.conf");
    char path[300];
    int line = 1;
    guise_props_add(p, "account", ACCOUNT, line++);
    switch (s) {
    case ANON:
        break;
    case BASIC:
        snprintf(path, sizeof path, "%s/htpasswd", dir);
        guise_props_add(p, "backend", "htpasswd", line++);
        guise_props_add(p, "user-file", path, line++);
        guise_props_add(p, "allow-plaintext", "true", line++);
        guise_props_add(p, "cache-ttl", "0", line++); /* every request hashes on a worker */
        break;
    case DIGEST:
        snprintf(path, sizeof path, "%s/htdigest", dir);
        guise_props_add(p, "user-file", path, line++);
        guise_props_add(p, "realm", REALM, line++);
        guise_props_add(p, "algorithms", "MD5", line++);
        snprintf(path, sizeof path, "%s/nonce.key", dir);
        guise_props_add(p, "nonce-key-file", path, line++);
        break;
    case NEGOTIATE:
        snprintf(path, sizeof path, "%s/http.keytab", dir);
        guise_props_add(p, "keytab", path, line++);
        break;
    case NTLM:
        break;
    }
    return p;
}

/* ---- one request ---- */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    enum guise_auth_status status;
    char challenge[2048];
};

static void wait_done(enum guise_auth_status status, guise_result code,
                      const struct guise_blob *challenge, void *cookie)
{
    struct waiter *w = cookie;
    pthread_mutex_lock(&w->mu);
    w->calls++;
    w->status = status;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void abandoned_done(enum guise_auth_status status, guise_result code,
                           const struct guise_blob *challenge, void *cookie)
{
    /* Legitimate only when the plug-in completed before the handle was
     * freed; counted, then checked against the frees that came first. */
    atomic_fetch_add((atomic_uint *)cookie, 1);
}

struct sink {
    struct guise_challenge_sink base;
    char params[2048];
};

static void sink_add(struct guise_challenge_sink *s, const char *params)
{
    struct sink *k = (struct sink *)s;
    if (!k->params[0])
        snprintf(k->params, sizeof k->params, "%s", params);
}

static const char *no_header(const struct guise_request_info *req, const char *name)
{
    return NULL;
}

static void no_response_header(const struct guise_request_info *req, const char *name,
                               const char *value)
{
}

static void base64(const char *in, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

/* The credentials of one request of scheme s; false when the plug-in is
 * disabled and gave no challenge (Digest). */
static bool credentials(enum scheme s, const struct guise_request_info *req, uint32_t nc, char *out,
                        size_t size)
{
    switch (s) {
    case ANON:
        out[0] = '\0';
        return true;
    case BASIC: {
        /* Basic blobs are text: the host passes "user:password" base64. */
        base64(USER ":" PASSWORD, out);
        return true;
    }
    case DIGEST: {
        struct sink k = {.base.add = sink_add};
        if (guise_plugin_challenge(plugins[DIGEST], req, &k.base) != GUISE_S_OK)
            return false;
        char nonce[256], opaque[64];
        if (!auth_param(k.params, "nonce", nonce, sizeof nonce) ||
            !auth_param(k.params, "opaque", opaque, sizeof opaque)) {
            thread_error("Digest challenge without nonce or opaque");
            return false;
        }
        struct digest_client c = {
            .alg = DIGEST_ALG_MD5,
            .user = USER,
            .realm = REALM,
            .password = PASSWORD,
            .method = "GET",
            .uri = "/race",
            .qop = "auth",
            .nonce = nonce,
            .opaque = opaque,
            .nc = nc,
            .cnonce = "0a4f113b",
        };
        digest_client_header(&c, out, size);
        return true;
    }
    case NEGOTIATE:
    case NTLM:
        /* Garbage the acceptor refuses on a worker, using the credential
         * enable acquired: what a disable must not pull from under it. */
        memcpy(out, "\x60\x03\x06\x01\x00", 6);
        return true;
    }
    return false;
}

static void *client_main(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    struct guise_request_info req = {
        .method = "GET",
        .uri = "/race",
        .path = "race",
        .client_ip = "192.0.2.9",
        .secure = 1,
        .header = no_header,
        .add_response_header = no_response_header,
    };
    atomic_uint abandoned_calls = 0;
    unsigned abandoned = 0;
    for (unsigned i = 0; i < REQUESTS || !atomic_load(&toggling_done); i++) {
        enum scheme s = (enum scheme)((i + id) % NSCHEMES);
        guise_auth_ctx *ctx = NULL;
        if (guise_auth_ctx_new(plugins[s], &ctx) != GUISE_S_OK) {
            atomic_fetch_add(&refused_disabled[s], 1);
            continue;
        }
        char cred[2048];
        if (!credentials(s, &req, i + 1, cred, sizeof cred)) {
            atomic_fetch_add(&refused_disabled[s], 1);
            guise_auth_ctx_free(ctx);
            continue;
        }
        size_t len = s == NEGOTIATE || s == NTLM ? 5 : strlen(cred);
        struct guise_blob blob = {cred, len};
        if (i % 7 == 3) {
            /* The client goes away at once. */
            if (guise_auth_ctx_authenticate(ctx, &blob, &req, abandoned_done, &abandoned_calls) ==
                GUISE_S_OK)
                abandoned++;
            guise_auth_ctx_free(ctx);
            continue;
        }
        struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
        guise_result r = guise_auth_ctx_authenticate(ctx, &blob, &req, wait_done, &w);
        if (r != GUISE_S_OK) {
            if (getenv("RACE_DEBUG"))
                fprintf(stderr, "%s: %s\n", scheme_names[s], guise_result_name(r));
            atomic_fetch_add(&refused_disabled[s], 1);
            guise_auth_ctx_free(ctx);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 30;
        pthread_mutex_lock(&w.mu);
        while (w.calls == 0 && pthread_cond_timedwait(&w.cv, &w.mu, &until) == 0)
            ;
        int calls = w.calls;
        enum guise_auth_status st = w.status;
        pthread_mutex_unlock(&w.mu);
        if (calls != 1) {
            fprintf(stderr, "%s: %d completions\n", scheme_names[s], calls);
            atomic_fetch_add(&errors, 1);
        } else {
            atomic_fetch_add(&outcome[s][st & 3], 1);
        }
        guise_auth_ctx_free(ctx);
    }
    /* Completions of abandoned requests may only have come before their
     * free; none may come now that every handle is gone. */
    unsigned seen = atomic_load(&abandoned_calls);
    usleep(200 * 1000);
    if (atomic_load(&abandoned_calls) != seen)
        atomic_fetch_add(&late_callbacks, 1);
    if (seen > abandoned)
        thread_error("more completions than abandoned requests");
    return NULL;
}

static void *toggler_main(void *arg)
{
    for (unsigned round = 0; round < TOGGLES; round++)
        for (int s = 0; s < NSCHEMES; s++) {
            if (guise_plugin_calls_in_flight(plugins[s]) > 0)
                atomic_fetch_add(&toggles_with_calls, 1);
            /* cmocka's assertions are for the main thread: count here. */
            if (guise_plugin_disable(plugins[s]) != GUISE_S_OK)
                thread_error("disable failed");
            usleep(200);
            if (guise_plugin_enable(plugins[s]) != GUISE_S_OK)
                thread_error("enable failed");
            /* Basic's enable hashes a yescrypt dummy (tens of ms): leave
             * every instance enabled a while, so that it is used too. */
            usleep(5000);
        }
    atomic_store(&toggling_done, true);
    return NULL;
}

static void test_disable_enable_under_load(void **state)
{
    write_files();
    guise_eventlog *log;
    assert_int_equal(guise_eventlog_new(GUISE_SINK_NONE, 8, &log), GUISE_S_OK);
    guise_eventlog_set_hook(log, on_event, NULL);
    guise_token_store *tokens;
    struct guise_token_store_options topt = {.ttl_seconds = 1};
    assert_int_equal(guise_token_store_new(&topt, &tokens), GUISE_S_OK);
    guise_workers *workers;
    assert_int_equal(guise_workers_new(2, 4096, &workers), GUISE_S_OK);
    struct guise_host_options hopt = {
        .log = log, .tokens = tokens, .workers = workers, .realm = REALM, .state_dir = dir};
    assert_int_equal(guise_host_new(&hopt, &host), GUISE_S_OK);
    for (const struct guise_plugin_descriptor *const *d = guise_builtin_plugins; *d; d++)
        assert_int_equal(guise_host_add_type(host, *d), GUISE_S_OK);
    for (int s = 0; s < NSCHEMES; s++) {
        char err[512];
        guise_result r = guise_host_instantiate(host, scheme_names[s], NULL, props_of(s),
                                                &plugins[s], err, sizeof err);
        if (r != GUISE_S_OK)
            fail_msg("%s: %s", scheme_names[s], err);
        assert_int_equal(guise_plugin_enable(plugins[s]), GUISE_S_OK);
    }

    pthread_t clients[THREADS], toggler;
    for (uintptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&clients[i], NULL, client_main, (void *)i), 0);
    assert_int_equal(pthread_create(&toggler, NULL, toggler_main, NULL), 0);
    pthread_join(toggler, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(clients[i], NULL);

    for (int s = 0; s < NSCHEMES; s++) {
        fprintf(stderr, "%-9s success %u denied %u continue %u error %u refused-disabled %u\n",
                scheme_names[s], outcome[s][GUISE_AUTH_SUCCESS], outcome[s][GUISE_AUTH_DENIED],
                outcome[s][GUISE_AUTH_CONTINUE], outcome[s][GUISE_AUTH_ERROR], refused_disabled[s]);
        assert_int_equal(guise_plugin_state_of(plugins[s]), GUISE_PLUGIN_ENABLED);
        assert_int_equal(outcome[s][GUISE_AUTH_ERROR], 0);
    }
    fprintf(stderr, "disables that found calls in flight: %u\n", toggles_with_calls);
    /* The right password works under the toggling. */
    assert_true(outcome[ANON][GUISE_AUTH_SUCCESS] > 0);
    assert_true(outcome[BASIC][GUISE_AUTH_SUCCESS] > 0);
    assert_true(outcome[DIGEST][GUISE_AUTH_SUCCESS] > 0);
    /* The garbage GSSAPI tokens reached the acceptor and were refused. */
    assert_true(outcome[NEGOTIATE][GUISE_AUTH_DENIED] > 0);
    assert_true(outcome[NTLM][GUISE_AUTH_DENIED] > 0);
    /* The loop raced for real: some disables had to wait for calls. */
    assert_true(toggles_with_calls > 0);
    assert_int_equal(atomic_load(&late_callbacks), 0);
    assert_int_equal(atomic_load(&errors), 0);

    guise_host_free(host);
    guise_workers_free(workers);
    guise_token_store_free(tokens);
    guise_eventlog_free(log);
    test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disable_enable_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
