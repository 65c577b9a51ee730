/* libmicrohttpd glue: daemons on every listen address, connection and
 * request lifetimes, the access handler and the access log. */
#include "server/accesslog.h"
#include "server/client_event.h"
#include "server/pipeline.h"
#include "server/request.h"
#include "server/shrink_watch.h"
#include "server/stats.h"

#include "http/framing.h"
#include "http/path.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* ---- connections ---- */

/* The registry of live connections the admin API lists and can cut. A
 * connection leaves it (under the lock) before libmicrohttpd closes its
 * socket, so http_disconnect never shuts down a reused descriptor. */
static void conn_register(struct server *srv, struct MHD_Connection *mc, struct conn *c)
{
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = fi ? fi->connect_fd : -1;
    c->since = time(NULL);
    pthread_mutex_lock(&srv->conns_lock);
    c->id = ++srv->next_conn_id;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    pthread_mutex_unlock(&srv->conns_lock);
    atomic_fetch_add(&srv->open_connections, 1);
}

static void conn_unregister(struct server *srv, struct conn *c)
{
    pthread_mutex_lock(&srv->conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else if (srv->conns == c)
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    pthread_mutex_unlock(&srv->conns_lock);
    atomic_fetch_sub(&srv->open_connections, 1);
}

long http_connections(struct server *srv, struct conn_info **out)
{
    pthread_mutex_lock(&srv->conns_lock);
    size_t n = 0;
    for (struct conn *c = srv->conns; c; c = c->next)
        n++;
    struct conn_info *v = calloc(n + 1, sizeof *v);
    if (!v) {
        pthread_mutex_unlock(&srv->conns_lock);
        return -1;
    }
    size_t i = 0;
    for (struct conn *c = srv->conns; c; c = c->next, i++) {
        v[i].id = c->id;
        v[i].bytes = atomic_load_explicit(&c->bytes, memory_order_relaxed);
        v[i].since = c->since;
        memcpy(v[i].client_ip, c->client_ip, sizeof v[i].client_ip);
        memcpy(v[i].user, c->last_user, sizeof v[i].user);
        memcpy(v[i].account, c->last_account, sizeof v[i].account);
        memcpy(v[i].point, c->last_point, sizeof v[i].point);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    *out = v;
    return (long)n;
}

int http_disconnect(struct server *srv, uint64_t id)
{
    int rc = -1;
    pthread_mutex_lock(&srv->conns_lock);
    for (struct conn *c = srv->conns; c; c = c->next)
        if (c->id == id) {
            /* libmicrohttpd sees the end of the stream and closes it itself. */
            if (c->fd >= 0)
                shutdown(c->fd, SHUT_RDWR);
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&srv->conns_lock);
    return rc;
}

/* Accounts one finished request to its connection and the counters. */
static void conn_account(struct server *srv, struct request *r, uint64_t bytes)
{
    const char *point = r->point ? r->point->name : "";
    char status[8];
    snprintf(status, sizeof status, "%u", r->status);
    stats_add(srv->stats, STATS_REQUESTS, point, status, 1);
    stats_add(srv->stats, STATS_BYTES, point, "", bytes);
    struct conn *c = r->conn;
    if (!c)
        return;
    atomic_fetch_add_explicit(&c->bytes, bytes, memory_order_relaxed);
    /* A keep-alive connection asks for the same point as the same user
     * again and again: the registry's lock is only taken for a change. */
    const char *pt = r->point ? r->point->name : "/";
    const char *user = r->have_ident && r->ident.logical_user ? r->ident.logical_user : "-";
    const char *account = r->have_ident && r->ident.account ? r->ident.account : "-";
    bool same =
        !strncmp(c->last_point, pt, sizeof c->last_point - 1) &&
        (!r->have_ident || (!strncmp(c->last_user, user, sizeof c->last_user - 1) &&
                            !strncmp(c->last_account, account, sizeof c->last_account - 1)));
    if (same)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    snprintf(c->last_point, sizeof c->last_point, "%s", pt);
    if (r->have_ident) {
        snprintf(c->last_user, sizeof c->last_user, "%s", user);
        snprintf(c->last_account, sizeof c->last_account, "%s", account);
    }
    pthread_mutex_unlock(&srv->conns_lock);
}

static void notify_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *c = calloc(1, sizeof *c);
        *socket_context = c;
        if (!c)
            return;
        c->stream_fd = -1;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET) {
                memcpy(&c->addr, sa, sizeof(struct sockaddr_in));
                c->addrlen = sizeof(struct sockaddr_in);
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->client_ip,
                          sizeof c->client_ip);
            } else if (sa->sa_family == AF_INET6) {
                memcpy(&c->addr, sa, sizeof(struct sockaddr_in6));
                c->addrlen = sizeof(struct sockaddr_in6);
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, c->client_ip,
                          sizeof c->client_ip);
            }
        }
        if (!c->client_ip[0])
            strcpy(c->client_ip, "-");
        conn_register(cls, mc, c);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn *c = *socket_context;
        if (c) {
            struct server *srv = cls;
            shrink_watch_conn_done(srv, c);
            conn_unregister(srv, c);
            pthread_mutex_lock(&srv->conns_lock);
            bool keep = c->keep;
            if (keep) { /* an abandoned plug-in call may still use c->ctx */
                c->next = srv->orphan_conns;
                srv->orphan_conns = c;
            }
            pthread_mutex_unlock(&srv->conns_lock);
            if (!keep) {
                conn_reset(c);
                free(c);
            }
        }
        *socket_context = NULL;
    }
}

