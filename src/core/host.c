/* The plug-in host: instances, their state, wrapped calls, scopes. */
#include "core/host_internal.h"
#include <guise/host_props.h>
#include "core/workers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void call_end(guise_plugin *p);

int guise_ptr_append(void *array_ptr, size_t *n, void *item)
{
    void ***arr = array_ptr;
    void **v = realloc(*arr, (*n + 1) * sizeof *v);
    if (!v)
        return -1;
    v[(*n)++] = item;
    *arr = v;
    return 0;
}

/* ---- calls in flight ---- */

/* Begins a call into p: counted first, then the state is checked, so that a
 * disable that has switched the state either sees this call in the count or
 * this call sees the new state (both sides use sequentially consistent
 * atomics). false: the instance may not be called now. */
static bool call_begin(guise_plugin *p)
{
    atomic_fetch_add(&p->inflight, 1);
    if (atomic_load(&p->state) == GUISE_PLUGIN_ENABLED)
        return true;
    call_end(p);
    return false;
}

/* Counts a call that is allowed in any state (destroy_context). */
static void call_begin_any(guise_plugin *p)
{
    atomic_fetch_add(&p->inflight, 1);
}

/* Ends a call. Once the count reaches zero a draining disable may free or
 * reuse what p points to, so the decrement must be the last touch of p: the
 * fast path ends with it, and while a disable waits the decrement and the
 * wake-up happen under drain_lock, which the waiter holds while it looks at
 * the count. (A call that checked `draining` just before it was set
 * decrements without a wake-up; the waiter polls, see drain_calls.) */
static void call_end(guise_plugin *p)
{
    if (!atomic_load(&p->draining)) {
        atomic_fetch_sub(&p->inflight, 1);
        return;
    }
    pthread_mutex_lock(&p->drain_lock);
    if (atomic_fetch_sub(&p->inflight, 1) == 1)
        pthread_cond_broadcast(&p->drained);
    pthread_mutex_unlock(&p->drain_lock);
}

/* Waits until every call begun on p has ended, completions included. The
 * state no longer admits new calls. Polls every 10 ms besides the wake-up
 * (see call_end), and warns every 10 s while a call hangs, so that an
 * administrator waiting for a disable sees why. */
static void drain_calls(guise_plugin *p)
{
    atomic_store(&p->draining, true);
    pthread_mutex_lock(&p->drain_lock);
    unsigned polls = 0;
    while (atomic_load(&p->inflight) != 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 10 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&p->drained, &p->drain_lock, &until) == ETIMEDOUT &&
            ++polls % 1000 == 0)
            guise_eventlog_write(p->host->log, GUISE_EVENT_WARNING, "server",
                                 GUISE_EV_PLUGIN_DISABLED, GUISE_E_PENDING,
                                 "plug-in '%s': waiting %u s for %u calls in flight to end "
                                 "before disabling it",
                                 p->name, polls / 100, atomic_load(&p->inflight));
    }
    atomic_store(&p->draining, false);
    pthread_mutex_unlock(&p->drain_lock);
}

static void plugin_locks_init(guise_plugin *p)
{
    pthread_mutex_init(&p->err_lock, NULL);
    pthread_mutex_init(&p->drain_lock, NULL);
    pthread_cond_init(&p->drained, NULL);
    pthread_mutex_init(&p->life_lock, NULL);
    atomic_init(&p->inflight, 0);
    atomic_init(&p->draining, false);
}

static void plugin_locks_destroy(guise_plugin *p)
{
    pthread_mutex_destroy(&p->err_lock);
    pthread_mutex_destroy(&p->drain_lock);
    pthread_cond_destroy(&p->drained);
    pthread_mutex_destroy(&p->life_lock);
}

guise_result guise_host_new(const struct guise_host_options *opt, guise_host **out)
{
    if (!opt || !opt->log || !out)
        return GUISE_E_POINTER;
    guise_host *h = calloc(1, sizeof *h);
    if (!h)
        return GUISE_E_OUTOFMEMORY;
    h->log = opt->log;
    h->tokens = opt->tokens;
    h->workers = opt->workers;
    h->check_only = opt->check_only;
    h->realm = strdup(opt->realm ? opt->realm : "guise");
    h->state_dir = strdup(opt->state_dir ? opt->state_dir : "/var/lib/guise");
    if (!h->realm || !h->state_dir) {
        free(h->realm);
        free(h->state_dir);
        free(h);
        return GUISE_E_OUTOFMEMORY;
    }
    pthread_mutex_init(&h->lock, NULL);
    *out = h;
    return GUISE_S_OK;
}

