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

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What enable acquires and disable frees. The host calls disable only when
 * every authentication has completed (plugin.h, "Calls in flight"), so a
 * check running on a worker uses it without a reference. */
struct basic_live {
    pk_account_mapper *mapper;
    struct basic_cache *cache; /* NULL: cache-ttl = 0 */
    /* A yescrypt hash of a random password, for unknown users when the
     * file has no usable entry to stand in for them. */
    char dummy_hash[CRYPT_OUTPUT_SIZE];

    pthread_mutex_t users_lock;
    struct basic_userdb *users; /* NULL: the file is unusable, nobody logs in */
    struct pk_file_watch users_watch;
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
    char *hash;  /* htpasswd: the stored hash, or the dummy one */
    bool known;  /* htpasswd: the user has a usable entry */
    char *rhost; /* PAM_RHOST */
    char *name;  /* the name the check authenticated */
    char *account;
};

static void live_free(struct basic_live *l)
{
    if (!l)
        return;
    basic_userdb_unref(l->users);
    pk_account_mapper_free(l->mapper);
    basic_cache_free(l->cache);
    pthread_mutex_destroy(&l->users_lock);
    free(l);
}

static void job_free(struct basic_job *j)
{
    basic_credentials_clear(&j->cred);
    explicit_bzero(j->key, sizeof j->key);
    free(j->hash);
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

/* ---- the user file ---- */

static guise_result load_users(struct basic_plugin *p, struct basic_live *l,
                               struct basic_userdb **out, char *err, size_t err_size)
{
    char *data;
    size_t len;
    struct stat st;
    guise_result r =
        pk_file_read(p->cfg.user_file, BASIC_USERFILE_MAX_SIZE, &data, &len, &st, err, err_size);
    if (r != GUISE_S_OK) {
        pk_file_watch_stat(&l->users_watch, p->cfg.user_file);
        return r;
    }
    pk_file_watch_seen(&l->users_watch, &st);
    char why[256];
    r = basic_userdb_parse(data, len, out, why, sizeof why);
    explicit_bzero(data, len);
    free(data);
    if (r != GUISE_S_OK) {
        snprintf(err, err_size, "%s: %s", p->cfg.user_file, why);
        return r;
    }
    char names[256];
    size_t bad = basic_userdb_unusable(*out, names, sizeof names);
    if (bad)
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, BASIC_EVENT_USER_FILE,
                           GUISE_E_NOT_SUPPORTED,
                           "user file %s: %zu entries with a plain-text or unsupported hash "
                           "are refused (%s); use htpasswd -B or -5",
                           p->cfg.user_file, bad, names);
    return GUISE_S_OK;
}

