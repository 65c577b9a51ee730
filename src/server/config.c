/* Reading guised's INI configuration with libinih. */
#include "server/config.h"

#include <guise/host_props.h>
#include "server/config_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <guise/events.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <grp.h>
#include <pwd.h>
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
    bool have_key;       /* a key was read in this section (libinih's multi-line rule) */
    guise_props *server; /* the [server] keys, parsed by server_keys at the end */
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
    char *end;
    errno = 0;
    unsigned long p = (*port >= '0' && *port <= '9') ? strtoul(port, &end, 10) : 0;
    if (p < 1 || p > 65535 || errno || *end)
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
    char *copy = strdup(v);
    if (!copy)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

static int oom(char *why, size_t whysz)
{
    snprintf(why, whysz, "out of memory");
    return -1;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    return ss->ss_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* ---- [server]: the keys that need more than a type ---- */

/* The address clients use (a proxy's, say): the M3U index names its entries
 * with it instead of the request's Host header. */
static int key_public_url(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    const char *rest = !strncmp(v, "https://", 8)  ? v + 8
                       : !strncmp(v, "http://", 7) ? v + 7
                                                   : NULL;
    if (!rest || !*rest || *rest == '/') {
        snprintf(why, whysz, "'%s' is not http://HOST[:PORT][/PATH] or https://...", v);
        return -1;
    }
    for (const unsigned char *q = (const unsigned char *)v; *q; q++)
        if (*q <= ' ' || *q >= 0x7f || *q == '"' || *q == '<' || *q == '>' || *q == '\\' ||
            *q == '?' || *q == '#') {
            snprintf(why, whysz, "'%s' may not contain spaces, quotes, ?, # or control characters",
                     v);
            return -1;
        }
    if (set_string(&c->public_url, v))
        return oom(why, whysz);
    size_t n = strlen(c->public_url);
    while (n && c->public_url[n - 1] == '/')
        c->public_url[--n] = '\0';
    return 0;
}

static int key_listen(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    struct cfg_listen l;
    if (parse_listen(v, &l) != 0) {
        snprintf(why, whysz, "'%s' is not ADDRESS:PORT (IPv6 as [::1]:8080)", v);
        return -1;
    }
    l.line = line;
    struct cfg_listen *nl = realloc(c->listen, (c->nlisten + 1) * sizeof *nl);
    if (!nl)
        return oom(why, whysz);
    nl[c->nlisten++] = l;
    c->listen = nl;
    return 0;
}

static int key_impersonation(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    if (!guise_imp_mode_parse(v, &c->impersonation)) {
        snprintf(why, whysz, "'%s' is not one of auto, io_uring, syscalls, off", v);
        return -1;
    }
    return 0;
}

/* uid 0 is never impersonated: naming root here is a mistake to report,
 * not a wish to honour silently (guise_config_load also refuses any name
 * that resolves to uid 0). */
static int key_allow_accounts(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    if (cfg_list_parse(&c->allow_accounts, v, line, false) != 0)
        return oom(why, whysz);
    for (size_t i = 0; i < c->allow_accounts.n; i++)
        if (!strcmp(c->allow_accounts.v[i], "root") || !strcmp(c->allow_accounts.v[i], "0")) {
            snprintf(why, whysz, "'%s' is uid 0, which is never impersonated",
                     c->allow_accounts.v[i]);
            return -1;
        }
    return 0;
}

/* Group 0 is never handed to a token: listing it is a mistake to report. */
static int key_allow_groups(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    cfg_list_free(&c->allow_groups);
    if (cfg_list_parse(&c->allow_groups, v, line, false) != 0)
        return oom(why, whysz);
    for (size_t i = 0; i < c->allow_groups.n; i++)
        if (!strcmp(c->allow_groups.v[i], "root") || !strcmp(c->allow_groups.v[i], "0")) {
            snprintf(why, whysz, "'%s' is gid 0, which is never handed to a token",
                     c->allow_groups.v[i]);
            return -1;
        }
    return 0;
}

static int key_event_log(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    if (!strcmp(v, "journal"))
        c->event_sink = GUISE_SINK_JOURNAL;
    else if (!strcmp(v, "stderr"))
        c->event_sink = GUISE_SINK_STDERR;
    else {
        snprintf(why, whysz, "'%s' is not journal or stderr", v);
        return -1;
    }
    return 0;
}

static int key_realm(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    if (!*v || strchr(v, '"') || strchr(v, '\\')) {
        snprintf(why, whysz, "must be non-empty without quotes or backslashes");
        return -1;
    }
    return set_string(&c->realm, v) ? oom(why, whysz) : 0;
}

/* The admin interface listens on a Unix socket (peer credentials decide) or,
 * for browsers, on a loopback TCP address; never on the network. */
static int key_admin_listen(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    c->admin_tcp = false;
    if (v[0] == '/') {
        if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(why, whysz, "socket path '%s' is too long", v);
            return -1;
        }
    } else if (strcmp(v, "none") != 0) {
        if (parse_listen(v, &c->admin_addr) != 0) {
            snprintf(why, whysz, "'%s' is not a socket path, none, or ADDRESS:PORT", v);
            return -1;
        }
        if (!is_loopback(&c->admin_addr.addr)) {
            snprintf(why, whysz, "'%s' is not a loopback address (127.0.0.0/8 or [::1])", v);
            return -1;
        }
        c->admin_addr.line = line;
        c->admin_tcp = true;
    }
    return set_string(&c->admin_listen, v) ? oom(why, whysz) : 0;
}

