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
struct throttle;
struct accesslog;
struct guise_workers;

/* A publishing point of a generation. */
struct point {
    const char *name;
    int root_fd;     /* O_PATH directory: the point's directory, or a single file's parent */
    char *file_name; /* single-file point: the file's name inside root_fd */
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
};

/* The generation serving new requests (a new reference). */
struct gen *server_current_gen(struct server *srv);
/* Installs g as current (takes the reference). */
void server_install_gen(struct server *srv, struct gen *g);

/* http.c */
int http_start(struct server *srv, const struct guise_config *cfg, char *err, size_t errsz);
void http_stop(struct server *srv);
/* Stops accepting, waits up to timeout_ms for requests to finish. */
void http_quiesce(struct server *srv, unsigned timeout_ms);

#endif
