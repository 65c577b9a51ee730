/* Private structures of the admin interface (src/admin). */
#ifndef GUISE_ADMIN_INTERNAL_H
#define GUISE_ADMIN_INTERNAL_H

#include "admin/admin.h"

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
};

struct header_kv {
    char *name, *value;
};

/* One request on the admin listener. */
/* What an admin connection keeps between its requests: a multi-leg
 * exchange in progress (NTLM) and, after a connection-oriented scheme
 * succeeded, the administrator it identified (who, for events). Only the
 * connection's own thread touches it (one thread per connection). */
struct aconn {
    struct gen *gen; /* generation ctx and plugin belong to */
    guise_plugin *plugin;
    guise_auth_ctx *ctx; /* a CONTINUE waiting for the next leg */
    bool admin;          /* identified and allowed: later requests need no credentials */
    char who[192];
};
void aconn_reset(struct aconn *c);

struct areq {
    struct admin *a;
    struct MHD_Connection *mc;
    struct aconn *conn; /* NULL when it could not be allocated */
    char *target;       /* request-target as sent (Digest checks it) */
    const char *method, *url;
    char *body;
    size_t len;
    bool too_big, started;
    char client_ip[64];
    char who[192]; /* the administrator, for events: "uid 0 (root)" */
    /* extra response headers (challenges, Authentication-Info) */
    struct header_kv *headers;
    size_t nheaders;
};

struct areply {
    unsigned status;
    char *body; /* malloc'ed */
    size_t len;
    const char *content_type;
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
/* Unix socket: the peer's credentials. true when root or a member of the
 * admin group; who gets "uid N (name)". */
bool auth_unix_peer(struct areq *q);
/* TCP: the server scope's authentication plug-ins establish an identity
 * whose account must be root or a member of the admin group. true when
 * allowed; otherwise out holds the 401/403 answer. */
bool auth_tcp(struct areq *q, struct areply *out);
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
