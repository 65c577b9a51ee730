/* The authentication front (see authn.h): the model's flow - credentials a
 * client sends are always verified; without them an identity a
 * connection-oriented scheme established on the connection holds; else the
 * first enabled anonymous plug-in; else 401 with every challenge - with the
 * throttling every listener shares.
 *
 * The steps of one authentication, each possibly waiting for a plug-in or
 * the timer thread:
 *   choose -> call the plug-in -> result -> (failure delay) -> done
 * A plug-in disabled by an administrator between its choice and the call
 * makes the front choose again; nothing else loops. */
#include "server/authn.h"
#include "server/client_event.h"

#include "server/stats.h"
#include "server/throttle.h"

#include <nettle/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void identity_clear(struct identity *id)
{
    free(id->logical_user);
    free(id->account);
    guise_token_unref(id->token);
    memset(id, 0, sizeof *id);
}

static void conn_forget_identity(struct authn_conn *c)
{
    free(c->id_user);
    free(c->id_account);
    guise_token_unref(c->id_token);
    c->id_user = c->id_account = NULL;
    c->id_token = NULL;
    c->id_plugin = NULL;
}

void authn_conn_reset(struct authn_conn *c)
{
    conn_forget_identity(c);
    guise_auth_ctx_free(c->ctx);
    c->ctx = NULL;
    gen_unref(c->gen);
    c->gen = NULL;
}

static const struct guise_authn_ops *ops_of(const guise_plugin *p)
{
    return guise_plugin_descriptor_of(p)->authn;
}

static bool is_anonymous(const guise_plugin *p)
{
    return ops_of(p)->flags & GUISE_AUTH_ANONYMOUS;
}

static bool text_blob(const guise_plugin *p)
{
    return ops_of(p)->flags & GUISE_AUTH_TEXT_CHALLENGE;
}

static bool offered(const guise_plugin *p)
{
    return guise_plugin_state_of(p) == GUISE_PLUGIN_ENABLED && !is_anonymous(p);
}

static bool scope_lists(guise_scope *s, guise_plugin *p)
{
    guise_plugin *const *list;
    size_t n = guise_scope_authn(s, &list);
    for (size_t i = 0; i < n; i++)
        if (list[i] == p)
            return true;
    return false;
}

/* ---- challenges ---- */

struct challenge_sink {
    struct guise_challenge_sink sink;
    void (*add)(void *, const char *);
    void *cookie;
    const char *protocol;
    int count;
};

static void sink_add(struct guise_challenge_sink *s, const char *params)
{
    struct challenge_sink *cs = (struct challenge_sink *)s;
    size_t plen = strlen(cs->protocol), vlen = params ? strlen(params) : 0;
    char *value = malloc(plen + 1 + vlen + 1);
    if (!value)
        return;
    memcpy(value, cs->protocol, plen);
    if (vlen) {
        value[plen] = ' ';
        memcpy(value + plen + 1, params, vlen + 1);
    } else {
        value[plen] = '\0';
    }
    cs->add(cs->cookie, value);
    free(value);
    cs->count++;
}

int authn_challenges(guise_scope *scope, const struct guise_request_info *info,
                     guise_plugin *replace_for, const char *replacement, bool only_replacement,
                     void (*add)(void *cookie, const char *value), void *cookie)
{
    guise_plugin *const *list;
    size_t n = guise_scope_authn(scope, &list);
    struct challenge_sink cs = {.sink.add = sink_add, .add = add, .cookie = cookie};
    for (size_t i = 0; i < n; i++) {
        guise_plugin *p = list[i];
        if (!offered(p))
            continue;
        cs.protocol = ops_of(p)->protocol;
        if (p == replace_for && replacement) {
            sink_add(&cs.sink, replacement);
            continue;
        }
        if (only_replacement)
            continue;
        guise_plugin_challenge(p, info, &cs.sink);
    }
    return cs.count;
}