static int key_admin_group(void *section, const char *v, int line, char *why, size_t whysz)
{
    struct guise_config *c = section;
    if (!*v) {
        snprintf(why, whysz, "must not be empty");
        return -1;
    }
    c->admin_group_set = true;
    return set_string(&c->admin_group, v) ? oom(why, whysz) : 0;
}

#define SRV(member)             offsetof(struct guise_config, member)
#define N(member, lo, hi, what) CFG_UINT, 0, SRV(member), lo, hi, what
/* [server]: every key, its type and range. */
static const struct cfg_key server_keys[] = {
    {"listen", CFG_CUSTOM, GUISE_PROP_REPEATABLE, 0, 0, 0, NULL, NULL, key_listen, 0},
    {"tls-certificate", CFG_STRING, CFG_NONEMPTY, SRV(tls_cert), 0, 0, NULL, NULL, NULL, 0},
    {"tls-key", CFG_STRING, CFG_NONEMPTY, SRV(tls_key), 0, 0, NULL, NULL, NULL, 0},
    {"workers", N(workers, 1, 1024, "a number from 1 to 1024")},
    {"io-threads", N(io_threads, 1, 256, "a number from 1 to 256")},
    {"impersonation", CFG_CUSTOM, 0, 0, 0, 0, NULL, NULL, key_impersonation,
     CFG_LINE_AT(struct guise_config, impersonation_line)},
    {"min-uid", CFG_ULONG, 0, SRV(min_uid), 1, 4294967294UL, "a uid from 1 to 4294967294", NULL,
     NULL, 0},
    {"allow-accounts", CFG_CUSTOM, 0, 0, 0, 0, NULL, NULL, key_allow_accounts, 0},
    {"token-ttl", N(token_ttl, 1, 86400, "a number of seconds (1-86400)")},
    /* the privilege keys: docs/SECURITY.md */
    {"min-gid", CFG_ULONG, 0, SRV(min_gid), 1, 4294967294UL, "a gid from 1 to 4294967294", NULL,
     NULL, 0},
    {"allow-groups", CFG_CUSTOM, 0, 0, 0, 0, NULL, NULL, key_allow_groups, 0},
    {"server-account", CFG_STRING, CFG_NONEMPTY, SRV(server_account), 0, 0, NULL, NULL, NULL,
     CFG_LINE_AT(struct guise_config, server_account_line)},
    {"authentication", CFG_LIST, 0, SRV(authn), 0, 0, NULL, NULL, NULL, 0},
    {"authorization", CFG_LIST, 0, SRV(authz), 0, 0, NULL, NULL, NULL, 0},
    {"load", CFG_LIST_APPEND, GUISE_PROP_REPEATABLE, SRV(modules), 0, 0, NULL, NULL, NULL, 0},
    {"access-log", CFG_STRING, CFG_NONEMPTY, SRV(access_log), 0, 0, NULL, NULL, NULL, 0},
    {"event-log", CFG_CUSTOM, 0, 0, 0, 0, NULL, NULL, key_event_log, 0},
    {"realm", CFG_CUSTOM, 0, 0, 0, 0, NULL, NULL, key_realm, 0},
    {"state-directory", CFG_ABSPATH, 0, SRV(state_dir), 0, 0, NULL, NULL, NULL, 0},
    {"assets-dir", CFG_ABSPATH, 0, SRV(assets_dir), 0, 0, NULL, NULL, NULL, 0},
    {"public-url", CFG_CUSTOM, 0, 0, 0, 0, NULL, NULL, key_public_url, 0},
    {"max-connections", N(max_connections, 1, 1000000, "a number from 1 to 1000000")},
    {"max-connections-per-ip",
     N(max_connections_per_ip, 0, 1000000, "a number from 0 (no limit) to 1000000")},
    {"idle-timeout", N(idle_timeout, 1, 86400, "a number of seconds from 1 to 86400")},
    {"shutdown-timeout", N(shutdown_timeout, 1, 3600, "a number of seconds from 1 to 3600")},
    {"max-header-size", CFG_ULONG, 0, SRV(max_header_size), 1024, 1048576,
     "a size from 1024 to 1048576 bytes", NULL, NULL, 0},
    {"max-uri-length", CFG_ULONG, 0, SRV(max_uri_length), 64, 65536, "a length from 64 to 65536",
     NULL, NULL, 0},
    {"content-cache-ttl",
     N(content_cache_ttl_ms, 0, 60000, "a number of milliseconds from 0 (no cache) to 60000")},
    {"content-cache-entries",
     N(content_cache_entries, 16, 65536, "a number of entries from 16 to 65536")},
    {"auth-failure-delay", N(fail_delay_ms, 0, 10000, "a number of milliseconds from 0 to 10000")},
    {"auth-lockout-failures", N(lockout_after, 0, 100000, "a number from 0 (never) to 100000")},
    {"max-client-jobs",
     N(max_client_jobs, 1, 100000, "a number of plug-in calls from 1 to 100000")},
    {"auth-lockout-time", N(lockout_seconds, 1, 86400, "a number of seconds from 1 to 86400")},
    {"admin-listen", CFG_CUSTOM, 0, 0, 0, 0, NULL, NULL, key_admin_listen,
     CFG_LINE_AT(struct guise_config, admin_listen_line)},
    {"admin-state", CFG_ABSPATH, 0, SRV(admin_state), 0, 0, NULL, NULL, NULL, 0},
    {"admin-group", CFG_CUSTOM, 0, 0, 0, 0, NULL, NULL, key_admin_group, 0},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0},
};
#undef N
#undef SRV

