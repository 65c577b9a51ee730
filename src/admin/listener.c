/* The admin listener: its own libmicrohttpd daemon on a Unix socket (peer
 * credentials, checked once at accept, decide who may administer) or a
 * loopback TCP address (the authentication front on the server scope
 * decides). A small thread pool polling with epoll, like the content
 * daemons: any number of descriptors, no thread per connection, and a
 * request waiting for a plug-in suspends its connection instead of holding
 * a thread. */
#include "admin/admin_internal.h"
#include "server/server_query.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/guise/admin.sock"
#define MAX_BODY       65536
#define ADMIN_THREADS  2
/* Unix peers that may not administer: each gets its 403 and at most one
 * second of idleness; beyond this many open at once they are closed at
 * accept, so they can never take the slots an administrator needs. */
#define MAX_REFUSED_PEERS 8

void areq_add_header(struct areq *q, const char *name, const char *value)
{
    struct header_kv *v = realloc(q->headers, (q->nheaders + 1) * sizeof *v);
    if (!v)
        return;
    q->headers = v;
    v[q->nheaders].name = strdup(name);
    v[q->nheaders].value = strdup(value);
    if (v[q->nheaders].name && v[q->nheaders].value)
        q->nheaders++;
    else {
        free(v[q->nheaders].name);
        free(v[q->nheaders].value);
    }
}

static void notify_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    struct admin *a = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct aconn *c = calloc(1, sizeof *c);
        *socket_context = c;
        if (!c || a->tcp)
            return;
        const union MHD_ConnectionInfo *fi =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        int fd = fi ? fi->connect_fd : -1;
        auth_unix_peer(a, fd, c);
        if (c->peer == PEER_REFUSED) {
            int n = atomic_fetch_add(&a->refused_peers, 1) + 1;
            MHD_set_connection_option(mc, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
            if (n > MAX_REFUSED_PEERS && fd >= 0)
                shutdown(fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes */
        }
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        struct aconn *c = *socket_context;
        if (c->peer == PEER_REFUSED)
            atomic_fetch_sub(&a->refused_peers, 1);
        authn_conn_reset(&c->auth);
        free(c);
        *socket_context = NULL;
    }
}

static void *request_new(void *cls, const char *target, struct MHD_Connection *mc)
{
    struct areq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->a = cls;
    q->mc = mc;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    q->conn = ci ? ci->socket_context : NULL;
    q->target = strdup(target ? target : "");
    if (!q->target) {
        free(q);
        return NULL;
    }
    lc_init(&q->lc, mc);
    return q;
}

static void request_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct areq *q = *con_cls;
    if (!q)
        return;
    for (size_t i = 0; i < q->nheaders; i++) {
        free(q->headers[i].name);
        free(q->headers[i].value);
    }
    free(q->headers);
    struct gen *g = q->authn.gen;
    authn_cleanup(&q->authn);
    gen_unref(g);
    free(q->rep.body);
    lc_destroy(&q->lc);
    free(q->body);
    free(q->target);
    free(q);
    *con_cls = NULL;
}

static void client_address(struct areq *q)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(q->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, q->client_ip,
                  sizeof q->client_ip);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, q->client_ip,
                  sizeof q->client_ip);
    else
        snprintf(q->client_ip, sizeof q->client_ip, "unix");
}