/* ---- request info callbacks given to plug-ins ---- */

static const char *info_header(const struct guise_request_info *info, const char *name)
{
    struct request *r = info->host_data;
    return MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, name);
}

static void info_add_header(const struct guise_request_info *info, const char *name,
                            const char *value)
{
    request_add_header(info->host_data, name, value);
}

static guise_result info_open_content(const struct guise_request_info *info,
                                      const guise_token *token)
{
    return request_open_content(info->host_data, token);
}

/* libmicrohttpd must not decode the path: gh_path_normalize needs the raw
 * form to refuse encoded slashes and NULs. */
static size_t keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

/* libmicrohttpd's URI log callback sees the request target as sent, query
 * included (Digest's uri parameter must match it): the request starts here. */
static void *request_new(void *cls, const char *target, struct MHD_Connection *mc)
{
    struct server *srv = cls;
    struct request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (!(r->target = strdup(target ? target : ""))) {
        free(r);
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->srv = srv;
    r->mc = mc;
    r->method = "-";
    r->url = r->target;
    r->content_fd = -1;
    lc_init(&r->lc, mc);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    r->conn = ci ? ci->socket_context : NULL;
    if (r->conn)
        atomic_store(&r->conn->current, r);
    r->gen = server_current_gen(srv);
    atomic_fetch_add(&srv->active_requests, 1);
    return r;
}

/* No lock per request: the connection's thread publishes and withdraws
 * its request with atomics. Once shutdown has begun (srv->stopping, set
 * before http_answer_waiting takes conns_lock and reads current), a request
 * that goes away waits for conns_lock, so it is never freed while shutdown
 * looks at it; before that, shutdown cannot have seen it (both orders are
 * sequentially consistent). */
static void conn_forget_request(struct request *r)
{
    if (!r->conn)
        return;
    struct request *mine = r;
    atomic_compare_exchange_strong(&r->conn->current, &mine, NULL);
    if (atomic_load(&r->srv->stopping)) {
        pthread_mutex_lock(&r->srv->conns_lock);
        pthread_mutex_unlock(&r->srv->conns_lock);
    }
}

/* Everything of a finished request but what a late plug-in completion may
 * still write (the state the pipeline keeps, the lock, the generation its
 * plug-in lives in, the memory itself). */
static void request_release(struct request *r)
{
    conn_forget_request(r);
    if (r->content_fd >= 0)
        close(r->content_fd);
    cc_unref(r->cached);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    if (r->response && !r->response_shared)
        MHD_destroy_response(r->response);
    r->response = NULL;
    r->headers = NULL;
    r->nheaders = 0;
    atomic_fetch_sub(&r->srv->active_requests, 1);
}

/* What a plug-in may read until it completes (the request info's uri and
 * path) and what its completion writes goes last. */
static void request_final_free(struct request *r)
{
    pipeline_request_cleanup(r);
    free(r->target);
    free(r->path);
    lc_destroy(&r->lc);
    free(r);
}

static void request_free(struct request *r)
{
    request_release(r);
    struct gen *g = r->gen;
    request_final_free(r);
    gen_unref(g);
}

/* A request shutdown answered while its plug-in call is still pending:
 * kept (with its connection) until no plug-in can complete the call. */
static void request_orphan(struct request *r)
{
    struct server *srv = r->srv;
    request_release(r);
    pthread_mutex_lock(&srv->conns_lock);
    if (r->conn)
        r->conn->keep = true;
    r->orphan_next = srv->orphan_requests;
    srv->orphan_requests = r;
    pthread_mutex_unlock(&srv->conns_lock);
}

static void request_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct request *r = *con_cls;
    if (!r)
        return;
    struct server *srv = cls;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t us = (uint64_t)(t1.tv_sec - r->t0.tv_sec) * 1000000u +
                  (uint64_t)((t1.tv_nsec - r->t0.tv_nsec) / 1000);
    struct access_entry e = {
        .client = r->conn ? r->conn->client_ip : "-",
        .user = r->have_ident ? r->ident.logical_user : NULL,
        .account = r->have_ident ? r->ident.account : NULL,
        .method = r->method,
        .target = r->url,
        .proto = r->version,
        .referer = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER),
        .agent = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT),
        .scheme = r->have_ident ? r->ident.scheme : NULL,
        .point = r->point ? r->point->name : NULL,
        .status = r->status,
        .bytes = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? r->bytes : 0,
        .micros = us,
    };
    accesslog_write(srv->access, &e);
    if (r->conn)
        shrink_watch_conn_done(srv, r->conn);
    broadcast_request_done(r);
    conn_account(srv, r, e.bytes);
    if (lc_orphaned(&r->lc))
        request_orphan(r);
    else
        request_free(r);
    *con_cls = NULL;
}

