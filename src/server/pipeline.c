/* The authentication/authorization pipeline of one request, exactly the
 * model's flow: anonymous first; authorization server-level then point-level,
 * one denial ends the round; on denial, challenges from every non-anonymous
 * plug-in; credentials a client sends are always verified.
 *
 * Plug-in calls complete asynchronously. drive() advances the request until
 * it has to wait; the completion (on any thread) resumes driving. The first
 * wait suspends the libmicrohttpd connection; the end of the pipeline
 * resumes it. `pending`, `suspended` and `driving` under `mu` make sure
 * exactly one thread drives at a time and that resume follows suspend. */
#include "server/pipeline.h"

#include "server/request.h"
#include "server/stats.h"
#include "server/throttle.h"

#include <ctype.h>
#include <errno.h>
#include <nettle/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void drive(struct request *r);
static void finish_locked(struct request *r, unsigned seconds, const char *what, const char *who);

/* Called after starting an asynchronous call: true when its completion has
 * already arrived and the caller may go on; false when the request now waits
 * (suspended) and the completion will drive it. */
static bool await(struct request *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->pending) {
        pthread_mutex_unlock(&r->mu);
        return true;
    }
    if (!r->suspended) {
        MHD_suspend_connection(r->mc);
        r->suspended = true;
    }
    r->driving = false;
    pthread_mutex_unlock(&r->mu);
    return false;
}

/* A completion arrived: the waiting request is driven on by this thread,
 * unless the thread that started the call is still driving it. */
static void completed(struct request *r)
{
    pthread_mutex_lock(&r->mu);
    r->pending = false;
    bool take = r->suspended && !r->driving;
    if (take)
        r->driving = true;
    pthread_mutex_unlock(&r->mu);
    if (take)
        drive(r);
}

static void begin_call(struct request *r)
{
    pthread_mutex_lock(&r->mu);
    r->pending = true;
    pthread_mutex_unlock(&r->mu);
}

/* The call failed synchronously: no completion will come. */
static void abandon_call(struct request *r)
{
    pthread_mutex_lock(&r->mu);
    r->pending = false;
    pthread_mutex_unlock(&r->mu);
}

/* ---- identities ---- */

static void identity_clear(struct identity *id)
{
    free(id->logical_user);
    free(id->account);
    guise_token_unref(id->token);
    memset(id, 0, sizeof *id);
}

static void conn_forget_identity(struct conn *c)
{
    free(c->id_user);
    free(c->id_account);
    guise_token_unref(c->id_token);
    c->id_user = c->id_account = NULL;
    c->id_token = NULL;
    c->id_plugin = NULL;
}

