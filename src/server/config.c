/* Reading guised's INI configuration with libinih. */
#include "server/config.h"

#include "core/props_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <guise/events.h>
#include <ini.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct parse_state {
    struct guise_config *c;
    const char *name;
    const char *text; /* memory parsing: next unread byte */
    int line;         /* line the handler is looking at */
    char *err;
    size_t errsz;
    bool failed;
    /* the section being read */
    enum { SEC_NONE, SEC_SERVER, SEC_PLUGIN, SEC_POINT } kind;
    size_t index;
    char section[256];
    int section_line;
    bool have_key; /* a key was read in this section (libinih's multi-line rule) */
};

static void fail(struct parse_state *st, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct parse_state *st, const char *key, const char *fmt, ...)
{
    if (st->failed)
        return;
    st->failed = true;
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (key)
        snprintf(st->err, st->errsz, "%s:%d: key '%s': %s", st->name, st->line, key, why);
    else
        snprintf(st->err, st->errsz, "%s:%d: %s", st->name, st->line, why);
}

static void enter_section(struct parse_state *st, const char *section);

/* Section headers are taken here rather than from libinih's handler, which
 * Debian's build calls for keys only: an empty section is checked too, errors
 * name the header's line, and a name is not cut at libinih's 50-byte section
 * buffer. An indented "[" after a key is a continuation line for libinih. */
static void header_line(struct parse_state *st, const char *line)
{
    const char *s = line + strspn(line, " \t");
    if (*s != '[' || (s != line && st->have_key))
        return;
    const char *end = strchr(s + 1, ']');
    if (!end) /* libinih reports the syntax error */
        return;
    char section[256];
    snprintf(section, sizeof section, "%.*s", (int)(end - s - 1), s + 1);
    st->have_key = false;
    enter_section(st, section);
}

/* libinih reads through this so that we know the line of every key: the
 * library build in Debian does not pass line numbers to the handler. */
static char *reader(char *buf, int size, void *stream)
{
    struct parse_state *st = stream;
    if (!*st->text)
        return NULL;
    int i = 0;
    while (i < size - 1 && st->text[i] && st->text[i] != '\n')
        i++;
    if (i < size - 1 && st->text[i] == '\n')
        i++;
    memcpy(buf, st->text, (size_t)i);
    buf[i] = '\0';
    st->text += i;
    st->line++;
    if (i == size - 1 && buf[i - 1] != '\n' && *st->text) {
        /* The rest of an over-long line would be read as a line of its own. */
        fail(st, NULL, "line longer than %d characters", size - 2);
        st->text += strlen(st->text);
        return NULL;
    }
    if (!st->failed)
        header_line(st, buf);
    return buf;
}

static int list_parse(struct cfg_list *l, const char *value, int line)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
    l->set = true;
    l->line = line;
    char *copy = strdup(value), *save = NULL;
    if (!copy)
        return -1;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        char **v = realloc(l->v, (l->n + 1) * sizeof *v);
        if (!v || !(v[l->n] = strdup(t))) {
            free(v ? v : l->v);
            free(copy);
            l->v = NULL;
            l->n = 0;
            return -1;
        }
        l->v = v;
        l->n++;
    }
    free(copy);
    return 0;
}

static void list_free(struct cfg_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_listen(const char *v, struct cfg_listen *out)
{
    char host[64];
    const char *port;
    memset(out, 0, sizeof *out);
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || close[1] != ':' || (size_t)(close - v - 1) >= sizeof host)
            return -1;
        memcpy(host, v + 1, (size_t)(close - v - 1));
        host[close - v - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(v, ':');
        if (!colon || (size_t)(colon - v) >= sizeof host || strchr(v, ':') != colon)
            return -1;
        memcpy(host, v, (size_t)(colon - v));
        host[colon - v] = '\0';
        port = colon + 1;
    }
    unsigned long p;
    if (!parse_ulong(port, 1, 65535, &p))
        return -1;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->addr;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p);
        out->addrlen = sizeof *in4;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        out->addrlen = sizeof *in6;
    } else {
        return -1;
    }
    snprintf(out->text, sizeof out->text, "%s", v);
    return 0;
}