/* Everything that can be decided before any plug-in runs. */
static bool route(struct request *r)
{
    const struct guise_config *cfg = r->gen->cfg;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 &&
        !broadcast_ingest_method(r->method)) {
        request_add_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        finish_status(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Only GET and HEAD are supported.");
        return false;
    }
    if (strlen(r->url) > cfg->max_uri_length) {
        finish_status(r, MHD_HTTP_URI_TOO_LONG, "The request target is too long.");
        return false;
    }
    /* Normalising never lengthens a path; beyond PATH_MAX nothing could be
     * opened anyway. Sized to the request (not a 4 KiB array in the request)
     * so that the request itself is a small allocation. */
    size_t psz = strlen(r->url) + 1;
    if (psz > PATH_MAX)
        psz = PATH_MAX;
    if (!(r->path = malloc(psz))) {
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
        return false;
    }
    int rc = gh_path_normalize(r->url, r->path, psz);
    if (rc == GH_PATH_TOO_LONG) {
        finish_status(r, MHD_HTTP_URI_TOO_LONG, "The request target is too long.");
        return false;
    }
    if (rc != GH_PATH_OK) {
        client_event(r->srv, r->gen->log, GUISE_EVENT_INFORMATION, "server",
                     GUISE_EV_REQUEST_REFUSED, GUISE_E_BAD_FORMAT, r->conn->client_ip,
                     "client %s: refused request path %.200s", r->conn->client_ip, r->url);
        finish_status(r, MHD_HTTP_BAD_REQUEST, "Bad request path.");
        return false;
    }
    if (gh_path_split_point(r->path, r->point_name, sizeof r->point_name, &r->rest) != 0) {
        r->scope = r->gen->root_scope;
        r->rest = "";
    } else {
        r->point = gen_point(r->gen, r->point_name);
        if (!r->point) {
            finish_status(r, MHD_HTTP_NOT_FOUND, "No such publishing point.");
            return false;
        }
        if (r->point->file_name && *r->rest) {
            finish_status(r, MHD_HTTP_NOT_FOUND, "Not found.");
            return false;
        }
        r->scope = r->point->scope;
    }
    r->authz_event = GUISE_AUTHZ_READ;
    if (!broadcast_route(r))
        return false;
    if (guise_scope_critical(r->scope)) {
        finish_status(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "This publishing point is in the critical-error state after a plug-in "
                      "failure; an administrator must re-enable it.");
        return false;
    }
    r->info = (struct guise_request_info){
        .method = r->method,
        .uri = r->target,
        .path = r->rest,
        .point = r->point ? r->point->name : NULL,
        .client_ip = r->conn->client_ip,
        .client_addr = (const struct sockaddr *)&r->conn->addr,
        .client_addrlen = r->conn->addrlen,
        .secure = r->gen->cfg->tls_cert != NULL,
        .header = info_header,
        .add_response_header = info_add_header,
        .open_content = info_open_content,
        .host_data = r,
    };
    return true;
}

