/* One HTTP request travelling through the authentication/authorization
 * pipeline, and the connection it arrived on. */
#ifndef GUISE_SERVER_REQUEST_H
#define GUISE_SERVER_REQUEST_H

#include "server/answer.h"
#include "server/authn.h"
#include "server/broadcast.h"
#include "server/content_cache.h"
#include "server/lifecycle.h"
#include "server/server.h"

#include <sys/stat.h>

/* What a connection keeps between requests (WMS: the user context). */
struct conn {
    /* The authentication context and the identity a connection-oriented
     * scheme established (server/authn.h). */
    struct authn_conn auth;
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
    /* What the request asks of the authorization plug-ins (set at routing):
     * GUISE_AUTHZ_READ for on-demand content, WRITE (and CREATE) for a
     * publish request. */
    uint32_t authz_event;
    /* The content phase after authorization, chosen at routing: NULL is
     * on-demand content (serve_content). A live ingest or a progressive
     * live stream sets its own; it ends by finishing the answer, or moves
     * to LC_BODY_IN: the handler then passes each piece of the request
     * body to body_in, which leaves in *len what it did not take yet (the
     * connection is then suspended until it can), and an empty piece at
     * the body's end; body_in ends by finishing the answer. */
    void (*content_phase)(struct request *r);
    void (*body_in)(struct request *r, const char *data, size_t *len);
    /* Cache-Control beyond "private" that routing chose (a broadcast
     * point's live playlist or segments, server/broadcast.h). */
    enum live_cache live_cache;
    /* Where the request is and who drives it (server/lifecycle.h). */
    struct lifecycle lc;

    /* authentication in progress (the front's state) */
    struct authn authn;
    size_t authz_index;
    enum guise_authz_decision authz_decision;
    guise_result authz_code;
    /* Plug-ins that decided the event and allowed it: publishing needs at
     * least one (no pp-acl, no publisher). */
    unsigned authz_decided;
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
    unsigned delay_ms; /* the failure delay the answer waits (authn.h) */
    /* Shutdown answered it (503) while a plug-in call was still pending
     * (lc_orphaned): the request's memory waits on srv->orphan_requests
     * until the plug-ins are gone. */
    struct request *orphan_next;
    struct timespec t0;

    /* broadcast points (server/broadcast.h) */
    enum live_kind live;
    struct live_publisher *live_pub; /* an admitted publisher's stream */
    bool live_body;                  /* a piece of the body arrived */
};

/* serve.c: the content phase: a file or a directory index. */
void serve_content(struct request *r);
/* Opens the request's content as token (memoised): GUISE_S_OK or errno result. */
guise_result request_open_content(struct request *r, const guise_token *token);

#endif