guise_eventlog *guise_host_eventlog(guise_host *h)
{
    return h->log;
}

void guise_host_free(guise_host *h)
{
    if (!h)
        return;
    for (size_t i = h->nplugins; i-- > 0;) {
        guise_plugin *p = h->plugins[i];
        int prev = atomic_exchange(&p->state, GUISE_PLUGIN_DISABLED);
        drain_calls(p);
        if (prev == GUISE_PLUGIN_ENABLED && p->desc->disable)
            p->desc->disable(p->instance);
        if (p->desc->shutdown)
            p->desc->shutdown(p->instance);
        guise_props_free(p->props);
        plugin_locks_destroy(p);
        free(p->name);
        free(p);
    }
    for (size_t i = 0; i < h->nscopes; i++) {
        free(h->scopes[i]->name);
        free(h->scopes[i]->authn);
        free(h->scopes[i]->authz);
        free(h->scopes[i]);
    }
    free(h->scopes);
    free(h->plugins);
    for (size_t i = 0; i < h->ntypes; i++)
        free((void *)h->types[i]);
    free(h->types);
    guise_host_unload_modules(h);
    pthread_mutex_destroy(&h->lock);
    free(h->realm);
    free(h->state_dir);
    free(h);
}

/* ---- types ---- */

const struct guise_plugin_descriptor *guise_host_find_type(guise_host *h, const char *name)
{
    for (size_t i = 0; i < h->ntypes; i++)
        if (strcmp(h->types[i]->name, name) == 0)
            return h->types[i];
    return NULL;
}

guise_result guise_host_add_type(guise_host *h, const struct guise_plugin_descriptor *d)
{
    if (!d)
        return GUISE_E_POINTER;
    if (d->abi_major != GUISE_ABI_MAJOR)
        return GUISE_E_ABI_MISMATCH;
    bool authn_ok = d->kind == GUISE_PLUGIN_AUTHENTICATION && d->authn && d->authn->protocol &&
                    d->authn->create_context && d->authn->destroy_context &&
                    d->authn->authenticate && d->authn->logical_user_id &&
                    d->authn->impersonation_account_name && d->authn->impersonation_token &&
                    (d->authn->challenge || (d->authn->flags & GUISE_AUTH_ANONYMOUS));
    bool authz_ok = d->kind == GUISE_PLUGIN_AUTHORIZATION && d->authz && d->authz->authorize;
    if (!d->name || !d->package || !d->init || (!authn_ok && !authz_ok))
        return GUISE_E_INVALIDARG;
    if (guise_host_find_type(h, d->name))
        return GUISE_E_INVALIDARG;
    /* The host keeps a full-size copy and reads of the module's descriptor
     * only what its minor version declares: a module built for an older
     * minor has a shorter structure, and the members it lacks are zero. */
    struct guise_plugin_descriptor *copy = calloc(1, sizeof *copy);
    if (!copy)
        return GUISE_E_OUTOFMEMORY;
    memcpy(copy, d, d->abi_minor >= 1 ? sizeof *copy : GUISE_DESCRIPTOR_SIZE_MINOR0);
    copy->next = NULL; /* the loader walks the module's chain, not the copy's */
    if (guise_ptr_append(&h->types, &h->ntypes, copy)) {
        free(copy);
        return GUISE_E_OUTOFMEMORY;
    }
    return GUISE_S_OK;
}

/* ---- services given to each instance ---- */

static void set_last_error(guise_plugin *p, guise_result code, const char *msg)
{
    pthread_mutex_lock(&p->err_lock);
    p->last_code = code;
    snprintf(p->last_msg, sizeof p->last_msg, "%s", msg);
    pthread_mutex_unlock(&p->err_lock);
}

/* Fail closed: the instance is never called again and every scope listing it
 * refuses new requests until an administrator re-enables it. */
