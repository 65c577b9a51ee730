/* The Negotiate and NTLM authentication plug-ins: lifecycle, contexts and
 * the GSSAPI exchange.
 *
 * Exchange. Every Authorization blob goes to gss_accept_sec_context on the
 * host's worker pool (the Kerberos replay cache does file I/O, and
 * gss-ntlmssp reads its user file and NSS). The GSS context lives in the
 * plug-in's authentication context, which the host keeps per connection: a
 * multi-leg exchange (NTLM's negotiate/challenge/authenticate, SPNEGO
 * falling back to NTLM) must stay on one keep-alive connection, and a new
 * connection starts over. An unfinished leg answers CONTINUE with the
 * mechanism's token; the last one SUCCESS with the server's final token
 * (Kerberos mutual authentication), which the host sends on the 200.
 *
 * Accounts. The logical user is the client's full name as GSSAPI displays
 * it ("alice@REALM", "DOMAIN\alice"). The impersonated account is, in
 * order: the account map's line for that name, its '*' line, the fixed
 * `account` property (pk_account_mapper_resolve on the full name); and
 * when none of these applies, the account map's line for the local name
 * gss_localname gives (Kerberos auth_to_local rules; gss-ntlmssp: the user
 * name when such an account exists), else that local name itself. A client
 * without any of these is denied.
 */
#include "plugins/negotiate/negotiate.h"

#include "plugins/common/account_map.h"
#include "plugins/common/account_token.h"
#include "plugins/common/auth_identity.h"
#include "plugins/common/host_work.h"
#include "plugins/common/watched_file.h"
#include "plugins/negotiate/negotiate_config.h"
#include "plugins/negotiate/negotiate_gss.h"
#include "plugins/negotiate/negotiate_token.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What enable acquired and disable frees. The host calls disable only when
 * every leg has completed (plugin.h, "Calls in flight"), so a job on a
 * worker uses it without a reference. */
struct negotiate_live {
    gss_cred_id_t cred;
    pk_account_mapper *mapper;
};

struct negotiate_plugin {
    const struct guise_host_services *host;
    struct negotiate_config cfg;
    const char *scheme; /* "Negotiate" or "NTLM", for messages */

    struct negotiate_live *live; /* NULL while disabled */

    /* At most one refused-token warning a second. */
    pthread_mutex_t warn_lock;
    uint64_t warn_next_ms;
    unsigned long warn_suppressed;
};

struct negotiate_ctx {
    /* First: the ops table's getters take the context as an identity
     * (plugins/common/auth_identity.h). After DENIED its user is still set
     * when GSSAPI had proved the client's name (its account was refused),
     * or to the name a wrong NTLM password was given for, for the host's
     * per-user throttling. */
    struct pk_auth_identity id;
    gss_ctx_id_t gss;
    bool established; /* gss holds a finished exchange */
};
_Static_assert(offsetof(struct negotiate_ctx, id) == 0,
               "the identity getters need the identity at the start of the context");

/* ---- live state ---- */

static void live_free(struct negotiate_live *l)
{
    if (!l)
        return;
    OM_uint32 min;
    if (l->cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&min, &l->cred);
    pk_account_mapper_free(l->mapper);
    free(l);
}

/* ---- contexts ---- */

static void ctx_forget_exchange(struct negotiate_ctx *c)
{
    OM_uint32 min;
    if (c->gss != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&min, &c->gss, GSS_C_NO_BUFFER);
    c->gss = GSS_C_NO_CONTEXT;
    c->established = false;
}

static guise_result negotiate_create_context(void *plugin, void **ctx)
{
    struct negotiate_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return GUISE_E_OUTOFMEMORY;
    c->gss = GSS_C_NO_CONTEXT;
    *ctx = c;
    return GUISE_S_OK;
}

static void negotiate_destroy_context(void *plugin, void *ctx)
{
    if (!ctx)
        return;
    struct negotiate_ctx *c = ctx;
    ctx_forget_exchange(c);
    pk_auth_identity_reset(&c->id);
    free(c);
}

/* ---- challenges ---- */

static guise_result negotiate_challenge(void *plugin, const struct guise_request_info *req,
                                        struct guise_challenge_sink *sink)
{
    struct negotiate_plugin *p = plugin;
    if (!p->live)
        return GUISE_E_UNEXPECTED;
    /* RFC 4559 4.1: the bare scheme name; the client speaks first. */
    sink->add(sink, "");
    return GUISE_S_OK;
}

