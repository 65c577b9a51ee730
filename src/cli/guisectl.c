/* guisectl: the command-line client of guised's admin API.
 *
 * It speaks HTTP with libcurl: over the admin Unix socket
 * (CURLOPT_UNIX_SOCKET_PATH; Debian has no other maintained library for
 * HTTP over AF_UNIX, and a hand-written HTTP client would be one more parser
 * to get right), or over TCP to an `admin-listen = ADDRESS:PORT` listener,
 * where libcurl answers whichever challenge the server scope offers
 * (Negotiate with the Kerberos ticket cache, Digest, NTLM, Basic over
 * HTTPS). Answers are JSON (jansson); guisectl prints them as tables, or as
 * they came with --json. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

enum {
    EXIT_OK = 0,
    EXIT_SERVER = 1,
    EXIT_USAGE = 2,
    EXIT_CONNECT = 3,
    EXIT_DENIED = 4,
};

static const char *sock_path = "/run/guise/admin.sock";
static bool json_out = false;
/* TCP: the admin listener's base URL, and how to authenticate there. */
static const char *base_url = NULL;
static const char *user_arg = NULL; /* NAME or NAME:PASSWORD */
static bool negotiate = false;
static const char *cacert = NULL;
static char *password = NULL; /* from the prompt or GUISECTL_PASSWORD */

static void usage(FILE *f)
{
    fprintf(f, "Usage: guisectl [-s SOCKET | -U URL [-u USER | -n]] [--json] COMMAND [ARGS]\n"
               "Administers a running guised through its admin socket or admin listener.\n"
               "\n"
               "Commands:\n"
               "  status                         server state and counters\n"
               "  plugins                        plug-in instances, states, last errors\n"
               "  plugins enable NAME            enable a plug-in instance\n"
               "  plugins disable NAME           disable a plug-in instance\n"
               "  plugins order SCOPE NAME...    set the authentication order of a scope\n"
               "                                 (SCOPE: server or a publishing point)\n"
               "  plugins set NAME KEY=VALUE     set a property (the configuration is reloaded)\n"
               "  plugins unset NAME KEY         drop a property set with 'set': the\n"
               "                                 configuration file's value applies again\n"
               "  points                         publishing points (LIVE: broadcast state)\n"
               "  points disconnect NAME         cut the publisher of broadcast point NAME\n"
               "  reenable [POINT]               leave the critical-error state (default: the\n"
               "                                 server scope)\n"
               "  clients                        connected clients\n"
               "  clients kill ID                disconnect a client\n"
               "  diagnostics [--clear]          the troubleshooting list, newest first\n"
               "  reload                         reload the configuration\n"
               "  metrics                        the Prometheus metrics\n"
               "\n"
               "Options:\n"
               "  -s, --socket PATH   admin socket (default /run/guise/admin.sock)\n"
               "  -U, --url URL       talk to a TCP admin listener instead, for example\n"
               "                      http://127.0.0.1:8081 (admin-listen = ADDRESS:PORT)\n"
               "  -u, --user NAME[:PASSWORD]\n"
               "                      log on as NAME (Digest, NTLM, or Basic over https);\n"
               "                      without :PASSWORD it comes from GUISECTL_PASSWORD\n"
               "                      or a prompt\n"
               "  -n, --negotiate     log on with the Kerberos ticket cache (kinit)\n"
               "      --cacert FILE   CA certificate(s) for an https URL\n"
               "  -j, --json          print the server's JSON answer as is\n"
               "  -h, --help          this help\n"
               "\n"
               "Exit status: 0 success, 1 the server refused or failed the request,\n"
               "2 usage error, 3 cannot connect to the server, 4 access denied.\n");
}

/* ---- HTTP over the Unix socket ---- */

struct buf {
    char *data;
    size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t add = size * n;
    char *d = realloc(b->data, b->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, add);
    b->len += add;
    d[b->len] = '\0';
    b->data = d;
    return add;
}

/* Performs one request; returns the HTTP status (0 when the server cannot
 * be reached, with the reason printed). *body gets the answer. */