/* ---- [publishing-point "NAME"] ---- */

static int acl_key(struct cfg_point *p, const char *k, const char *v, int line, char *why,
                   size_t whysz)
{
    return guise_props_add(p->acl, k, v, line) ? oom(why, whysz) : 0;
}

static int key_read(void *section, const char *v, int line, char *why, size_t whysz)
{
    return acl_key(section, "read", v, line, why, whysz);
}

static int key_write(void *section, const char *v, int line, char *why, size_t whysz)
{
    return acl_key(section, "write", v, line, why, whysz);
}

static const char *const active_content_names[] = {"off", "sandbox", "on", NULL};

#define PT(member) offsetof(struct cfg_point, member)
static const struct cfg_key point_keys[] = {
    {"path", CFG_ABSPATH, 0, PT(path), 0, 0, NULL, NULL, NULL,
     CFG_LINE_AT(struct cfg_point, path_line)},
    {"authentication", CFG_LIST, 0, PT(authn), 0, 0, NULL, NULL, NULL, 0},
    {"authorization", CFG_LIST, 0, PT(authz), 0, 0, NULL, NULL, NULL, 0},
    {"read", CFG_CUSTOM, GUISE_PROP_REPEATABLE, 0, 0, 0, NULL, NULL, key_read, 0},
    {"write", CFG_CUSTOM, GUISE_PROP_REPEATABLE, 0, 0, 0, NULL, NULL, key_write, 0},
    {"active-content", CFG_ENUM, 0, PT(active_content), 0, 0, "off, sandbox or on",
     active_content_names, NULL, 0},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0},
};
#undef PT

/* Point keys of other subsystems (guise_config_register_point_keys). */
static const struct cfg_point_keys *point_extensions[CFG_POINT_EXT_MAX];
static size_t npoint_extensions;

