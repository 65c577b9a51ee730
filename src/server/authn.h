/* The authentication front: one implementation of "who is this client" for
 * every listener (HTTP content, the admin TCP listener, and listeners that
 * are not libmicrohttpd requests such as SRT stream keys). It chooses the
 * scope's plug-in for the credentials (or the connection's identity, or the
 * anonymous plug-in), decodes the blob, runs the plug-in through the
 * connection's authentication context, maps the outcome to an identity or to
 * a status with challenges, and throttles: lockouts (429) checked before any
 * plug-in runs, failures counted per address and per claimed user, the
 * failure delay the listener waits (on the timer thread) before answering.
 *
 * Asynchronous: authn_start returns at once; `done` is called exactly once,
 * possibly before authn_start returns, possibly on another thread. Headers
 * of the answer (WWW-Authenticate, Retry-After, Authentication-Info) go
 * through info->add_response_header. Nothing here knows libmicrohttpd
 * requests, the pipeline or the admin API. */
#ifndef GUISE_SERVER_AUTHN_H
#define GUISE_SERVER_AUTHN_H

#include "server/server.h"

/* An identity: who the client is and the token its content is opened as. */
struct identity {
    char *logical_user, *account;
    guise_token *token;
    bool anonymous;
    const char *scheme;
};
void identity_clear(struct identity *id);

/* What a connection keeps between requests (WMS: the user context): the
 * authentication context (a multi-leg exchange), and the identity a
 * connection-oriented scheme (Negotiate, NTLM) established. Per-request
 * schemes (Basic, Digest) never leave an identity: a proxy may reuse one
 * connection for many clients. Used by one request at a time. */
struct authn_conn {
    struct gen *gen; /* generation ctx and identity belong to */
    guise_auth_ctx *ctx;
    guise_plugin *id_plugin;
    char *id_user, *id_account;
    guise_token *id_token;
};
/* Drops context and identity (reload, close): frees the auth context, so
 * the worker pool can drop its queued work. */
void authn_conn_reset(struct authn_conn *c);

enum authn_outcome {
    AUTHN_IDENTIFIED, /* ident holds the identity */
    AUTHN_REFUSED,    /* status (400, 401, 403, 429, 500, 503) and detail */
};

struct authn;
typedef void (*authn_done_fn)(struct authn *a);

/* One authentication. The caller fills the inputs, keeps them alive until
 * done, and calls authn_cleanup afterwards. */
struct authn {
    /* in */
    struct server *srv;
    struct gen *gen;
    guise_scope *scope;
    struct authn_conn *conn;
    const char *client_ip;
    const char *credentials; /* the Authorization value "Scheme blob", or NULL */
    const struct guise_request_info *info;
    bool anonymous_allowed; /* false: the admin listener (a guest never administers) */
    const char *listener;   /* for events: "content", "admin" */
    authn_done_fn done;
    void *cookie;
    /* out */
    enum authn_outcome outcome;
    struct identity ident;
    unsigned status;
    const char *detail;
    unsigned delay_ms; /* wait this long before sending the refusal */
    /* private to authn.c */
    guise_plugin *plugin;
    unsigned char *blob;
    size_t blob_len;
    enum guise_auth_status auth_status;
    guise_result auth_code;
    char *challenge; /* the plug-in's answer blob (text form) */
    char *limit_key; /* the jobs-in-flight key held during the call */
};

void authn_start(struct authn *a);
/* The listener accepts the identity: adds what the client still needs to
 * hear (Negotiate's final mutual-authentication token). */
void authn_accept(struct authn *a);
/* The listener does not accept the identity authn_start gave (the admin
 * listener: not an administrator). Answered exactly like a wrong password -
 * a failure counted, the delay waited, 401 with fresh challenges - so the
 * listener never confirms a right password. Completes through done. */
void authn_reject(struct authn *a);
void authn_cleanup(struct authn *a);

/* Calls add(cookie, "Scheme params") for the challenge of every enabled
 * non-anonymous plug-in of the scope in selection order; replace_for's comes
 * from replacement instead (Digest's stale=true, a CONTINUE leg); with
 * only_replacement the others are left out. Returns how many. */
int authn_challenges(guise_scope *scope, const struct guise_request_info *info,
                     guise_plugin *replace_for, const char *replacement, bool only_replacement,
                     void (*add)(void *cookie, const char *value), void *cookie);
/* Whether an enabled non-anonymous plug-in of the scope could challenge. */
bool authn_scope_can_challenge(guise_scope *scope);

#endif