/* The current users, re-read first when the file changed. */
static struct basic_userdb *current_users(struct basic_plugin *p, struct basic_live *l)
{
    pthread_mutex_lock(&l->users_lock);
    if (pk_file_watch_poll(&l->users_watch, p->cfg.user_file, 1000)) {
        char err[512];
        struct basic_userdb *fresh = NULL;
        guise_result r = load_users(p, l, &fresh, err, sizeof err);
        basic_userdb_unref(l->users);
        l->users = fresh;
        /* Passwords may have changed or users gone: forget what was checked
         * against the old file. */
        if (l->cache)
            basic_cache_clear(l->cache);
        if (r == GUISE_S_OK)
            p->host->log_event(p->host->host, GUISE_EVENT_INFORMATION, BASIC_EVENT_USER_FILE,
                               GUISE_S_OK, "user file %s reloaded (%zu users)", p->cfg.user_file,
                               basic_userdb_count(fresh));
        else
            /* Fail closed until the file is fixed; WARNING, not ERROR,
             * which would disable the plug-in. */
            p->host->log_event(p->host->host, GUISE_EVENT_WARNING, BASIC_EVENT_USER_FILE, r,
                               "user file not reloaded, denying every user until it is fixed: %s",
                               err);
    }
    struct basic_userdb *db = basic_userdb_ref(l->users);
    pthread_mutex_unlock(&l->users_lock);
    return db;
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

static void htpasswd_work(void *arg)
{
    struct basic_job *j = arg;
    if (abandoned(j))
        return;
    bool match = basic_hash_verify(j->hash, j->cred.password, j->cred.password_len);
    bool ok = match && j->known;
    if (ok && !(j->name = strdup(j->cred.user))) {
        deny(j, GUISE_E_OUTOFMEMORY);
        return;
    }
    checked(j, ok);
}

static void pam_work(void *arg)
{
    struct basic_job *j = arg;
    struct basic_plugin *p = j->p;
    struct basic_pam_result res;
    if (abandoned(j))
        return;
    basic_pam_check(p->cfg.pam_service, j->cred.user, j->cred.password, j->cred.password_len,
                    j->rhost, (unsigned)p->cfg.pam_timeout * 1000u, &res);
    switch (res.status) {
    case BASIC_PAM_OK:
        j->name = res.name;
        checked(j, true);
        return;
    case BASIC_PAM_DENIED:
        checked(j, false);
        return;
    case BASIC_PAM_TIMEOUT:
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, BASIC_EVENT_PAM_TIMEOUT,
                           GUISE_E_ACCESSDENIED, "PAM service '%s', user '%s': %s; denied",
                           p->cfg.pam_service, j->cred.user, res.detail);
        break;
    case BASIC_PAM_FAILED:
    case BASIC_PAM_BUSY:
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, BASIC_EVENT_PAM_FAILURE,
                           GUISE_E_FAIL, "PAM service '%s', user '%s': %s; denied",
                           p->cfg.pam_service, j->cred.user, res.detail);
        break;
    }
    /* Not a wrong password: the cache keeps the user's entries, and no
     * claimed name is reported, so that a PAM outage does not lock users
     * out by name (the client's address is still throttled). */
    free(j->ctx->user);
    j->ctx->user = NULL;
    deny(j, GUISE_E_ACCESSDENIED);
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

    /* The user file first: its reload empties the cache. */
    guise_work_fn work = pam_work;
    if (p->cfg.backend == BASIC_BACKEND_HTPASSWD) {
        struct basic_userdb *db = current_users(p, j->live);
        enum basic_hash_kind kind = BASIC_HASH_UNSUPPORTED;
        const char *hash = basic_userdb_find(db, j->cred.user, &kind);
        j->known = hash && kind != BASIC_HASH_UNSUPPORTED;
        /* Unknown users cost what a user of the file costs (bcrypt at 2 ms
         * or yescrypt at 40 ms): response times do not list the users. The
         * check cannot succeed (known is false). */
        const char *sample = basic_userdb_sample_hash(db);
        j->hash = strdup(j->known ? hash : sample ? sample : j->live->dummy_hash);
        basic_userdb_unref(db);
        if (!j->hash) {
            job_free(j);
            return GUISE_E_OUTOFMEMORY;
        }
        work = htpasswd_work;
    }

    struct basic_cache *cache = j->live->cache;
    if (cache) {
        basic_cache_key(cache, j->cred.user, j->cred.password, j->cred.password_len, j->key);
        if (basic_cache_lookup(cache, j->key, pk_monotonic_ms(), &j->name)) {
            authenticated(j);
            return GUISE_S_OK;
        }
    }

    if (work == pam_work && req && req->client_ip && !(j->rhost = strdup(req->client_ip))) {
        job_free(j);
        return GUISE_E_OUTOFMEMORY;
    }
    guise_result r = p->host->submit_work(p->host->host, work, j);
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

/* The dummy hash: yescrypt, the default of Debian's passwd and a costly
 * one, of a random password nobody knows. */
static guise_result make_dummy_hash(struct basic_live *l)
{
    uint8_t rnd[16];
    char pw[2 * sizeof rnd + 1];
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data)
        return GUISE_E_OUTOFMEMORY;
    guise_result r = GUISE_E_FAIL;
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) == 0 &&
        crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof setting)) {
        for (size_t i = 0; i < sizeof rnd; i++)
            snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
        const char *h = crypt_rn(pw, setting, data, (int)sizeof *data);
        if (h && h[0] != '*' && strlen(h) < sizeof l->dummy_hash) {
            strcpy(l->dummy_hash, h);
            r = GUISE_S_OK;
        }
    }
    explicit_bzero(data, sizeof *data);
    free(data);
    return r;
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
    pthread_mutex_init(&l->users_lock, NULL);
    pk_file_watch_init(&l->users_watch);
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
    if (p->cfg.backend == BASIC_BACKEND_PAM &&
        !basic_pam_service_file(p->cfg.pam_service, err, sizeof err)) {
        char why[sizeof err + 128];
        snprintf(why, sizeof why,
                 "service '%s' has no file (%s): libpam would fall back to 'other'",
                 p->cfg.pam_service, err);
        return enable_failed(p, l, GUISE_E_NOT_FOUND, "PAM service", why);
    }
    if (p->cfg.backend == BASIC_BACKEND_HTPASSWD) {
        if ((r = make_dummy_hash(l)) != GUISE_S_OK)
            return enable_failed(p, l, r, "crypt", "cannot make a yescrypt hash");
        r = load_users(p, l, &l->users, err, sizeof err);
        if (r != GUISE_S_OK)
            return enable_failed(p, l, r, "user file", err);
    }
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