/* ---- authentication ---- */

struct job {
    struct negotiate_plugin *p;
    struct negotiate_live *live;
    struct negotiate_ctx *ctx;
    guise_auth_done_fn done;
    void *cookie;
    char client_ip[64];
    gss_buffer_desc out; /* the server's token of this leg */
    char *user;
    char *account;
    size_t token_len;
    unsigned char token[]; /* the client's token */
};

static void job_free(struct job *j)
{
    OM_uint32 min;
    gss_release_buffer(&min, &j->out);
    free(j->user);
    free(j->account);
    free(j);
}

static void warn_refused(struct negotiate_plugin *p, const char *client_ip, const char *why)
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
        p->host->log_event(p->host->host, GUISE_EVENT_WARNING, NEGOTIATE_EVENT_BAD_TOKEN,
                           GUISE_E_ACCESSDENIED,
                           "%s token from %s refused: %s (%lu more suppressed)", p->scheme,
                           client_ip, why, suppressed);
}

/* Ends the job: done is called last, after the job is gone, because the
 * host may free the request (and reuse the context) as soon as it returns. */
static void finish(struct job *j, enum guise_auth_status status, guise_result code, bool send_out)
{
    guise_auth_done_fn done = j->done;
    void *cookie = j->cookie;
    gss_buffer_desc out = j->out;
    j->out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    job_free(j);
    struct guise_blob blob = {out.value, out.length};
    done(status, code, send_out && out.length ? &blob : NULL, cookie);
    OM_uint32 min;
    gss_release_buffer(&min, &out);
}

static void token_done(guise_result r, guise_token *token, void *arg)
{
    struct job *j = arg;
    struct negotiate_ctx *c = j->ctx;
    if (r == GUISE_S_OK) {
        pk_auth_identity_grant(&c->id, &j->account, token);
        finish(j, GUISE_AUTH_SUCCESS, GUISE_S_OK, true);
        return;
    }
    if (r == GUISE_E_NOT_FOUND || r == GUISE_E_ACCESSDENIED) {
        /* WARNING, not ERROR: one misconfigured user must not disable the
         * plug-in. The user is denied (fail closed). */
        j->p->host->log_event(
            j->p->host->host, GUISE_EVENT_WARNING, NEGOTIATE_EVENT_ACCOUNT_REFUSED, r,
            "%s authenticated but account '%s' %s", c->id.user, j->account,
            r == GUISE_E_NOT_FOUND ? "does not exist" : "is refused by the min-uid policy");
        finish(j, GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, false);
        return;
    }
    /* A full look-up queue, or the client gone: a refusal of this request,
     * not a plug-in failure. */
    if (r == GUISE_E_BUSY || r == GUISE_E_ABORTED) {
        finish(j, GUISE_AUTH_DENIED, r, false);
        return;
    }
    finish(j, GUISE_AUTH_ERROR, r, false);
}

/* The account of an authenticated client (see the comment at the top).
 * Returns GUISE_S_OK with j->account set, or a failure already logged. */
static guise_result resolve_account(struct job *j, gss_name_t src, gss_OID mech)
{
    pk_account_mapper *m = j->live->mapper;
    const char *user = j->ctx->id.user;
    char *account = NULL;
    guise_result r = pk_account_mapper_resolve(m, user, &account);
    if (r != GUISE_S_OK)
        return r; /* the map is unusable: its reload failure was logged */
    if (strcmp(account, user) != 0) {
        j->account = account;
        return GUISE_S_OK;
    }
    free(account);

    OM_uint32 min;
    gss_buffer_desc local = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj = gss_localname(&min, src, mech, &local);
    char *local_name = GSS_ERROR(maj) ? NULL : negotiate_name_dup(local.value, local.length);
    gss_release_buffer(&min, &local);
    if (!local_name) {
        char why[512] = "";
        if (GSS_ERROR(maj))
            negotiate_gss_error(maj, min, mech, why, sizeof why);
        j->p->host->log_event(j->p->host->host, GUISE_EVENT_WARNING,
                              NEGOTIATE_EVENT_ACCOUNT_REFUSED, GUISE_E_NOT_FOUND,
                              "%s authenticated but has no local account: no account-map "
                              "line, no fixed account, and no local name (%s)",
                              user, why[0] ? why : "unusable name");
        return GUISE_E_NOT_FOUND;
    }
    r = pk_account_mapper_resolve(m, local_name, &j->account);
    if (r == GUISE_S_OK && !pk_account_name_ok(j->account)) {
        /* auth_to_local rules can produce anything. */
        j->p->host->log_event(j->p->host->host, GUISE_EVENT_WARNING,
                              NEGOTIATE_EVENT_ACCOUNT_REFUSED, GUISE_E_NOT_FOUND,
                              "%s authenticated but its local name '%s' is not an account name",
                              user, local_name);
        r = GUISE_E_NOT_FOUND;
    }
    free(local_name);
    return r;
}

