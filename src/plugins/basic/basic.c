/* The Basic authentication plug-in: lifecycle, challenge, authentication.
 *
 * A request's path: refuse over plain HTTP unless allowed; decode the
 * credentials (malformed: 400); a cache hit completes at once; otherwise the
 * password check (PAM, or crypt(3) against the htpasswd file) runs on the
 * host's worker pool, never on the calling thread; then the account comes
 * from the shared account map and its token from the host. */
#include "plugins/basic/basic.h"

#include "plugins/basic/basic_cache.h"
#include "plugins/basic/basic_config.h"
#include "plugins/basic/basic_credentials.h"
#include "plugins/basic/basic_hash.h"
#include "plugins/basic/basic_htpasswd.h"
#include "plugins/basic/basic_pam.h"
#include "plugins/common/account_map.h"
#include "plugins/common/account_token.h"
#include "plugins/common/auth_identity.h"
#include "plugins/common/host_work.h"
#include "plugins/common/watched_file.h"
#include "plugins/stores/htdigest.h"
#include "plugins/stores/htpasswd.h"
#include "plugins/stores/pam.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <crypt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What enable acquires and disable frees. The host calls disable only when
 * every authentication has completed (plugin.h, "Calls in flight"), so a
 * check running on a worker uses it without a reference. */
struct basic_live {
    pk_account_mapper *mapper;
    struct basic_cache *cache; /* NULL: cache-ttl = 0 */
    /* Who checks passwords: the credential store of `backend`
     * (plugins/stores: PAM, htpasswd, htdigest). */
    struct pk_store *store;
    /* The store's generation the cache was filled against: a changed user
     * file empties the cache. */
    atomic_uint_fast64_t store_generation;
};

struct basic_plugin {
    const struct guise_host_services *host;
    struct basic_config cfg;

    struct basic_live *live; /* NULL while disabled */

    /* At most one client-caused event a second: clients must not be able to
     * flood the event log. */
    pthread_mutex_t warn_lock;
    uint64_t warn_next_ms;
    unsigned long warn_suppressed;
};

/* One authentication between its start and its completion. */
struct basic_job {
    struct basic_plugin *p;
    struct basic_live *live; /* the plug-in's, valid until the completion */
    /* The context is only an identity (plugins/common/auth_identity.h). Its
     * user is the name sent, set before the check: after a denial, the name
     * claimed, which logical_user_id answers for the host's per-user
     * throttling. */
    struct pk_auth_identity *ctx;
    guise_auth_done_fn done;
    void *cookie;
    struct basic_credentials cred;
    uint8_t key[BASIC_CACHE_KEY_SIZE];
    char *rhost; /* the client's address, for the store (PAM_RHOST) */
    char *name;  /* the name the check authenticated */
    char *account;
};

static void live_free(struct basic_live *l)
{
    if (!l)
        return;
    pk_store_free(l->store);
    pk_account_mapper_free(l->mapper);
    basic_cache_free(l->cache);
    free(l);
}

static void job_free(struct basic_job *j)
{
    basic_credentials_clear(&j->cred);
    explicit_bzero(j->key, sizeof j->key);
    free(j->rhost);
    free(j->name);
    free(j->account);
    free(j);
}

/* ---- events ---- */

static void client_event(struct basic_plugin *p, enum guise_event_level level, uint32_t id,
                         guise_result code, const struct guise_request_info *req, const char *what)
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
        p->host->log_event(p->host->host, level, id, code, "client %s: %s (%lu more suppressed)",
                           req && req->client_ip ? req->client_ip : "?", what, suppressed);
}

/* ---- the challenge ---- */

static bool transport_ok(const struct basic_plugin *p, const struct guise_request_info *req)
{
    return p->cfg.allow_plaintext || (req && req->secure);
}

static guise_result basic_challenge(void *plugin, const struct guise_request_info *req,
                                    struct guise_challenge_sink *sink)
{
    struct basic_plugin *p = plugin;
    /* Over plain HTTP, asking for a password would have the browser send it
     * in the clear: no challenge at all. */
    if (transport_ok(p, req))
        sink->add(sink, p->cfg.challenge);
    return GUISE_S_OK;
}

/* ---- completion ---- */