static void enter_error_state(guise_plugin *p)
{
    int prev = atomic_exchange(&p->state, GUISE_PLUGIN_ERROR);
    guise_host *h = p->host;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->nscopes; i++) {
        guise_scope *s = h->scopes[i];
        bool uses = false;
        for (size_t j = 0; j < s->nauthn; j++)
            uses |= s->authn[j] == p;
        for (size_t j = 0; j < s->nauthz; j++)
            uses |= s->authz[j] == p;
        if (uses && !atomic_exchange(&s->critical, 1))
            guise_eventlog_write(h->log, GUISE_EVENT_ERROR, "server", GUISE_EV_SCOPE_CRITICAL,
                                 p->last_code,
                                 "scope '%s' entered the critical-error state because plug-in "
                                 "'%s' failed; new requests get 503 until re-enabled",
                                 s->name, p->name);
    }
    pthread_mutex_unlock(&h->lock);
    if (prev != GUISE_PLUGIN_ERROR)
        guise_eventlog_write(h->log, GUISE_EVENT_WARNING, "server", GUISE_EV_PLUGIN_DISABLED,
                             p->last_code, "plug-in '%s' disabled after an error", p->name);
}

static void svc_log_event(void *host, enum guise_event_level level, uint32_t event_id,
                          guise_result code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void svc_log_event(void *host, enum guise_event_level level, uint32_t event_id,
                          guise_result code, const char *fmt, ...)
{
    guise_plugin *p = host;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    guise_eventlog_write(p->host->log, level, p->name, event_id, code, "%s", msg);
    if (level == GUISE_EVENT_ERROR) {
        set_last_error(p, code, msg);
        enter_error_state(p);
    }
}

static guise_result svc_submit_work(void *host, guise_work_fn fn, void *arg)
{
    guise_plugin *p = host;
    if (!p->host->workers)
        return GUISE_E_NOT_SUPPORTED;
    return guise_workers_submit(p->host->workers, fn, arg);
}

static guise_result svc_submit_quick_work(void *host, guise_work_fn fn, void *arg)
{
    guise_plugin *p = host;
    if (!p->host->workers)
        return GUISE_E_NOT_SUPPORTED;
    return guise_workers_submit_to(p->host->workers, GUISE_LANE_QUICK, fn, arg,
                                   guise_work_owner_current());
}

static bool svc_work_cancelled(void *host)
{
    (void)host;
    return guise_work_owner_cancelled(guise_work_owner_current());
}

/* Only an anonymous authentication plug-in may reach the guest account
 * below the min-uid/min-gid minimums (the token store's guests): a Digest
 * or Basic user mapped to the guest's low-uid account stays refused. */
static bool is_anonymous(const guise_plugin *p)
{
    return p->desc->authn && (p->desc->authn->flags & GUISE_AUTH_ANONYMOUS);
}

static guise_result svc_token_for_account(void *host, const char *account, guise_token **out)
{
    guise_plugin *p = host;
    if (!p->host->tokens)
        return GUISE_E_NOT_SUPPORTED;
    if (is_anonymous(p))
        return guise_token_for_guest(p->host->tokens, account, out);
    return guise_token_for_account(p->host->tokens, account, out);
}

static guise_result svc_try_token_for_account(void *host, const char *account, guise_token **out)
{
    guise_plugin *p = host;
    if (!p->host->tokens)
        return GUISE_E_NOT_SUPPORTED;
    if (is_anonymous(p))
        return guise_token_store_lookup_cached_guest(p->host->tokens, account, out);
    return guise_token_store_lookup_cached(p->host->tokens, account, out);
}

static const char *svc_realm(void *host)
{
    return ((guise_plugin *)host)->host->realm;
}

static const char *svc_state_dir(void *host)
{
    return ((guise_plugin *)host)->host->state_dir;
}

static bool svc_check_only(void *host)
{
    return ((guise_plugin *)host)->host->check_only;
}

/* ---- instances ---- */

guise_result guise_host_instantiate(guise_host *h, const char *type, const char *name,
                                    guise_props *props, guise_plugin **out, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    if (!name)
        name = type;
    const struct guise_plugin_descriptor *d = guise_host_find_type(h, type);
    if (!d) {
        if (err)
            snprintf(err, errsz, "unknown plug-in '%s'", type);
        guise_props_free(props);
        return GUISE_E_NOT_FOUND;
    }
    if (guise_host_plugin(h, name)) {
        if (err)
            snprintf(err, errsz, "plug-in '%s' is already configured", name);
        guise_props_free(props);
        return GUISE_E_INVALIDARG;
    }
    if (!props && !(props = guise_props_new(NULL)))
        return GUISE_E_OUTOFMEMORY;
    /* Unknown keys are configuration errors: name the key and its line. */
    for (size_t i = 0; i < guise_props_size(props); i++) {
        const char *k, *v;
        int line;
        guise_props_entry(props, i, &k, &v, &line);
        bool known = false, repeatable = false;
        for (const struct guise_property_spec *s = d->properties; s && s->name; s++)
            if (strcmp(s->name, k) == 0) {
                known = true;
                repeatable = s->flags & GUISE_PROP_REPEATABLE;
            }
        guise_result r = GUISE_S_OK;
        if (!known)
            r = guise_props_fail(props, k, "unknown property of plug-in '%s'", name);
        else if (!repeatable && guise_props_count(props, k) > 1)
            r = guise_props_fail(props, k, "given more than once");
        if (r != GUISE_S_OK) {
            if (err)
                snprintf(err, errsz, "%s", guise_props_error(props));
            guise_props_free(props);
            return r;
        }
    }
    guise_plugin *p = calloc(1, sizeof *p);
    if (!p) {
        guise_props_free(props);
        return GUISE_E_OUTOFMEMORY;
    }
    p->host = h;
    p->desc = d;
    if (!(p->name = strdup(name))) {
        guise_props_free(props);
        free(p);
        return GUISE_E_OUTOFMEMORY;
    }
    p->props = props;
    plugin_locks_init(p);
    atomic_init(&p->state, GUISE_PLUGIN_DISABLED);
    p->services = (struct guise_host_services){
        .abi_major = GUISE_ABI_MAJOR,
        .abi_minor = GUISE_ABI_MINOR,
        .host = p,
        .log_event = svc_log_event,
        .submit_work = svc_submit_work,
        .token_for_account = svc_token_for_account,
        .try_token_for_account = svc_try_token_for_account,
        .realm = svc_realm,
        .state_dir = svc_state_dir,
        .submit_quick_work = svc_submit_quick_work,
        .work_cancelled = svc_work_cancelled,
        .props_get = guise_props_get,
        .props_count = guise_props_count,
        .props_at = guise_props_at,
        .props_fail = guise_props_fail,
        .props_uint = guise_props_uint,
        .props_bool = guise_props_bool,
        .token_ref = guise_token_ref,
        .token_unref = guise_token_unref,
        .token_name = guise_token_name,
        .token_uid = guise_token_uid,
        .token_gid = guise_token_gid,
        .token_groups = guise_token_groups,
        .result_name = guise_result_name,
        .check_only = svc_check_only,
    };
    guise_result r = d->init(&p->services, props, &p->instance);
    if (r != GUISE_S_OK) {
        const char *why = guise_props_error(props);
        if (err)
            snprintf(err, errsz, "%s", why[0] ? why : "");
        if (err && !why[0])
            snprintf(err, errsz, "plug-in '%s' failed to initialise: %s", name,
                     guise_result_name(r));
        if (r != GUISE_E_PLUGIN_ERROR_REPORTED)
            guise_eventlog_write(h->log, GUISE_EVENT_ERROR, name, GUISE_EV_PLUGIN_METHOD_FAILED, r,
                                 "plug-in '%s' method init failed with %s%s%s", name,
                                 guise_result_name(r), why[0] ? ": " : "", why);
        guise_props_free(props);
        plugin_locks_destroy(p);
        free(p->name);
        free(p);
        return r;
    }
    pthread_mutex_lock(&h->lock);
    int rc = guise_ptr_append(&h->plugins, &h->nplugins, p);
    pthread_mutex_unlock(&h->lock);
    if (rc) {
        if (d->shutdown)
            d->shutdown(p->instance);
        guise_props_free(props);
        plugin_locks_destroy(p);
        free(p->name);
        free(p);
        return GUISE_E_OUTOFMEMORY;
    }
    if (out)
        *out = p;
    return GUISE_S_OK;
}

guise_plugin *guise_host_plugin(guise_host *h, const char *name)
{
    guise_plugin *found = NULL;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->nplugins && !found; i++)
        if (strcmp(h->plugins[i]->name, name) == 0)
            found = h->plugins[i];
    pthread_mutex_unlock(&h->lock);
    return found;
}

