/* guise: the plug-in host.
 *
 * The host keeps the registry of plug-in types (built in, or loaded from a
 * shared object), the plug-in instances made from them with their properties,
 * state and last error, and the scopes (the server, each publishing point)
 * that list instances in selection order. It wraps every call into a plug-in
 * so that failures are recorded the way the model asks (event log, last
 * error, diagnostics) and so that a failing plug-in fails closed: an instance
 * in error state is never called again until re-enabled, and every scope that
 * lists it is in the critical-error state (new requests get 503).
 */
#ifndef GUISE_HOST_H
#define GUISE_HOST_H

#include <guise/events.h>
#include <guise/plugin.h>
#include <guise/props.h>
#include <guise/token.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct guise_host guise_host;
typedef struct guise_plugin guise_plugin;
typedef struct guise_scope guise_scope;
typedef struct guise_auth_ctx guise_auth_ctx;
struct guise_workers;

enum guise_plugin_state {
    GUISE_PLUGIN_DISABLED = 0,
    GUISE_PLUGIN_ENABLED = 1,
    GUISE_PLUGIN_ERROR = 2,
};

struct guise_host_options {
    guise_eventlog *log;           /* required */
    guise_token_store *tokens;     /* may be NULL: token lookups then fail */
    struct guise_workers *workers; /* required for plug-ins that submit work */
    const char *realm;             /* default "guise" */
    const char *state_dir;         /* default "/var/lib/guise" */
    bool check_only;               /* `guised -t`: plug-ins write nothing (check_only) */
};

/* Threads. Unless a function says otherwise, the registry functions (types,
 * instantiate, scope_new) are called by the thread that builds a
 * configuration, before requests use the host; the wrapped calls, the
 * authentication contexts and the state functions may be called from any
 * thread, concurrently. */

/* Creates a host. The log, token store and worker pool stay the caller's and
 * must outlive the host; realm and state_dir are copied. */
GUISE_API guise_result guise_host_new(const struct guise_host_options *opt, guise_host **out);
/* Shuts down every instance (waits for its calls in flight, disable, then
 * shutdown) and unloads modules. Authentication contexts must be freed
 * first; the worker pool must still run (completions drain through it). */
GUISE_API void guise_host_free(guise_host *h);
/* The log the host writes to (opt->log). */
GUISE_API guise_eventlog *guise_host_eventlog(guise_host *h);

/* ---- types ---- */
/* Registers a plug-in type (one descriptor; `next` is not followed). Fails
 * with GUISE_E_ABI_MISMATCH when desc->abi_major differs from
 * GUISE_ABI_MAJOR, GUISE_E_INVALIDARG when the descriptor is incomplete or
 * its name is taken. The host keeps a copy of what desc's minor declares;
 * the functions desc points to must stay loaded while the host lives. */
GUISE_API guise_result guise_host_add_type(guise_host *h,
                                           const struct guise_plugin_descriptor *desc);
/* dlopen()s path, finds GUISE_PLUGIN_ENTRY_SYMBOL and registers every
 * descriptor of the chain it returns (all or none). On failure writes a
 * message naming the file (and, for an ABI mismatch, both versions) to err
 * and logs it as an event. The module stays loaded until guise_host_free. */
GUISE_API guise_result guise_host_load_module(guise_host *h, const char *path, char *err,
                                              size_t errsz);
/* The host's copy of a registered type's descriptor, or NULL; valid while
 * the host lives. */
GUISE_API const struct guise_plugin_descriptor *guise_host_find_type(guise_host *h,
                                                                     const char *name);

/* ---- instances ---- */
/* Creates an instance of plug-in type `type` named `name` (NULL: the type's
 * name; per-scope instances are named "type@scope") with props (the host
 * takes ownership of props). init failures are recorded; err gets
 * "file:line: key 'k': why" when the plug-in blamed a property. The instance
 * starts DISABLED. */
GUISE_API guise_result guise_host_instantiate(guise_host *h, const char *type, const char *name,
                                              guise_props *props, guise_plugin **out, char *err,
                                              size_t errsz);
/* The instance named name, or NULL. Instances are owned by the host and live
 * until guise_host_free. Any thread. */
GUISE_API guise_plugin *guise_host_plugin(guise_host *h, const char *name);
/* Instances in the order they were made (for listings). */
GUISE_API size_t guise_host_plugin_count(guise_host *h);
GUISE_API guise_plugin *guise_host_plugin_at(guise_host *h, size_t i);

/* Enables a DISABLED or failed instance: the plug-in's enable runs with no
 * call in flight; a failure is reported (error state, scopes critical).
 * Any thread; serialised with disable and re-enable of the same instance.
 * GUISE_S_OK at once when already enabled. */
GUISE_API guise_result guise_plugin_enable(guise_plugin *p);
/* Disables: new calls are refused at once (GUISE_E_UNEXPECTED, the server
 * chooses again), then the caller waits until the calls in flight have
 * ended, completions included, and the plug-in's disable runs. May block
 * while a plug-in call hangs (a WARNING every 10 s): never call it from a
 * plug-in callback or a worker job of the same instance. */
