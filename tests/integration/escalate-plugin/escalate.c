/* Test-only plug-in "escalate": plays a compromised guised that tries to
 * become root again (tests/integration/test_privilege.py).
 *
 * A client sends "Authorization: Escalate CALL" or "Escalate worker:CALL";
 * the plug-in makes the raw system call CALL with id 0 on the thread that
 * authenticates (libmicrohttpd's) or on a worker of the pool. The seccomp
 * filter must kill the whole process before the call takes effect. If the
 * call returns instead, the plug-in logs what it got as an ERROR event and
 * denies the request, so the test sees a live server and fails. "harmless"
 * makes only calls the filter allows (an unchanged setresuid, setfsuid to
 * the current fsuid), proving the plug-in runs and is not itself the cause
 * of a death. Never built into guised; loaded with `load =` from the build
 * directory.
 */
#include <guise/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct escalate {
    const struct guise_host_services *host;
};

struct job {
    struct escalate *plugin;
    char call[32];
    guise_auth_done_fn done;
    void *cookie;
};

static guise_result escalate_init(const struct guise_host_services *host, const guise_props *props,
                                  void **out)
{
    struct escalate *e = calloc(1, sizeof *e);
    if (!e)
        return GUISE_E_OUTOFMEMORY;
    e->host = host;
    *out = e;
    return GUISE_S_OK;
}

static void escalate_shutdown(void *plugin)
{
    free(plugin);
}

static guise_result escalate_create_context(void *plugin, void **ctx)
{
    *ctx = plugin;
    return GUISE_S_OK;
}

static void escalate_destroy_context(void *plugin, void *ctx)
{
}

/* Raw system calls: the C library's wrappers of setuid() and friends
 * signal every thread, and the point is the single call. */
static long attempt(const char *call)
{
    if (!strcmp(call, "setuid"))
        return syscall(SYS_setuid, 0);
    if (!strcmp(call, "setgid"))
        return syscall(SYS_setgid, 0);
    if (!strcmp(call, "setresuid"))
        return syscall(SYS_setresuid, -1, 0, -1);
    if (!strcmp(call, "setreuid"))
        return syscall(SYS_setreuid, -1, 0);
    if (!strcmp(call, "setfsuid"))
        return syscall(SYS_setfsuid, 0);
    if (!strcmp(call, "setfsgid"))
        return syscall(SYS_setfsgid, 0);
    if (!strcmp(call, "setfsuid-high"))
        return syscall(SYS_setfsuid, 0x100000000L); /* the kernel reads 0 */
    if (!strcmp(call, "harmless")) {
        long fsuid = syscall(SYS_setfsuid, -1);
        syscall(SYS_setfsuid, fsuid);
        return syscall(SYS_setresuid, -1, -1, -1);
    }
    errno = EINVAL;
    return -2;
}

static void run(struct job *j)
{
    errno = 0;
    long rc = attempt(j->call);
    int err = errno;
    if (strcmp(j->call, "harmless") != 0 || rc != 0)
        j->plugin->host->log_event(j->plugin->host->host, GUISE_EVENT_ERROR, 1, GUISE_E_FAIL,
                                   "escalate: %s(0) returned %ld (errno %d): not stopped", j->call,
                                   rc, err);
    else
        j->plugin->host->log_event(j->plugin->host->host, GUISE_EVENT_INFORMATION, 2, GUISE_S_OK,
                                   "escalate: harmless calls made");
    j->done(GUISE_AUTH_DENIED, GUISE_E_ACCESSDENIED, NULL, j->cookie);
    free(j);
}

static void run_on_worker(void *arg)
{
    run(arg);
}

static guise_result escalate_authenticate(void *plugin, void *ctx,
                                          const struct guise_blob *response,
                                          const struct guise_request_info *req,
                                          guise_auth_done_fn done, void *cookie)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return GUISE_E_OUTOFMEMORY;
    *j = (struct job){.plugin = plugin, .done = done, .cookie = cookie};
    const char *blob = response->data;
    size_t len = response->len;
    bool worker = len > 7 && !memcmp(blob, "worker:", 7);
    if (worker) {
        blob += 7;
        len -= 7;
    }
    if (len == 0 || len >= sizeof j->call) {
        free(j);
        done(GUISE_AUTH_DENIED, GUISE_E_BAD_FORMAT, NULL, cookie);
        return GUISE_S_OK;
    }
    memcpy(j->call, blob, len);
    if (!worker) {
        run(j);
        return GUISE_S_OK;
    }
    guise_result r = j->plugin->host->submit_work(j->plugin->host->host, run_on_worker, j);
    if (r != GUISE_S_OK)
        free(j);
    return r;
}

static guise_result escalate_challenge(void *plugin, const struct guise_request_info *req,
                                       struct guise_challenge_sink *sink)
{
    sink->add(sink, "");
    return GUISE_S_OK;
}

static guise_result escalate_user(void *ctx, const char **out)
{
    *out = "escalate";
    return GUISE_S_OK;
}

static guise_result escalate_account(void *ctx, const char **out)
{
    *out = "nobody";
    return GUISE_S_OK;
}

static guise_result escalate_token(void *ctx, guise_token **out)
{
    *out = NULL;
    return GUISE_E_ACCESSDENIED;
}

static const struct guise_authn_ops escalate_ops = {
    .protocol = "Escalate",
    .flags = GUISE_AUTH_TEXT_CHALLENGE,
    .create_context = escalate_create_context,
    .destroy_context = escalate_destroy_context,
    .authenticate = escalate_authenticate,
    .challenge = escalate_challenge,
    .logical_user_id = escalate_user,
    .impersonation_account_name = escalate_account,
    .impersonation_token = escalate_token,
};

static const struct guise_plugin_descriptor escalate_descriptor = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "escalate",
    .package = "guise tests",
    .version = "1.0",
    .description = "Test only: tries to become root again; the seccomp filter must kill guised",
    .init = escalate_init,
    .shutdown = escalate_shutdown,
    .authn = &escalate_ops,
};

const struct guise_plugin_descriptor *guise_plugin_entry(void);
const struct guise_plugin_descriptor *guise_plugin_entry(void)
{
    return &escalate_descriptor;
}