void conn_reset(struct conn *c)
{
    conn_forget_identity(c);
    guise_auth_ctx_free(c->ctx);
    c->ctx = NULL;
    gen_unref(c->gen);
    c->gen = NULL;
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

static bool is_anonymous(const guise_plugin *p)
{
    return guise_plugin_descriptor_of(p)->authn->flags & GUISE_AUTH_ANONYMOUS;
}

/* ---- challenges ---- */

struct challenge_sink {
    struct guise_challenge_sink sink;
    struct request *r;
    const char *protocol;
    int count;
};

static void sink_add(struct guise_challenge_sink *s, const char *params)
{
    struct challenge_sink *cs = (struct challenge_sink *)s;
    char value[2048];
    if (params && *params)
        snprintf(value, sizeof value, "%s %s", cs->protocol, params);
    else
        snprintf(value, sizeof value, "%s", cs->protocol);
    request_add_header(cs->r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, value);
    cs->count++;
}

/* Adds the challenge of every enabled non-anonymous plug-in of the scope in
 * selection order; replace_for's comes from `replacement` instead (a Digest
 * stale=true challenge, a CONTINUE leg). Returns how many were added. */
static int add_challenges(struct request *r, guise_plugin *replace_for, const char *replacement,
                          bool only_replacement)
{
    guise_plugin *const *list;
    size_t n = guise_scope_authn(r->scope, &list);
    struct challenge_sink cs = {.sink.add = sink_add, .r = r};
    for (size_t i = 0; i < n; i++) {
        guise_plugin *p = list[i];
        if (guise_plugin_state_of(p) != GUISE_PLUGIN_ENABLED || is_anonymous(p))
            continue;
        cs.protocol = guise_plugin_descriptor_of(p)->authn->protocol;
        if (p == replace_for && replacement) {
            sink_add(&cs.sink, replacement);
            continue;
        }
        if (only_replacement)
            continue;
        guise_plugin_challenge(p, &r->info, &cs.sink);
    }
    return cs.count;
}

void finish_challenge(struct request *r, guise_plugin *replace_for, const char *replacement)
{
    if (add_challenges(r, replace_for, replacement, false) == 0) {
        finish_status(r, MHD_HTTP_FORBIDDEN, "No authentication method can grant access here.");
        return;
    }
    finish_status(r, MHD_HTTP_UNAUTHORIZED, "Authentication is required.");
}

static bool scope_can_challenge(struct request *r)
{
    guise_plugin *const *list;
    size_t n = guise_scope_authn(r->scope, &list);
    for (size_t i = 0; i < n; i++)
        if (guise_plugin_state_of(list[i]) == GUISE_PLUGIN_ENABLED && !is_anonymous(list[i]))
            return true;
    return false;
}

/* ---- routing ---- */

static bool text_blob(const guise_plugin *p)
{
    return guise_plugin_descriptor_of(p)->authn->flags & GUISE_AUTH_TEXT_CHALLENGE;
}

/* Splits "Scheme blob" and finds the scope's plug-in for Scheme. */
static guise_plugin *plugin_for_authorization(struct request *r, const char *hdr, const char **blob)
{
    const char *sp = hdr;
    while (*sp && *sp != ' ')
        sp++;
    size_t slen = (size_t)(sp - hdr);
    while (*sp == ' ')
        sp++;
    *blob = sp;
    guise_plugin *const *list;
    size_t n = guise_scope_authn(r->scope, &list);
    for (size_t i = 0; i < n; i++) {
        guise_plugin *p = list[i];
        const char *proto = guise_plugin_descriptor_of(p)->authn->protocol;
        if (guise_plugin_state_of(p) == GUISE_PLUGIN_ENABLED && !is_anonymous(p) &&
            strlen(proto) == slen && strncasecmp(proto, hdr, slen) == 0)
            return p;
    }
    return NULL;
}

static int decode_blob(struct request *r, const char *text)
{
    size_t tlen = strlen(text);
    if (text_blob(r->authn_plugin)) {
        r->blob = (unsigned char *)strdup(text);
        r->blob_len = tlen;
        return r->blob ? 0 : -1;
    }
    r->blob = malloc(BASE64_DECODE_LENGTH(tlen) + 1);
    if (!r->blob)
        return -1;
    struct base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    size_t out = 0;
    if (!base64_decode_update(&ctx, &out, r->blob, tlen, text) || !base64_decode_final(&ctx))
        return -1;
    r->blob_len = out;
    return 0;
}

static void route_authentication(struct request *r)
{
    struct conn *c = r->conn;
    if (c->gen != r->gen) {
        /* A reload happened: contexts belong to the old plug-in instances. */
        conn_reset(c);
        c->gen = gen_ref(r->gen);
    }
    const char *authz =
        MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (authz) {
        /* throttle_live: no key has failed lately (the usual case), so no
         * key can be locked: skip building one. */
        if (throttle_live(r->srv->throttle) > 0) {
            char key[128];
            snprintf(key, sizeof key, "ip:%s", c->client_ip);
            unsigned locked = throttle_locked(r->srv->throttle, key);
            if (locked) {
                finish_locked(r, locked, "address", c->client_ip);
                return;
            }
        }
        const char *blob;
        r->authn_plugin = plugin_for_authorization(r, authz, &blob);
        if (!r->authn_plugin) {
            guise_eventlog_write(r->gen->log, GUISE_EVENT_INFORMATION, "server",
                                 GUISE_EV_AUTH_DENIED, GUISE_E_NOT_SUPPORTED,
                                 "client %s sent credentials of a scheme not offered for '%s'",
                                 c->client_ip, guise_scope_name(r->scope));
            finish_challenge(r, NULL, NULL);
            return;
        }
        if (decode_blob(r, blob) != 0) {
            guise_eventlog_write(r->gen->log, GUISE_EVENT_WARNING, "server",
                                 GUISE_EV_AUTH_MALFORMED, GUISE_E_BAD_FORMAT,
                                 "client %s sent a malformed %s blob", c->client_ip,
                                 guise_plugin_name(r->authn_plugin));
            finish_status(r, MHD_HTTP_BAD_REQUEST, "Malformed Authorization header.");
            return;
        }
        r->step = ST_AUTHN;
        return;
    }
    /* An identity established earlier on this connection still holds. */
    if (c->id_plugin && scope_lists(r->scope, c->id_plugin) &&
        guise_plugin_state_of(c->id_plugin) == GUISE_PLUGIN_ENABLED) {
        r->ident.logical_user = strdup(c->id_user);
        r->ident.account = strdup(c->id_account);
        r->ident.token = guise_token_ref(c->id_token);
        r->ident.scheme = guise_plugin_descriptor_of(c->id_plugin)->authn->protocol;
        r->have_ident = true;
        r->step = ST_AUTHZ;
        return;
    }
    guise_plugin *const *list;
    size_t n = guise_scope_authn(r->scope, &list);
    for (size_t i = 0; i < n; i++)
        if (guise_plugin_state_of(list[i]) == GUISE_PLUGIN_ENABLED && is_anonymous(list[i])) {
            r->authn_plugin = list[i];
            r->step = ST_AUTHN;
            return;
        }
    finish_challenge(r, NULL, NULL);
}

/* ---- authentication ---- */

/* 429 for a client address or a user name locked out after repeated
 * failures: even right credentials wait until the lockout ends. */
static void finish_locked(struct request *r, unsigned seconds, const char *what, const char *who)
{
    char v[32];
    snprintf(v, sizeof v, "%u", seconds);
    request_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    guise_eventlog_write(r->gen->log, GUISE_EVENT_WARNING, "server", GUISE_EV_AUTH_THROTTLED,
                         GUISE_E_ACCESSDENIED,
                         "client %s: %s %s is locked out for %u s after repeated "
                         "authentication failures",
                         r->conn->client_ip, what, who, seconds);
    finish_status(r, MHD_HTTP_TOO_MANY_REQUESTS, "Too many failed attempts: try again later.");
}

static unsigned record_failure(struct request *r, const char *user, unsigned *locked,
                               const char **locked_what, const char **locked_who)
{
    char key[160];
    snprintf(key, sizeof key, "ip:%s", r->conn->client_ip);
    unsigned d = throttle_failure(r->srv->throttle, key);
    *locked = throttle_locked(r->srv->throttle, key);
    *locked_what = "address";
    *locked_who = r->conn->client_ip;
    if (user) {
        snprintf(key, sizeof key, "user:%.120s", user);
        unsigned du = throttle_failure(r->srv->throttle, key);
        d = du > d ? du : d;
        unsigned lu = throttle_locked(r->srv->throttle, key);
        if (lu > *locked) {
            *locked = lu;
            *locked_what = "user";
            *locked_who = user;
        }
    }
    return d;
}

static void auth_done(enum guise_auth_status status, guise_result code,
                      const struct guise_blob *challenge, void *cookie)
{
    struct request *r = cookie;
    r->auth_status = status;
    r->auth_code = code;
    free(r->auth_challenge);
    r->auth_challenge = NULL;
    if (challenge && challenge->len) {
        if (text_blob(r->authn_plugin)) {
            r->auth_challenge = strndup(challenge->data, challenge->len);
        } else {
            r->auth_challenge = malloc(BASE64_ENCODE_RAW_LENGTH(challenge->len) + 1);
            if (r->auth_challenge) {
                base64_encode_raw(r->auth_challenge, challenge->len, challenge->data);
                r->auth_challenge[BASE64_ENCODE_RAW_LENGTH(challenge->len)] = '\0';
            }
        }
    }
    completed(r);
}

/* An administrator disabled the plug-in between its choice and the call
 * (the host refused the call, nothing ran): the request chooses again
 * instead of failing. A plug-in in error state is not "disabled": that
 * failure stands. */
static bool disabled_meanwhile(const guise_plugin *p)
{
    return guise_plugin_state_of(p) == GUISE_PLUGIN_DISABLED;
}

static bool choose_again(struct request *r)
{
    free(r->blob);
    r->blob = NULL;
    r->blob_len = 0;
    r->authn_plugin = NULL;
    r->step = ST_ROUTE;
    return true;
}

static bool start_authentication(struct request *r)
{
    struct conn *c = r->conn;
    if (!c->ctx || guise_auth_ctx_authenticator(c->ctx) != r->authn_plugin) {
        guise_auth_ctx_free(c->ctx);
        c->ctx = NULL;
        if (guise_auth_ctx_new(r->authn_plugin, &c->ctx) != GUISE_S_OK) {
            if (disabled_meanwhile(r->authn_plugin))
                return choose_again(r);
            finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authentication failed.");
            return true;
        }
    }
    struct guise_blob blob = {r->blob ? (const void *)r->blob : "", r->blob_len};
    r->step = ST_AUTHN_RESULT;
    begin_call(r);
    if (guise_auth_ctx_authenticate(c->ctx, &blob, &r->info, auth_done, r) != GUISE_S_OK) {
        abandon_call(r);
        if (disabled_meanwhile(r->authn_plugin))
            return choose_again(r);
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authentication failed.");
        return true;
    }
    return await(r);
}

static void authentication_result(struct request *r)
{
    struct conn *c = r->conn;
    guise_plugin *p = r->authn_plugin;
    const char *proto = guise_plugin_descriptor_of(p)->authn->protocol;
    static const char *const result_names[] = {"success", "denied", "continue", "error"};
    stats_add(r->srv->stats, STATS_AUTHN, guise_plugin_name(p),
              (unsigned)r->auth_status < 4 ? result_names[r->auth_status] : "error", 1);
    switch (r->auth_status) {
    case GUISE_AUTH_SUCCESS: {
        const char *user = NULL, *account = NULL;
        guise_token *token = NULL;
        if (guise_auth_ctx_identity(c->ctx, &user, &account, &token) != GUISE_S_OK) {
            finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authentication failed.");
            return;
        }
        identity_clear(&r->ident);
        r->ident.logical_user = strdup(user ? user : "-");
        r->ident.account = strdup(account ? account : "-");
        r->ident.token = token;
        r->ident.anonymous = is_anonymous(p);
        r->ident.scheme = proto;
        r->have_ident = true;
        if (!r->ident.anonymous && throttle_live(r->srv->throttle) > 0) {
            char key[160];
            snprintf(key, sizeof key, "user:%.120s", r->ident.logical_user);
            unsigned locked = throttle_locked(r->srv->throttle, key);
            if (locked) {
                finish_locked(r, locked, "user", r->ident.logical_user);
                return;
            }
            throttle_success(r->srv->throttle, key);
            snprintf(key, sizeof key, "ip:%s", c->client_ip);
            throttle_success(r->srv->throttle, key);
        }
        if (!r->ident.anonymous) {
            conn_forget_identity(c);
            if (guise_plugin_descriptor_of(p)->authn->flags & GUISE_AUTH_CONNECTION_ORIENTED) {
                c->id_plugin = p;
                c->id_user = strdup(r->ident.logical_user);
                c->id_account = strdup(r->ident.account);
                c->id_token = guise_token_ref(token);
            }
            if (r->auth_challenge) {
                /* Negotiate's final mutual-authentication token. */
                char value[4096];
                snprintf(value, sizeof value, "%s %s", proto, r->auth_challenge);
                request_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, value);
            }
        }
        r->step = ST_AUTHZ;
        r->authz_index = 0;
        return;
    }
    case GUISE_AUTH_CONTINUE:
        add_challenges(r, p, r->auth_challenge ? r->auth_challenge : "", true);
        finish_status(r, MHD_HTTP_UNAUTHORIZED, "Authentication continues.");
        return;
    case GUISE_AUTH_DENIED:
        conn_forget_identity(c);
        if (r->auth_code == GUISE_E_BAD_FORMAT) {
            guise_eventlog_write(r->gen->log, GUISE_EVENT_WARNING, "server",
                                 GUISE_EV_AUTH_MALFORMED, r->auth_code,
                                 "client %s: malformed %s credentials", c->client_ip, proto);
            finish_status(r, MHD_HTTP_BAD_REQUEST, "Malformed credentials.");
            return;
        }
        if (r->auth_code == GUISE_E_CONTEXT_EXPIRED) {
            /* Stale credentials (expired nonce): the client retries at once
             * with the new challenge; no failure is counted. */
            finish_challenge(r, p, r->auth_challenge);
            return;
        }
        const char *claimed = guise_auth_ctx_claimed_user(c->ctx);
        guise_eventlog_write(r->gen->log, GUISE_EVENT_WARNING, "server", GUISE_EV_AUTH_DENIED,
                             r->auth_code, "client %s: %s authentication denied for user %s",
                             c->client_ip, proto, claimed ? claimed : "(unknown)");
        unsigned locked;
        const char *what, *who;
        r->delay_ms = record_failure(r, claimed, &locked, &what, &who);
        if (locked) {
            finish_locked(r, locked, what, who);
            return;
        }
        finish_challenge(r, p, r->auth_challenge);
        return;
    case GUISE_AUTH_ERROR:
    default:
        guise_plugin_report_failure(p, "authenticate", r->auth_code);
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authentication failed.");
        return;
    }
}