static long request(const char *method, const char *path, const char *body, struct buf *out)
{
    CURL *c = curl_easy_init();
    if (!c) {
        fprintf(stderr, "guisectl: cannot initialise libcurl\n");
        return 0;
    }
    char url[1024];
    if (base_url)
        snprintf(url, sizeof url, "%s%s", base_url, path);
    else
        snprintf(url, sizeof url, "http://localhost%s", path);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-Guise-Admin: 1");
    if (body)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (!base_url)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock_path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (base_url && negotiate) {
        /* The name comes from the ticket: libcurl wants an empty user. */
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_NEGOTIATE);
        curl_easy_setopt(c, CURLOPT_USERPWD, ":");
    } else if (base_url && user_arg) {
        /* The strongest scheme the server offers; Basic only over TLS, where
         * guised offers it at all. */
        long schemes = !strncmp(base_url, "https:", 6) ? CURLAUTH_ANY : CURLAUTH_ANYSAFE;
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, schemes);
        curl_easy_setopt(c, CURLOPT_USERPWD, user_arg);
    }
    if (cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    long status = 0;
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fprintf(stderr,
                "guisectl: cannot talk to guised at %s: %s\n"
                "guisectl: is guised running, and is this its admin-listen %s?\n",
                base_url ? base_url : sock_path, errbuf[0] ? errbuf : curl_easy_strerror(rc),
                base_url ? "address" : "socket");
    else
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return status;
}

/* Runs a request and handles failures; returns the parsed JSON answer or
 * NULL with *code set to the exit status. raw: the body is not JSON. */
static json_t *call(const char *method, const char *path, const char *body, int *code,
                    struct buf *raw)
{
    struct buf b = {0};
    long status = request(method, path, body, &b);
    if (status == 0) {
        *code = EXIT_CONNECT;
        free(b.data);
        return NULL;
    }
    json_error_t je;
    json_t *v = b.data ? json_loadb(b.data, b.len, 0, &je) : NULL;
    if (status >= 200 && status < 300) {
        *code = EXIT_OK;
        if (raw) {
            *raw = b;
            json_decref(v);
            return json_true();
        }
        if (json_out && b.data)
            fputs(b.data, stdout), fputc('\n', stdout);
        free(b.data);
        if (!v) {
            fprintf(stderr, "guisectl: the server's answer is not JSON\n");
            *code = EXIT_SERVER;
        }
        return v;
    }
    const char *msg = json_string_value(json_object_get(json_object_get(v, "error"), "message"));
    const char *ecode = json_string_value(json_object_get(json_object_get(v, "error"), "code"));
    if (json_out && b.data)
        fputs(b.data, stdout), fputc('\n', stdout);
    if (status == 401 || status == 403) {
        fprintf(stderr, "guisectl: access denied: %s\n%s\n", msg ? msg : "refused",
                !base_url ? "guisectl: run as root or as a member of guised's admin-group"
                : status == 401
                    ? "guisectl: log on with --user NAME or --negotiate (a user of the server "
                      "scope's authentication plug-ins)"
                    : "guisectl: the account is not root nor a member of guised's admin-group");
        *code = EXIT_DENIED;
    } else {
        fprintf(stderr, "guisectl: %s %s failed (%ld %s): %s\n", method, path, status,
                ecode ? ecode : "error", msg ? msg : (b.data ? b.data : ""));
        *code = EXIT_SERVER;
    }
    free(b.data);
    json_decref(v);
    return NULL;
}

/* ---- tables ---- */

#define MAXCOLS 8

struct table {
    size_t ncols, nrows;
    char **cells; /* nrows * ncols */
};

static void table_row(struct table *t, ...)
{
    va_list ap;
    va_start(ap, t);
    char **c = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *c);
    if (!c) {
        va_end(ap);
        return;
    }
    t->cells = c;
    for (size_t i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        c[t->nrows * t->ncols + i] = strdup(s ? s : "");
    }
    t->nrows++;
    va_end(ap);
}

static void table_print(struct table *t)
{
    size_t w[MAXCOLS] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t l = strlen(t->cells[r * t->ncols + i]);
            if (l > w[i])
                w[i] = l;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * t->ncols + i];
            if (i + 1 == t->ncols)
                printf("%s\n", s);
            else
                printf("%-*s  ", (int)w[i], s);
            free(t->cells[r * t->ncols + i]);
        }
    }
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
}

/* Joins the strings of a JSON array with ", " (static buffer per call site). */
static const char *join(json_t *a, char *buf, size_t sz)
{
    buf[0] = '\0';
    size_t i;
    json_t *v;
    size_t off = 0;
    json_array_foreach(a, i, v)
    {
        int n = snprintf(buf + off, sz - off, "%s%s", i ? ", " : "",
                         json_is_string(v) ? json_string_value(v) : "?");
        if (n < 0 || (size_t)n >= sz - off)
            break;
        off += (size_t)n;
    }
    return buf;
}

