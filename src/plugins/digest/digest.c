/* The Digest authentication plug-in: lifecycle, challenges, authentication. */
#include "plugins/digest/digest.h"

#include "plugins/common/account_map.h"
#include "plugins/common/account_token.h"
#include "plugins/common/auth_identity.h"
#include "plugins/common/watched_file.h"
#include "plugins/digest/digest_algo.h"
#include "plugins/digest/digest_config.h"
#include "plugins/digest/digest_header.h"
#include "plugins/digest/digest_nonce.h"
#include "plugins/digest/digest_replay.h"
#include "plugins/digest/digest_userfile.h"
#include "plugins/stores/htdigest.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/memops.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHALLENGE_MAX 1536

struct digest_plugin {
    const struct guise_host_services *host;
    struct digest_config cfg;
    char qop_list[16]; /* "auth, auth-int" */
    bool enabled;

    /* Acquired by enable. */
    uint8_t key[DIGEST_NONCE_KEY_SIZE];
    char opaque[33];
    /* HA1 of no user: unknown users cost the same as wrong passwords. */
    char dummy_ha1[DIGEST_HASH_COUNT][DIGEST_MAX_HEX + 1];
    struct digest_replay *replay;
    pk_account_mapper *mapper;

    /* The credential store of the user file (plugins/stores): HA1 values
     * per user and hash, re-read when the file changes. */
    struct pk_store *users;

    /* At most one malformed-credentials warning a second. */
    pthread_mutex_t warn_lock;
    uint64_t warn_next_ms;
    unsigned long warn_suppressed;
};

/* ---- challenges ---- */

/* One challenge: realm, qop, algorithm, nonce, opaque, charset, userhash
 * (RFC 7616 3.3), plus stale=true when the client's nonce was stale. */
static void build_challenge(const struct digest_plugin *p, enum digest_alg alg, const char *nonce,
                            bool stale, char *out, size_t size)
{
    size_t pos = 0;
    int n = snprintf(out, size, "realm=\"");
    pos = (size_t)n;
    digest_quote_append(out, size, &pos, p->cfg.realm);
    snprintf(out + pos, size - pos,
             "\", qop=\"%s\", algorithm=%s, nonce=\"%s\", opaque=\"%s\", charset=UTF-8%s%s",
             p->qop_list, digest_alg_name(alg), nonce, p->opaque,
             p->cfg.userhash ? ", userhash=true" : "", stale ? ", stale=true" : "");
}

static void new_nonce(const struct digest_plugin *p, char *nonce)
{
    digest_nonce_make(p->key, p->cfg.realm, digest_nonce_now_us(), nonce);
}

static guise_result digest_challenge(void *plugin, const struct guise_request_info *req,
                                     struct guise_challenge_sink *sink)
{
    struct digest_plugin *p = plugin;
    char nonce[DIGEST_NONCE_TEXT_LEN + 1];
    char buf[CHALLENGE_MAX];
    if (!p->enabled)
        return GUISE_E_UNEXPECTED;
    /* One nonce for all the challenges of this 401: the client uses one. */
    new_nonce(p, nonce);
    enum digest_alg order[DIGEST_ALG_COUNT];
    const char *agent = req && req->header ? req->header(req, "User-Agent") : NULL;
    digest_config_challenge_order(&p->cfg, agent, order);
    for (size_t i = 0; i < p->cfg.nalgs; i++) {
        build_challenge(p, order[i], nonce, false, buf, sizeof buf);
        sink->add(sink, buf);
    }
    return GUISE_S_OK;
}

/* ---- authentication ---- */