/* ---- authorization ---- */

static void authz_done(enum guise_authz_decision decision, guise_result code, void *cookie)
{
    struct request *r = cookie;
    r->authz_decision = decision;
    r->authz_code = code;
    completed(r);
}

/* Runs the next authorization plug-in; true when the caller may go on. */
static bool start_authorization(struct request *r)
{
    guise_plugin *const *list;
    size_t n = guise_scope_authz(r->scope, &list);
    while (r->authz_index < n) {
        guise_plugin *p = list[r->authz_index];
        const struct guise_plugin_descriptor *d = guise_plugin_descriptor_of(p);
        if (guise_plugin_state_of(p) != GUISE_PLUGIN_ENABLED ||
            !(d->authz->events & GUISE_AUTHZ_READ)) {
            r->authz_index++;
            continue;
        }
        struct guise_identity who = {.logical_user = r->ident.logical_user,
                                     .account = r->ident.account,
                                     .token = r->ident.token,
                                     .anonymous = r->ident.anonymous,
                                     .scheme = r->ident.scheme};
        r->step = ST_AUTHZ_RESULT;
        begin_call(r);
        if (guise_plugin_authorize(p, GUISE_AUTHZ_READ, &who, &r->info, authz_done, r) !=
            GUISE_S_OK) {
            abandon_call(r);
            if (disabled_meanwhile(p)) { /* like any disabled plug-in: skipped */
                r->authz_index++;
                continue;
            }
            finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authorization failed.");
            return true;
        }
        return await(r);
    }
    r->step = ST_SERVE;
    return true;
}