static const char *counts(json_t *o, char *buf, size_t sz)
{
    buf[0] = '\0';
    size_t off = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        int n = snprintf(buf + off, sz - off, "%s%s:%lld", off ? " " : "", k,
                         (long long)json_integer_value(v));
        if (n < 0 || (size_t)n >= sz - off)
            break;
        off += (size_t)n;
    }
    return off ? buf : "-";
}

static const char *num(json_t *v, char *buf, size_t sz)
{
    snprintf(buf, sz, "%lld", (long long)json_integer_value(v));
    return buf;
}

/* ---- commands ---- */

static int cmd_status(void)
{
    int code;
    json_t *v = call("GET", "/api/server", NULL, &code, NULL);
    if (!v || json_out) {
        json_decref(v);
        return code;
    }
    char a[1024], b[1024], c[64], d[64], e[1024];
    json_t *cnt = json_object_get(v, "counters");
    json_t *scope = json_object_get(v, "scope");
    printf("guised %s, up %s s, configuration %s\n",
           json_string_value(json_object_get(v, "version")),
           num(json_object_get(v, "uptime_seconds"), c, sizeof c),
           json_string_value(json_object_get(v, "config_file")));
    printf("impersonation:       %s\n", json_string_value(json_object_get(v, "impersonation")));
    printf("critical-error:      %s\n",
           json_is_true(json_object_get(v, "critical"))
               ? join(json_object_get(v, "critical_scopes"), e, sizeof e)
               : "no");
    printf("server scope:        authentication %s; authorization %s\n",
           join(json_object_get(scope, "authentication"), a, sizeof a),
           join(json_object_get(scope, "authorization"), b, sizeof b));
    printf("requests:            %s\n", counts(json_object_get(cnt, "requests"), e, sizeof e));
    printf("bytes sent:          %s\n", num(json_object_get(cnt, "bytes_sent"), c, sizeof c));
    printf("open connections:    %s\n", num(json_object_get(cnt, "open_connections"), d, sizeof d));
    json_decref(v);
    return EXIT_OK;
}

static int cmd_plugins_list(void)
{
    int code;
    json_t *v = call("GET", "/api/plugins", NULL, &code, NULL);
    if (!v || json_out) {
        json_decref(v);
        return code;
    }
    struct table t = {.ncols = 6};
    table_row(&t, "NAME", "KIND", "PROTOCOL", "STATE", "ORDER", "LAST ERROR");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(v, "plugins"), i, p)
    {
        char order[512] = "";
        size_t off = 0, j;
        json_t *o;
        json_array_foreach(json_object_get(p, "order"), j, o)
        {
            int n = snprintf(order + off, sizeof order - off, "%s%s#%lld", j ? "," : "",
                             json_string_value(json_object_get(o, "scope")),
                             (long long)json_integer_value(json_object_get(o, "position")));
            if (n < 0 || (size_t)n >= sizeof order - off)
                break;
            off += (size_t)n;
        }
        json_t *le = json_object_get(p, "last_error");
        char err[700] = "";
        if (json_is_object(le))
            snprintf(err, sizeof err, "%s: %s", json_string_value(json_object_get(le, "name")),
                     json_string_value(json_object_get(le, "message")));
        table_row(&t, json_string_value(json_object_get(p, "name")),
                  json_string_value(json_object_get(p, "kind")),
                  json_is_string(json_object_get(p, "protocol"))
                      ? json_string_value(json_object_get(p, "protocol"))
                      : "-",
                  json_string_value(json_object_get(p, "state")), off ? order : "-",
                  err[0] ? err : "-");
    }
    table_print(&t);
    json_decref(v);
    return EXIT_OK;
}

/* Prints "ok" for a successful action (or its JSON). */
static int action(const char *method, const char *path, const char *body, const char *done)
{
    int code;
    json_t *v = call(method, path, body, &code, NULL);
    if (v && !json_out)
        printf("%s\n", done);
    json_decref(v);
    return code;
}