/* ---- framing: refused before the body is read ---- */

struct framing_fields {
    struct gh_header_view v[256];
    size_t n;
    bool overflow;
};

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    struct framing_fields *f = cls;
    if (f->n == sizeof f->v / sizeof f->v[0]) {
        f->overflow = true;
        return MHD_NO;
    }
    f->v[f->n++] =
        (struct gh_header_view){key, key_size, value ? value : "", value ? value_size : 0};
    return MHD_YES;
}

/* Content-Length and Transfer-Encoding must frame the body in exactly one
 * way, and the head must fit max-header-size: else 400 (431) and the
 * connection is closed, so that nothing after this head is read as a
 * request. Returns false when it answered. */
static bool framing_ok(struct request *r)
{
    struct framing_fields *f = malloc(sizeof *f);
    if (!f) {
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
        return false;
    }
    f->n = 0;
    f->overflow = false;
    MHD_get_connection_values_n(r->mc, MHD_HEADER_KIND, collect_field, f);
    size_t line = strlen(r->method) + 1 + strlen(r->target) + 1 + strlen(r->version);
    enum gh_framing v = f->overflow
                            ? GH_FRAMING_TOO_LARGE
                            : gh_framing_check(f->v, f->n, line, r->gen->cfg->max_header_size);
    free(f);
    if (v == GH_FRAMING_OK)
        return true;
    guise_eventlog_write(r->gen->log, GUISE_EVENT_WARNING, "server", GUISE_EV_REQUEST_REFUSED,
                         GUISE_E_BAD_FORMAT, "client %s: refused request: %s", r->conn->client_ip,
                         gh_framing_reason(v));
    request_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (v == GH_FRAMING_TOO_LARGE)
        finish_status(r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, gh_framing_reason(v));
    else
        finish_status(r, MHD_HTTP_BAD_REQUEST, gh_framing_reason(v));
    return false;
}