size_t guise_host_plugin_count(guise_host *h)
{
    return h->nplugins;
}

guise_plugin *guise_host_plugin_at(guise_host *h, size_t i)
{
    return i < h->nplugins ? h->plugins[i] : NULL;
}

void guise_plugin_report_failure(guise_plugin *p, const char *method, guise_result code)
{
    /* A temporary refusal (a full worker queue) is load, not a broken
     * plug-in: the request gets 503, the plug-in stays enabled. Work
     * cancelled because its client went away is no failure either. */
    if (code == GUISE_E_BUSY || code == GUISE_E_ABORTED)
        return;
    char msg[512];
    snprintf(msg, sizeof msg, "plug-in '%s' method %s failed with %s (0x%08X)", p->name, method,
             guise_result_name(code), (unsigned)code);
    if (code != GUISE_E_PLUGIN_ERROR_REPORTED) {
        guise_eventlog_write(p->host->log, GUISE_EVENT_ERROR, p->name,
                             GUISE_EV_PLUGIN_METHOD_FAILED, code, "%s", msg);
        set_last_error(p, code, msg);
    } else {
        /* The object model shows the code the method returned, with the
         * message of the plug-in's own ERROR event when it wrote one. */
        pthread_mutex_lock(&p->err_lock);
        p->last_code = code;
        if (!p->last_msg[0])
            snprintf(p->last_msg, sizeof p->last_msg, "%s", msg);
        pthread_mutex_unlock(&p->err_lock);
    }
    enter_error_state(p);
}