/* Path segments are names from the configuration; escape them anyway. */
static char *esc(const char *s)
{
    CURL *c = curl_easy_init();
    char *e = c ? curl_easy_escape(c, s, 0) : NULL;
    char *r = e ? strdup(e) : NULL;
    curl_free(e);
    if (c)
        curl_easy_cleanup(c);
    if (!r) {
        fprintf(stderr, "guisectl: out of memory\n");
        exit(EXIT_SERVER);
    }
    return r;
}

static int cmd_plugins(int argc, char **argv)
{
    if (argc == 0 || (argc == 1 && !strcmp(argv[0], "list")))
        return cmd_plugins_list();
    char path[1024], msg[512];
    if ((!strcmp(argv[0], "enable") || !strcmp(argv[0], "disable")) && argc == 2) {
        char *n = esc(argv[1]);
        snprintf(path, sizeof path, "/api/plugins/%s/%s", n, argv[0]);
        snprintf(msg, sizeof msg, "plug-in %s %sd", argv[1], argv[0]);
        free(n);
        return action("POST", path, NULL, msg);
    }
    if (!strcmp(argv[0], "order") && argc >= 3) {
        json_t *names = json_array();
        for (int i = 2; i < argc; i++)
            json_array_append_new(names, json_string(argv[i]));
        json_t *b = json_pack("{s:o}", "order", names);
        char *body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        if (!strcmp(argv[1], "server")) {
            snprintf(path, sizeof path, "/api/server/authentication");
        } else {
            char *n = esc(argv[1]);
            snprintf(path, sizeof path, "/api/points/%s/authentication", n);
            free(n);
        }
        snprintf(msg, sizeof msg, "authentication order of %s set", argv[1]);
        int rc = action("PUT", path, body, msg);
        free(body);
        return rc;
    }
    if (!strcmp(argv[0], "set") && argc == 3) {
        const char *eq = strchr(argv[2], '=');
        if (!eq || eq == argv[2]) {
            fprintf(stderr, "guisectl: expected KEY=VALUE, not '%s'\n", argv[2]);
            return EXIT_USAGE;
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - argv[2]), argv[2]);
        json_t *b = json_pack("{s:s}", "value", eq + 1);
        char *body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        char *n = esc(argv[1]), *k = esc(key);
        snprintf(path, sizeof path, "/api/plugins/%s/properties/%s", n, k);
        free(n);
        free(k);
        snprintf(msg, sizeof msg, "property %s of %s set; configuration reloaded", key, argv[1]);
        int rc = action("PUT", path, body, msg);
        free(body);
        return rc;
    }
    if (!strcmp(argv[0], "unset") && argc == 3) {
        char *n = esc(argv[1]), *k = esc(argv[2]);
        snprintf(path, sizeof path, "/api/plugins/%s/properties/%s", n, k);
        free(n);
        free(k);
        snprintf(msg, sizeof msg, "property %s of %s reset; configuration reloaded", argv[2],
                 argv[1]);
        return action("DELETE", path, NULL, msg);
    }
    usage(stderr);
    return EXIT_USAGE;
}

static int cmd_points(void)
{
    int code;
    json_t *v = call("GET", "/api/points", NULL, &code, NULL);
    if (!v || json_out) {
        json_decref(v);
        return code;
    }
    /* The LIVE column only when there are broadcast points (table_row
     * reads ncols values). */
    size_t i;
    json_t *p;
    bool any_live = false;
    json_array_foreach(json_object_get(v, "points"), i, p)
    {
        if (json_object_get(p, "live"))
            any_live = true;
    }
    struct table t = {.ncols = any_live ? 7 : 6};
    table_row(&t, "NAME", "PATH", "AUTHENTICATION", "AUTHORIZATION", "STATE", "REQUESTS", "LIVE");
    json_array_foreach(json_object_get(v, "points"), i, p)
    {
        char a[512], z[512], r[512], l[512] = "-";
        json_t *live = json_object_get(p, "live");
        if (live) {
            json_t *pub = json_object_get(live, "publisher");
            snprintf(l, sizeof l, "%s%s%s%s%s, %lld listener(s)",
                     json_string_value(json_object_get(live, "state")), pub ? " " : "",
                     pub ? json_string_value(json_object_get(pub, "user")) : "", pub ? " as " : "",
                     pub ? json_string_value(json_object_get(pub, "account")) : "",
                     (long long)json_integer_value(json_object_get(live, "listeners")));
        }
        table_row(&t, json_string_value(json_object_get(p, "name")),
                  json_string_value(json_object_get(p, "path")),
                  join(json_object_get(p, "authentication"), a, sizeof a),
                  join(json_object_get(p, "authorization"), z, sizeof z),
                  json_string_value(json_object_get(p, "state")),
                  counts(json_object_get(json_object_get(p, "counters"), "requests"), r, sizeof r),
                  l);
    }
    table_print(&t);
    json_decref(v);
    return EXIT_OK;
}