int guise_config_register_point_keys(const struct cfg_point_keys *k)
{
    for (size_t i = 0; i < npoint_extensions; i++)
        if (point_extensions[i] == k)
            return 0;
    if (npoint_extensions == CFG_POINT_EXT_MAX)
        return -1;
    for (const struct cfg_key *key = k->keys; key->name; key++)
        if (cfg_key_find(point_keys, key->name))
            return -1; /* a key has one owner */
    point_extensions[npoint_extensions++] = k;
    return 0;
}

const void *guise_config_point_values(const struct cfg_point *p, const struct cfg_point_keys *k)
{
    for (size_t i = 0; i < npoint_extensions; i++)
        if (point_extensions[i] == k)
            return p->ext[i];
    return NULL;
}

/* Parses a point's collected keys: its own table, then the registered ones. */
static int point_apply(struct guise_config *c, struct cfg_point *p, const char *name, char *err,
                       size_t errsz)
{
    const struct cfg_key *tables[CFG_POINT_EXT_MAX + 1] = {point_keys};
    void *sections[CFG_POINT_EXT_MAX + 1] = {p};
    for (size_t i = 0; i < npoint_extensions; i++) {
        if (!(p->ext[i] = calloc(1, point_extensions[i]->size))) {
            snprintf(err, errsz, "%s:%d: out of memory", name, p->line);
            return -1;
        }
        if (point_extensions[i]->defaults)
            point_extensions[i]->defaults(p->ext[i]);
        tables[i + 1] = point_extensions[i]->keys;
        sections[i + 1] = p->ext[i];
    }
    char where[200];
    snprintf(where, sizeof where, "[publishing-point \"%s\"]", p->name);
    if (cfg_keys_apply_tables(tables, sections, 1 + npoint_extensions, p->raw, name, where, err,
                              errsz) != 0)
        return -1;
    for (size_t i = 0; i < npoint_extensions; i++) {
        char why[256] = "";
        if (point_extensions[i]->check &&
            point_extensions[i]->check(p->name, p->ext[i], why, sizeof why) != 0) {
            snprintf(err, errsz, "%s:%d: [publishing-point \"%s\"]: %s", name, p->line, p->name,
                     why[0] ? why : "invalid");
            return -1;
        }
    }
    return 0;
}

static void point_free_ext(struct cfg_point *p)
{
    for (size_t i = 0; i < CFG_POINT_EXT_MAX; i++) {
        if (!p->ext[i])
            continue;
        if (i < npoint_extensions)
            cfg_keys_free(point_extensions[i]->keys, p->ext[i]);
        free(p->ext[i]);
        p->ext[i] = NULL;
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
    /* ".guise" is the assets' URL prefix (server/assets.h). */
    if (!*n || strlen(n) > 64 || !strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, ".guise"))
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
        if (!v[c->nplugins].name || !v[c->nplugins].props) {
            free(v[c->nplugins].name);
            guise_props_free(v[c->nplugins].props);
            return fail(st, NULL, "out of memory");
        }
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
        struct cfg_point *p = &v[c->npoints];
        *p = (struct cfg_point){
            .name = strdup(name), .line = st->line, .active_content = CFG_ACTIVE_SANDBOX};
        p->acl = guise_props_new(c->file);
        p->raw = guise_props_new(c->file);
        if (!p->name || !p->acl || !p->raw) {
            free(p->name);
            guise_props_free(p->acl);
            guise_props_free(p->raw);
            return fail(st, NULL, "out of memory");
        }
        st->kind = SEC_POINT;
        st->index = c->npoints++;
    } else {
        fail(st, NULL,
             "unknown section [%s] (expected [server], [plugin \"NAME\"] or "
             "[publishing-point \"NAME\"])",
             section);
    }
}