static enum MHD_Result queue_answer(struct request *r)
{
    if (!r->response)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(r->mc, r->status, r->response);
    if (!r->response_shared)
        MHD_destroy_response(r->response);
    r->response = NULL;
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    struct request *r = *con_cls;
    if (!r)
        return MHD_NO;
    if (lc_phase(&r->lc) == LC_RECEIVED) {
        r->method = method;
        r->url = url;
        r->version = version;
        if (!r->conn || !r->gen)
            return MHD_NO;
        /* A head that frames its body ambiguously is answered now, in the
         * first call: libmicrohttpd then closes the connection unread. */
        if (!framing_ok(r))
            return queue_answer(r);
        if (!route(r))
            return MHD_YES;
        lc_set(&r->lc, LC_ROUTED);
        /* A publisher is authenticated before its body (and before the
         * "100 Continue" it may wait for): a refusal closes the
         * connection, which costs an encoder nothing. */
        if (broadcast_is_ingest(r)) {
            pipeline_start(r);
            return lc_ready(&r->lc) ? queue_answer(r) : MHD_YES;
        }
        /* Answering in this first call - directly, or after a suspension
         * that began in it - makes libmicrohttpd discard the (empty) body
         * and close the connection, which ends NTLM's multi-leg exchange:
         * the pipeline starts in the next call. */
        return MHD_YES;
    }
    if (lc_phase(&r->lc) == LC_BODY_IN && r->body_in) {
        /* A content phase consuming the body (live ingest); the empty
         * piece tells it the body ended. */
        r->body_in(r, upload_data, upload_data_size);
        if (!lc_ready(&r->lc))
            return MHD_YES;
    } else if (*upload_data_size) {
        /* Bodies are not used by GET/HEAD; others were answered already. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (lc_phase(&r->lc) == LC_ROUTED)
        pipeline_start(r);
    /* An abandoned request's call may still be pending: shutdown answered it. */
    if (!lc_ready(&r->lc))
        return MHD_YES;
    return queue_answer(r);
}

/* ---- daemons ---- */

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    guise_eventlog_write(srv->log, GUISE_EVENT_INFORMATION, "http", GUISE_EV_IO_ERROR, GUISE_S_OK,
                         "%s", msg);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while (mem && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    if (mem)
        fclose(mem);
    fclose(f);
    return buf;
}

int http_start(struct server *srv, const struct guise_config *cfg, char *err, size_t errsz)
{
    if (cfg->tls_cert) {
        srv->tls_cert_pem = slurp(cfg->tls_cert);
        srv->tls_key_pem = slurp(cfg->tls_key);
        if (!srv->tls_cert_pem || !srv->tls_key_pem) {
            snprintf(err, errsz, "cannot read %s or %s: %s", cfg->tls_cert, cfg->tls_key,
                     strerror(errno));
            return -1;
        }
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->io_threads ? cfg->io_threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    /* Socket activation: sockets passed by systemd replace the listen keys. */
    int activated = sd_listen_fds(1);
    size_t nlisteners = activated > 0 ? (size_t)activated : cfg->nlisten;
    srv->daemons = calloc(nlisteners, sizeof *srv->daemons);
    if (!srv->daemons)
        return -1;
    for (size_t i = 0; i < nlisteners; i++) {
        const struct cfg_listen *l = activated > 0 ? NULL : &cfg->listen[i];
        int fd = activated > 0 ? SD_LISTEN_FDS_START + (int)i : -1;
        struct sockaddr_storage bound;
        socklen_t blen = sizeof bound;
        if (fd >= 0 && getsockname(fd, (struct sockaddr *)&bound, &blen) != 0)
            bound.ss_family = AF_UNSPEC;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                         MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        if ((l ? l->addr.ss_family : bound.ss_family) == AF_INET6)
            flags |= MHD_USE_IPv6;
        if (cfg->tls_cert)
            flags |= MHD_USE_TLS;
        struct MHD_OptionItem opts[] = {
            {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, srv},
            l ? (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)&l->addr}
              : (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL},
            {MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
            {MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL},
            {MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip, NULL},
            {MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout, NULL},
            {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)(cfg->max_header_size + 4096), NULL},
            {MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096, NULL},
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, srv},
            {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_connection, srv},
            {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)request_new, srv},
            {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)keep_raw, srv},
            {cfg->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert_pem},
            {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem},
            /* GnuTLS's NORMAL still offers TLS 1.0 and 1.1 (RFC 8996). */
            {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
            {MHD_OPTION_END, 0, NULL},
        };
        srv->daemons[i] = MHD_start_daemon(flags, 0, NULL, NULL, handler, srv, MHD_OPTION_ARRAY,
                                           opts, MHD_OPTION_END);
        if (!srv->daemons[i] && !l) {
            snprintf(err, errsz, "cannot serve on socket-activated descriptor %d", fd);
            http_stop(srv);
            return -1;
        }
        if (!srv->daemons[i]) {
            snprintf(err, errsz, "%s:%d: key 'listen': cannot listen on %s (%s)", cfg->file,
                     l->line, l->text, errno ? strerror(errno) : "libmicrohttpd refused");
            http_stop(srv);
            return -1;
        }
        srv->ndaemons++;
    }
    srv->shrink_watch = shrink_watch_start(srv, 1000);
    return 0;
}