static int cmd_clients(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[0], "kill")) {
        char *end;
        errno = 0;
        strtoull(argv[1], &end, 10);
        if (errno || *end || !argv[1][0]) {
            fprintf(stderr, "guisectl: '%s' is not a client id\n", argv[1]);
            return EXIT_USAGE;
        }
        char path[256], msg[256];
        snprintf(path, sizeof path, "/api/clients/%s", argv[1]);
        snprintf(msg, sizeof msg, "client %s disconnected", argv[1]);
        return action("DELETE", path, NULL, msg);
    }
    if (argc != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int code;
    json_t *v = call("GET", "/api/clients", NULL, &code, NULL);
    if (!v || json_out) {
        json_decref(v);
        return code;
    }
    struct table t = {.ncols = 7};
    table_row(&t, "ID", "ADDRESS", "USER", "ACCOUNT", "POINT", "BYTES", "SINCE");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "clients"), i, c)
    {
        char id[32], bytes[32];
        const char *u = json_string_value(json_object_get(c, "user"));
        const char *a = json_string_value(json_object_get(c, "account"));
        const char *p = json_string_value(json_object_get(c, "point"));
        table_row(&t, num(json_object_get(c, "id"), id, sizeof id),
                  json_string_value(json_object_get(c, "address")), u ? u : "-", a ? a : "-",
                  p ? p : "-", num(json_object_get(c, "bytes"), bytes, sizeof bytes),
                  json_string_value(json_object_get(c, "since")));
    }
    table_print(&t);
    json_decref(v);
    return EXIT_OK;
}

static int cmd_diagnostics(int argc, char **argv)
{
    if (argc == 1 && !strcmp(argv[0], "--clear"))
        return action("DELETE", "/api/diagnostics", NULL, "diagnostics cleared");
    if (argc != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int code;
    json_t *v = call("GET", "/api/diagnostics", NULL, &code, NULL);
    if (!v || json_out) {
        json_decref(v);
        return code;
    }
    struct table t = {.ncols = 5};
    table_row(&t, "TIME", "LEVEL", "SOURCE", "RESULT", "MESSAGE");
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(v, "diagnostics"), i, d)
    {
        table_row(&t, json_string_value(json_object_get(d, "time")),
                  json_string_value(json_object_get(d, "level")),
                  json_string_value(json_object_get(d, "source")),
                  json_string_value(json_object_get(json_object_get(d, "result"), "name")),
                  json_string_value(json_object_get(d, "message")));
    }
    table_print(&t);
    json_decref(v);
    return EXIT_OK;
}

static int cmd_metrics(void)
{
    int code;
    struct buf raw = {0};
    json_t *v = call("GET", "/metrics", NULL, &code, &raw);
    if (v && raw.data)
        fputs(raw.data, stdout);
    free(raw.data);
    json_decref(v);
    return code;
}