static void warn_malformed(struct digest_plugin *p, const struct guise_request_info *req,
                           const char *why)
{
    uint64_t now = pk_monotonic_ms();
    unsigned long suppressed = 0;
    bool log = false;
    pthread_mutex_lock(&p->warn_lock);
    if (now >= p->warn_next_ms) {
        log = true;
        suppressed = p->warn_suppressed;
        p->warn_suppressed = 0;
        p->warn_next_ms = now + 1000;
    } else {
        p->warn_suppressed++;
    }
    pthread_mutex_unlock(&p->warn_lock);
    if (log)
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, DIGEST_EVENT_MALFORMED,
                           GUISE_E_BAD_FORMAT,
                           "malformed Digest credentials from %s: %s (%lu more suppressed)",
                           req->client_ip ? req->client_ip : "?", why, suppressed);
}

/* Denies, replacing the fresh challenges by a stale=true one for alg. A
 * single challenge, for the algorithm the client already chose: the order of
 * md5-first-agents has nothing to reorder here. */
static void deny_stale(struct digest_plugin *p, enum digest_alg alg, guise_auth_done_fn done,
                       void *cookie)
{
    char nonce[DIGEST_NONCE_TEXT_LEN + 1];
    char buf[CHALLENGE_MAX];
    new_nonce(p, nonce);
    build_challenge(p, alg, nonce, true, buf, sizeof buf);
    struct guise_blob blob = {buf, strlen(buf)};
    /* Right password, old nonce: not a failure the host should throttle. */
    done(GUISE_AUTH_DENIED, GUISE_E_CONTEXT_EXPIRED, &blob, cookie);
}

/* What happens after the password check: the token lookup may finish on a
 * worker thread. */
struct pending_auth {
    struct digest_plugin *p;
    /* The context is only an identity (plugins/common/auth_identity.h). Its
     * user is the authenticated user after SUCCESS; after a wrong password,
     * the user the client claimed to be, which the host asks for to
     * throttle guessing per user; else none. */
    struct pk_auth_identity *ctx;
    const struct guise_request_info *req;
    guise_auth_done_fn done;
    void *cookie;
    char *user;
    char *account;
    char *auth_info;
};

static void pending_free(struct pending_auth *a)
{
    free(a->user);
    free(a->account);
    free(a->auth_info);
    free(a);
}

static void token_done(guise_result r, guise_token *token, void *arg)
{
    struct pending_auth *a = arg;
    guise_auth_done_fn done = a->done;
    void *cookie = a->cookie;

    if (r == GUISE_S_OK) {
        a->ctx->user = a->user;
        a->user = NULL;
        pk_auth_identity_grant(a->ctx, &a->account, token);
        a->req->add_response_header(a->req, "Authentication-Info", a->auth_info);
        pending_free(a);
        done(GUISE_AUTH_SUCCESS, GUISE_S_OK, NULL, cookie);
        return;
    }
    if (r == GUISE_E_NOT_FOUND || r == GUISE_E_ACCESSDENIED) {
        /* The issue asks for an "error event"; it is a WARNING on purpose:
         * an ERROR event makes the host disable the plug-in and put its
         * scopes in the critical state, which one misconfigured user must
         * not cause. The user is denied (fail closed). */
        a->p->host->log_event(a->p->host->host, GUISE_EVENT_WARNING, DIGEST_EVENT_ACCOUNT_REFUSED,
                              r, "user '%s' authenticated but account '%s' %s", a->user, a->account,
                              r == GUISE_E_NOT_FOUND ? "does not exist"
                                                     : "is refused by the min-uid policy");
        pending_free(a);
        done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, cookie);
        return;
    }
    /* Anything else (a full worker queue, an NSS failure) is load or the
     * environment, not a broken plug-in: deny this request with a WARNING
     * rather than fail, which would disable the plug-in. A full queue or a
     * client gone passes its code on (503, or nobody told). */
    if (r != GUISE_E_ABORTED)
        a->p->host->log_event(
            a->p->host->host, GUISE_EVENT_WARNING, DIGEST_EVENT_ACCOUNT_REFUSED, r,
            "user '%s' authenticated but the token of account '%s' could not "
            "be obtained; %s",
            a->user, a->account, r == GUISE_E_BUSY ? "refused for now (queue full)" : "denied");
    pending_free(a);
    done(GUISE_AUTH_DENIED, r == GUISE_E_BUSY || r == GUISE_E_ABORTED ? r : GUISE_E_ACCESSDENIED,
         NULL, cookie);
}