static void token_done(guise_result r, guise_token *token, void *arg)
{
    struct basic_job *j = arg;
    struct basic_plugin *p = j->p;
    guise_auth_done_fn done = j->done;
    void *cookie = j->cookie;
    if (r == GUISE_S_OK) {
        pk_auth_identity_grant(j->ctx, &j->account, token);
        job_free(j);
        done(GUISE_AUTH_SUCCESS, GUISE_S_OK, NULL, cookie);
        return;
    }
    if (r == GUISE_E_NOT_FOUND || r == GUISE_E_ACCESSDENIED) {
        /* One misconfigured user must not disable the plug-in: WARNING. */
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, BASIC_EVENT_ACCOUNT_REFUSED, r,
                           "user '%s' authenticated but account '%s' %s", j->cred.user, j->account,
                           r == GUISE_E_NOT_FOUND ? "does not exist"
                                                  : "is refused by the min-uid policy");
        job_free(j);
        done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, cookie);
        return;
    }
    job_free(j);
    /* A full look-up queue, or the client gone: a refusal of this request,
     * not a plug-in failure. */
    if (r == GUISE_E_BUSY || r == GUISE_E_ABORTED)
        done(GUISE_AUTH_DENIED, r, NULL, cookie);
    else
        done(GUISE_AUTH_ERROR, r, NULL, cookie);
}

static void deny(struct basic_job *j, guise_result code)
{
    guise_auth_done_fn done = j->done;
    void *cookie = j->cookie;
    job_free(j);
    done(GUISE_AUTH_DENIED, code, NULL, cookie);
}

/* The password is right; j->name is who it authenticated. */
static void authenticated(struct basic_job *j)
{
    guise_result r = pk_account_mapper_resolve(j->live->mapper, j->name, &j->account);
    if (r != GUISE_S_OK) {
        /* The account map is unusable (its reload was logged). */
        deny(j, GUISE_E_ACCESSDENIED);
        return;
    }
    pk_account_token_get(j->p->host, j->account, token_done, j);
}

/* The check is over: ok with j->name set, or denied. */
static void checked(struct basic_job *j, bool ok)
{
    struct basic_cache *cache = j->live->cache;
    if (!ok) {
        /* A changed password must stop working now, not at the TTL. */
        if (cache)
            basic_cache_forget_user(cache, j->cred.user);
        deny(j, GUISE_E_ACCESSDENIED);
        return;
    }
    if (cache)
        basic_cache_insert(cache, j->key, j->cred.user, j->name, pk_monotonic_ms());
    authenticated(j);
}

/* ---- the checks, on a worker ---- */

/* The client went away while the job waited: no costly check for nobody.
 * Not a wrong password either: no claimed name, the cache is untouched. */
static bool abandoned(struct basic_job *j)
{
    if (!pk_work_cancelled(j->p->host))
        return false;
    free(j->ctx->user);
    j->ctx->user = NULL;
    deny(j, GUISE_E_ABORTED);
    return true;
}

/* The store's answer, on a worker for a blocking store, else inline. */
static void store_check(struct basic_job *j)
{
    struct basic_plugin *p = j->p;
    struct pk_check_result res;
    j->live->store->ops->check_password(j->live->store, j->cred.user, j->cred.password,
                                        j->cred.password_len, j->rhost, &res);
    switch (res.verdict) {
    case PK_CHECK_OK:
        j->name = res.name;
        checked(j, true);
        return;
    case PK_CHECK_DENIED:
        checked(j, false);
        return;
    case PK_CHECK_TIMEOUT:
    case PK_CHECK_FAILED:
        break;
    }
    uint32_t id =
        res.verdict == PK_CHECK_TIMEOUT ? BASIC_EVENT_PAM_TIMEOUT : BASIC_EVENT_PAM_FAILURE;
    guise_result code = res.verdict == PK_CHECK_TIMEOUT ? GUISE_E_ACCESSDENIED : GUISE_E_FAIL;
    if (p->cfg.backend == BASIC_BACKEND_PAM)
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, id, code,
                           "PAM service '%s', user '%s': %s; denied", p->cfg.pam_service,
                           j->cred.user, res.detail);
    else
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, id, code,
                           "%s store, user '%s': %s; denied", j->live->store->ops->kind,
                           j->cred.user, res.detail);
    /* Not a wrong password: the cache keeps the user's entries, and no
     * claimed name is reported, so that a back-end outage does not lock
     * users out by name (the client's address is still throttled). */
    free(j->ctx->user);
    j->ctx->user = NULL;
    deny(j, GUISE_E_ACCESSDENIED);
}