/* Reads a line from the terminal without echo (the password prompt). */
static char *read_secret(const char *prompt)
{
    FILE *tty = fopen("/dev/tty", "r+e");
    if (!tty)
        return NULL;
    struct termios old, quiet;
    int fd = fileno(tty);
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    fputs(prompt, tty);
    fflush(tty);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, tty);
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* --url: an http(s) URL without a path; --user gets its password. */
static int check_url_and_credentials(void)
{
    if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0) {
        fprintf(stderr, "guisectl: --url must start with http:// or https://\n");
        return -1;
    }
    size_t n = strlen(base_url);
    while (n > 8 && base_url[n - 1] == '/')
        n--;
    static char trimmed[512];
    if (n >= sizeof trimmed) {
        fprintf(stderr, "guisectl: --url is too long\n");
        return -1;
    }
    memcpy(trimmed, base_url, n);
    trimmed[n] = '\0';
    base_url = trimmed;
    if (user_arg && negotiate) {
        fprintf(stderr, "guisectl: --user and --negotiate exclude each other\n");
        return -1;
    }
    if (!user_arg || strchr(user_arg, ':'))
        return 0;
    const char *env = getenv("GUISECTL_PASSWORD");
    char *secret = env ? strdup(env) : NULL;
    if (!env) {
        char prompt[300];
        snprintf(prompt, sizeof prompt, "Password for %.200s: ", user_arg);
        secret = read_secret(prompt);
        if (!secret) {
            fprintf(stderr, "guisectl: no password: set GUISECTL_PASSWORD or run on a terminal\n");
            return -1;
        }
    }
    if (!secret)
        return -1;
    size_t len = strlen(user_arg) + strlen(secret) + 2;
    password = malloc(len);
    if (!password) {
        free(secret);
        return -1;
    }
    snprintf(password, len, "%s:%s", user_arg, secret);
    explicit_bzero(secret, strlen(secret));
    free(secret);
    user_arg = password;
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_CACERT = 256 };
    static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
                                             {"url", required_argument, NULL, 'U'},
                                             {"user", required_argument, NULL, 'u'},
                                             {"negotiate", no_argument, NULL, 'n'},
                                             {"cacert", required_argument, NULL, OPT_CACERT},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    /* "+": options end at the command, whose own arguments (--clear) follow. */
    while ((opt = getopt_long(argc, argv, "+s:U:u:njh", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            sock_path = optarg;
            break;
        case 'U':
            base_url = optarg;
            break;
        case 'u':
            user_arg = optarg;
            break;
        case 'n':
            negotiate = true;
            break;
        case OPT_CACERT:
            cacert = optarg;
            break;
        case 'j':
            json_out = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (base_url && check_url_and_credentials() != 0)
        return EXIT_USAGE;
    if (!base_url && (user_arg || negotiate || cacert)) {
        fprintf(stderr, "guisectl: --user, --negotiate and --cacert go with --url\n");
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    /* --json may also follow the command. */
    for (int i = 0; i < nargs; i++)
        if (!strcmp(args[i], "--json") || !strcmp(args[i], "-j")) {
            json_out = true;
            memmove(&args[i], &args[i + 1], (size_t)(nargs - i - 1) * sizeof *args);
            nargs--;
            i--;
        }
    if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
        fprintf(stderr, "guisectl: cannot initialise libcurl\n");
        return EXIT_SERVER;
    }
    int rc;
    if (!strcmp(cmd, "status") && nargs == 0)
        rc = cmd_status();
    else if (!strcmp(cmd, "plugins"))
        rc = cmd_plugins(nargs, args);
    else if (!strcmp(cmd, "points") && nargs == 0)
        rc = cmd_points();
    else if (!strcmp(cmd, "points") && nargs == 2 && !strcmp(args[0], "reenable")) {
        char *n = esc(args[1]), path[512], msg[512];
        snprintf(path, sizeof path, "/api/points/%s/reenable", n);
        snprintf(msg, sizeof msg, "publishing point %s re-enabled", args[1]);
        free(n);
        rc = action("POST", path, NULL, msg);
    } else if (!strcmp(cmd, "points") && nargs == 2 && !strcmp(args[0], "disconnect")) {
        char *n = esc(args[1]), path[512], msg[512];
        snprintf(path, sizeof path, "/api/points/%s/disconnect-publisher", n);
        snprintf(msg, sizeof msg, "publisher of %s disconnected", args[1]);
        free(n);
        rc = action("POST", path, NULL, msg);
    } else if (!strcmp(cmd, "reenable") && nargs <= 1) {
        char path[512], msg[512];
        if (nargs == 0) {
            snprintf(path, sizeof path, "/api/server/reenable");
            snprintf(msg, sizeof msg, "server scope re-enabled");
        } else {
            char *n = esc(args[0]);
            snprintf(path, sizeof path, "/api/points/%s/reenable", n);
            snprintf(msg, sizeof msg, "publishing point %s re-enabled", args[0]);
            free(n);
        }
        rc = action("POST", path, NULL, msg);
    } else if (!strcmp(cmd, "clients"))
        rc = cmd_clients(nargs, args);
    else if (!strcmp(cmd, "diagnostics"))
        rc = cmd_diagnostics(nargs, args);
    else if (!strcmp(cmd, "reload") && nargs == 0)
        rc = action("POST", "/api/reload", NULL, "configuration reloaded");
    else if (!strcmp(cmd, "metrics") && nargs == 0)
        rc = cmd_metrics();
    else {
        usage(stderr);
        rc = EXIT_USAGE;
    }
    curl_global_cleanup();
    if (password) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    return rc;
}