static void established(struct job *j, gss_name_t src, gss_OID mech)
{
    struct negotiate_ctx *c = j->ctx;
    OM_uint32 min;
    gss_buffer_desc shown = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj = gss_display_name(&min, src, &shown, NULL);
    c->id.user = GSS_ERROR(maj) ? NULL : negotiate_name_dup(shown.value, shown.length);
    gss_release_buffer(&min, &shown);
    if (!c->id.user) {
        warn_refused(j->p, j->client_ip, "the client's name cannot be displayed or is unusable");
        finish(j, GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, false);
        return;
    }
    if (resolve_account(j, src, mech) != GUISE_S_OK) {
        finish(j, GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, false);
        return;
    }
    pk_account_token_get(j->p->host, j->account, token_done, j);
}

/* One leg, on a worker thread. */
static void accept_leg(void *arg)
{
    struct job *j = arg;
    struct negotiate_ctx *c = j->ctx;
    OM_uint32 maj, min;
    if (pk_work_cancelled(j->p->host)) {
        /* The client went away: nobody waits for this leg. */
        finish(j, GUISE_AUTH_DENIED, GUISE_E_ABORTED, false);
        return;
    }

    /* A client starts over after a finished exchange (a new request that
     * re-authenticates) or in the middle of one (it gave up a leg). */
    if (c->gss != GSS_C_NO_CONTEXT &&
        (c->established || negotiate_token_is_initial(j->token, j->token_len)))
        ctx_forget_exchange(c);

    gss_buffer_desc in = {j->token_len, j->token};
    gss_name_t src = GSS_C_NO_NAME;
    gss_OID mech = GSS_C_NO_OID;
    maj = gss_accept_sec_context(&min, &c->gss, j->live->cred, &in, GSS_C_NO_CHANNEL_BINDINGS, &src,
                                 &mech, &j->out, NULL, NULL, NULL);
    if (GSS_ERROR(maj)) {
        char why[512];
        negotiate_gss_error(maj, min, mech, why, sizeof why);
        warn_refused(j->p, j->client_ip, why);
        ctx_forget_exchange(c);
        /* The name a wrong NTLM password was given for, so that the host
         * throttles guessing per user too. */
        if (j->p->cfg.mode == NEGOTIATE_MODE_NTLM)
            c->id.user = negotiate_ntlm_claimed_user(j->token, j->token_len);
        gss_release_name(&min, &src);
        /* A token no mechanism can even parse is a malformed request (400);
         * anything else (wrong password, expired ticket, replay) is a
         * refusal, answered with fresh challenges (401). */
        bool malformed = GSS_ROUTINE_ERROR(maj) == GSS_S_DEFECTIVE_TOKEN ||
                         GSS_ROUTINE_ERROR(maj) == GSS_S_BAD_MECH;
        finish(j, GUISE_AUTH_DENIED, malformed ? GUISE_E_BAD_FORMAT : GUISE_E_ACCESSDENIED, false);
        return;
    }
    if (maj & GSS_S_CONTINUE_NEEDED) {
        gss_release_name(&min, &src);
        finish(j, GUISE_AUTH_CONTINUE, GUISE_S_OK, true);
        return;
    }
    c->established = true;
    established(j, src, mech);
    gss_release_name(&min, &src);
}