bool authn_scope_can_challenge(guise_scope *scope)
{
    guise_plugin *const *list;
    size_t n = guise_scope_authn(scope, &list);
    for (size_t i = 0; i < n; i++)
        if (offered(list[i]))
            return true;
    return false;
}

/* ---- outcomes ---- */

static void add_header(struct authn *a, const char *name, const char *value)
{
    a->info->add_response_header(a->info, name, value);
}

static void add_www_authenticate(void *cookie, const char *value)
{
    add_header(cookie, MHD_HTTP_HEADER_WWW_AUTHENTICATE, value);
}

/* Completes. A refusal after failures carries delay_ms: the listener
 * builds its answer and sends it after that delay (throttle_after), so
 * that the waiting answer is already the answer (shutdown sends it). */
static void complete(struct authn *a)
{
    a->done(a);
}

static void refuse(struct authn *a, unsigned status, const char *detail)
{
    a->outcome = AUTHN_REFUSED;
    a->status = status;
    a->detail = detail;
    complete(a);
}

/* 401 with every challenge of the scope (replace_for's replaced), or 403
 * when nothing can challenge. */
static void refuse_challenge(struct authn *a, guise_plugin *replace_for, const char *replacement)
{
    if (authn_challenges(a->scope, a->info, replace_for, replacement, false, add_www_authenticate,
                         a) == 0) {
        refuse(a, MHD_HTTP_FORBIDDEN, "No authentication method can grant access here.");
        return;
    }
    refuse(a, MHD_HTTP_UNAUTHORIZED, "Authentication is required.");
}

/* 429: the address or the user is locked out; even right credentials wait
 * until the lockout ends. */
static void refuse_locked(struct authn *a, unsigned seconds, const char *what, const char *who)
{
    char v[32];
    snprintf(v, sizeof v, "%u", seconds);
    add_header(a, MHD_HTTP_HEADER_RETRY_AFTER, v);
    client_event(a->srv, a->gen->log, GUISE_EVENT_WARNING, a->listener, GUISE_EV_AUTH_THROTTLED,
                 GUISE_E_ACCESSDENIED, a->client_ip,
                 "client %s: %s %s is locked out for %u s after repeated "
                 "authentication failures",
                 a->client_ip, what, who, seconds);
    a->delay_ms = 0;
    refuse(a, MHD_HTTP_TOO_MANY_REQUESTS, "Too many failed attempts: try again later.");
}

/* 503 + Retry-After: a temporary refusal of this one request (a full
 * worker queue), never a plug-in failure. */
