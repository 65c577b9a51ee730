/* guise: the plug-in ABI.
 *
 * This is the Linux, C rendering of the Windows Media Services plug-in model
 * (IWMSAuthenticationPlugin, IWMSAuthenticationContext,
 * IWMSEventAuthorizationPlugin, IWMSEventLog). docs/PLUGINS.md maps every WMS
 * method onto the members below.
 *
 * A plug-in is described by one struct guise_plugin_descriptor. Built-in
 * plug-ins are linked into guised; loadable ones are shared objects that
 * export one symbol, GUISE_PLUGIN_ENTRY_SYMBOL, a function returning the
 * descriptor. The host refuses a descriptor whose abi_major differs from its
 * own GUISE_ABI_MAJOR; minor versions only ever append members at the end of
 * the structures, so a newer host accepts an older minor.
 *
 * Calls in flight (the host's rule, so that no plug-in needs its own).
 * The host counts every call into an instance from its start until it ends:
 * a synchronous method when it returns, authenticate and authorize when the
 * plug-in has called their completion (or returned a failure, which means no
 * completion). disable is called only when the instance is no longer
 * ENABLED (no new call begins) and every call begun before has ended,
 * completions included; enable is called only when no call is in flight.
 * enable, disable and shutdown never run concurrently with each other, nor
 * with authenticate, authorize, challenge or create_context. So disable may
 * free what enable acquired without locks or reference counts. Exceptions:
 * destroy_context and the identity getters (logical_user_id,
 * impersonation_account_name, impersonation_token) are context methods: the
 * host may call them in any state, also while disable runs, and they must
 * touch only the context. Work a plug-in submits runs inside the call that
 * submitted it (the call ends with the completion), so a job may use what
 * enable acquired until it calls the completion, and not after.
 *
 * Threading. Every call may come from any thread. Asynchronous methods take a
 * completion callback and a cookie; the plug-in calls the callback exactly
 * once, either before the method returns or later from any thread, and passes
 * the cookie back unaltered. A plug-in must never block the calling thread on
 * the network, PAM, GSSAPI or NSS: it hands such work to the host's worker
 * pool (guise_host_services.submit_work).
 *
 * Errors. A method returns GUISE_S_OK or a failure. For any failure other than
 * GUISE_E_PLUGIN_ERROR_REPORTED the host logs it (event log, the plug-in's
 * last error, the diagnostics list). A plug-in that logs an ERROR event is
 * disabled by the host, and the scopes that use it enter the critical-error
 * state (503) until an administrator re-enables them: guise fails closed.
 */
#ifndef GUISE_PLUGIN_H
#define GUISE_PLUGIN_H

#include <guise/result.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GUISE_ABI_MAJOR 1
#define GUISE_ABI_MINOR 2

/* Loadable plug-ins export this symbol, a guise_plugin_entry_fn:
 *   const struct guise_plugin_descriptor *guise_plugin_entry(void);
 * The descriptor starts with the ABI version it was built for, so the host can
 * refuse a mismatch and name both versions in its message. */
#define GUISE_PLUGIN_ENTRY_SYMBOL "guise_plugin_entry"
typedef const struct guise_plugin_descriptor *(*guise_plugin_entry_fn)(void);

/* An impersonation token: an immutable, reference-counted handle to one OS
 * account (name, uid, gid, groups), owned by the host. A plug-in holds
 * references only through the services' token_ref and token_unref. */
typedef struct guise_token guise_token;

/* ---- properties --------------------------------------------------------- */

/* The key=value pairs of a [plugin "name"] section, with where each came from.
 * Read-only for the plug-in. */
typedef struct guise_props guise_props;

/* Plug-ins read it through the accessors of guise_host_services (props_get,
 * props_count, props_at, props_fail, props_uint, props_bool), never by
 * link-time symbols: a loadable plug-in links no guise library. */

/* Property declaration: the host refuses unknown keys in the config. */
#define GUISE_PROP_SECRET     0x1u /* redacted by the admin API */
#define GUISE_PROP_REPEATABLE 0x2u /* may appear several times */
struct guise_property_spec {
    const char *name;
    uint32_t flags;
    const char *help;
};

/* ---- events -------------------------------------------------------------- */

enum guise_event_level {
    GUISE_EVENT_ERROR = 1,
    GUISE_EVENT_WARNING = 2,
    GUISE_EVENT_INFORMATION = 3,
};

/* ---- request information -------------------------------------------------- */

/* What a plug-in may know about the request being authenticated or authorized
 * (WMS: the user, presentation and command contexts). Valid until the
 * completion callback has been called. */