static guise_result negotiate_authenticate(void *plugin, void *ctxp,
                                           const struct guise_blob *response,
                                           const struct guise_request_info *req,
                                           guise_auth_done_fn done, void *cookie)
{
    struct negotiate_plugin *p = plugin;
    struct negotiate_ctx *c = ctxp;
    struct negotiate_live *l = p->live;
    if (!l)
        return GUISE_E_UNEXPECTED;
    pk_auth_identity_reset(&c->id);
    const char *client_ip = req->client_ip ? req->client_ip : "?";
    if (!response || !response->data || response->len == 0) {
        warn_refused(p, client_ip, "empty token");
        done(GUISE_AUTH_DENIED, GUISE_E_BAD_FORMAT, NULL, cookie);
        return GUISE_S_OK;
    }
    struct job *j = calloc(1, sizeof *j + response->len + NEGOTIATE_NTLM_GROWTH);
    if (!j)
        return GUISE_E_OUTOFMEMORY;
    j->p = p;
    j->live = l;
    j->ctx = c;
    j->done = done;
    j->cookie = cookie;
    snprintf(j->client_ip, sizeof j->client_ip, "%s", client_ip);
    j->out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    /* Raw NTLMSSP (the NTLM scheme) in the layout gss-ntlmssp decodes. */
    if (p->cfg.mode == NEGOTIATE_MODE_NTLM) {
        j->token_len = negotiate_ntlm_layout(response->data, response->len, j->token);
    } else {
        j->token_len = response->len;
        memcpy(j->token, response->data, response->len);
    }
    guise_result r = p->host->submit_work(p->host->host, accept_leg, j);
    if (r != GUISE_S_OK) {
        /* GUISE_E_BUSY (a full queue) passes on: the host answers 503 and
         * does not count it against the plug-in. */
        job_free(j);
        return r;
    }
    return GUISE_S_OK;
}

/* ---- lifecycle ---- */

static guise_result init_mode(enum negotiate_mode mode, const struct guise_host_services *host,
                              const guise_props *props, void **plugin)
{
    struct negotiate_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return GUISE_E_OUTOFMEMORY;
    guise_result r = negotiate_config_parse(mode, props, &p->cfg);
    if (r != GUISE_S_OK) {
        free(p);
        return r;
    }
    p->host = host;
    p->scheme = mode == NEGOTIATE_MODE_NTLM ? "NTLM" : "Negotiate";
    pthread_mutex_init(&p->warn_lock, NULL);
    *plugin = p;
    return GUISE_S_OK;
}

static guise_result negotiate_init(const struct guise_host_services *host, const guise_props *props,
                                   void **plugin)
{
    return init_mode(NEGOTIATE_MODE_SPNEGO, host, props, plugin);
}

static guise_result ntlm_init(const struct guise_host_services *host, const guise_props *props,
                              void **plugin)
{
    return init_mode(NEGOTIATE_MODE_NTLM, host, props, plugin);
}

/* Enable failures carry what the administrator must fix (which file, why),
 * so they are logged here as ERROR (the host then puts the plug-in in the
 * error state) and reported as already logged. */
static guise_result enable_failed(struct negotiate_plugin *p, struct negotiate_live *l,
                                  guise_result r, const char *err)
{
    p->host->log_event(p->host->host, GUISE_EVENT_ERROR, NEGOTIATE_EVENT_ENABLE_FAILED, r,
                       "cannot enable %s: %s", p->scheme, err);
    live_free(l);
    return GUISE_E_PLUGIN_ERROR_REPORTED;
}

static void log_enabled(struct negotiate_plugin *p, const struct negotiate_acceptor_info *info)
{
    if (p->cfg.mode == NEGOTIATE_MODE_NTLM) {
        p->host->log_event(p->host->host, GUISE_EVENT_INFORMATION, NEGOTIATE_EVENT_ENABLED,
                           GUISE_S_OK, "NTLM accepts the users of %s (gss-ntlmssp)",
                           info->ntlm_file);
        return;
    }
    p->host->log_event(p->host->host, GUISE_EVENT_INFORMATION, NEGOTIATE_EVENT_ENABLED, GUISE_S_OK,
                       "Negotiate accepts for %s with keytab %s (%u keys, %u of HTTP/ principals); "
                       "mechanisms:%s%s%s%s",
                       p->cfg.principal ? p->cfg.principal : "any principal of the keytab",
                       info->keytab, info->keys, info->http_keys,
                       p->cfg.mechs & NEGOTIATE_MECH_KRB5 ? " krb5" : "",
                       p->cfg.mechs & NEGOTIATE_MECH_NTLMSSP ? " ntlmssp (users of " : "",
                       p->cfg.mechs & NEGOTIATE_MECH_NTLMSSP ? info->ntlm_file : "",
                       p->cfg.mechs & NEGOTIATE_MECH_NTLMSSP ? ")" : "");
}