static void store_work(void *arg)
{
    struct basic_job *j = arg;
    if (abandoned(j))
        return;
    store_check(j);
}

/* ---- authenticate ---- */

static guise_result basic_authenticate(void *plugin, void *ctxp, const struct guise_blob *response,
                                       const struct guise_request_info *req,
                                       guise_auth_done_fn done, void *cookie)
{
    struct basic_plugin *p = plugin;
    struct pk_auth_identity *ctx = ctxp;
    pk_auth_identity_reset(ctx);

    if (!transport_ok(p, req)) {
        client_event(p, GUISE_EVENT_INFORMATION, BASIC_EVENT_PLAINTEXT, GUISE_E_ACCESSDENIED, req,
                     "Basic credentials over plain HTTP refused (the password travels in "
                     "the clear; set allow-plaintext = true to accept)");
        done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, cookie);
        return GUISE_S_OK;
    }

    struct basic_job *j = calloc(1, sizeof *j);
    if (!j)
        return GUISE_E_OUTOFMEMORY;
    if (!(j->live = p->live)) {
        free(j);
        return GUISE_E_UNEXPECTED;
    }
    j->p = p;
    j->ctx = ctx;
    j->done = done;
    j->cookie = cookie;
    const char *why = response && response->data
                          ? basic_credentials_decode(response->data, response->len, &j->cred)
                          : "no credentials";
    if (why) {
        char what[128];
        snprintf(what, sizeof what, "malformed Basic credentials: %s", why);
        client_event(p, GUISE_EVENT_WARNING, BASIC_EVENT_MALFORMED, GUISE_E_BAD_FORMAT, req, what);
        deny(j, GUISE_E_BAD_FORMAT);
        return GUISE_S_OK;
    }
    /* The claimed name: the host throttles guessing per user with it. */
    if (!(ctx->user = strdup(j->cred.user))) {
        job_free(j);
        return GUISE_E_OUTOFMEMORY;
    }

    /* The store first: a changed user file empties the cache. */
    struct pk_store *store = j->live->store;
    uint64_t generation = pk_store_refresh(store);
    struct basic_cache *cache = j->live->cache;
    if (cache && atomic_exchange(&j->live->store_generation, generation) != generation)
        basic_cache_clear(cache);
    if (cache) {
        basic_cache_key(cache, j->cred.user, j->cred.password, j->cred.password_len, j->key);
        if (basic_cache_lookup(cache, j->key, pk_monotonic_ms(), &j->name)) {
            authenticated(j);
            return GUISE_S_OK;
        }
    }

    if (req && req->client_ip && !(j->rhost = strdup(req->client_ip))) {
        job_free(j);
        return GUISE_E_OUTOFMEMORY;
    }
    if (!store->ops->blocking) {
        /* A cheap check (an htdigest HA1): no worker needed. */
        store_check(j);
        return GUISE_S_OK;
    }
    guise_result r = p->host->submit_work(p->host->host, store_work, j);
    if (r != GUISE_S_OK) {
        /* A full queue is load, not a broken plug-in: refuse this request
         * with GUISE_E_BUSY (the server answers 503 with Retry-After), never
         * fail (which would disable the plug-in). The claimed user is not
         * to blame either. */
        client_event(p, GUISE_EVENT_WARNING, BASIC_EVENT_PAM_FAILURE, r, req,
                     "password check not started (worker queue full); refused for now");
        free(ctx->user);
        ctx->user = NULL;
        deny(j, r == GUISE_E_BUSY ? GUISE_E_BUSY : GUISE_E_ACCESSDENIED);
    }
    return GUISE_S_OK;
}

/* ---- lifecycle ---- */

static guise_result basic_init(const struct guise_host_services *host, const guise_props *props,
                               void **plugin)
{
    struct basic_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return GUISE_E_OUTOFMEMORY;
    guise_result r = basic_config_parse(host, props, &p->cfg);
    if (r != GUISE_S_OK) {
        free(p);
        return r;
    }
    p->host = host;
    pthread_mutex_init(&p->warn_lock, NULL);
    *plugin = p;
    return GUISE_S_OK;
}