struct guise_request_info {
    const char *method;    /* "GET", "HEAD", ... */
    const char *uri;       /* request-target as sent (for Digest's uri check) */
    const char *path;      /* normalised path inside the publishing point, "" for its root */
    const char *point;     /* publishing point name, NULL for the server root */
    const char *client_ip; /* textual address of the peer */
    const struct sockaddr *client_addr;
    socklen_t client_addrlen;
    int secure;       /* 1 over TLS */
    const void *body; /* request body when the server buffered it (auth-int), else NULL */
    size_t body_len;
    /* Value of a request header, NULL when absent. */
    const char *(*header)(const struct guise_request_info *req, const char *name);
    /* Adds a response header (Authentication-Info, ...) to the response that
     * ends this request, whatever its status. */
    void (*add_response_header)(const struct guise_request_info *req, const char *name,
                                const char *value);
    /* Opens the requested content with token's rights (see guise_open_as);
     * the host keeps the descriptor for serving, so a plug-in that decides by
     * opening (fs-acl) costs no second open. Returns GUISE_S_OK or an errno
     * result (EACCES, ENOENT, ...). */
    guise_result (*open_content)(const struct guise_request_info *req, const guise_token *token);
    void *host_data; /* private to the host */
};

/* ---- identities ------------------------------------------------------------ */

/* Who a request runs as after authentication: what authorization plug-ins see. */
struct guise_identity {
    const char *logical_user; /* for logs and ACLs: "anonymous", "alice", "alice@REALM" */
    const char *account;      /* impersonated account name */
    const guise_token *token; /* its token (may be NULL when impersonation is off) */
    int anonymous;            /* 1 when authenticated by an ANONYMOUS plug-in */
    const char *scheme;       /* protocol of the authenticating plug-in */
};

/* ---- host services ---------------------------------------------------------- */

typedef void (*guise_work_fn)(void *arg);

/* What the host gives each plug-in at init. One instance per plug-in: calls
 * through it are attributed to that plug-in. Valid until shutdown returns. */