static void authorization_result(struct request *r)
{
    guise_plugin *const *list;
    guise_scope_authz(r->scope, &list);
    guise_plugin *p = list[r->authz_index];
    switch (r->authz_decision) {
    case GUISE_AUTHZ_ALLOW:
        r->authz_index++;
        r->step = ST_AUTHZ;
        return;
    case GUISE_AUTHZ_DENY:
        stats_add(r->srv->stats, STATS_AUTHZ_DENIED, guise_plugin_name(p), "", 1);
        guise_eventlog_write(r->gen->log, GUISE_EVENT_INFORMATION, "server",
                             GUISE_EV_REQUEST_REFUSED, r->authz_code, "%s denied %s (%s as %s) %s",
                             guise_plugin_name(p), r->conn->client_ip, r->ident.logical_user,
                             r->ident.account, r->url);
        finish_refusal(r, r->authz_code);
        return;
    case GUISE_AUTHZ_ERROR:
    default:
        guise_plugin_report_failure(p, "authorize", r->authz_code);
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authorization failed.");
        return;
    }
}

void finish_refusal(struct request *r, guise_result code)
{
    int e = guise_result_errno(code);
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        finish_status(r, MHD_HTTP_NOT_FOUND, "Not found.");
        return;
    case EXDEV:
    case ELOOP:
        guise_eventlog_write(r->gen->log, GUISE_EVENT_WARNING, "server", GUISE_EV_REQUEST_REFUSED,
                             code, "client %s: path %s leaves the publishing point; refused",
                             r->conn->client_ip, r->url);
        finish_status(r, MHD_HTTP_NOT_FOUND, "Not found.");
        return;
    case 0:
    case EACCES:
    case EPERM:
        if (e == 0 && code != GUISE_E_ACCESSDENIED && code != GUISE_S_OK) {
            finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authorization failed.");
            return;
        }
        /* The model: a denied guest is offered the other plug-ins. */
        if (r->ident.anonymous && scope_can_challenge(r)) {
            finish_challenge(r, NULL, NULL);
            return;
        }
        finish_status(r, MHD_HTTP_FORBIDDEN, "Access denied.");
        return;
    default:
        guise_eventlog_write(r->gen->log, GUISE_EVENT_WARNING, "server", GUISE_EV_IO_ERROR, code,
                             "client %s: cannot open %s", r->conn->client_ip, r->url);
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "The content cannot be read.");
        return;
    }
}