/* Runs the plug-in's enable; the caller holds life_lock and the state is
 * not ENABLED, so no call is in flight. */
static guise_result enable_locked(guise_plugin *p)
{
    if (p->desc->enable) {
        guise_result r = p->desc->enable(p->instance);
        if (r != GUISE_S_OK) {
            guise_plugin_report_failure(p, "enable", r);
            return r;
        }
    }
    atomic_store(&p->state, GUISE_PLUGIN_ENABLED);
    return GUISE_S_OK;
}

guise_result guise_plugin_enable(guise_plugin *p)
{
    pthread_mutex_lock(&p->life_lock);
    guise_result r = GUISE_S_OK;
    if (atomic_load(&p->state) != GUISE_PLUGIN_ENABLED) {
        /* From the error state, calls begun before the error may still
         * run: enable never overlaps them. */
        drain_calls(p);
        r = enable_locked(p);
    }
    pthread_mutex_unlock(&p->life_lock);
    return r;
}

guise_result guise_plugin_disable(guise_plugin *p)
{
    pthread_mutex_lock(&p->life_lock);
    /* No new call from here on; the plug-in's disable runs only when the
     * calls that began before have ended, completions included. */
    int prev = atomic_exchange(&p->state, GUISE_PLUGIN_DISABLED);
    guise_result r = GUISE_S_OK;
    if (prev != GUISE_PLUGIN_DISABLED) {
        drain_calls(p);
        if (p->desc->disable)
            r = p->desc->disable(p->instance);
    }
    pthread_mutex_unlock(&p->life_lock);
    if (r != GUISE_S_OK)
        guise_plugin_report_failure(p, "disable", r);
    return r;
}

enum guise_plugin_state guise_plugin_state_of(const guise_plugin *p)
{
    return (enum guise_plugin_state)atomic_load(&((guise_plugin *)p)->state);
}

const char *guise_plugin_state_name(enum guise_plugin_state s)
{
    switch (s) {
    case GUISE_PLUGIN_ENABLED:
        return "enabled";
    case GUISE_PLUGIN_DISABLED:
        return "disabled";
    case GUISE_PLUGIN_ERROR:
        return "error";
    }
    return "unknown";
}

const struct guise_plugin_descriptor *guise_plugin_descriptor_of(const guise_plugin *p)
{
    return p->desc;
}

const char *guise_plugin_name(const guise_plugin *p)
{
    return p->name;
}