/* Authentication-Info (RFC 7616 3.5). rspauth is the response computed with
 * an empty method; for qop=auth-int it would cover the response body, which
 * does not exist yet when authentication completes, so it is left out (the
 * parameter is optional). nextnonce is offered in the last fifth of the
 * nonce's life, so that busy clients never meet a stale nonce. */
static char *build_auth_info(const struct digest_plugin *p, const struct digest_credentials *c,
                             const char *ha1, const struct guise_request_info *req, uint64_t age_us)
{
    /* Every piece has a known bound: rspauth (hex) and nextnonce are
     * fixed-size, qop and nc were checked by the parser, the cnonce may
     * double when quoted. Appended with memcpy (snprintf was a visible
     * share of a Digest request's CPU). */
    size_t size = 2 * strlen(c->cnonce) + strlen(c->qop_text) + strlen(c->nc_text) +
                  DIGEST_MAX_HEX + DIGEST_NONCE_TEXT_LEN + 64;
    char *out = malloc(size);
    if (!out)
        return NULL;
    size_t pos = 0;
#define APPEND(str)                                                                                \
    do {                                                                                           \
        size_t n_ = strlen(str);                                                                   \
        memcpy(out + pos, (str), n_);                                                              \
        pos += n_;                                                                                 \
    } while (0)
    if (c->qop == DIGEST_QOP_AUTH) {
        char rspauth[DIGEST_MAX_HEX + 1];
        struct digest_response_input in = {
            .alg = c->alg,
            .ha1_hex = ha1,
            .nonce = c->nonce,
            .nc = c->nc_text,
            .cnonce = c->cnonce,
            .qop = "auth",
            .method = NULL,
            .uri = req->uri,
        };
        digest_response(&in, rspauth);
        APPEND("rspauth=\"");
        APPEND(rspauth);
        APPEND("\", ");
    }
    APPEND("qop=");
    APPEND(c->qop_text);
    APPEND(", nc=");
    APPEND(c->nc_text);
    APPEND(", cnonce=\"");
    out[pos] = '\0';
    digest_quote_append(out, size, &pos, c->cnonce);
    APPEND("\"");
    if (age_us * 5 >= (uint64_t)p->cfg.nonce_lifetime * 1000000u * 4) {
        char nonce[DIGEST_NONCE_TEXT_LEN + 1];
        new_nonce(p, nonce);
        APPEND(", nextnonce=\"");
        APPEND(nonce);
        APPEND("\"");
    }
#undef APPEND
    out[pos] = '\0';
    return out;
}

/* The stored HA1 and the user's name, as the store answered. */
struct stored_user {
    char name[PK_STORE_NAME_MAX + 1];
    char ha1[PK_HA1_HEX_MAX + 1];
};

/* The password check proper. Returns true when the response is right. */
static bool check_response(const struct digest_plugin *p, const struct digest_credentials *c,
                           const struct guise_request_info *req, struct stored_user *su,
                           const char **name, const char **ha1_out)
{
    enum digest_hash hash = digest_alg_hash(c->alg);
    bool known = p->users->ops->find_ha1(p->users, c->username, c->userhash, (enum pk_ha1_hash)hash,
                                         su->name, sizeof su->name, su->ha1);
    /* Same work for unknown users and users without this hash. */
    const char *ha1 = known ? su->ha1 : p->dummy_ha1[hash];

    char expected[DIGEST_MAX_HEX + 1];
    char got[DIGEST_MAX_HEX + 1];
    struct digest_response_input in = {
        .alg = c->alg,
        .ha1_hex = ha1,
        .nonce = c->nonce,
        .nc = c->nc_text,
        .cnonce = c->cnonce,
        .qop = c->qop_text,
        .method = req->method,
        .uri = req->uri,
        .body = req->body,
        .body_len = req->body_len,
    };
    digest_response(&in, expected);
    size_t len = digest_hash_hex_len(hash);
    for (size_t i = 0; i < len; i++)
        got[i] = (char)tolower((unsigned char)c->response[i]);
    bool match = memeql_sec(expected, got, len) != 0;
    *name = known ? su->name : NULL;
    *ha1_out = ha1;
    return match && known;
}