/* ---- the driver ---- */

static void delay_elapsed(void *arg)
{
    struct request *r = arg;
    r->delay_done = true;
    completed(r);
}

static void drive(struct request *r)
{
    for (;;) {
        switch (r->step) {
        case ST_ROUTE:
            route_authentication(r);
            break;
        case ST_AUTHN:
            if (!start_authentication(r))
                return;
            break;
        case ST_AUTHN_RESULT:
            authentication_result(r);
            break;
        case ST_AUTHZ:
            if (!start_authorization(r))
                return;
            break;
        case ST_AUTHZ_RESULT:
            authorization_result(r);
            break;
        case ST_SERVE:
            serve_content(r);
            break;
        case ST_DONE:
            if (r->delay_ms && !r->delay_done) {
                begin_call(r);
                if (throttle_after(r->srv->throttle, r->delay_ms, delay_elapsed, r) != 0)
                    abandon_call(r);
                else if (!await(r))
                    return;
                r->delay_done = true;
            }
            pthread_mutex_lock(&r->mu);
            bool resume = r->suspended;
            r->suspended = false;
            r->driving = false;
            pthread_mutex_unlock(&r->mu);
            if (resume)
                MHD_resume_connection(r->mc);
            return;
        }
    }
}

void pipeline_start(struct request *r)
{
    r->driving = true;
    r->step = ST_ROUTE;
    drive(r);
}

void pipeline_request_cleanup(struct request *r)
{
    identity_clear(&r->ident);
    free(r->blob);
    free(r->auth_challenge);
}