GUISE_API guise_result guise_plugin_disable(guise_plugin *p);
/* The state right now (it may change at any moment on another thread). */
GUISE_API enum guise_plugin_state guise_plugin_state_of(const guise_plugin *p);
/* "enabled", "disabled", "error". */
GUISE_API const char *guise_plugin_state_name(enum guise_plugin_state s);
/* The host's copy of the instance's descriptor. */
GUISE_API const struct guise_plugin_descriptor *guise_plugin_descriptor_of(const guise_plugin *p);
/* Instance name ("digest", "pp-acl@lectures"). */
GUISE_API const char *guise_plugin_name(const guise_plugin *p);
/* The properties the instance was made with (owned by the instance). */
GUISE_API const guise_props *guise_plugin_props(const guise_plugin *p);
/* Last error: code (GUISE_S_OK when none) and message copied into msg. */
GUISE_API guise_result guise_plugin_last_error(const guise_plugin *p, char *msg, size_t msgsz);
/* Calls into the instance begun and not yet ended (asynchronous calls count
 * until their completion): what a disable waits for. */
GUISE_API unsigned guise_plugin_calls_in_flight(const guise_plugin *p);
/* Records the failure of a plug-in method the way the model asks: unless code
 * is GUISE_E_PLUGIN_ERROR_REPORTED an ERROR event names plug-in, method,
 * code and its name; in every case the last error is set, the instance
 * enters the error state and its scopes become critical. GUISE_E_BUSY and
 * GUISE_E_ABORTED are no failures: nothing is recorded for them. Any
 * thread, also from inside a completion. */
GUISE_API void guise_plugin_report_failure(guise_plugin *p, const char *method, guise_result code);

/* ---- calls into plug-ins (wrapped) ---- */
/* Each is counted as a call in flight and refused with GUISE_E_UNEXPECTED
 * (not reported) when the instance is not ENABLED; a failure the plug-in
 * returns is reported (guise_plugin_report_failure). */

/* The fresh challenges of a 401 into sink (synchronous). */
GUISE_API guise_result guise_plugin_challenge(guise_plugin *p, const struct guise_request_info *req,
                                              struct guise_challenge_sink *sink);
/* Asks an authorization instance; done is called exactly once (from any
 * thread, possibly before this returns) unless this returns a failure. who
 * and req must stay valid until then. */
GUISE_API guise_result guise_plugin_authorize(guise_plugin *p, uint32_t event,
                                              const struct guise_identity *who,
                                              const struct guise_request_info *req,
                                              guise_authz_done_fn done, void *cookie);

/* A new authentication context of instance p (one per client connection,
 * WMS CreateAuthenticationContext), owned by the caller. */
GUISE_API guise_result guise_auth_ctx_new(guise_plugin *p, guise_auth_ctx **out);
/* Lets go of the context (the connection closed). Any thread, also while an
 * authenticate is in flight: its queued jobs are then cancelled (they see
 * work_cancelled and skip their check), its completion is NOT called, and
 * the plug-in's context is destroyed once that authenticate has completed.
 * After this returns the caller's done and cookie are never used. NULL-safe. */
GUISE_API void guise_auth_ctx_free(guise_auth_ctx *c);
/* GetAuthenticationPlugin */
GUISE_API guise_plugin *guise_auth_ctx_authenticator(const guise_auth_ctx *c);
/* Authenticate: one at a time per context (a second one while the first is
 * in flight is refused with GUISE_E_UNEXPECTED). done is called exactly once
 * (from any thread, possibly before this returns) unless this returns a
 * failure or the context is freed first; response and req must stay valid
 * until then. GUISE_E_BUSY (as the result or as the code of a denial): a
 * full worker queue, answer 503. Work the plug-in submits from inside
 * belongs to this context. */
GUISE_API guise_result guise_auth_ctx_authenticate(guise_auth_ctx *c,
                                                   const struct guise_blob *response,
                                                   const struct guise_request_info *req,
                                                   guise_auth_done_fn done, void *cookie);
/* After SUCCESS: the identity strings (owned by the context) and a new token
 * reference. A failing getter is reported like any plug-in failure. */
GUISE_API guise_result guise_auth_ctx_identity(guise_auth_ctx *c, const char **logical_user,
                                               const char **account, guise_token **token);

/* After DENIED: the user name the client claimed, when the plug-in knows it
 * (its logical_user_id answers), else NULL. Never reported as a failure:
 * used to throttle guessing per user. */
GUISE_API const char *guise_auth_ctx_claimed_user(guise_auth_ctx *c);

/* ---- scopes ---- */
/* A scope lists authentication and authorization instances in selection
 * order. The arrays are copied. */
GUISE_API guise_result guise_scope_new(guise_host *h, const char *name, guise_plugin *const *authn,
                                       size_t nauthn, guise_plugin *const *authz, size_t nauthz,
                                       guise_scope **out);
/* Scopes are owned by the host and live until guise_host_free. */
GUISE_API const char *guise_scope_name(const guise_scope *s);
/* True while the scope is in the critical-error state (answer 503). */
GUISE_API bool guise_scope_critical(const guise_scope *s);
/* Clears the critical-error state; instances still in error state are
 * re-enabled first. Fails (and stays critical) when one cannot be enabled. */
GUISE_API guise_result guise_scope_reenable(guise_scope *s);
/* The scope's instances in selection order (the arrays are the scope's). */
GUISE_API size_t guise_scope_authn(const guise_scope *s, guise_plugin *const **list);
GUISE_API size_t guise_scope_authz(const guise_scope *s, guise_plugin *const **list);
/* Scopes in the order they were made. */
GUISE_API size_t guise_host_scope_count(guise_host *h);
GUISE_API guise_scope *guise_host_scope_at(guise_host *h, size_t i);

#ifdef __cplusplus
}
#endif
#endif
