/* A third-party authentication plug-in for guise, built against the public
 * headers only (<guise/plugin.h>) and loaded from its shared object with
 *   [server]
 *   load = /usr/local/lib/guise/guise-hello.so
 *   authentication = hello
 *   [plugin "hello"]
 *   secret = open-sesame
 *   account = nobody
 *
 * Scheme "Hello": a client sends `Authorization: Hello NAME:SECRET`; when
 * SECRET matches the `secret` property, the client is NAME and impersonates
 * `account`. It shows every part of the ABI a real scheme needs: flags,
 * challenge, contexts, asynchronous completion, identity and token. It is
 * an example: a shared secret in a header is only as safe as TLS makes it.
 *
 * It links no guise library: properties, tokens, the worker pool and the
 * event log all come through the guise_host_services table init receives
 * (ABI 1.1), which is the one channel between a plug-in and the host. */
/* strdup is POSIX, not C11: ask for it, whatever -std the builder uses. */
#define _POSIX_C_SOURCE 200809L
#include <guise/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hello {
    const struct guise_host_services *host;
    char *secret;
    char *account;
};

struct hello_ctx {
    struct hello *plugin;
    char user[64];
    guise_token *token;
};

static const struct guise_property_spec hello_properties[] = {
    {"secret", GUISE_PROP_SECRET, "the shared secret clients must send"},
    {"account", 0, "account every Hello user impersonates (default nobody)"},
    {NULL, 0, NULL},
};

static void hello_shutdown(void *plugin)
{
    struct hello *h = plugin;
    free(h->secret);
    free(h->account);
    free(h);
}

static guise_result hello_init(const struct guise_host_services *host, const guise_props *props,
                               void **out)
{
    /* The accessors this example uses arrived with ABI 1.1. */
    if (host->abi_minor < 1 || !host->props_get)
        return GUISE_E_ABI_MISMATCH;
    const char *secret = host->props_get(props, "secret");
    if (!secret || strlen(secret) < 8)
        return host->props_fail(props, "secret", "must be at least 8 characters");
    const char *account = host->props_get(props, "account");
    struct hello *h = calloc(1, sizeof *h);
    if (!h)
        return GUISE_E_OUTOFMEMORY;
    h->host = host;
    h->secret = strdup(secret);
    h->account = strdup(account ? account : "nobody");
    if (!h->secret || !h->account) {
        hello_shutdown(h);
        return GUISE_E_OUTOFMEMORY;
    }
    *out = h;
    return GUISE_S_OK;
}

static guise_result hello_create_context(void *plugin, void **ctx)
{
    struct hello_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return GUISE_E_OUTOFMEMORY;
    c->plugin = plugin;
    *ctx = c;
    return GUISE_S_OK;
}

static void hello_destroy_context(void *plugin, void *ctx)
{
    struct hello_ctx *c = ctx;
    c->plugin->host->token_unref(c->token);
    free(c);
}

/* Compares without an early exit, so timing does not reveal the prefix. */
static int secret_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
    return diff == 0;
}

struct lookup_job {
    struct hello_ctx *ctx;
    guise_auth_done_fn done;
    void *cookie;
};

static void finish_lookup(struct hello_ctx *c, guise_result r, guise_auth_done_fn done,
                          void *cookie)
{
    if (r == GUISE_S_OK)
        done(GUISE_AUTH_SUCCESS, GUISE_S_OK, NULL, cookie);
    else
        done(GUISE_AUTH_DENIED, r, NULL, cookie);
}

static void lookup_on_worker(void *arg)
{
    struct lookup_job *j = arg;
    struct hello *h = j->ctx->plugin;
    /* The client went away while the job waited: nobody needs the token. */
    guise_result r = h->host->work_cancelled(h->host->host)
                         ? GUISE_E_ABORTED
                         : h->host->token_for_account(h->host->host, h->account, &j->ctx->token);
    finish_lookup(j->ctx, r, j->done, j->cookie);
    free(j);
}

static guise_result hello_authenticate(void *plugin, void *ctx, const struct guise_blob *response,
                                       const struct guise_request_info *req,
                                       guise_auth_done_fn done, void *cookie)
{
    struct hello *h = plugin;
    struct hello_ctx *c = ctx;
    const char *blob = response->data;
    const char *colon = memchr(blob, ':', response->len);
    if (!colon || colon == blob || (size_t)(colon - blob) >= sizeof c->user) {
        done(GUISE_AUTH_DENIED, GUISE_E_BAD_FORMAT, NULL, cookie);
        return GUISE_S_OK;
    }
    size_t slen = response->len - (size_t)(colon - blob) - 1;
    if (!secret_equal(colon + 1, slen, h->secret)) {
        done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, cookie);
        return GUISE_S_OK;
    }
    memcpy(c->user, blob, (size_t)(colon - blob));
    c->user[colon - blob] = '\0';
    h->host->token_unref(c->token);
    c->token = NULL;
    guise_result r = h->host->try_token_for_account(h->host->host, h->account, &c->token);
    if (r != GUISE_E_PENDING) {
        finish_lookup(c, r, done, cookie);
        return GUISE_S_OK;
    }
    /* NSS may block: never on the caller's (I/O) thread. A look-up is a
     * short job: the quick lane. A full queue (GUISE_E_BUSY) is passed on,
     * and the host answers 503 for this request. */
    struct lookup_job *j = malloc(sizeof *j);
    if (!j)
        return GUISE_E_OUTOFMEMORY;
    *j = (struct lookup_job){c, done, cookie};
    r = h->host->submit_quick_work(h->host->host, lookup_on_worker, j);
    if (r != GUISE_S_OK)
        free(j);
    return r;
}

static guise_result hello_challenge(void *plugin, const struct guise_request_info *req,
                                    struct guise_challenge_sink *sink)
{
    struct hello *h = plugin;
    char params[256];
    snprintf(params, sizeof params, "realm=\"%s\"", h->host->realm(h->host->host));
    sink->add(sink, params);
    return GUISE_S_OK;
}

static guise_result hello_user(void *ctx, const char **out)
{
    *out = ((struct hello_ctx *)ctx)->user;
    return GUISE_S_OK;
}

static guise_result hello_account(void *ctx, const char **out)
{
    *out = ((struct hello_ctx *)ctx)->plugin->account;
    return GUISE_S_OK;
}

static guise_result hello_token(void *ctx, guise_token **out)
{
    struct hello_ctx *c = ctx;
    *out = c->plugin->host->token_ref(c->token);
    return GUISE_S_OK;
}

static const struct guise_authn_ops hello_ops = {
    .protocol = "Hello",
    .flags = GUISE_AUTH_TEXT_CHALLENGE | GUISE_AUTH_CLIENT_SHOWS_UI | GUISE_AUTH_CHALLENGE_FIRST,
    .create_context = hello_create_context,
    .destroy_context = hello_destroy_context,
    .authenticate = hello_authenticate,
    .challenge = hello_challenge,
    .logical_user_id = hello_user,
    .impersonation_account_name = hello_account,
    .impersonation_token = hello_token,
};

static const struct guise_plugin_descriptor hello_descriptor = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "hello",
    .package = "Hello (example)",
    .version = "1.0",
    .description = "Example third-party plug-in: a shared secret in the Authorization header",
    .properties = hello_properties,
    .init = hello_init,
    .shutdown = hello_shutdown,
    .authn = &hello_ops,
};

/* The one symbol the host looks for. */
const struct guise_plugin_descriptor *guise_plugin_entry(void);
const struct guise_plugin_descriptor *guise_plugin_entry(void)
{
    return &hello_descriptor;
}