/* Keys are collected per section (value and line of each) and parsed by
 * their declarations once the file is read (server_keys, point_keys). */
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
    guise_props *into = NULL;
    switch (st->kind) {
    case SEC_SERVER:
        into = st->server;
        break;
    case SEC_PLUGIN:
        into = st->c->plugins[st->index].props;
        break;
    case SEC_POINT:
        into = st->c->points[st->index].raw;
        break;
    case SEC_NONE:
        break;
    }
    if (!into || guise_props_add(into, name, value, st->line) != 0)
        fail(st, name, "out of memory");
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
    c->min_gid = 100;
    c->token_ttl = 60;
    c->event_sink = GUISE_SINK_STDERR;
    c->max_connections = 10000;
    /* 256: a campus or carrier NAT puts hundreds of people behind one
     * address, each browser holding about six connections, so this never
     * bites a real crowd before max-connections does; one host alone cannot
     * take every slot. 0 still means no limit (benchmarks, soak). */
    c->max_connections_per_ip = 256;
    c->idle_timeout = 60;
    c->shutdown_timeout = 10;
    c->content_cache_ttl_ms = 1000;
    c->content_cache_entries = 256;
    c->max_header_size = 8192;
    c->max_uri_length = 4096;
    c->fail_delay_ms = 250;
    c->lockout_after = 10;
    c->max_client_jobs = 16;
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
    struct parse_state st = {.c = c, .name = name, .text = text, .err = err, .errsz = errsz};
    c->file = strdup(name);
    st.server = guise_props_new(name);
    if (!c->file || !st.server) {
        snprintf(err, errsz, "%s: out of memory", name);
        guise_props_free(st.server);
        guise_config_free(c);
        return NULL;
    }
    int rc = ini_parse_stream(reader, &st, handler, &st);
    if (rc != 0 && !st.failed) {
        /* libinih's own syntax errors: rc is the line (-2: its allocation) */
        st.line = rc > 0 ? rc : st.line;
        fail(&st, NULL,
             rc == -2 ? "out of memory" : "syntax error (expected key = value or [section])");
    }
    if (!st.failed && cfg_keys_apply(server_keys, c, st.server, name, "[server]", err, errsz) != 0)
        st.failed = true;
    for (size_t i = 0; !st.failed && i < c->npoints; i++)
        if (point_apply(c, &c->points[i], name, err, errsz) != 0)
            st.failed = true;
    guise_props_free(st.server);
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
    int grc = getgrnam_r(gname, &gr, grbuf, sizeof grbuf, &grp);
    if (grc == 0 && grp) {
        c->admin_gid = grp->gr_gid;
        c->admin_gid_valid = true;
    } else if (grc != 0 && grc != ENOENT && grc != ESRCH) {
        /* Out of memory or NSS unreachable: not the same as "no such group". */
        snprintf(err, errsz, "%s: key 'admin-group': cannot look up group '%s': %s", path, gname,
                 strerror(grc));
        guise_config_free(c);
        return NULL;
    } else if (c->admin_group_set) {
        snprintf(err, errsz, "%s: key 'admin-group': no such group '%s'", path, gname);
        guise_config_free(c);
        return NULL;
    }
    /* An account that is uid 0 under another name is still root. */
    for (size_t i = 0; i < c->allow_accounts.n; i++) {
        struct passwd pw, *pwp = NULL;
        int prc = getpwnam_r(c->allow_accounts.v[i], &pw, grbuf, sizeof grbuf, &pwp);
        if (prc != 0 && prc != ENOENT && prc != ESRCH) {
            /* Out of memory or NSS unreachable: whether it is root is unknown. */
            snprintf(err, errsz, "%s:%d: key 'allow-accounts': cannot look up '%s': %s", path,
                     c->allow_accounts.line, c->allow_accounts.v[i], strerror(prc));
            guise_config_free(c);
            return NULL;
        }
        if (prc == 0 && pwp && pwp->pw_uid == 0) {
            snprintf(err, errsz,
                     "%s:%d: key 'allow-accounts': '%s' is uid 0, which is never impersonated",
                     path, c->allow_accounts.line, c->allow_accounts.v[i]);
            guise_config_free(c);
            return NULL;
        }
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
    cfg_keys_free(server_keys, c);
    /* what the CFG_CUSTOM keys hold */
    free(c->listen);
    cfg_list_free(&c->allow_accounts);
    cfg_list_free(&c->allow_groups);
    free(c->realm);
    free(c->public_url);
    free(c->admin_listen);
    free(c->admin_group);
    for (size_t i = 0; i < c->nplugins; i++) {
        free(c->plugins[i].name);
        guise_props_free(c->plugins[i].props);
    }
    free(c->plugins);
    for (size_t i = 0; i < c->npoints; i++) {
        free(c->points[i].name);
        cfg_keys_free(point_keys, &c->points[i]);
        guise_props_free(c->points[i].acl);
        guise_props_free(c->points[i].raw);
        point_free_ext(&c->points[i]);
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
