/* Private structures of the admin interface (src/admin). */
#ifndef GUISE_ADMIN_INTERNAL_H
#define GUISE_ADMIN_INTERNAL_H

#include "admin/admin.h"
#include "server/authn.h"
#include "server/lifecycle.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* Event ids of the admin interface. */
enum {
    ADMIN_EV_CHANGE = 500,  /* INFORMATION: a change made through the API */
    ADMIN_EV_REFUSED = 501, /* WARNING: a peer that may not administer */
    ADMIN_EV_STATE = 502,   /* the state file: applied, unreadable */
    ADMIN_EV_LISTENER = 503,
};

struct admin {
    struct server *srv;
    struct MHD_Daemon *daemon;
    bool tcp;
    char *sock_path; /* Unix socket we created (removed at stop) */
    dev_t sock_dev;
    ino_t sock_ino;
    pthread_mutex_t state_lock; /* one change of the state file at a time */
    _Atomic int refused_peers;  /* open Unix connections of non-administrators */
};

struct header_kv {
    char *name, *value;
};

/* What an admin connection keeps between its requests: the authentication
 * front's per-connection state (a multi-leg exchange in progress, the
 * identity a connection-oriented scheme established), and on the Unix
 * socket the peer's verdict, decided once at accept from SO_PEERCRED. */
enum peer_verdict { PEER_UNCHECKED, PEER_ADMIN, PEER_REFUSED };
struct aconn {
    struct authn_conn auth;
    enum peer_verdict peer;
    char who[192]; /* the Unix peer: "uid 0 (root)" */
};

struct areply {
    unsigned status;
    char *body; /* malloc'ed */
    size_t len;
    const char *content_type;
};

/* One request on the admin listener. Its lifecycle (server/lifecycle.h) is
 * the content request's, shortened: ROUTED -> AUTHN -> AUTHN_RESULT ->
 * AUTHZ (is the identity an administrator?) [-> AUTHZ_RESULT: a non-admin
 * answered like a wrong password] -> CONTENT (the API) -> ANSWER -> DONE.
 * Completions only resume the connection: the API always runs on one of
 * the listener's own threads, never on a worker or the timer thread. */
struct areq {
    struct admin *a;
    struct MHD_Connection *mc;
    struct aconn *conn; /* NULL when it could not be allocated */
    struct lifecycle lc;
    struct authn authn;
    struct guise_request_info info;
    struct areply rep;
    char *target; /* request-target as sent (Digest checks it) */
    const char *method, *url;
    char *body;
    size_t len;
    bool too_big;
    char client_ip[64];
    char who[192]; /* the administrator, for events: "uid 0 (root)" */
    /* extra response headers (challenges, Authentication-Info) */
    struct header_kv *headers;
    size_t nheaders;
};

/* api.c: answers one authorised request. */
void api_handle(struct areq *q, struct areply *out);
/* Error answer {"error":{"code":..,"message":..}}. */
void reply_error(struct areply *out, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* JSON answer (takes the reference of v). */
void reply_json(struct areply *out, unsigned status, json_t *v);
void areq_add_header(struct areq *q, const char *name, const char *value);

/* auth.c: who may administer. */
/* Unix socket, at accept: the peer's credentials (SO_PEERCRED) decide once
 * for the connection: PEER_ADMIN for root or a member of the admin group;
 * c->who gets "uid N (name)". */
void auth_unix_peer(struct admin *a, int fd, struct aconn *c);
/* Unix socket, per request: true when the connection's peer may
 * administer, else q->rep holds the 403 (and the refusal is logged). */
bool auth_unix_request(struct areq *q);
/* TCP: starts the authentication front on the server scope (no anonymous
 * plug-in: a guest never administers). true when its answer is already in
 * (phase AUTHN_RESULT), false when the request waits (its connection
 * suspended until the completion resumes it). */
bool auth_tcp_start(struct areq *q);
/* TCP, phase AUTHN_RESULT or AUTHZ_RESULT: ADMIN_ALLOWED; ADMIN_REFUSED
 * with q->rep the answer; or ADMIN_WAIT when a non-administrator's refusal
 * is under way (answered exactly like a wrong password: failure counted,
 * delay, 401 with fresh challenges) and the request waits again. */
enum admin_verdict { ADMIN_ALLOWED, ADMIN_REFUSED, ADMIN_WAIT };
enum admin_verdict auth_tcp_result(struct areq *q);
/* Whether the account (by name) is root or a member of the admin group. */
bool auth_account_is_admin(const struct admin *a, const char *name);

/* state.c: the persistent administrative state. */
/* The state file's path (malloc'ed): admin-state, else the config path
 * plus ".state". */
char *state_path(const struct server *srv, const struct guise_config *cfg);
/* The state object (a new reference; an empty object when there is none).
 * NULL and why in err when the file exists but cannot be read or parsed. */
json_t *state_load(const char *path, char *err, size_t errsz);
/* Writes st atomically (temporary file, fsync, rename), mode 0600 because
 * property values may be secrets. 0 or -1 with why in err. */
int state_save(const char *path, json_t *st, char *err, size_t errsz);

/* live.c: broadcast points. The live state of point ("state", "since",
 * "publisher", "listeners", ...), NULL for an on-demand point. */
json_t *admin_live_json(struct server *srv, struct gen *g, const char *point);
/* Cuts the point's publisher: 0, or -1 when it has none. */
int admin_live_disconnect(struct server *srv, const char *point, const char *who);
/* The guise_live_* samples of every broadcast point. */
void admin_live_metrics(FILE *f, struct server *srv, struct gen *g);

/* metrics.c: the Prometheus text exposition (malloc'ed). */
char *metrics_render(struct server *srv, size_t *len);

/* www.c (generated): the embedded web page files. */
struct www_file {
    const char *path;
    const char *content_type;
    const unsigned char *data;
    size_t len;
};
extern const struct www_file admin_www_files[];

#endif