static enum MHD_Result send_reply(struct areq *q, struct areply *rep)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
    rep->body = NULL; /* the response owns it, or it was freed */
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rep->content_type ? rep->content_type
                                              : "application/json; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'");
    for (size_t i = 0; i < q->nheaders; i++)
        MHD_add_response_header(resp, q->headers[i].name, q->headers[i].value);
    if (q->conn && q->conn->peer == PEER_REFUSED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result r = MHD_queue_response(q->mc, rep->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Browsers send credentials they cached to any site's requests to the
 * admin address: a change must carry a header a cross-site form cannot set. */
static bool csrf_ok(struct areq *q)
{
    if (!q->a->tcp || !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD"))
        return true;
    return MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, "X-Guise-Admin") != NULL;
}

static void delay_elapsed(void *arg)
{
    struct areq *q = arg;
    if (lc_completed(&q->lc, LC_DELAYED))
        lc_drive_release(&q->lc);
}

/* Runs the request from the end of its body until it is answered or waits
 * for the authentication front (see admin_internal.h). */
static void admin_drive(struct areq *q)
{
    for (;;) {
        switch (lc_phase(&q->lc)) {
        case LC_ROUTED:
            lc_set(&q->lc, LC_AUTHN);
            if (!q->a->tcp) {
                lc_set(&q->lc, LC_AUTHN_RESULT);
                break;
            }
            if (!auth_tcp_start(q))
                return; /* the completion resumes the connection */
            break;
        case LC_AUTHN_RESULT:
        case LC_AUTHZ_RESULT: {
            enum admin_verdict v = q->a->tcp
                                       ? auth_tcp_result(q)
                                       : (auth_unix_request(q) ? ADMIN_ALLOWED : ADMIN_REFUSED);
            if (v == ADMIN_WAIT)
                return;
            if (v == ADMIN_REFUSED) {
                lc_answer(&q->lc);
                break;
            }
            if (lc_phase(&q->lc) == LC_AUTHN_RESULT)
                lc_set(&q->lc, LC_AUTHZ);
            lc_set(&q->lc, LC_CONTENT);
            break;
        }
        case LC_CONTENT:
            if (!csrf_ok(q))
                reply_error(&q->rep, MHD_HTTP_FORBIDDEN, "missing_header",
                            "changes over TCP need the X-Guise-Admin header");
            else if (q->too_big)
                reply_error(&q->rep, 413, "too_large", "request bodies are limited to %d bytes",
                            MAX_BODY);
            else
                api_handle(q, &q->rep);
            lc_answer(&q->lc);
            break;
        case LC_ANSWER:
            /* A refusal after failures waits its delay on the timer thread,
             * like the content server's. */
            lc_call_begin(&q->lc);
            if (!q->authn.delay_ms ||
                server_delay(q->a->srv, q->authn.delay_ms, delay_elapsed, q) != 0) {
                lc_call_abandon(&q->lc);
                lc_set(&q->lc, LC_DELAYED);
                break;
            }
            if (!lc_await(&q->lc))
                return; /* the timer resumes the connection */
            break;
        case LC_DELAYED:
            lc_drive_end(&q->lc);
            return;
        default:
            abort();
        }
    }
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    struct areq *q = *con_cls;
    if (!q)
        return MHD_NO;
    if (lc_phase(&q->lc) == LC_RECEIVED) {
        q->method = method;
        q->url = url;
        client_address(q);
        lc_set(&q->lc, LC_ROUTED);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (q->len + *upload_data_size > MAX_BODY) {
            q->too_big = true;
        } else {
            char *b = realloc(q->body, q->len + *upload_data_size + 1);
            if (!b)
                return MHD_NO;
            memcpy(b + q->len, upload_data, *upload_data_size);
            q->body = b;
            q->len += *upload_data_size;
            q->body[q->len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    enum lc_phase ph = lc_phase(&q->lc);
    if (ph == LC_ROUTED || ph == LC_AUTHN_RESULT || ph == LC_AUTHZ_RESULT || ph == LC_DELAYED) {
        /* The body is in (or a completion resumed the connection): drive
         * on this, the listener's own thread. */
        lc_drive_begin(&q->lc);
        admin_drive(q);
    }
    if (!lc_ready(&q->lc))
        return MHD_YES;
    return send_reply(q, &q->rep);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct admin *a = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    guise_eventlog_write(server_eventlog(a->srv), GUISE_EVENT_INFORMATION, "admin",
                         ADMIN_EV_LISTENER, GUISE_S_OK, "%s", msg);
}

/* Creates, binds and listens on the Unix socket. A socket file nobody
 * answers on is a leftover of a crash and is replaced; one that answers
 * belongs to a running server and is left alone (EADDRINUSE). */
static int unix_listen(struct admin *a, const char *path, char *why, size_t whysz)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    char dir[sizeof sun.sun_path];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            snprintf(why, whysz, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
    }
    struct stat sb;
    if (lstat(path, &sb) == 0) {
        if (!S_ISSOCK(sb.st_mode)) {
            snprintf(why, whysz, "%s exists and is not a socket", path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc = probe >= 0 ? connect(probe, (struct sockaddr *)&sun, sizeof sun) : -1;
        /* Only ECONNREFUSED says nobody listens: a socket the server's own
         * account may not connect to (EACCES: another server's, made by
         * root) is somebody else's, and is left alone. */
        int err = rc == 0 ? 0 : errno;
        if (probe >= 0)
            close(probe);
        if (rc == 0 || err != ECONNREFUSED) {
            errno = EADDRINUSE;
            snprintf(why, whysz, "%s is in use by another server%s%s", path,
                     rc == 0 ? "" : " (cannot connect to it: ", rc == 0 ? "" : strerror(err));
            if (rc != 0)
                snprintf(why + strlen(why), whysz - strlen(why), ")");
            return -1;
        }
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(why, whysz, "socket: %s", strerror(errno));
        return -1;
    }
    /* Anyone may connect: the peer's credentials decide, so that a refused
     * user gets a clear 403 (and the refusal is logged) rather than EACCES. */
    mode_t old = umask(0);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    umask(old);
    if (rc != 0 || chmod(path, 0666) != 0 || listen(fd, 64) != 0 || lstat(path, &sb) != 0) {
        snprintf(why, whysz, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    a->sock_path = strdup(path);
    a->sock_dev = sb.st_dev;
    a->sock_ino = sb.st_ino;
    return fd;
}

int admin_start(struct server *srv, const struct guise_config *cfg, struct admin **out, char *err,
                size_t errsz)
{
    *out = NULL;
    if (cfg->admin_listen && !strcmp(cfg->admin_listen, "none"))
        return 0;
    struct admin *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    a->srv = srv;
    a->tcp = cfg->admin_tcp;
    pthread_mutex_init(&a->state_lock, NULL);
    const char *path = cfg->admin_listen ? cfg->admin_listen : DEFAULT_SOCKET;
    char why[512] = "";
    int fd = -1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (!a->tcp) {
        fd = unix_listen(a, path, why, sizeof why);
        if (fd < 0) {
            free(a->sock_path);
            free(a);
            if (!cfg->admin_listen) {
                /* Several servers on one machine (tests, staging): only the
                 * first gets the default socket; the others run without. */
                guise_eventlog_write(server_eventlog(srv), GUISE_EVENT_INFORMATION, "admin",
                                     ADMIN_EV_LISTENER, GUISE_S_OK,
                                     "admin interface not started: %s", why);
                return 0;
            }
            snprintf(err, errsz, "%s:%d: key 'admin-listen': %s", cfg->file, cfg->admin_listen_line,
                     why);
            return -1;
        }
    } else if (cfg->admin_addr.addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, a},
        {a->tcp ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_LISTEN_SOCKET, a->tcp ? 0 : fd,
         a->tcp ? (void *)&cfg->admin_addr.addr : NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, ADMIN_THREADS, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 64, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, a},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)request_new, a},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_connection, a},
        {MHD_OPTION_END, 0, NULL},
    };
    a->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, handler, a, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!a->daemon) {
        snprintf(err, errsz, "%s:%d: key 'admin-listen': cannot listen on %s (%s)", cfg->file,
                 cfg->admin_listen_line, path, errno ? strerror(errno) : "libmicrohttpd refused");
        if (fd >= 0)
            close(fd);
        if (a->sock_path)
            unlink(a->sock_path);
        free(a->sock_path);
        free(a);
        return -1;
    }
    *out = a;
    guise_eventlog_write(server_eventlog(srv), GUISE_EVENT_INFORMATION, "admin", ADMIN_EV_LISTENER,
                         GUISE_S_OK, "admin interface on %s", path);
    return 0;
}

void admin_stop(struct admin *a)
{
    if (!a)
        return;
    MHD_stop_daemon(a->daemon);
    if (a->sock_path) {
        /* Only our own socket: another server may have replaced it. */
        struct stat sb;
        if (lstat(a->sock_path, &sb) == 0 && sb.st_dev == a->sock_dev && sb.st_ino == a->sock_ino)
            unlink(a->sock_path);
        free(a->sock_path);
    }
    pthread_mutex_destroy(&a->state_lock);
    free(a);
}