struct scratch {
    struct digest_params params;
    struct digest_credentials cred;
};

/* The parser's 10 KiB of scratch, kept per thread: a fresh malloc of that
 * size per request went through glibc's large-chunk path (consolidation
 * included), about 1.5 % of a Digest request's CPU. It is used only inside
 * digest_authenticate, between scratch_get and scratch_put, where nothing
 * can re-enter it on the same thread; a second user gets a malloc. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_key_ok;
static _Thread_local struct scratch *tls_scratch;

static void scratch_key_init(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, free) == 0;
}

static struct scratch *scratch_get(void)
{
    struct scratch *s = tls_scratch;
    if (s) {
        tls_scratch = NULL;
        return s;
    }
    return malloc(sizeof *s);
}

static void scratch_put(struct scratch *s)
{
    pthread_once(&scratch_once, scratch_key_init);
    if (tls_scratch || !scratch_key_ok) {
        free(s);
        return;
    }
    /* The key's destructor frees it when the thread ends. */
    if (pthread_getspecific(scratch_key) != s && pthread_setspecific(scratch_key, s) != 0) {
        free(s);
        return;
    }
    tls_scratch = s;
}

static guise_result digest_authenticate(void *plugin, void *ctxp, const struct guise_blob *response,
                                        const struct guise_request_info *req,
                                        guise_auth_done_fn done, void *cookie)
{
    struct digest_plugin *p = plugin;
    struct pk_auth_identity *ctx = ctxp;
    if (!p->enabled)
        return GUISE_E_UNEXPECTED;
    pk_auth_identity_reset(ctx);

    struct scratch *s = scratch_get();
    if (!s)
        return GUISE_E_OUTOFMEMORY;
    struct digest_credentials *c = &s->cred;
    const char *why = NULL;
    if (!response || !response->data)
        why = "no credentials";
    else
        why = digest_credentials_parse(response->data, response->len, &s->params, c);
    /* RFC 7616 3.4.6: a uri other than the request-target is a bad request. */
    if (!why && (!req->uri || strcmp(c->uri, req->uri) != 0))
        why = "uri does not match the request-target";
    if (why) {
        warn_malformed(p, req, why);
        scratch_put(s);
        done(GUISE_AUTH_DENIED, GUISE_E_BAD_FORMAT, NULL, cookie);
        return GUISE_S_OK;
    }

    /* Well formed, but not answering what this server offers: a fresh
     * challenge lets the client try again. */
    bool qop_offered = (c->qop == DIGEST_QOP_AUTH && p->cfg.qop_auth) ||
                       (c->qop == DIGEST_QOP_AUTH_INT && p->cfg.qop_auth_int);
    struct digest_nonce_info ni;
    enum digest_nonce_state ns = DIGEST_NONCE_INVALID;
    if (strcmp(c->realm, p->cfg.realm) == 0 && c->alg_known &&
        digest_config_offers(&p->cfg, c->alg) && qop_offered &&
        (!c->opaque || strcmp(c->opaque, p->opaque) == 0))
        ns = digest_nonce_check(p->key, p->cfg.realm, c->nonce, digest_nonce_now_us(),
                                (uint64_t)p->cfg.nonce_lifetime * 1000000u, &ni);
    if (ns == DIGEST_NONCE_INVALID) {
        scratch_put(s);
        done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, cookie);
        return GUISE_S_OK;
    }

    struct stored_user su;
    const char *name = NULL, *ha1 = NULL;
    bool ok = check_response(p, c, req, &su, &name, &ha1);
    if (!ok) {
        /* A failed guess: tell the host who was guessed (the real name when
         * a hashed one matched a user). Failure to copy only loses that. */
        ctx->user = strdup(name ? name : c->username);
        explicit_bzero(&su, sizeof su);
        scratch_put(s);
        done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, cookie);
        return GUISE_S_OK;
    }

    /* The right password on a nonce that can no longer be used: ask for a
     * retry with a new nonce, without prompting the user (stale=true). Only
     * counts of right responses enter the replay cache, so that nobody can
     * burn a client's counts with garbage. */
    if (ns == DIGEST_NONCE_EXPIRED ||
        digest_replay_check(p->replay, ni.id, ni.stamp_us, c->nc) != DIGEST_REPLAY_FRESH) {
        enum digest_alg alg = c->alg;
        explicit_bzero(&su, sizeof su);
        scratch_put(s);
        deny_stale(p, alg, done, cookie);
        return GUISE_S_OK;
    }

    struct pending_auth *a = calloc(1, sizeof *a);
    if (!a || !(a->user = strdup(name)) ||
        !(a->auth_info = build_auth_info(p, c, ha1, req, ni.age_us))) {
        explicit_bzero(&su, sizeof su);
        scratch_put(s);
        if (a)
            pending_free(a);
        return GUISE_E_OUTOFMEMORY;
    }
    explicit_bzero(&su, sizeof su);
    scratch_put(s);

    guise_result r = pk_account_mapper_resolve(p->mapper, a->user, &a->account);
    if (r != GUISE_S_OK) {
        /* The account map is unusable (its reload was logged): deny. */
        pending_free(a);
        done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, cookie);
        return GUISE_S_OK;
    }
    a->p = p;
    a->ctx = ctx;
    a->req = req;
    a->done = done;
    a->cookie = cookie;
    pk_account_token_get(p->host, a->account, token_done, a);
    return GUISE_S_OK;
}

