/* Anonymous authentication: no credentials, the configured guest account.
 * WMS's "WMS Anonymous User Authentication" plug-in. */
#include "plugins/builtin.h"
#include <guise/props.h>
#include <guise/token.h>
#include "plugins/common/host_work.h"

#include <stdlib.h>
#include <string.h>

struct anon {
    const struct guise_host_services *host;
    char *account;
};

struct anon_ctx {
    struct anon *plugin;
    guise_token *token;
};

struct anon_job {
    struct anon_ctx *ctx;
    guise_auth_done_fn done;
    void *cookie;
};

static const struct guise_property_spec anon_properties[] = {
    {"account", 0, "guest account every anonymous client impersonates (default nobody)"},
    {NULL, 0, NULL},
};

static guise_result anon_init(const struct guise_host_services *host, const guise_props *props,
                              void **out)
{
    const char *account = guise_props_get(props, "account");
    if (account && !account[0])
        return guise_props_fail(props, "account", "must not be empty");
    struct anon *a = calloc(1, sizeof *a);
    if (!a || !(a->account = strdup(account ? account : "nobody"))) {
        free(a);
        return GUISE_E_OUTOFMEMORY;
    }
    a->host = host;
    *out = a;
    return GUISE_S_OK;
}

/* Resolving the guest account up front makes a missing account an enable
 * failure the administrator sees, not a 500 on the first request. */
static guise_result anon_enable(void *plugin)
{
    struct anon *a = plugin;
    guise_token *t = NULL;
    guise_result r = a->host->token_for_account(a->host->host, a->account, &t);
    if (r != GUISE_S_OK && r != GUISE_E_NOT_SUPPORTED) {
        a->host->log_event(a->host->host, GUISE_EVENT_ERROR, 1, r,
                           "guest account '%s' cannot be impersonated", a->account);
        return GUISE_E_PLUGIN_ERROR_REPORTED;
    }
    guise_token_unref(t);
    return GUISE_S_OK;
}

static void anon_shutdown(void *plugin)
{
    struct anon *a = plugin;
    free(a->account);
    free(a);
}

static guise_result anon_create_context(void *plugin, void **ctx)
{
    struct anon_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return GUISE_E_OUTOFMEMORY;
    c->plugin = plugin;
    *ctx = c;
    return GUISE_S_OK;
}

static void anon_destroy_context(void *plugin, void *ctx)
{
    struct anon_ctx *c = ctx;
    guise_token_unref(c->token);
    free(c);
}

static void complete(struct anon_ctx *c, guise_result r, guise_auth_done_fn done, void *cookie)
{
    if (r == GUISE_S_OK || r == GUISE_E_NOT_SUPPORTED) {
        done(GUISE_AUTH_SUCCESS, GUISE_S_OK, NULL, cookie);
        return;
    }
    c->plugin->host->log_event(c->plugin->host->host, GUISE_EVENT_ERROR, 2, r,
                               "guest account '%s' cannot be impersonated", c->plugin->account);
    done(GUISE_AUTH_ERROR, GUISE_E_PLUGIN_ERROR_REPORTED, NULL, cookie);
}

static void anon_lookup_job(void *arg)
{
    struct anon_job *j = arg;
    struct anon *a = j->ctx->plugin;
    guise_token_unref(j->ctx->token);
    j->ctx->token = NULL;
    if (pk_work_cancelled(a->host)) {
        /* The client went away: nobody waits for this look-up. */
        j->done(GUISE_AUTH_DENIED, GUISE_E_ABORTED, NULL, j->cookie);
        free(j);
        return;
    }
    guise_result r = a->host->token_for_account(a->host->host, a->account, &j->ctx->token);
    complete(j->ctx, r, j->done, j->cookie);
    free(j);
}

static guise_result anon_authenticate(void *plugin, void *ctx, const struct guise_blob *response,
                                      const struct guise_request_info *req, guise_auth_done_fn done,
                                      void *cookie)
{
    struct anon *a = plugin;
    struct anon_ctx *c = ctx;
    guise_token_unref(c->token);
    c->token = NULL;
    guise_result r = a->host->try_token_for_account(a->host->host, a->account, &c->token);
    if (r != GUISE_E_PENDING) {
        complete(c, r, done, cookie);
        return GUISE_S_OK;
    }
    struct anon_job *j = malloc(sizeof *j);
    if (!j)
        return GUISE_E_OUTOFMEMORY;
    *j = (struct anon_job){c, done, cookie};
    /* An NSS look-up: the quick lane, never behind password checks. A full
     * queue answers GUISE_E_BUSY, which passes on (503 for this request,
     * never an error of the plug-in). */
    r = pk_submit_quick(a->host, anon_lookup_job, j);
    if (r != GUISE_S_OK)
        free(j);
    return r;
}

static guise_result anon_logical_user_id(void *ctx, const char **out)
{
    *out = "anonymous";
    return GUISE_S_OK;
}

static guise_result anon_account_name(void *ctx, const char **out)
{
    *out = ((struct anon_ctx *)ctx)->plugin->account;
    return GUISE_S_OK;
}

static guise_result anon_token(void *ctx, guise_token **out)
{
    *out = guise_token_ref(((struct anon_ctx *)ctx)->token);
    return GUISE_S_OK;
}

static const struct guise_authn_ops anon_ops = {
    .protocol = "Anonymous",
    .flags = GUISE_AUTH_ANONYMOUS,
    .create_context = anon_create_context,
    .destroy_context = anon_destroy_context,
    .authenticate = anon_authenticate,
    .challenge = NULL,
    .logical_user_id = anon_logical_user_id,
    .impersonation_account_name = anon_account_name,
    .impersonation_token = anon_token,
};

const struct guise_plugin_descriptor guise_anonymous_plugin = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "anonymous",
    .package = "Anonymous",
    .version = GUISE_VERSION,
    .description = "Lets clients in without credentials as the guest account",
    .properties = anon_properties,
    .init = anon_init,
    .enable = anon_enable,
    .disable = NULL,
    .shutdown = anon_shutdown,
    .authn = &anon_ops,
};