void http_quiesce(struct server *srv, unsigned timeout_ms)
{
    for (size_t i = 0; i < srv->ndaemons; i++) {
        MHD_socket s = MHD_quiesce_daemon(srv->daemons[i]);
        if (s != MHD_INVALID_SOCKET)
            close(s);
    }
    http_wait_idle(srv, timeout_ms);
}

bool http_wait_idle(struct server *srv, unsigned timeout_ms)
{
    /* A deadline on the clock: counting sleeps would stretch the limit on a
     * loaded machine, where each usleep oversleeps. */
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += timeout_ms / 1000;
    end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    while (atomic_load(&srv->active_requests) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            return false;
        usleep(20000);
    }
    return true;
}

size_t http_answer_waiting(struct server *srv)
{
    size_t n = 0;
    atomic_store(&srv->stopping, true);
    pthread_mutex_lock(&srv->conns_lock);
    for (struct conn *c = srv->conns; c; c = c->next) {
        struct request *r = atomic_load(&c->current);
        /* Takes a request waiting for a plug-in's completion away from it:
         * the completion, whenever it comes, drives nothing (lifecycle.h). */
        if (!r || !lc_abandon(&r->lc))
            continue;
        /* A delayed 401 (throttle timer) is already the answer; anything
         * else is still deciding: nothing of it may reach the client. */
        if (!lc_answered(&r->lc)) {
            for (size_t i = 0; i < r->nheaders; i++) {
                free(r->headers[i].name);
                free(r->headers[i].value);
            }
            r->nheaders = 0;
            request_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
            finish_status(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "The server is shutting down; try again shortly.");
        }
        if (r->response && !r->response_shared)
            MHD_add_response_header(r->response, MHD_HTTP_HEADER_CONNECTION, "close");
        lc_abandon_finish(&r->lc);
        n++;
    }
    pthread_mutex_unlock(&srv->conns_lock);
    return n;
}

void http_free_orphans(struct server *srv)
{
    pthread_mutex_lock(&srv->conns_lock);
    struct conn *conns = srv->orphan_conns;
    struct request *reqs = srv->orphan_requests;
    srv->orphan_conns = NULL;
    srv->orphan_requests = NULL;
    pthread_mutex_unlock(&srv->conns_lock);
    while (conns) {
        struct conn *c = conns;
        conns = c->next;
        conn_reset(c);
        free(c);
    }
    /* Dropping the last reference shuts the plug-ins down, which may still
     * complete the calls: every request stays alive until all are dropped. */
    for (struct request *r = reqs; r; r = r->orphan_next) {
        struct gen *g = r->gen;
        r->gen = NULL;
        gen_unref(g);
    }
    while (reqs) {
        struct request *r = reqs;
        reqs = r->orphan_next;
        request_final_free(r);
    }
}

void http_stop(struct server *srv)
{
    shrink_watch_stop(srv->shrink_watch);
    srv->shrink_watch = NULL;
    for (size_t i = 0; i < srv->ndaemons; i++)
        MHD_stop_daemon(srv->daemons[i]);
    free(srv->daemons);
    srv->daemons = NULL;
    srv->ndaemons = 0;
    free(srv->tls_cert_pem);
    free(srv->tls_key_pem);
    srv->tls_cert_pem = srv->tls_key_pem = NULL;
}
