/* A test plug-in whose authentication never answers in time: the stand-in
 * for a GSSAPI (or any library) call that hangs, used by the shutdown tests.
 *
 *   [plugin "stall"]
 *   mode = never     authenticate never completes (a call lost for good)
 *   mode = worker    a job on the worker pool sleeps hang-ms, then denies
 *   hang-ms = 3000
 *
 * Scheme "Stall": any credentials (`Authorization: Stall x`) start a call.
 * A plug-in that never completes breaks the ABI's "exactly once" rule on
 * purpose: the server must still answer the client and shut down cleanly. */
#define _POSIX_C_SOURCE 200809L
#include <guise/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct stall {
    const struct guise_host_services *host;
    int never;
    unsigned long hang_ms;
};

static const struct guise_property_spec stall_properties[] = {
    {"mode", 0, "never (no completion) or worker (a worker sleeps hang-ms, then denies)"},
    {"hang-ms", 0, "how long the worker job sleeps (default 3000)"},
    {NULL, 0, NULL},
};

static guise_result stall_init(const struct guise_host_services *host, const guise_props *props,
                               void **out)
{
    const char *mode = host->props_get(props, "mode");
    if (mode && strcmp(mode, "never") != 0 && strcmp(mode, "worker") != 0)
        return host->props_fail(props, "mode", "'%s' is not never or worker", mode);
    struct stall *s = calloc(1, sizeof *s);
    if (!s)
        return GUISE_E_OUTOFMEMORY;
    s->host = host;
    s->never = !mode || !strcmp(mode, "never");
    guise_result r = host->props_uint(props, "hang-ms", 3000, 0, 600000, &s->hang_ms);
    if (r != GUISE_S_OK) {
        free(s);
        return r;
    }
    *out = s;
    return GUISE_S_OK;
}

static void stall_shutdown(void *plugin)
{
    free(plugin);
}

static guise_result stall_create_context(void *plugin, void **ctx)
{
    *ctx = plugin; /* nothing per connection */
    return GUISE_S_OK;
}

static void stall_destroy_context(void *plugin, void *ctx)
{
    (void)plugin;
    (void)ctx;
}

struct stall_job {
    unsigned long ms;
    guise_auth_done_fn done;
    void *cookie;
};

static void stall_on_worker(void *arg)
{
    struct stall_job *j = arg;
    struct timespec ts = {(time_t)(j->ms / 1000), (long)(j->ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    j->done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, j->cookie);
    free(j);
}

static guise_result stall_authenticate(void *plugin, void *ctx, const struct guise_blob *response,
                                       const struct guise_request_info *req,
                                       guise_auth_done_fn done, void *cookie)
{
    struct stall *s = plugin;
    (void)ctx;
    (void)response;
    (void)req;
    if (s->never)
        return GUISE_S_OK; /* and done is never called */
    struct stall_job *j = malloc(sizeof *j);
    if (!j)
        return GUISE_E_OUTOFMEMORY;
    *j = (struct stall_job){s->hang_ms, done, cookie};
    guise_result r = s->host->submit_work(s->host->host, stall_on_worker, j);
    if (r != GUISE_S_OK)
        free(j);
    return r;
}

static guise_result stall_challenge(void *plugin, const struct guise_request_info *req,
                                    struct guise_challenge_sink *sink)
{
    (void)plugin;
    (void)req;
    sink->add(sink, "realm=\"stall\"");
    return GUISE_S_OK;
}

static guise_result stall_no_identity(void *ctx, const char **out)
{
    (void)ctx;
    (void)out;
    return GUISE_E_INVALIDARG;
}

static guise_result stall_no_token(void *ctx, guise_token **out)
{
    (void)ctx;
    (void)out;
    return GUISE_E_INVALIDARG;
}

static const struct guise_authn_ops stall_ops = {
    .protocol = "Stall",
    .flags = GUISE_AUTH_TEXT_CHALLENGE,
    .create_context = stall_create_context,
    .destroy_context = stall_destroy_context,
    .authenticate = stall_authenticate,
    .challenge = stall_challenge,
    .logical_user_id = stall_no_identity,
    .impersonation_account_name = stall_no_identity,
    .impersonation_token = stall_no_token,
};

static const struct guise_plugin_descriptor stall_descriptor = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "stall",
    .package = "Stall (tests)",
    .version = "1.0",
    .description = "Test plug-in: authentication that hangs (a stand-in for a hanging GSSAPI)",
    .properties = stall_properties,
    .init = stall_init,
    .shutdown = stall_shutdown,
    .authn = &stall_ops,
};

const struct guise_plugin_descriptor *guise_plugin_entry(void);
const struct guise_plugin_descriptor *guise_plugin_entry(void)
{
    return &stall_descriptor;
}