/* ---- lifecycle ---- */

static guise_result digest_init(const struct guise_host_services *host, const guise_props *props,
                                void **plugin)
{
    struct digest_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return GUISE_E_OUTOFMEMORY;
    guise_result r = digest_config_parse(host, props, &p->cfg);
    if (r != GUISE_S_OK) {
        free(p);
        return r;
    }
    p->host = host;
    snprintf(p->qop_list, sizeof p->qop_list, "%s%s%s", p->cfg.qop_auth ? "auth" : "",
             p->cfg.qop_auth && p->cfg.qop_auth_int ? ", " : "",
             p->cfg.qop_auth_int ? "auth-int" : "");
    pthread_mutex_init(&p->warn_lock, NULL);
    *plugin = p;
    return GUISE_S_OK;
}

static void release(struct digest_plugin *p)
{
    p->enabled = false;
    pk_store_free(p->users);
    p->users = NULL;
    pk_account_mapper_free(p->mapper);
    p->mapper = NULL;
    digest_replay_free(p->replay);
    p->replay = NULL;
    explicit_bzero(p->key, sizeof p->key);
}

/* Enable failures carry a message the administrator needs (which line of
 * which file), so they are logged here and reported as already logged. */
static guise_result enable_failed(struct digest_plugin *p, guise_result r, const char *what,
                                  const char *err)
{
    p->host->log_event(p->host->host, GUISE_EVENT_ERROR, DIGEST_EVENT_ENABLE_FAILED, r,
                       "cannot enable: %s: %s", what, err);
    release(p);
    return GUISE_E_PLUGIN_ERROR_REPORTED;
}

