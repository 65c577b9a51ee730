/* One HTTP request travelling through the authentication/authorization
 * pipeline, and the connection it arrived on. */
#ifndef GUISE_SERVER_REQUEST_H
#define GUISE_SERVER_REQUEST_H

#include "server/content_cache.h"
#include "server/server.h"

#include <sys/stat.h>

/* What a connection keeps between requests (WMS: the user context). */
struct conn {
    struct gen *gen;     /* generation ctx and identity belong to */
    guise_auth_ctx *ctx; /* the connection's authentication context */
    /* Identity established by a non-anonymous plug-in on this connection:
     * keep-alive requests without credentials (NTLM) stay authenticated. */
    guise_plugin *id_plugin;
    char *id_user, *id_account;
    guise_token *id_token;
    char client_ip[48];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    /* The admin API's view (under srv->conns_lock): registry links, the
     * socket to shut down, and what the last request did. */
    struct conn *prev, *next;
    uint64_t id;
    int fd;
    time_t since;
    _Atomic uint64_t bytes;
    /* Written only by the thread serving the connection, under conns_lock
     * and only when they change (the admin API reads them under it). */
    char last_user[128], last_account[128], last_point[128];
    /* The file the current answer streams, watched for shrinking
     * (server/shrink_watch.h): a duplicate descriptor (-1: none), the
     * offset the answer promised to reach, a name for the event; under
     * conns_lock. streaming belongs to the connection's thread alone. */
    int stream_fd;
    uint64_t stream_end;
    char stream_what[160];
    bool streaming;
    /* The request being answered on this connection (see http.c:
     * conn_forget_request): shutdown answers the ones still waiting for a
     * plug-in. keep (under conns_lock): a
     * plug-in call of an abandoned request may still use ctx, so the
     * connection outlives its socket until shutdown's last step. */
    _Atomic(struct request *) current;
    bool keep;
};

struct identity {
    char *logical_user, *account;
    guise_token *token;
    bool anonymous;
    const char *scheme;
};

enum step {
    ST_ROUTE,
    ST_AUTHN,
    ST_AUTHN_RESULT,
    ST_AUTHZ,
    ST_AUTHZ_RESULT,
    ST_SERVE,
    ST_DONE,
};

struct header_pair {
    char *name, *value;
};

/* A header whose strings the caller keeps alive until the answer is built. */
struct header_ref {
    const char *name, *value;
};

struct request {
    struct server *srv;
    struct gen *gen;
    struct conn *conn;
    struct MHD_Connection *mc;
    struct guise_request_info info;
    const char *method;
    const char *url; /* raw request path */
    char *target;    /* request-target as sent, query included */
    const char *version;
    char *path; /* normalised, decoded (malloc'ed: at most PATH_MAX) */
    char point_name[128];
    const char *rest;
    struct point *point;
    guise_scope *scope;
    enum step step;

    /* authentication in progress */
    guise_plugin *authn_plugin;
    unsigned char *blob; /* decoded response blob */
    size_t blob_len;
    enum guise_auth_status auth_status;
    guise_result auth_code;
    char *auth_challenge; /* blob returned with the status (text form) */
    size_t authz_index;
    enum guise_authz_decision authz_decision;
    guise_result authz_code;
    struct identity ident;
    bool have_ident;

    /* content opened as the identity: a descriptor, or the small-file
     * cache's entry for this identity (server/content_cache.h) */
    int content_fd;
    struct cc_entry *cached;
    const guise_token *content_token;
    bool content_opened;
    guise_result content_result;

    /* the answer */
    unsigned status;
    struct MHD_Response *response;
    /* response belongs to a small-file cache entry (shared by the
     * identity's identical requests): queue it, never destroy it */
    bool response_shared;
    struct header_pair *headers; /* copies: plug-ins' and the pipeline's */
    size_t nheaders;
    const struct header_ref *borrowed; /* the content phase's, on its stack */
    size_t nborrowed;
    uint64_t bytes;
    unsigned delay_ms;
    bool delay_done;

    /* suspend/resume hand-off between the I/O thread and completions */
    pthread_mutex_t mu;
    bool pending, suspended, driving, started, routed, pipeline_started;
    /* Shutdown answered it (503) while a plug-in call was still pending:
     * the late completion drives nothing, and the request's memory waits
     * on srv->orphan_requests until the plug-ins are gone. */
    bool abandoned;
    struct request *orphan_next;
    struct timespec t0;
};

/* serve.c: the content phase: a file or a directory index. */
void serve_content(struct request *r);
/* Builds a plain answer (HTML body) for status and finishes the request. */
void finish_status(struct request *r, unsigned status, const char *detail);
/* Adds a header to the eventual response. */
void request_add_header(struct request *r, const char *name, const char *value);
/* Maps a refusal with an errno result to 401/403/404/500 and finishes. */
void finish_refusal(struct request *r, guise_result code);
/* Finishes with a 401 carrying every challenge of the scope. */
void finish_challenge(struct request *r, guise_plugin *replace_for, const char *replacement);
/* Opens the request's content as token (memoised): GUISE_S_OK or errno result. */
guise_result request_open_content(struct request *r, const guise_token *token);

#endif