static guise_result enable_failed(struct basic_plugin *p, struct basic_live *l, guise_result r,
                                  const char *what, const char *err)
{
    p->host->log_event(p->host->host, GUISE_EVENT_ERROR, BASIC_EVENT_ENABLE_FAILED, r,
                       "cannot enable: %s: %s", what, err);
    live_free(l);
    return GUISE_E_PLUGIN_ERROR_REPORTED;
}

static guise_result basic_enable(void *plugin)
{
    struct basic_plugin *p = plugin;
    char err[512];
    if (p->live)
        return GUISE_S_OK;

    struct basic_live *l = calloc(1, sizeof *l);
    if (!l)
        return GUISE_E_OUTOFMEMORY;
    atomic_init(&l->store_generation, 0);
    guise_result r = pk_account_mapper_new(p->host, BASIC_EVENT_ACCOUNT_MAP, p->cfg.account_map,
                                           p->cfg.account, &l->mapper, err, sizeof err);
    if (r != GUISE_S_OK)
        return enable_failed(p, l, r, "account map", err);
    if (p->cfg.cache_ttl) {
        l->cache = basic_cache_new(p->cfg.cache_size, (uint64_t)p->cfg.cache_ttl * 1000u);
        if (!l->cache)
            return enable_failed(p, l, GUISE_E_OUTOFMEMORY, "credentials cache",
                                 "out of memory or no random key");
    }
    switch (p->cfg.backend) {
    case BASIC_BACKEND_PAM:
        r = pk_pam_store_new(p->cfg.pam_service, (unsigned)p->cfg.pam_timeout * 1000u, &l->store,
                             err, sizeof err);
        if (r != GUISE_S_OK)
            return enable_failed(p, l, r, "PAM service", err);
        break;
    case BASIC_BACKEND_HTPASSWD:
        r = pk_htpasswd_store_new(p->host, BASIC_EVENT_USER_FILE, p->cfg.user_file, &l->store, err,
                                  sizeof err);
        if (r != GUISE_S_OK)
            return enable_failed(p, l, r, "user file", err);
        break;
    case BASIC_BACKEND_HTDIGEST:
        r = pk_htdigest_store_new(p->host, BASIC_EVENT_USER_FILE, p->cfg.user_file, p->cfg.realm,
                                  &l->store, err, sizeof err);
        if (r != GUISE_S_OK)
            return enable_failed(p, l, r, "user file", err);
        break;
    }
    atomic_store(&l->store_generation, pk_store_refresh(l->store));
    p->live = l;
    return GUISE_S_OK;
}

/* No check is running: the host has drained every call first. */
static guise_result basic_disable(void *plugin)
{
    struct basic_plugin *p = plugin;
    live_free(p->live);
    p->live = NULL;
    return GUISE_S_OK;
}

static void basic_shutdown(void *plugin)
{
    struct basic_plugin *p = plugin;
    if (!p)
        return;
    basic_disable(p);
    basic_config_free(&p->cfg);
    pthread_mutex_destroy(&p->warn_lock);
    free(p);
}

static const struct guise_authn_ops basic_authn = {
    .protocol = "Basic",
    .flags = GUISE_AUTH_TEXT_CHALLENGE | GUISE_AUTH_CLIENT_SHOWS_UI | GUISE_AUTH_CHALLENGE_FIRST,
    .create_context = pk_auth_identity_create_context,
    .destroy_context = pk_auth_identity_destroy_context,
    .authenticate = basic_authenticate,
    .challenge = basic_challenge,
    .logical_user_id = pk_auth_identity_logical_user_id,
    .impersonation_account_name = pk_auth_identity_account_name,
    .impersonation_token = pk_auth_identity_token,
};

const struct guise_plugin_descriptor guise_basic_plugin = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "basic",
    .package = "Basic",
    .version = GUISE_VERSION,
    .description = "HTTP Basic authentication (RFC 7617) against PAM or an htpasswd file",
    .properties = basic_properties,
    .init = basic_init,
    .enable = basic_enable,
    .disable = basic_disable,
    .shutdown = basic_shutdown,
    .authn = &basic_authn,
    .authz = NULL,
};