const guise_props *guise_plugin_props(const guise_plugin *p)
{
    return p->props;
}

guise_result guise_plugin_last_error(const guise_plugin *cp, char *msg, size_t msgsz)
{
    guise_plugin *p = (guise_plugin *)cp;
    pthread_mutex_lock(&p->err_lock);
    guise_result code = p->last_code;
    if (msg && msgsz)
        snprintf(msg, msgsz, "%s", p->last_msg);
    pthread_mutex_unlock(&p->err_lock);
    return code;
}

unsigned guise_plugin_calls_in_flight(const guise_plugin *p)
{
    return atomic_load(&((guise_plugin *)p)->inflight);
}

guise_result guise_plugin_challenge(guise_plugin *p, const struct guise_request_info *req,
                                    struct guise_challenge_sink *sink)
{
    if (!p->desc->authn || !p->desc->authn->challenge || !call_begin(p))
        return GUISE_E_UNEXPECTED;
    guise_result r = p->desc->authn->challenge(p->instance, req, sink);
    call_end(p);
    if (r != GUISE_S_OK)
        guise_plugin_report_failure(p, "challenge", r);
    return r;
}

/* An authorization in flight: the caller's completion, called through the
 * host so that the call ends when the plug-in completes. */
struct authz_call {
    guise_plugin *plugin;
    guise_authz_done_fn done;
    void *cookie;
};

static void authz_complete(enum guise_authz_decision decision, guise_result code, void *cookie)
{
    struct authz_call *call = cookie;
    guise_plugin *p = call->plugin;
    guise_authz_done_fn done = call->done;
    void *caller_cookie = call->cookie;
    free(call);
    done(decision, code, caller_cookie);
    call_end(p);
}

guise_result guise_plugin_authorize(guise_plugin *p, uint32_t event,
                                    const struct guise_identity *who,
                                    const struct guise_request_info *req, guise_authz_done_fn done,
                                    void *cookie)
{
    if (!p->desc->authz)
        return GUISE_E_UNEXPECTED;
    struct authz_call *call = malloc(sizeof *call);
    if (!call)
        return GUISE_E_OUTOFMEMORY;
    if (!call_begin(p)) {
        free(call);
        return GUISE_E_UNEXPECTED;
    }
    *call = (struct authz_call){p, done, cookie};
    guise_result r = p->desc->authz->authorize(p->instance, event, who, req, authz_complete, call);
    if (r != GUISE_S_OK) {
        free(call); /* done will not be called */
        call_end(p);
        guise_plugin_report_failure(p, "authorize", r);
    }
    return r;
}

/* ---- authentication contexts ---- */

/* The handle the server holds, and the host's record of the plug-in's
 * context. refs: one for the server's handle until guise_auth_ctx_free, one
 * while an authenticate is in flight. The plug-in's context is destroyed
 * when both are gone, so that a job still running on a worker never sees it
 * freed; the server's completion is not called after the server freed the
 * handle. */
struct guise_auth_ctx {
    guise_plugin *plugin;
    void *ctx;
    guise_work_owner *owner; /* the jobs submitted for this context */
    pthread_mutex_t lock;
    unsigned refs;
    bool freed; /* the server let go of the handle */
    guise_auth_done_fn done;
    void *cookie;
};

guise_result guise_auth_ctx_new(guise_plugin *p, guise_auth_ctx **out)
{
    if (!p->desc->authn)
        return GUISE_E_UNEXPECTED;
    guise_auth_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return GUISE_E_OUTOFMEMORY;
    if (!(c->owner = guise_work_owner_new())) {
        free(c);
        return GUISE_E_OUTOFMEMORY;
    }
    if (!call_begin(p)) {
        guise_work_owner_unref(c->owner);
        free(c);
        return GUISE_E_UNEXPECTED;
    }
    c->plugin = p;
    c->refs = 1;
    pthread_mutex_init(&c->lock, NULL);
    guise_result r = p->desc->authn->create_context(p->instance, &c->ctx);
    call_end(p);
    if (r != GUISE_S_OK) {
        guise_plugin_report_failure(p, "create_context", r);
        pthread_mutex_destroy(&c->lock);
        guise_work_owner_unref(c->owner);
        free(c);
        return r;
    }
    *out = c;
    return GUISE_S_OK;
}