static int set_string(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst ? 0 : -1;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    return ss->ss_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* The admin interface listens on a Unix socket (peer credentials decide) or,
 * for browsers, on a loopback TCP address; never on the network. */
static void admin_listen_key(struct parse_state *st, const char *k, const char *v)
{
    struct guise_config *c = st->c;
    c->admin_tcp = false;
    c->admin_listen_line = st->line;
    if (v[0] == '/') {
        if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return fail(st, k, "socket path '%s' is too long", v);
    } else if (strcmp(v, "none") != 0) {
        if (parse_listen(v, &c->admin_addr) != 0)
            return fail(st, k, "'%s' is not a socket path, none, or ADDRESS:PORT", v);
        if (!is_loopback(&c->admin_addr.addr))
            return fail(st, k, "'%s' is not a loopback address (127.0.0.0/8 or [::1])", v);
        c->admin_addr.line = st->line;
        c->admin_tcp = true;
    }
    set_string(&c->admin_listen, v);
}

static void server_key(struct parse_state *st, const char *k, const char *v)
{
    struct guise_config *c = st->c;
    unsigned long n;
    if (!strcmp(k, "listen")) {
        struct cfg_listen l;
        if (parse_listen(v, &l) != 0)
            return fail(st, k, "'%s' is not ADDRESS:PORT (IPv6 as [::1]:8080)", v);
        l.line = st->line;
        struct cfg_listen *nl = realloc(c->listen, (c->nlisten + 1) * sizeof *nl);
        if (!nl)
            return fail(st, k, "out of memory");
        nl[c->nlisten++] = l;
        c->listen = nl;
    } else if (!strcmp(k, "tls-certificate")) {
        set_string(&c->tls_cert, v);
    } else if (!strcmp(k, "tls-key")) {
        set_string(&c->tls_key, v);
    } else if (!strcmp(k, "workers")) {
        if (!parse_ulong(v, 1, 1024, &n))
            return fail(st, k, "'%s' is not a number from 1 to 1024", v);
        c->workers = (unsigned)n;
    } else if (!strcmp(k, "io-threads")) {
        if (!parse_ulong(v, 1, 256, &n))
            return fail(st, k, "'%s' is not a number from 1 to 256", v);
        c->io_threads = (unsigned)n;
    } else if (!strcmp(k, "impersonation")) {
        if (!guise_imp_mode_parse(v, &c->impersonation))
            return fail(st, k, "'%s' is not one of auto, io_uring, syscalls, off", v);
        c->impersonation_line = st->line;
    } else if (!strcmp(k, "min-uid")) {
        if (!parse_ulong(v, 1, 4294967294UL, &n))
            return fail(st, k, "'%s' is not a uid from 1 to 4294967294", v);
        c->min_uid = n;
    } else if (!strcmp(k, "allow-accounts")) {
        list_parse(&c->allow_accounts, v, st->line);
    } else if (!strcmp(k, "token-ttl")) {
        if (!parse_ulong(v, 1, 86400, &n))
            return fail(st, k, "'%s' is not a number of seconds (1-86400)", v);
        c->token_ttl = (unsigned)n;
    } else if (!strcmp(k, "authentication")) {
        list_parse(&c->authn, v, st->line);
    } else if (!strcmp(k, "authorization")) {
        list_parse(&c->authz, v, st->line);
    } else if (!strcmp(k, "load")) {
        struct cfg_list one = {0};
        list_parse(&one, v, st->line);
        for (size_t i = 0; i < one.n; i++) {
            char **nv = realloc(c->modules.v, (c->modules.n + 1) * sizeof *nv);
            if (!nv)
                break;
            c->modules.v = nv;
            c->modules.v[c->modules.n++] = one.v[i];
            one.v[i] = NULL;
        }
        c->modules.set = true;
        list_free(&one);
    } else if (!strcmp(k, "access-log")) {
        set_string(&c->access_log, v);
    } else if (!strcmp(k, "event-log")) {
        if (!strcmp(v, "journal"))
            c->event_sink = GUISE_SINK_JOURNAL;
        else if (!strcmp(v, "stderr"))
            c->event_sink = GUISE_SINK_STDERR;
        else
            return fail(st, k, "'%s' is not journal or stderr", v);
    } else if (!strcmp(k, "realm")) {
        if (!*v || strchr(v, '"') || strchr(v, '\\'))
            return fail(st, k, "must be non-empty without quotes or backslashes");
        set_string(&c->realm, v);
    } else if (!strcmp(k, "state-directory")) {
        set_string(&c->state_dir, v);
    } else if (!strcmp(k, "max-connections")) {
        if (!parse_ulong(v, 1, 1000000, &n))
            return fail(st, k, "'%s' is not a number from 1 to 1000000", v);
        c->max_connections = (unsigned)n;
    } else if (!strcmp(k, "max-connections-per-ip")) {
        if (!parse_ulong(v, 0, 1000000, &n))
            return fail(st, k, "'%s' is not a number from 0 (no limit) to 1000000", v);
        c->max_connections_per_ip = (unsigned)n;
    } else if (!strcmp(k, "idle-timeout")) {
        if (!parse_ulong(v, 1, 86400, &n))
            return fail(st, k, "'%s' is not a number of seconds from 1 to 86400", v);
        c->idle_timeout = (unsigned)n;
    } else if (!strcmp(k, "shutdown-timeout")) {
        if (!parse_ulong(v, 1, 3600, &n))
            return fail(st, k, "'%s' is not a number of seconds from 1 to 3600", v);
        c->shutdown_timeout = (unsigned)n;
    } else if (!strcmp(k, "max-header-size")) {
        if (!parse_ulong(v, 1024, 1048576, &n))
            return fail(st, k, "'%s' is not a size from 1024 to 1048576 bytes", v);
        c->max_header_size = n;
    } else if (!strcmp(k, "max-uri-length")) {
        if (!parse_ulong(v, 64, 65536, &n))
            return fail(st, k, "'%s' is not a length from 64 to 65536", v);
        c->max_uri_length = n;
    } else if (!strcmp(k, "content-cache-ttl")) {
        if (!parse_ulong(v, 0, 60000, &n))
            return fail(st, k, "'%s' is not a number of milliseconds from 0 (no cache) to 60000",
                        v);
        c->content_cache_ttl_ms = (unsigned)n;
    } else if (!strcmp(k, "content-cache-entries")) {
        if (!parse_ulong(v, 16, 65536, &n))
            return fail(st, k, "'%s' is not a number of entries from 16 to 65536", v);
        c->content_cache_entries = (unsigned)n;
    } else if (!strcmp(k, "auth-failure-delay")) {
        if (!parse_ulong(v, 0, 10000, &n))
            return fail(st, k, "'%s' is not a number of milliseconds from 0 to 10000", v);
        c->fail_delay_ms = (unsigned)n;
    } else if (!strcmp(k, "auth-lockout-failures")) {
        if (!parse_ulong(v, 0, 100000, &n))
            return fail(st, k, "'%s' is not a number from 0 (never) to 100000", v);
        c->lockout_after = (unsigned)n;
    } else if (!strcmp(k, "auth-lockout-time")) {
        if (!parse_ulong(v, 1, 86400, &n))
            return fail(st, k, "'%s' is not a number of seconds from 1 to 86400", v);
        c->lockout_seconds = (unsigned)n;
    } else if (!strcmp(k, "admin-listen")) {
        admin_listen_key(st, k, v);
    } else if (!strcmp(k, "admin-state")) {
        if (v[0] != '/')
            return fail(st, k, "'%s' is not an absolute path", v);
        set_string(&c->admin_state, v);
    } else if (!strcmp(k, "admin-group")) {
        if (!*v)
            return fail(st, k, "must not be empty");
        set_string(&c->admin_group, v);
        c->admin_group_set = true;
    } else {
        fail(st, k, "unknown key in [server]");
    }
}

static void point_key(struct parse_state *st, const char *k, const char *v)
{
    struct cfg_point *p = &st->c->points[st->index];
    if (!strcmp(k, "path")) {
        if (v[0] != '/')
            return fail(st, k, "'%s' is not an absolute path", v);
        set_string(&p->path, v);
        p->path_line = st->line;
    } else if (!strcmp(k, "authentication")) {
        list_parse(&p->authn, v, st->line);
    } else if (!strcmp(k, "authorization")) {
        list_parse(&p->authz, v, st->line);
    } else if (!strcmp(k, "read") || !strcmp(k, "write")) {
        if (guise_props_add(p->acl, k, v, st->line) != 0)
            fail(st, k, "out of memory");
    } else {
        fail(st, k, "unknown key in [publishing-point \"%s\"]", p->name);
    }
}

/* Splits `plugin "digest"` into kind and name. */
static bool split_section(const char *section, char *kind, size_t kindsz, char *name, size_t namesz)
{
    const char *q = strchr(section, '"');
    if (!q) {
        size_t len = strlen(section);
        if (len >= kindsz)
            return false;
        memcpy(kind, section, len + 1);
        name[0] = '\0';
        return true;
    }
    size_t klen = (size_t)(q - section);
    while (klen && section[klen - 1] == ' ')
        klen--;
    const char *end = strchr(q + 1, '"');
    if (!end || end[1] != '\0' || klen >= kindsz || (size_t)(end - q - 1) >= namesz || end == q + 1)
        return false;
    memcpy(kind, section, klen);
    kind[klen] = '\0';
    memcpy(name, q + 1, (size_t)(end - q - 1));
    name[end - q - 1] = '\0';
    return true;
}

static bool valid_point_name(const char *n)
{
    if (!*n || strlen(n) > 64 || !strcmp(n, ".") || !strcmp(n, ".."))
        return false;
    for (const char *c = n; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return false;
    return true;
}

static void enter_section(struct parse_state *st, const char *section)
{
    struct guise_config *c = st->c;
    char kind[64], name[128];
    snprintf(st->section, sizeof st->section, "%s", section);
    st->section_line = st->line;
    if (!split_section(section, kind, sizeof kind, name, sizeof name))
        return fail(st, NULL, "bad section header [%s]", section);
    if (!strcmp(kind, "server") && !name[0]) {
        st->kind = SEC_SERVER;
    } else if (!strcmp(kind, "plugin") && name[0]) {
        if (guise_config_plugin(c, name))
            return fail(st, NULL, "section [plugin \"%s\"] appears twice", name);
        struct cfg_plugin *v = realloc(c->plugins, (c->nplugins + 1) * sizeof *v);
        if (!v)
            return fail(st, NULL, "out of memory");
        c->plugins = v;
        v[c->nplugins] = (struct cfg_plugin){strdup(name), guise_props_new(c->file), st->line};
        st->kind = SEC_PLUGIN;
        st->index = c->nplugins++;
    } else if (!strcmp(kind, "publishing-point") && name[0]) {
        if (!valid_point_name(name))
            return fail(st, NULL, "publishing point name '%s' may only use A-Z a-z 0-9 - _ .",
                        name);
        if (guise_config_point(c, name))
            return fail(st, NULL, "section [publishing-point \"%s\"] appears twice", name);
        struct cfg_point *v = realloc(c->points, (c->npoints + 1) * sizeof *v);
        if (!v)
            return fail(st, NULL, "out of memory");
        c->points = v;
        v[c->npoints] = (struct cfg_point){.name = strdup(name), .line = st->line};
        v[c->npoints].acl = guise_props_new(c->file);
        st->kind = SEC_POINT;
        st->index = c->npoints++;
    } else {
        fail(st, NULL,
             "unknown section [%s] (expected [server], [plugin \"NAME\"] or "
             "[publishing-point \"NAME\"])",
             section);
    }
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    if (st->failed)
        return 0;
    if (!name) /* a section header on its own (INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    if (st->kind == SEC_NONE) {
        fail(st, name, "key outside of any section");
        return 0;
    }
    st->have_key = true;
    switch (st->kind) {
    case SEC_SERVER:
        server_key(st, name, value);
        break;
    case SEC_PLUGIN:
        if (guise_props_add(st->c->plugins[st->index].props, name, value, st->line) != 0)
            fail(st, name, "out of memory");
        break;
    case SEC_POINT:
        point_key(st, name, value);
        break;
    case SEC_NONE:
        break;
    }
    return st->failed ? 0 : 1;
}

static bool list_has(const struct cfg_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return true;
    return false;
}

static bool validate(struct parse_state *st)
{
    struct guise_config *c = st->c;
    if (c->nlisten == 0) {
        snprintf(st->err, st->errsz, "%s: [server]: key 'listen' is required (ADDRESS:PORT)",
                 st->name);
        return false;
    }
    if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
        st->line = 0;
        snprintf(st->err, st->errsz, "%s: tls-certificate and tls-key must be given together",
                 st->name);
        return false;
    }
    for (size_t i = 0; i < c->npoints; i++) {
        if (!c->points[i].path) {
            snprintf(st->err, st->errsz, "%s:%d: [publishing-point \"%s\"]: key 'path' is required",
                     st->name, c->points[i].line, c->points[i].name);
            return false;
        }
        for (size_t j = 0; j < c->points[i].authn.n; j++)
            for (size_t k = j + 1; k < c->points[i].authn.n; k++)
                if (!strcmp(c->points[i].authn.v[j], c->points[i].authn.v[k])) {
                    snprintf(st->err, st->errsz,
                             "%s:%d: key 'authentication': '%s' is listed twice", st->name,
                             c->points[i].authn.line, c->points[i].authn.v[j]);
                    return false;
                }
        if (guise_props_size(c->points[i].acl) && !list_has(&c->points[i].authz, "pp-acl")) {
            int line = guise_props_line(c->points[i].acl, "read");
            if (!line)
                line = guise_props_line(c->points[i].acl, "write");
            snprintf(st->err, st->errsz,
                     "%s:%d: key 'read'/'write': publishing point '%s' sets an ACL but its "
                     "authorization list does not include pp-acl",
                     st->name, line, c->points[i].name);
            return false;
        }
    }
    return true;
}

static void set_defaults(struct guise_config *c)
{
    c->workers = 4;
    c->io_threads = 0; /* 0: one per CPU */
    c->impersonation = GUISE_IMP_AUTO;
    c->min_uid = 1000;
    c->token_ttl = 60;
    c->event_sink = GUISE_SINK_STDERR;
    c->max_connections = 10000;
    c->max_connections_per_ip = 0;
    c->idle_timeout = 60;
    c->shutdown_timeout = 10;
    c->content_cache_ttl_ms = 1000;
    c->content_cache_entries = 256;
    c->max_header_size = 8192;
    c->max_uri_length = 4096;
    c->fail_delay_ms = 250;
    c->lockout_after = 10;
    c->lockout_seconds = 60;
}

static struct guise_config *parse_text(const char *name, const char *text, char *err, size_t errsz)
{
    struct guise_config *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errsz, "%s: out of memory", name);
        return NULL;
    }
    set_defaults(c);
    c->file = strdup(name);
    struct parse_state st = {.c = c, .name = name, .text = text, .err = err, .errsz = errsz};
    int rc = ini_parse_stream(reader, &st, handler, &st);
    if (rc != 0 && !st.failed) {
        /* libinih's own syntax errors: rc is the line */
        st.line = rc > 0 ? rc : st.line;
        fail(&st, NULL, "syntax error (expected key = value or [section])");
    }
    if (!st.failed && !validate(&st))
        st.failed = true;
    if (st.failed) {
        guise_config_free(c);
        return NULL;
    }
    return c;
}