struct guise_host_services {
    uint32_t abi_major, abi_minor;
    void *host; /* pass back as the first argument */
    /* IWMSEventLog: level, event id (plug-in defined), result code, message. */
    void (*log_event)(void *host, enum guise_event_level level, uint32_t event_id,
                      guise_result code, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
    /* Runs fn(arg) on the worker pool's slow lane (blocking work: PAM,
     * GSSAPI, crypt). Fails with GUISE_E_BUSY when the queue is full: pass
     * that on (as the result of authenticate, or as the code of a denial),
     * never as a failure. Work submitted from inside authenticate, or from
     * a job, belongs to the same authentication context (see
     * work_cancelled). */
    guise_result (*submit_work)(void *host, guise_work_fn fn, void *arg);
    /* Resolves an account (user first, then group) to a token under the
     * server's min-uid policy. May block on NSS: call from a worker. */
    guise_result (*token_for_account)(void *host, const char *account, guise_token **out);
    /* The same without blocking: GUISE_S_OK with a cached token, or
     * GUISE_E_PENDING when only a blocking lookup could answer (then call
     * token_for_account from a worker). Other failures are final. */
    guise_result (*try_token_for_account)(void *host, const char *account, guise_token **out);
    /* Name of the server realm (for challenges), never NULL. */
    const char *(*realm)(void *host);
    /* Directory for the plug-in's state files (nonce keys, caches). */
    const char *(*state_dir)(void *host);

    /* ABI 1.1 (abi_minor >= 1; check before use). */

    /* Like submit_work, on the quick lane: threads of their own for short
     * jobs (an NSS token look-up), so that these never wait behind slow
     * password checks. GUISE_E_BUSY when its queue is full. */
    guise_result (*submit_quick_work)(void *host, guise_work_fn fn, void *arg);
    /* From a job: true when nobody waits for its result any more (the
     * server freed the authentication context the job was submitted for,
     * because the client went away). The job should then skip its costly
     * part (the password check) and complete at once, with GUISE_AUTH_DENIED
     * and GUISE_E_ABORTED; the host drops that completion. False outside a
     * job, and for jobs of no context. */
    bool (*work_cancelled)(void *host);

    /* Properties (the set init received; valid until shutdown returns).
     * Any thread. props_get: the last value of key, or NULL. props_count
     * and props_at: the values of a repeatable key. props_fail records a
     * configuration error on key ("file:line: key 'k': message") that the
     * host prints when init fails, and returns GUISE_E_INVALIDARG:
     *   return host->props_fail(props, "mode", "unknown mode '%s'", v);
     * props_uint and props_bool parse the last value of key, or use dflt
     * when absent; a bad value is reported with props_fail and answers
     * GUISE_E_INVALIDARG. */
    const char *(*props_get)(const guise_props *props, const char *key);
    size_t (*props_count)(const guise_props *props, const char *key);
    const char *(*props_at)(const guise_props *props, const char *key, size_t i);
    guise_result (*props_fail)(const guise_props *props, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    guise_result (*props_uint)(const guise_props *props, const char *key, unsigned long dflt,
                               unsigned long min, unsigned long max, unsigned long *out);
    guise_result (*props_bool)(const guise_props *props, const char *key, bool dflt, bool *out);

    /* Tokens. Any thread; NULL-safe. token_ref adds a reference and returns
     * token (what impersonation_token hands out); token_unref drops one.
     * The getters read the immutable account: name, uid, primary gid, and
     * the supplementary groups (including the primary gid; the array lives
     * as long as the token). */
    guise_token *(*token_ref)(guise_token *token);
    void (*token_unref)(guise_token *token);
    const char *(*token_name)(const guise_token *token);
    uid_t (*token_uid)(const guise_token *token);
    gid_t (*token_gid)(const guise_token *token);
    size_t (*token_groups)(const guise_token *token, const gid_t **groups);

    /* The symbolic name of a result code, for messages (see
     * guise_result_name in result.h). Never NULL. */
    const char *(*result_name)(guise_result code);

    /* ABI 1.2 (abi_minor >= 2; check before use). */

    /* True while the host only checks the configuration (`guised -t`):
     * enable must then check what it would create (a key file, a cache)
     * without creating or changing any file, and fail as it would have. */
    bool (*check_only)(void *host);
};

/* ---- authentication --------------------------------------------------------- */

#define GUISE_AUTH_TEXT_CHALLENGE                                                                  \
    0x1u /* blobs are text (Digest); otherwise binary, base64 on the wire */
#define GUISE_AUTH_CLIENT_SHOWS_UI 0x2u /* the client must prompt for user/password */
#define GUISE_AUTH_ANONYMOUS       0x4u /* needs no credentials */
#define GUISE_AUTH_CHALLENGE_FIRST 0x8u /* the server speaks first with a challenge */
/* guise extension: the identity belongs to the connection (NTLM, Negotiate:
 * IIS-style connection authentication). Later requests on the same
 * connection without credentials keep it. Per-request schemes (Basic,
 * Digest) must not set it: a proxy may reuse one connection for many
 * clients, and a request without credentials must never run as the last
 * user of the connection. */
#define GUISE_AUTH_CONNECTION_ORIENTED 0x10u

enum guise_auth_status {
    GUISE_AUTH_SUCCESS = 0,  /* the context now stands for an identity */
    GUISE_AUTH_DENIED = 1,   /* wrong credentials; code GUISE_E_BAD_FORMAT: malformed (400);
                                code GUISE_E_CONTEXT_EXPIRED: stale, retry (not a failure) */
    GUISE_AUTH_CONTINUE = 2, /* send the challenge blob to the client, expect another leg */
    GUISE_AUTH_ERROR = 3,    /* the plug-in failed: code says why */
};

/* A blob: what follows the scheme name in Authorization / WWW-Authenticate.
 * Text plug-ins see and produce it as sent; for binary plug-ins the host
 * base64-decodes the client's blob and base64-encodes the challenge. */
struct guise_blob {
    const void *data;
    size_t len;
};

/* OnAuthenticateComplete. challenge: for CONTINUE, the blob to send; for
 * SUCCESS, an optional final blob (Negotiate's mutual authentication token);
 * for DENIED, an optional replacement of this plug-in's fresh challenge (a
 * Digest stale=true challenge). The host copies it before returning. */
typedef void (*guise_auth_done_fn)(enum guise_auth_status status, guise_result code,
                                   const struct guise_blob *challenge, void *cookie);

/* Receives the challenges of a 401: params is what follows the scheme name
 * (may be ""). A plug-in may add several (Digest: one per algorithm). */
struct guise_challenge_sink {
    void (*add)(struct guise_challenge_sink *sink, const char *params);
};

struct guise_authn_ops {
    const char *protocol; /* GetProtocolName: the HTTP scheme, "Digest" */
    uint32_t flags;       /* GetFlags: GUISE_AUTH_* */

    /* CreateAuthenticationContext: one per client connection. */
    guise_result (*create_context)(void *plugin, void **ctx);
    /* Destroys a context (connection closed, or plug-in replaced). */
    void (*destroy_context)(void *plugin, void *ctx);
    /* Authenticate: consume the client's response blob (empty for ANONYMOUS
     * plug-ins). Completes through done(…, cookie) exactly once. Returning a
     * failure means done will not be called. */
    guise_result (*authenticate)(void *plugin, void *ctx, const struct guise_blob *response,
                                 const struct guise_request_info *req, guise_auth_done_fn done,
                                 void *cookie);
    /* The fresh challenge(s) for a 401 (synchronous, cheap). Required unless
     * flags has GUISE_AUTH_ANONYMOUS. */
    guise_result (*challenge)(void *plugin, const struct guise_request_info *req,
                              struct guise_challenge_sink *sink);
    /* After SUCCESS: GetLogicalUserID, GetImpersonationAccountName,
     * GetImpersonationToken (*token gets a new reference). Strings live as
     * long as the context or until its next authenticate. After DENIED,
     * logical_user_id may answer the name the client claimed (the host
     * throttles guessing per user) or fail when there is none. */
    guise_result (*logical_user_id)(void *ctx, const char **out);
    guise_result (*impersonation_account_name)(void *ctx, const char **out);
    guise_result (*impersonation_token)(void *ctx, guise_token **out);
};

/* ---- authorization ---------------------------------------------------------- */

#define GUISE_AUTHZ_READ   0x1u /* open / play / seek / list */
#define GUISE_AUTHZ_WRITE  0x2u /* publish / push content */
#define GUISE_AUTHZ_CREATE 0x4u /* create publishing points */

/* point_level_allowed bits. POINT_INSTANCE: the plug-in decides per point
 * from the point's own access keys (read, write): the host makes one
 * instance per publishing point ("NAME@POINT") from them, and refuses it at
 * server level (pp-acl). */
#define GUISE_AUTHZ_POINT_LEVEL    0x1
#define GUISE_AUTHZ_POINT_INSTANCE 0x2

enum guise_authz_decision {
    GUISE_AUTHZ_ALLOW = 0,
    GUISE_AUTHZ_DENY = 1,
    GUISE_AUTHZ_ERROR = 2,
};

/* A DENY with code GUISE_RESULT_FROM_ERRNO(ENOENT) means "not found" (404). */
typedef void (*guise_authz_done_fn)(enum guise_authz_decision decision, guise_result code,
                                    void *cookie);

struct guise_authz_ops {
    uint32_t events; /* GUISE_AUTHZ_* this plug-in decides; others pass */
    /* Whether the plug-in may be attached to a publishing point (ip: no):
     * 0, or GUISE_AUTHZ_POINT_LEVEL, optionally with
     * GUISE_AUTHZ_POINT_INSTANCE (any non-zero value allows point level). */
    int point_level_allowed;
    guise_result (*authorize)(void *plugin, uint32_t event, const struct guise_identity *who,
                              const struct guise_request_info *req, guise_authz_done_fn done,
                              void *cookie);
};

/* ---- the descriptor ------------------------------------------------------------- */

enum guise_plugin_kind {
    GUISE_PLUGIN_AUTHENTICATION = 1,
    GUISE_PLUGIN_AUTHORIZATION = 2,
};

struct guise_plugin_descriptor {
    uint32_t abi_major, abi_minor; /* GUISE_ABI_MAJOR, GUISE_ABI_MINOR */
    enum guise_plugin_kind kind;
    const char *name;    /* configuration name: "digest" */
    const char *package; /* GetPackageName: "Digest" */
    const char *version;
    const char *description;
    const struct guise_property_spec *properties; /* terminated by {NULL} */

    /* Lifecycle. init parses props and may fail with GUISE_E_INVALIDARG after
     * guise_props_fail; enable acquires resources (keytabs, files); disable
     * releases what enable took; shutdown frees the plug-in. */
    guise_result (*init)(const struct guise_host_services *host, const guise_props *props,
                         void **plugin);
    guise_result (*enable)(void *plugin);
    guise_result (*disable)(void *plugin);
    void (*shutdown)(void *plugin);

    const struct guise_authn_ops *authn; /* kind == AUTHENTICATION */
    const struct guise_authz_ops *authz; /* kind == AUTHORIZATION */

    /* ABI 1.1. The host reads this member only from a descriptor whose
     * abi_minor is at least 1 (an older module's shorter structure ends
     * before it). */

    /* The module's next descriptor, or NULL: one entry point may register
     * several plug-in types (Negotiate and NTLM share one implementation).
     * Each descriptor of the chain carries its own abi_major and
     * abi_minor. */
    const struct guise_plugin_descriptor *next;
};

/* Size of the descriptor a module built for ABI minor `minor` declares:
 * what the host may read of it. */
#define GUISE_DESCRIPTOR_SIZE_MINOR0 offsetof(struct guise_plugin_descriptor, next)

#ifdef __cplusplus
}
#endif
#endif
