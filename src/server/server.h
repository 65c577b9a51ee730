/* guised internals shared by its files: the running configuration
 * ("generation"), connections and requests. */
#ifndef GUISE_SERVER_SERVER_H
#define GUISE_SERVER_SERVER_H

#include "server/config.h"

#include <guise/host.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>

struct server;
struct stats;
struct throttle;
struct accesslog;
struct guise_workers;
struct shrink_watch;

/* A publishing point of a generation. */
struct point {
    const char *name;
    int root_fd;       /* O_PATH directory: the point's directory, or a single file's parent */
    char *file_name;   /* single-file point: the file's name inside root_fd */
    uint64_t cache_id; /* unique across generations: the content cache's key */
    guise_scope *scope;
};

/* Everything a configuration file builds. Requests and connections hold a
 * reference, so a reload swaps in a new generation without disturbing them. */
struct gen {
    _Atomic long refs;
    uint64_t id;
    struct guise_config *cfg;
    guise_eventlog *log;
    guise_token_store *tokens;
    guise_host *host;
    guise_scope *root_scope; /* the server scope: "/" and the server lists */
    struct point *points;
    size_t npoints;
};

/* Builds a generation; on failure writes why to err. */
struct gen *gen_build(struct server *srv, struct guise_config *cfg, char *err, size_t errsz);
struct gen *gen_ref(struct gen *g);
void gen_unref(struct gen *g);
struct point *gen_point(struct gen *g, const char *name);

struct server {
    guise_eventlog *log;
    guise_imp *imp;
    struct guise_workers *workers;
    struct throttle *throttle;
    struct accesslog *access;
    const char *config_path;
    pthread_mutex_t gen_lock;
    struct gen *current; /* swapped under gen_lock */
    uint64_t next_gen_id;
    struct MHD_Daemon **daemons;
    size_t ndaemons;
    _Atomic long active_requests;
    char *tls_cert_pem, *tls_key_pem;
    /* Admin API hooks: counters, live connections, reload on demand. */
    struct stats *stats;
    struct timespec started; /* CLOCK_REALTIME at start-up */
    pthread_mutex_t conns_lock;
    struct conn *conns; /* live content connections, newest first */
    uint64_t next_conn_id;
    _Atomic long open_connections;
    struct shrink_watch *shrink_watch; /* ends answers whose file shrank */
    /* Builds and installs a new generation from config_path (main.c sets
     * it); serialised by reload_lock. 0, or -1 with why in err. */
    int (*reload)(struct server *srv, char *err, size_t errsz);
    pthread_mutex_t reload_lock;
    /* Shutdown (http.c): requests answered while a plug-in call was still
     * pending, and their connections, freed by http_free_orphans; under
     * conns_lock. */
    struct request *orphan_requests;
    struct conn *orphan_conns;
    struct live_hub *live; /* broadcast points' live state (src/live), across reloads */
    _Atomic bool stopping; /* http_answer_waiting has begun */
};

/* gen.c: the generation serving new requests (a new reference). */
struct gen *server_current_gen(struct server *srv);
/* Installs g as current (takes the reference). */
void server_install_gen(struct server *srv, struct gen *g);

/* http.c */
int http_start(struct server *srv, const struct guise_config *cfg, char *err, size_t errsz);
void http_stop(struct server *srv);
/* Shutdown, in this order (main.c): */
/* 1. Stops accepting, waits up to timeout_ms for requests to finish. */
void http_quiesce(struct server *srv, unsigned timeout_ms);
/* 2. Answers every request still waiting for a plug-in (suspended: a hanging
 *    PAM or GSSAPI call, a plug-in that never completes) with 503 and
 *    "Connection: close", and resumes its connection. Returns how many. */
size_t http_answer_waiting(struct server *srv);
/* 3. Waits up to timeout_ms until no request is left but abandoned ones:
 *    the answers of step 2 are sent. true when none is left. */
bool http_wait_idle(struct server *srv, unsigned timeout_ms);
/* 4. http_stop: no connection is suspended any more, so libmicrohttpd may
 *    stop. 5. After the worker pool and the timers are gone and the current
 *    generation is uninstalled: frees the abandoned connections (their
 *    authentication contexts), then drops the abandoned requests'
 *    generations (a plug-in's shutdown may still complete their calls),
 *    then frees the requests. */
void http_free_orphans(struct server *srv);

/* A copy of what the admin API shows of one live connection. */
struct conn_info {
    uint64_t id;
    char client_ip[48];
    char user[128], account[128], point[128];
    uint64_t bytes;
    time_t since;
};
/* The live connections (malloc'ed array in *out, newest first); returns
 * how many, or -1 when out of memory. */
long http_connections(struct server *srv, struct conn_info **out);
/* shutdown(2)s the connection with this id: 0, or -1 when there is none. */
int http_disconnect(struct server *srv, uint64_t id);

#endif
