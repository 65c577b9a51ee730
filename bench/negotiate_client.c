/* Load generator for bench/negotiate.sh: Kerberos handshakes over HTTP.
 *
 * Each of THREADS threads, for SECONDS seconds, again and again: builds a
 * fresh SPNEGO/Kerberos initial token with gss_init_sec_context (a new
 * AP-REQ with its own authenticator, from the service ticket in the
 * KRB5CCNAME cache), opens a new TCP connection, sends
 *   GET PATH with Authorization: Negotiate <token> and Connection: close,
 * and reads the answer to the end. A 200 counts as a handshake done.
 * Prints, in the format of bench/lib.sh's wrk_run:
 *   BENCH <handshakes> 0 <microseconds> <socket errors> <non-200 answers>
 *
 *   negotiate_client HOST PORT PATH SECONDS THREADS [anonymous]
 *
 * With `anonymous` the token is built all the same (the client's work stays
 * the same) but the request goes without Authorization: the reference run
 * against a server serving the file anonymously.
 * The client does not verify the server's mutual-authentication token: that
 * costs the client, not the server being measured. Built by negotiate.sh with
 * `cc -O2 -pthread ... -lgssapi_krb5`; not part of the Meson build. */
#include <errno.h>
#include <gssapi/gssapi.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host, *port, *path;
static double seconds;
static int send_token = 1;
static struct addrinfo *server;
static atomic_long done, errors, non200;
static atomic_int gss_failures_reported;

/* SPNEGO, as browsers and curl send it. */
static gss_OID_desc spnego_oid = {6, (void *)"\x2b\x06\x01\x05\x05\x02"};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

static void report_gss(const char *what, OM_uint32 major, OM_uint32 minor)
{
    if (atomic_fetch_add(&gss_failures_reported, 1) > 0)
        return;
    OM_uint32 ctx = 0, m;
    gss_buffer_desc msg;
    gss_display_status(&m, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx, &msg);
    fprintf(stderr, "negotiate_client: %s: %.*s", what, (int)msg.length, (char *)msg.value);
    gss_release_buffer(&m, &msg);
    ctx = 0;
    gss_display_status(&m, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx, &msg);
    fprintf(stderr, " (%.*s)\n", (int)msg.length, (char *)msg.value);
    gss_release_buffer(&m, &msg);
}

/* One handshake on a new connection; returns 0 for a 200. */
static int one(gss_name_t target, char *req, size_t reqcap)
{
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor;
    OM_uint32 major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, target, &spnego_oid,
                                           GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                           GSS_C_NO_BUFFER, NULL, &out, NULL, NULL);
    if (GSS_ERROR(major)) {
        report_gss("gss_init_sec_context", major, minor);
        atomic_fetch_add(&errors, 1);
        return -1;
    }
    char *b64 = malloc(out.length * 4 / 3 + 8);
    if (!b64)
        abort();
    base64(out.value, out.length, b64);
    int n =
        snprintf(req, reqcap, "GET %s HTTP/1.1\r\nHost: %s:%s\r\n%s%s%sConnection: close\r\n\r\n",
                 path, host, port, send_token ? "Authorization: Negotiate " : "",
                 send_token ? b64 : "", send_token ? "\r\n" : "");
    free(b64);
    gss_release_buffer(&minor, &out);
    gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
    if (n < 0 || (size_t)n >= reqcap) {
        atomic_fetch_add(&errors, 1);
        return -1;
    }

    int fd = socket(server->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, server->ai_addr, server->ai_addrlen) != 0 ||
        send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        if (fd >= 0)
            close(fd);
        atomic_fetch_add(&errors, 1);
        return -1;
    }
    char buf[4096], head[16];
    size_t got = 0;
    ssize_t r;
    while ((r = recv(fd, buf, sizeof buf, 0)) > 0) {
        size_t k = (size_t)r < sizeof head - 1 - got ? (size_t)r : sizeof head - 1 - got;
        memcpy(head + got, buf, k);
        got += k;
    }
    close(fd);
    head[got] = '\0';
    if (r < 0 || got < 12) {
        atomic_fetch_add(&errors, 1);
        return -1;
    }
    if (strncmp(head + 8, " 200", 4) != 0) {
        atomic_fetch_add(&non200, 1);
        return -1;
    }
    atomic_fetch_add(&done, 1);
    return 0;
}

static void *worker(void *arg)
{
    double end = *(const double *)arg;
    OM_uint32 minor;
    char name[300];
    snprintf(name, sizeof name, "HTTP@%s", host);
    gss_buffer_desc nb = {strlen(name), name};
    gss_name_t target;
    if (GSS_ERROR(gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &target))) {
        atomic_fetch_add(&errors, 1);
        return NULL;
    }
    /* A request buffer per thread: the token of a ticket with a PAC can
     * take several KiB. */
    char *req = malloc(16384);
    if (!req)
        abort();
    while (now() < end)
        one(target, req, 16384);
    free(req);
    gss_release_name(&minor, &target);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[6], "anonymous") == 0)
        send_token = 0;
    else if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT PATH SECONDS THREADS [anonymous]\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = argv[2];
    path = argv[3];
    seconds = atof(argv[4]);
    int threads = atoi(argv[5]);
    if (seconds <= 0 || threads < 1 || threads > 256) {
        fprintf(stderr, "negotiate_client: bad SECONDS or THREADS\n");
        return 2;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    int rc = getaddrinfo(host, port, &hints, &server);
    if (rc != 0) {
        fprintf(stderr, "negotiate_client: %s: %s\n", host, gai_strerror(rc));
        return 1;
    }
    pthread_t tid[256];
    double start = now(), end = start + seconds;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&tid[i], NULL, worker, &end) != 0) {
            fprintf(stderr, "negotiate_client: pthread_create: %s\n", strerror(errno));
            return 1;
        }
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    double elapsed = now() - start;
    printf("BENCH %ld 0 %.0f %ld %ld\n", atomic_load(&done), elapsed * 1e6, atomic_load(&errors),
           atomic_load(&non200));
    freeaddrinfo(server);
    return 0;
}