static void refuse_busy(struct authn *a)
{
    add_header(a, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    client_event(a->srv, a->gen->log, GUISE_EVENT_WARNING, a->listener, GUISE_EV_REQUEST_REFUSED,
                 GUISE_E_BUSY, a->client_ip, "client %s: the server is busy; %s refused for now",
                 a->client_ip, a->plugin ? guise_plugin_name(a->plugin) : "authentication");
    refuse(a, MHD_HTTP_SERVICE_UNAVAILABLE, "The server is busy: try again shortly.");
}

/* Per-name counting is slower than per-address counting: anyone can send
 * wrong answers for any name, so the name's delay grows this many times
 * slower and its lockout needs this many times the failures; and a locked
 * name only refuses addresses that have failures of their own (a correct
 * answer from a clean address always passes). */
#define NAME_SCALE 4

/* Jobs in flight (plug-in calls not yet completed) one client address may
 * have (`max-client-jobs`) are checked before the plug-in is called: one
 * client cannot fill the worker pool's queue for everybody with password
 * checks. Anonymous calls check no password (at most a token look-up of the
 * guest on the quick lane, whose own bounded queue answers GUISE_E_BUSY):
 * they are not counted, so many anonymous viewers behind one address (a
 * NAT, a proxy) are not refused while the guest's token is looked up. */

/* Counts a failure of the address and, when known, of the claimed user;
 * returns the lockout (seconds, 0: none) and sets the delay. */
static unsigned record_failure(struct authn *a, const char *user, const char **what,
                               const char **who)
{
    char key[160];
    snprintf(key, sizeof key, "ip:%s", a->client_ip);
    unsigned d = throttle_failure(a->srv->throttle, key);
    unsigned locked = throttle_locked(a->srv->throttle, key);
    *what = "address";
    *who = a->client_ip;
    if (user) {
        snprintf(key, sizeof key, "user:%.120s", user);
        unsigned du = throttle_failure_scaled(a->srv->throttle, key, NAME_SCALE);
        d = du > d ? du : d;
        unsigned lu = throttle_locked(a->srv->throttle, key);
        if (lu > locked) {
            locked = lu;
            *what = "user";
            *who = user;
        }
    }
    a->delay_ms = d;
    return locked;
}

/* ---- choosing the plug-in ---- */

/* Splits "Scheme blob" and finds the scope's offered plug-in for Scheme. */
static guise_plugin *plugin_for_credentials(struct authn *a, const char **blob)
{
    const char *hdr = a->credentials, *sp = hdr;
    while (*sp && *sp != ' ')
        sp++;
    size_t slen = (size_t)(sp - hdr);
    while (*sp == ' ')
        sp++;
    *blob = sp;
    guise_plugin *const *list;
    size_t n = guise_scope_authn(a->scope, &list);
    for (size_t i = 0; i < n; i++) {
        const char *proto = ops_of(list[i])->protocol;
        if (offered(list[i]) && strlen(proto) == slen && strncasecmp(proto, hdr, slen) == 0)
            return list[i];
    }
    return NULL;
}

static int decode_blob(struct authn *a, const char *text)
{
    size_t tlen = strlen(text);
    free(a->blob);
    a->blob = NULL;
    if (text_blob(a->plugin)) {
        a->blob = (unsigned char *)strdup(text);
        a->blob_len = tlen;
        return a->blob ? 0 : -1;
    }
    a->blob = malloc(BASE64_DECODE_LENGTH(tlen) + 1);
    if (!a->blob)
        return -1;
    struct base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    size_t out = 0;
    if (!base64_decode_update(&ctx, &out, a->blob, tlen, text) || !base64_decode_final(&ctx))
        return -1;
    a->blob_len = out;
    return 0;
}

/* A refusal a looping client repeats (credentials of a scheme not offered,
 * malformed ones) counts like a wrong password for its address: the
 * failure delay slows the loop down and the lockout ends it. true when the
 * address is now locked out (answered 429). */
static bool count_refusal(struct authn *a)
{
    char key[128];
    snprintf(key, sizeof key, "ip:%s", a->client_ip);
    a->delay_ms = throttle_failure(a->srv->throttle, key);
    unsigned locked = throttle_locked(a->srv->throttle, key);
    if (locked)
        refuse_locked(a, locked, "address", a->client_ip);
    return locked != 0;
}

static void identify_from_connection(struct authn *a)
{
    struct authn_conn *c = a->conn;
    a->ident.logical_user = strdup(c->id_user);
    a->ident.account = strdup(c->id_account);
    a->ident.token = guise_token_ref(c->id_token);
    a->ident.scheme = ops_of(c->id_plugin)->protocol;
    a->outcome = AUTHN_IDENTIFIED;
    if (!a->ident.logical_user || !a->ident.account) {
        identity_clear(&a->ident);
        refuse(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
        return;
    }
    complete(a);
}

static void call_plugin(struct authn *a);

/* Chooses the plug-in (or the connection's identity, or a refusal). */
static void choose(struct authn *a)
{
    struct authn_conn *c = a->conn;
    if (c->gen != a->gen) {
        /* A reload happened: contexts belong to the old plug-in instances. */
        authn_conn_reset(c);
        c->gen = gen_ref(a->gen);
    }
    if (a->credentials) {
        /* throttle_live: no key has failed lately (the usual case), so no
         * key can be locked: skip building one. */
        if (throttle_live(a->srv->throttle) > 0) {
            char key[128];
            snprintf(key, sizeof key, "ip:%s", a->client_ip);
            unsigned locked = throttle_locked(a->srv->throttle, key);
            if (locked) {
                refuse_locked(a, locked, "address", a->client_ip);
                return;
            }
        }
        const char *blob;
        a->plugin = plugin_for_credentials(a, &blob);
        if (!a->plugin) {
            client_event(a->srv, a->gen->log, GUISE_EVENT_INFORMATION, a->listener,
                         GUISE_EV_AUTH_DENIED, GUISE_E_NOT_SUPPORTED, a->client_ip,
                         "client %s sent credentials of a scheme not offered for '%s'",
                         a->client_ip, guise_scope_name(a->scope));
            if (!count_refusal(a))
                refuse_challenge(a, NULL, NULL);
            return;
        }
        if (decode_blob(a, blob) != 0) {
            client_event(a->srv, a->gen->log, GUISE_EVENT_WARNING, a->listener,
                         GUISE_EV_AUTH_MALFORMED, GUISE_E_BAD_FORMAT, a->client_ip,
                         "client %s sent a malformed %s blob", a->client_ip,
                         guise_plugin_name(a->plugin));
            if (!count_refusal(a))
                refuse(a, MHD_HTTP_BAD_REQUEST, "Malformed Authorization header.");
            return;
        }
        call_plugin(a);
        return;
    }
    /* An identity established earlier on this connection still holds. */
    if (c->id_plugin && scope_lists(a->scope, c->id_plugin) &&
        guise_plugin_state_of(c->id_plugin) == GUISE_PLUGIN_ENABLED) {
        identify_from_connection(a);
        return;
    }
    if (a->anonymous_allowed) {
        guise_plugin *const *list;
        size_t n = guise_scope_authn(a->scope, &list);
        for (size_t i = 0; i < n; i++)
            if (guise_plugin_state_of(list[i]) == GUISE_PLUGIN_ENABLED && is_anonymous(list[i])) {
                a->plugin = list[i];
                call_plugin(a);
                return;
            }
    }
    refuse_challenge(a, NULL, NULL);
}

/* ---- the plug-in's answer ---- */

/* An administrator disabled the plug-in between its choice and the call
 * (the host refused the call, nothing ran): choose again instead of
 * failing. A plug-in in error state is not "disabled": that failure stands. */
static bool disabled_meanwhile(const guise_plugin *p)
{
    return guise_plugin_state_of(p) == GUISE_PLUGIN_DISABLED;
}

static void choose_again(struct authn *a)
{
    free(a->blob);
    a->blob = NULL;
    a->blob_len = 0;
    a->plugin = NULL;
    choose(a);
}

static void result(struct authn *a);

/* The plug-in call counted against the client's cap is over. */
static void job_end(struct authn *a)
{
    if (!a->limit_key)
        return;
    throttle_job_end(a->srv->throttle, a->limit_key);
    free(a->limit_key);
    a->limit_key = NULL;
}

static void auth_done(enum guise_auth_status status, guise_result code,
                      const struct guise_blob *challenge, void *cookie)
{
    struct authn *a = cookie;
    job_end(a);
    a->auth_status = status;
    a->auth_code = code;
    free(a->challenge);
    a->challenge = NULL;
    if (challenge && challenge->len) {
        if (text_blob(a->plugin)) {
            a->challenge = strndup(challenge->data, challenge->len);
        } else {
            a->challenge = malloc(BASE64_ENCODE_RAW_LENGTH(challenge->len) + 1);
            if (a->challenge) {
                base64_encode_raw(a->challenge, challenge->len, challenge->data);
                a->challenge[BASE64_ENCODE_RAW_LENGTH(challenge->len)] = '\0';
            }
        }
    }
    result(a);
}

static void call_plugin(struct authn *a)
{
    struct authn_conn *c = a->conn;
    if (!c->ctx || guise_auth_ctx_authenticator(c->ctx) != a->plugin) {
        guise_auth_ctx_free(c->ctx);
        c->ctx = NULL;
        guise_result rc = guise_auth_ctx_new(a->plugin, &c->ctx);
        if (rc != GUISE_S_OK) {
            if (disabled_meanwhile(a->plugin)) {
                choose_again(a);
                return;
            }
            if (rc == GUISE_E_BUSY) {
                refuse_busy(a);
                return;
            }
            refuse(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authentication failed.");
            return;
        }
    }
    if (!is_anonymous(a->plugin)) {
        char key[128];
        snprintf(key, sizeof key, "jobs:%s", a->client_ip);
        if (!throttle_job_begin(a->srv->throttle, key, a->gen->cfg->max_client_jobs)) {
            refuse_busy(a);
            return;
        }
        if (!(a->limit_key = strdup(key))) {
            throttle_job_end(a->srv->throttle, key);
            refuse(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
            return;
        }
    }
    struct guise_blob blob = {a->blob ? (const void *)a->blob : "", a->blob_len};
    guise_result rc = guise_auth_ctx_authenticate(c->ctx, &blob, a->info, auth_done, a);
    if (rc == GUISE_S_OK)
        return; /* auth_done follows, maybe already did */
    job_end(a);
    if (disabled_meanwhile(a->plugin)) {
        choose_again(a);
        return;
    }
    if (rc == GUISE_E_BUSY) {
        refuse_busy(a);
        return;
    }
    refuse(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authentication failed.");
}

static void success(struct authn *a)
{
    struct authn_conn *c = a->conn;
    guise_plugin *p = a->plugin;
    const char *proto = ops_of(p)->protocol;
    const char *user = NULL, *account = NULL;
    guise_token *token = NULL;
    if (guise_auth_ctx_identity(c->ctx, &user, &account, &token) != GUISE_S_OK) {
        refuse(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authentication failed.");
        return;
    }
    identity_clear(&a->ident);
    a->ident.logical_user = strdup(user ? user : "-");
    a->ident.account = strdup(account ? account : "-");
    a->ident.token = token;
    a->ident.anonymous = is_anonymous(p);
    a->ident.scheme = proto;
    if (!a->ident.logical_user || !a->ident.account) {
        identity_clear(&a->ident);
        refuse(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
        return;
    }
    if (!a->ident.anonymous && throttle_live(a->srv->throttle) > 0) {
        char key[160];
        snprintf(key, sizeof key, "user:%.120s", a->ident.logical_user);
        unsigned locked = throttle_locked(a->srv->throttle, key);
        char ipkey[128];
        snprintf(ipkey, sizeof ipkey, "ip:%s", a->client_ip);
        if (locked && throttle_failing(a->srv->throttle, ipkey)) {
            char *who = strdup(a->ident.logical_user);
            identity_clear(&a->ident);
            refuse_locked(a, locked, "user", who ? who : "?");
            free(who);
            return;
        }
        throttle_success(a->srv->throttle, key); /* never lifts the name's lockout */
        throttle_success(a->srv->throttle, ipkey);
    }
    if (!a->ident.anonymous) {
        conn_forget_identity(c);
        if (ops_of(p)->flags & GUISE_AUTH_CONNECTION_ORIENTED) {
            c->id_plugin = p;
            c->id_user = strdup(a->ident.logical_user);
            c->id_account = strdup(a->ident.account);
            c->id_token = guise_token_ref(token);
            if (!c->id_user || !c->id_account)
                conn_forget_identity(c);
        }
        /* Negotiate's final mutual-authentication token (a->challenge) is
         * sent by authn_accept: a listener that rejects the identity must
         * not send it (the client would take the 401 for another leg). */
    } else {
        free(a->challenge);
        a->challenge = NULL;
    }
    a->outcome = AUTHN_IDENTIFIED;
    complete(a);
}

static void denied(struct authn *a)
{
    struct authn_conn *c = a->conn;
    guise_plugin *p = a->plugin;
    const char *proto = ops_of(p)->protocol;
    conn_forget_identity(c);
    if (a->auth_code == GUISE_E_BAD_FORMAT) {
        client_event(a->srv, a->gen->log, GUISE_EVENT_WARNING, a->listener, GUISE_EV_AUTH_MALFORMED,
                     a->auth_code, a->client_ip, "client %s: malformed %s credentials",
                     a->client_ip, proto);
        if (!count_refusal(a))
            refuse(a, MHD_HTTP_BAD_REQUEST, "Malformed credentials.");
        return;
    }
    if (a->auth_code == GUISE_E_CONTEXT_EXPIRED) {
        /* Stale credentials (expired nonce): the client retries at once
         * with the new challenge (Digest's stale=true); no failure counted. */
        refuse_challenge(a, p, a->challenge);
        return;
    }
    const char *claimed = guise_auth_ctx_claimed_user(c->ctx);
    client_event(a->srv, a->gen->log, GUISE_EVENT_WARNING, a->listener, GUISE_EV_AUTH_DENIED,
                 a->auth_code, a->client_ip, "client %s: %s authentication denied for user %s",
                 a->client_ip, proto, claimed ? claimed : "(unknown)");
    const char *what, *who;
    unsigned locked = record_failure(a, claimed, &what, &who);
    if (locked) {
        refuse_locked(a, locked, what, who);
        return;
    }
    refuse_challenge(a, p, a->challenge);
}

static void result(struct authn *a)
{
    guise_plugin *p = a->plugin;
    static const char *const result_names[] = {"success", "denied", "continue", "error"};
    stats_add(a->srv->stats, STATS_AUTHN, guise_plugin_name(p),
              (unsigned)a->auth_status < 4 ? result_names[a->auth_status] : "error", 1);
    switch (a->auth_status) {
    case GUISE_AUTH_SUCCESS:
        success(a);
        return;
    case GUISE_AUTH_CONTINUE:
        authn_challenges(a->scope, a->info, p, a->challenge ? a->challenge : "", true,
                         add_www_authenticate, a);
        refuse(a, MHD_HTTP_UNAUTHORIZED, "Authentication continues.");
        return;
    case GUISE_AUTH_DENIED:
        denied(a);
        return;
    case GUISE_AUTH_ERROR:
    default:
        if (a->auth_code == GUISE_E_BUSY) {
            refuse_busy(a);
            return;
        }
        guise_plugin_report_failure(p, "authenticate", a->auth_code);
        refuse(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authentication failed.");
        return;
    }
}

/* ---- entry points ---- */

void authn_start(struct authn *a)
{
    a->outcome = AUTHN_REFUSED;
    a->status = 0;
    a->delay_ms = 0;
    choose(a);
}

void authn_accept(struct authn *a)
{
    if (a->outcome != AUTHN_IDENTIFIED || !a->challenge || !a->plugin)
        return;
    char value[4096];
    snprintf(value, sizeof value, "%s %s", ops_of(a->plugin)->protocol, a->challenge);
    add_header(a, MHD_HTTP_HEADER_WWW_AUTHENTICATE, value);
}

void authn_reject(struct authn *a)
{
    free(a->challenge);
    a->challenge = NULL;
    char *user = a->ident.logical_user ? strdup(a->ident.logical_user) : NULL;
    identity_clear(&a->ident);
    conn_forget_identity(a->conn);
    client_event(a->srv, a->gen->log, GUISE_EVENT_WARNING, a->listener, GUISE_EV_AUTH_DENIED,
                 GUISE_E_ACCESSDENIED, a->client_ip, "client %s: %s refused user %s", a->client_ip,
                 a->listener, user ? user : "(unknown)");
    const char *what, *who;
    unsigned locked = record_failure(a, user, &what, &who);
    if (locked) {
        refuse_locked(a, locked, what, who);
    } else {
        refuse_challenge(a, NULL, NULL);
    }
    free(user);
}

void authn_cleanup(struct authn *a)
{
    identity_clear(&a->ident);
    free(a->blob);
    free(a->challenge);
    free(a->limit_key);
    a->blob = NULL;
    a->challenge = NULL;
    a->limit_key = NULL;
}