struct guise_config *guise_config_parse(const char *name, const char *text, char *err, size_t errsz)
{
    return parse_text(name, text, err, errsz);
}

static char *read_file(const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            if (cap > (8u << 20)) {
                snprintf(err, errsz, "%s: larger than 8 MiB", path);
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf)
        buf[len] = '\0';
    else if (!err[0])
        snprintf(err, errsz, "%s: out of memory", path);
    if (buf && memchr(buf, '\0', len)) {
        snprintf(err, errsz, "%s: contains a NUL byte", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

struct guise_config *guise_config_load(const char *path, char *err, size_t errsz)
{
    err[0] = '\0';
    char *text = read_file(path, err, errsz);
    if (!text)
        return NULL;
    struct guise_config *c = parse_text(path, text, err, errsz);
    free(text);
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->npoints; i++) {
        struct cfg_point *p = &c->points[i];
        struct stat sb;
        if (stat(p->path, &sb) != 0 || !(S_ISDIR(sb.st_mode) || S_ISREG(sb.st_mode))) {
            snprintf(err, errsz, "%s:%d: key 'path': %s: %s", path, p->path_line, p->path,
                     errno ? strerror(errno) : "not a directory or regular file");
            guise_config_free(c);
            return NULL;
        }
        p->is_dir = S_ISDIR(sb.st_mode);
    }
    /* The admin group is resolved once here: a missing group configured
     * explicitly is an error; the default one may be absent (root only). */
    struct group gr, *grp = NULL;
    char grbuf[16384];
    const char *gname = c->admin_group ? c->admin_group : "guise-admin";
    if (getgrnam_r(gname, &gr, grbuf, sizeof grbuf, &grp) == 0 && grp) {
        c->admin_gid = grp->gr_gid;
        c->admin_gid_valid = true;
    } else if (c->admin_group_set) {
        snprintf(err, errsz, "%s: key 'admin-group': no such group '%s'", path, gname);
        guise_config_free(c);
        return NULL;
    }
    const char *files[2] = {c->tls_cert, c->tls_key};
    const char *keys[2] = {"tls-certificate", "tls-key"};
    for (int i = 0; i < 2; i++)
        if (files[i] && access(files[i], R_OK) != 0) {
            snprintf(err, errsz, "%s: key '%s': %s: %s", path, keys[i], files[i], strerror(errno));
            guise_config_free(c);
            return NULL;
        }
    return c;
}

void guise_config_free(struct guise_config *c)
{
    if (!c)
        return;
    free(c->file);
    free(c->listen);
    free(c->tls_cert);
    free(c->tls_key);
    list_free(&c->allow_accounts);
    list_free(&c->authn);
    list_free(&c->authz);
    list_free(&c->modules);
    free(c->access_log);
    free(c->realm);
    free(c->state_dir);
    free(c->admin_listen);
    free(c->admin_group);
    free(c->admin_state);
    for (size_t i = 0; i < c->nplugins; i++) {
        free(c->plugins[i].name);
        guise_props_free(c->plugins[i].props);
    }
    free(c->plugins);
    for (size_t i = 0; i < c->npoints; i++) {
        free(c->points[i].name);
        free(c->points[i].path);
        list_free(&c->points[i].authn);
        list_free(&c->points[i].authz);
        guise_props_free(c->points[i].acl);
    }
    free(c->points);
    free(c);
}

const struct cfg_plugin *guise_config_plugin(const struct guise_config *c, const char *name)
{
    for (size_t i = 0; i < c->nplugins; i++)
        if (!strcmp(c->plugins[i].name, name))
            return &c->plugins[i];
    return NULL;
}

const struct cfg_point *guise_config_point(const struct guise_config *c, const char *name)
{
    for (size_t i = 0; i < c->npoints; i++)
        if (!strcmp(c->points[i].name, name))
            return &c->points[i];
    return NULL;
}