static guise_result digest_enable(void *plugin)
{
    struct digest_plugin *p = plugin;
    char err[512];
    bool created = false, too_open;
    if (p->enabled)
        return GUISE_S_OK;

    /* `guised -t` writes nothing: a missing key is only found creatable. */
    bool check_only =
        p->host->abi_minor >= 2 && p->host->check_only && p->host->check_only(p->host->host);
    guise_result r = check_only ? digest_nonce_key_check(p->cfg.nonce_key_file, p->key, &too_open,
                                                         err, sizeof err)
                                : digest_nonce_key_load(p->cfg.nonce_key_file, p->key, &created,
                                                        &too_open, err, sizeof err);
    if (r != GUISE_S_OK)
        return enable_failed(p, r, "nonce key", err);
    if (created)
        p->host->log_event(p->host->host, GUISE_EVENT_INFORMATION, DIGEST_EVENT_KEY_FILE,
                           GUISE_S_OK, "created nonce key %s (copy it to every node of the realm)",
                           p->cfg.nonce_key_file);
    if (too_open)
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, DIGEST_EVENT_KEY_FILE, GUISE_S_OK,
                           "nonce key %s is readable by group or others (chmod 600)",
                           p->cfg.nonce_key_file);
    digest_opaque_make(p->key, p->cfg.realm, p->opaque);

    for (int h = 0; h < DIGEST_HASH_COUNT; h++) {
        unsigned char raw[DIGEST_MAX_BYTES];
        size_t n = digest_hash_size((enum digest_hash)h);
        if (gnutls_rnd(GNUTLS_RND_NONCE, raw, n) != 0)
            return enable_failed(p, GUISE_E_FAIL, "random", "gnutls_rnd failed");
        digest_hex_encode(raw, n, p->dummy_ha1[h]);
    }

    p->replay = digest_replay_new(p->cfg.nonce_cache_size);
    if (!p->replay)
        return enable_failed(p, GUISE_E_OUTOFMEMORY, "replay cache", "out of memory");
    /* The cache starts empty: counts accepted by a previous process (or by
     * the instance a reload replaces) are unknown, so nonces issued before
     * now are treated as forgotten (stale) rather than replayable. */
    digest_replay_forget_until(p->replay, digest_nonce_now_us());

    r = pk_account_mapper_new(p->host, DIGEST_EVENT_ACCOUNT_MAP, p->cfg.account_map, p->cfg.account,
                              &p->mapper, err, sizeof err);
    if (r != GUISE_S_OK)
        return enable_failed(p, r, "account map", err);

    r = pk_htdigest_store_new(p->host, DIGEST_EVENT_USER_FILE, p->cfg.user_file, p->cfg.realm,
                              &p->users, err, sizeof err);
    if (r != GUISE_S_OK)
        return enable_failed(p, r, "user file", err);
    p->enabled = true;
    return GUISE_S_OK;
}

static guise_result digest_disable(void *plugin)
{
    release(plugin);
    return GUISE_S_OK;
}

static void digest_shutdown(void *plugin)
{
    struct digest_plugin *p = plugin;
    if (!p)
        return;
    release(p);
    digest_config_free(&p->cfg);
    pthread_mutex_destroy(&p->warn_lock);
    free(p);
}

static const struct guise_authn_ops digest_authn = {
    .protocol = "Digest",
    .flags = GUISE_AUTH_TEXT_CHALLENGE | GUISE_AUTH_CLIENT_SHOWS_UI | GUISE_AUTH_CHALLENGE_FIRST,
    .create_context = pk_auth_identity_create_context,
    .destroy_context = pk_auth_identity_destroy_context,
    .authenticate = digest_authenticate,
    .challenge = digest_challenge,
    .logical_user_id = pk_auth_identity_logical_user_id,
    .impersonation_account_name = pk_auth_identity_account_name,
    .impersonation_token = pk_auth_identity_token,
};

const struct guise_plugin_descriptor guise_digest_plugin = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "digest",
    .package = "Digest",
    .version = GUISE_VERSION,
    .description = "HTTP Digest access authentication (RFC 7616) against an htdigest file",
    .properties = digest_properties,
    .init = digest_init,
    .enable = digest_enable,
    .disable = digest_disable,
    .shutdown = digest_shutdown,
    .authn = &digest_authn,
    .authz = NULL,
};