static guise_result negotiate_enable(void *plugin)
{
    struct negotiate_plugin *p = plugin;
    if (p->live)
        return GUISE_S_OK;

    struct negotiate_live *l = calloc(1, sizeof *l);
    if (!l)
        return GUISE_E_OUTOFMEMORY;
    l->cred = GSS_C_NO_CREDENTIAL;
    char err[1024];
    guise_result r = pk_account_mapper_new(p->host, NEGOTIATE_EVENT_ACCOUNT_MAP, p->cfg.account_map,
                                           p->cfg.account, &l->mapper, err, sizeof err);
    if (r != GUISE_S_OK)
        return enable_failed(p, l, r, err);
    struct negotiate_acceptor_info info;
    r = negotiate_acquire(&p->cfg, &l->cred, &info, err, sizeof err);
    if (r != GUISE_S_OK)
        return enable_failed(p, l, r, err);
    log_enabled(p, &info);

    p->live = l;
    return GUISE_S_OK;
}

/* No leg is running: the host has drained every call first. */
static guise_result negotiate_disable(void *plugin)
{
    struct negotiate_plugin *p = plugin;
    live_free(p->live);
    p->live = NULL;
    return GUISE_S_OK;
}

static void negotiate_shutdown(void *plugin)
{
    struct negotiate_plugin *p = plugin;
    if (!p)
        return;
    negotiate_disable(p);
    negotiate_config_free(&p->cfg);
    pthread_mutex_destroy(&p->warn_lock);
    free(p);
}

static const struct guise_authn_ops negotiate_authn = {
    .protocol = "Negotiate",
    .flags = GUISE_AUTH_CHALLENGE_FIRST | GUISE_AUTH_CONNECTION_ORIENTED,
    .create_context = negotiate_create_context,
    .destroy_context = negotiate_destroy_context,
    .authenticate = negotiate_authenticate,
    .challenge = negotiate_challenge,
    .logical_user_id = pk_auth_identity_logical_user_id,
    .impersonation_account_name = pk_auth_identity_account_name,
    .impersonation_token = pk_auth_identity_token,
};

static const struct guise_authn_ops ntlm_authn = {
    .protocol = "NTLM",
    .flags = GUISE_AUTH_CHALLENGE_FIRST | GUISE_AUTH_CONNECTION_ORIENTED,
    .create_context = negotiate_create_context,
    .destroy_context = negotiate_destroy_context,
    .authenticate = negotiate_authenticate,
    .challenge = negotiate_challenge,
    .logical_user_id = pk_auth_identity_logical_user_id,
    .impersonation_account_name = pk_auth_identity_account_name,
    .impersonation_token = pk_auth_identity_token,
};

const struct guise_plugin_descriptor guise_negotiate_plugin = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "negotiate",
    .package = "Negotiate",
    .version = GUISE_VERSION,
    .description = "HTTP Negotiate (RFC 4559): SPNEGO with Kerberos (and optionally NTLM) "
                   "through GSSAPI, against a keytab",
    .properties = negotiate_properties,
    .init = negotiate_init,
    .enable = negotiate_enable,
    .disable = negotiate_disable,
    .shutdown = negotiate_shutdown,
    .authn = &negotiate_authn,
    .authz = NULL,
};

const struct guise_plugin_descriptor guise_ntlm_plugin = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "ntlm",
    .package = "NTLM",
    .version = GUISE_VERSION,
    .description = "HTTP NTLM authentication through GSSAPI (gss-ntlmssp), users from "
                   "NTLM_USER_FILE",
    .properties = ntlm_properties,
    .init = ntlm_init,
    .enable = negotiate_enable,
    .disable = negotiate_disable,
    .shutdown = negotiate_shutdown,
    .authn = &ntlm_authn,
    .authz = NULL,
};