/* Drops one reference; the last destroys the plug-in's context. */
static void ctx_unref(guise_auth_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (!last)
        return;
    guise_plugin *p = c->plugin;
    /* Allowed in any state (plugin.h); counted so that shutdown waits. */
    call_begin_any(p);
    p->desc->authn->destroy_context(p->instance, c->ctx);
    call_end(p);
    guise_work_owner_unref(c->owner);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void guise_auth_ctx_free(guise_auth_ctx *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->freed = true;
    pthread_mutex_unlock(&c->lock);
    /* Queued jobs of this context are now unwanted: they complete without
     * doing their costly part, and nobody is told. */
    guise_work_owner_cancel(c->owner);
    ctx_unref(c);
}

guise_plugin *guise_auth_ctx_authenticator(const guise_auth_ctx *c)
{
    return c->plugin;
}

/* The plug-in's completion of an authenticate, whatever thread it comes on.
 * The caller's completion is called unless the caller freed the handle
 * meanwhile; the call ends after it. */
static void auth_complete(enum guise_auth_status status, guise_result code,
                          const struct guise_blob *challenge, void *cookie)
{
    guise_auth_ctx *c = cookie;
    guise_plugin *p = c->plugin;
    pthread_mutex_lock(&c->lock);
    guise_auth_done_fn done = c->done;
    void *caller_cookie = c->cookie;
    bool wanted = !c->freed;
    c->done = NULL;
    pthread_mutex_unlock(&c->lock);
    /* The call has ended for the context before the caller hears of it: the
     * caller may authenticate again, or free the handle, from its
     * completion. The plug-in instance stays counted until we return. */
    call_begin_any(p);
    ctx_unref(c);
    if (wanted && done)
        done(status, code, challenge, caller_cookie);
    call_end(p);
    call_end(p);
}

guise_result guise_auth_ctx_authenticate(guise_auth_ctx *c, const struct guise_blob *response,
                                         const struct guise_request_info *req,
                                         guise_auth_done_fn done, void *cookie)
{
    guise_plugin *p = c->plugin;
    pthread_mutex_lock(&c->lock);
    if (c->done || c->freed) {
        /* One authentication at a time per context. */
        pthread_mutex_unlock(&c->lock);
        return GUISE_E_UNEXPECTED;
    }
    if (!call_begin(p)) {
        pthread_mutex_unlock(&c->lock);
        return GUISE_E_UNEXPECTED;
    }
    c->done = done;
    c->cookie = cookie;
    c->refs++;
    pthread_mutex_unlock(&c->lock);
    static const struct guise_blob empty = {"", 0};
    /* Work the plug-in submits from here belongs to this context. */
    guise_work_owner *prev = guise_work_owner_set_current(c->owner);
    guise_result r = p->desc->authn->authenticate(p->instance, c->ctx, response ? response : &empty,
                                                  req, auth_complete, c);
    guise_work_owner_set_current(prev);
    if (r != GUISE_S_OK) {
        /* done will not be called: end the call here. */
        pthread_mutex_lock(&c->lock);
        c->done = NULL;
        pthread_mutex_unlock(&c->lock);
        ctx_unref(c);
        call_end(p);
        guise_plugin_report_failure(p, "authenticate", r);
    }
    return r;
}

guise_result guise_auth_ctx_identity(guise_auth_ctx *c, const char **logical_user,
                                     const char **account, guise_token **token)
{
    const struct guise_authn_ops *a = c->plugin->desc->authn;
    guise_result r = a->logical_user_id(c->ctx, logical_user);
    const char *method = "logical_user_id";
    if (r == GUISE_S_OK) {
        method = "impersonation_account_name";
        r = a->impersonation_account_name(c->ctx, account);
    }
    if (r == GUISE_S_OK) {
        method = "impersonation_token";
        r = a->impersonation_token(c->ctx, token);
    }
    if (r != GUISE_S_OK)
        guise_plugin_report_failure(c->plugin, method, r);
    return r;
}

const char *guise_auth_ctx_claimed_user(guise_auth_ctx *c)
{
    const char *user = NULL;
    if (c->plugin->desc->authn->logical_user_id(c->ctx, &user) != GUISE_S_OK)
        return NULL;
    return user && *user ? user : NULL;
}

/* ---- scopes ---- */

guise_result guise_scope_new(guise_host *h, const char *name, guise_plugin *const *authn,
                             size_t nauthn, guise_plugin *const *authz, size_t nauthz,
                             guise_scope **out)
{
    guise_scope *s = calloc(1, sizeof *s);
    if (!s)
        return GUISE_E_OUTOFMEMORY;
    s->host = h;
    s->name = strdup(name);
    s->authn = calloc(nauthn + 1, sizeof *s->authn);
    s->authz = calloc(nauthz + 1, sizeof *s->authz);
    if (!s->name || !s->authn || !s->authz)
        goto oom;
    if (nauthn)
        memcpy(s->authn, authn, nauthn * sizeof *authn);
    if (nauthz)
        memcpy(s->authz, authz, nauthz * sizeof *authz);
    s->nauthn = nauthn;
    s->nauthz = nauthz;
    /* A scope listing an instance already in error starts critical. */
    for (size_t i = 0; i < nauthn; i++)
        if (guise_plugin_state_of(authn[i]) == GUISE_PLUGIN_ERROR)
            atomic_store(&s->critical, 1);
    for (size_t i = 0; i < nauthz; i++)
        if (guise_plugin_state_of(authz[i]) == GUISE_PLUGIN_ERROR)
            atomic_store(&s->critical, 1);
    pthread_mutex_lock(&h->lock);
    int rc = guise_ptr_append(&h->scopes, &h->nscopes, s);
    pthread_mutex_unlock(&h->lock);
    if (rc)
        goto oom;
    if (atomic_load(&s->critical))
        guise_eventlog_write(h->log, GUISE_EVENT_ERROR, "server", GUISE_EV_SCOPE_CRITICAL,
                             GUISE_E_UNEXPECTED,
                             "scope '%s' starts in the critical-error state: one of its plug-ins "
                             "is in error; new requests get 503 until re-enabled",
                             s->name);
    *out = s;
    return GUISE_S_OK;
oom:
    free(s->name);
    free(s->authn);
    free(s->authz);
    free(s);
    return GUISE_E_OUTOFMEMORY;
}

const char *guise_scope_name(const guise_scope *s)
{
    return s->name;
}

bool guise_scope_critical(const guise_scope *s)
{
    return atomic_load(&((guise_scope *)s)->critical) != 0;
}

guise_result guise_scope_reenable(guise_scope *s)
{
    guise_plugin *const *lists[2] = {s->authn, s->authz};
    size_t counts[2] = {s->nauthn, s->nauthz};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            guise_plugin *p = lists[l][i];
            if (guise_plugin_state_of(p) != GUISE_PLUGIN_ERROR)
                continue;
            /* Give the instance a clean start: release, then acquire again,
             * once the calls begun before the error have ended. */
            pthread_mutex_lock(&p->life_lock);
            guise_result r = GUISE_S_OK;
            if (guise_plugin_state_of(p) == GUISE_PLUGIN_ERROR) {
                drain_calls(p);
                if (p->desc->disable)
                    p->desc->disable(p->instance);
                atomic_store(&p->state, GUISE_PLUGIN_DISABLED);
                r = enable_locked(p);
            }
            pthread_mutex_unlock(&p->life_lock);
            if (r != GUISE_S_OK)
                return r;
        }
    atomic_store(&s->critical, 0);
    guise_eventlog_write(s->host->log, GUISE_EVENT_INFORMATION, "server", GUISE_EV_SCOPE_REENABLED,
                         GUISE_S_OK, "scope '%s' re-enabled", s->name);
    return GUISE_S_OK;
}

size_t guise_scope_authn(const guise_scope *s, guise_plugin *const **list)
{
    *list = s->authn;
    return s->nauthn;
}

size_t guise_scope_authz(const guise_scope *s, guise_plugin *const **list)
{
    *list = s->authz;
    return s->nauthz;
}

size_t guise_host_scope_count(guise_host *h)
{
    return h->nscopes;
}

guise_scope *guise_host_scope_at(guise_host *h, size_t i)
{
    return i < h->nscopes ? h->scopes[i] : NULL;
}
