/* Account mapping: the map file and its resolution order. */
#include "plugins/common/account_map.h"

#include "plugins/common/watched_file.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pair {
    char *user;
    char *account;
    size_t line;
};

struct pk_account_map {
    struct pair *pairs; /* sorted by user, without '*' */
    size_t count;
    char *star; /* account of '*', or NULL */
    size_t star_line;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool name_chars_ok(const char *s, size_t len, bool account)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == ' ')
            return false;
        if (account && (c == ':' || c == '/'))
            return false;
    }
    return true;
}

bool pk_account_name_ok(const char *s)
{
    return s && name_chars_ok(s, strlen(s), true) && strcmp(s, "*") != 0 && s[0] != '#';
}

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const struct pair *)a)->user, ((const struct pair *)b)->user);
}

void pk_account_map_free(pk_account_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++) {
        free(m->pairs[i].user);
        free(m->pairs[i].account);
    }
    free(m->pairs);
    free(m->star);
    free(m);
}

/* Splits a line into up to 3 blank-separated fields; returns how many. */
static size_t split(const char *p, size_t len, const char **f, size_t *flen)
{
    size_t n = 0, i = 0;
    while (n < 3) {
        while (i < len && is_blank(p[i]))
            i++;
        if (i == len)
            break;
        f[n] = p + i;
        while (i < len && !is_blank(p[i]))
            i++;
        flen[n] = (size_t)(p + i - f[n]);
        n++;
    }
    return n;
}

/* Parses one line into m; returns NULL or a reason. */
static const char *parse_line(pk_account_map *m, size_t *cap, const char *p, size_t len,
                              size_t lineno, char *why, size_t why_size)
{
    const char *f[3];
    size_t fl[3];

    if (len > 0 && p[len - 1] == '\r')
        len--;
    if (len > GUISE_ACCOUNT_MAP_MAX_LINE)
        return "line too long";
    if (memchr(p, '\0', len))
        return "NUL byte";
    size_t n = split(p, len, f, fl);
    if (n == 0 || f[0][0] == '#')
        return NULL;
    if (n < 2 || f[1][0] == '#')
        return "expected 'user account'";
    if (n == 3 && f[2][0] != '#')
        return "more than two fields (start a comment with '#')";
    if (!name_chars_ok(f[0], fl[0], false))
        return "control character in user name";
    if (!name_chars_ok(f[1], fl[1], true) || (fl[1] == 1 && f[1][0] == '*'))
        return "invalid account name";

    char *account = strndup(f[1], fl[1]);
    if (!account)
        return "out of memory";
    if (fl[0] == 1 && f[0][0] == '*') {
        if (m->star) {
            free(account);
            snprintf(why, why_size, "second '*' line (first on line %zu)", m->star_line);
            return why;
        }
        m->star = account;
        m->star_line = lineno;
        return NULL;
    }
    if (m->count == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        struct pair *np = realloc(m->pairs, ncap * sizeof *np);
        if (!np) {
            free(account);
            return "out of memory";
        }
        m->pairs = np;
        *cap = ncap;
    }
    struct pair *q = &m->pairs[m->count];
    q->user = strndup(f[0], fl[0]);
    if (!q->user) {
        free(account);
        return "out of memory";
    }
    q->account = account;
    q->line = lineno;
    m->count++;
    return NULL;
}

guise_result pk_account_map_parse(const char *buf, size_t len, pk_account_map **out, char *err,
                                  size_t err_size)
{
    char why[128];
    size_t cap = 0, lineno = 0;
    const char *p = buf, *end = buf + len;

    *out = NULL;
    pk_account_map *m = calloc(1, sizeof *m);
    if (!m)
        return GUISE_E_OUTOFMEMORY;
    if (len > GUISE_ACCOUNT_MAP_MAX_SIZE) {
        snprintf(err, err_size, "larger than %u bytes", GUISE_ACCOUNT_MAP_MAX_SIZE);
        pk_account_map_free(m);
        return GUISE_E_BAD_FORMAT;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        lineno++;
        const char *bad = parse_line(m, &cap, p, (size_t)(eol - p), lineno, why, sizeof why);
        if (bad) {
            snprintf(err, err_size, "line %zu: %s", lineno, bad);
            pk_account_map_free(m);
            return strcmp(bad, "out of memory") == 0 ? GUISE_E_OUTOFMEMORY : GUISE_E_BAD_FORMAT;
        }
        p = nl ? nl + 1 : end;
    }
    if (m->count > 0)
        qsort(m->pairs, m->count, sizeof *m->pairs, cmp_pair);
    for (size_t i = 1; i < m->count; i++) {
        if (strcmp(m->pairs[i - 1].user, m->pairs[i].user) == 0) {
            size_t a = m->pairs[i - 1].line, b = m->pairs[i].line;
            snprintf(err, err_size, "line %zu: user '%s' already mapped on line %zu", a > b ? a : b,
                     m->pairs[i].user, a < b ? a : b);
            pk_account_map_free(m);
            return GUISE_E_BAD_FORMAT;
        }
    }
    *out = m;
    return GUISE_S_OK;
}

static guise_result load_with_stat(const char *path, pk_account_map **out, struct stat *st,
                                   char *err, size_t err_size)
{
    char *data;
    size_t len;
    guise_result r = pk_file_read(path, GUISE_ACCOUNT_MAP_MAX_SIZE, &data, &len, st, err, err_size);
    if (r != GUISE_S_OK)
        return r;
    char why[256];
    r = pk_account_map_parse(data, len, out, why, sizeof why);
    free(data);
    if (r != GUISE_S_OK)
        snprintf(err, err_size, "%s: %s", path, why);
    return r;
}

guise_result pk_account_map_load(const char *path, pk_account_map **out, char *err, size_t err_size)
{
    struct stat st;
    return load_with_stat(path, out, &st, err, err_size);
}

size_t pk_account_map_count(const pk_account_map *m)
{
    return m->count + (m->star != NULL);
}

const char *pk_account_map_lookup(const pk_account_map *m, const char *user)
{
    if (m->count == 0)
        return NULL; /* pairs may be NULL: not for bsearch */
    struct pair key = {.user = (char *)user};
    const struct pair *p = bsearch(&key, m->pairs, m->count, sizeof key, cmp_pair);
    return p ? p->account : NULL;
}

const char *pk_account_map_resolve(const pk_account_map *m, const char *user,
                                   const char *fixed_account)
{
    if (m) {
        const char *a = pk_account_map_lookup(m, user);
        if (a)
            return a;
        if (m->star)
            return m->star;
    }
    if (fixed_account && *fixed_account)
        return fixed_account;
    return user;
}

/* ---- mapper ---- */

struct pk_account_mapper {
    const struct guise_host_services *host;
    uint32_t event_id;
    char *path; /* NULL: no map file */
    char *fixed;
    pthread_mutex_t lock;
    struct pk_file_watch watch;
    pk_account_map *map;
    bool broken; /* the current file version failed to load */
};

guise_result pk_account_mapper_new(const struct guise_host_services *host, uint32_t event_id,
                                   const char *map_path, const char *fixed_account,
                                   pk_account_mapper **out, char *err, size_t err_size)
{
    *out = NULL;
    pk_account_mapper *m = calloc(1, sizeof *m);
    if (!m)
        return GUISE_E_OUTOFMEMORY;
    pthread_mutex_init(&m->lock, NULL);
    m->host = host;
    m->event_id = event_id;
    pk_file_watch_init(&m->watch);
    if ((map_path && !(m->path = strdup(map_path))) ||
        (fixed_account && !(m->fixed = strdup(fixed_account)))) {
        pk_account_mapper_free(m);
        return GUISE_E_OUTOFMEMORY;
    }
    if (m->path) {
        struct stat st;
        guise_result r = load_with_stat(m->path, &m->map, &st, err, err_size);
        if (r != GUISE_S_OK) {
            pk_account_mapper_free(m);
            return r;
        }
        pk_file_watch_seen(&m->watch, &st);
    }
    *out = m;
    return GUISE_S_OK;
}

void pk_account_mapper_free(pk_account_mapper *m)
{
    if (!m)
        return;
    pk_account_map_free(m->map);
    free(m->path);
    free(m->fixed);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* Called with the lock held. */
static void reload(pk_account_mapper *m)
{
    char err[512];
    struct stat st;
    pk_account_map *fresh = NULL;
    guise_result r = load_with_stat(m->path, &fresh, &st, err, sizeof err);
    if (r == GUISE_S_OK) {
        pk_file_watch_seen(&m->watch, &st);
        pk_account_map_free(m->map);
        m->map = fresh;
        m->broken = false;
        if (m->host)
            m->host->log_event(m->host->host, GUISE_EVENT_INFORMATION, m->event_id, GUISE_S_OK,
                               "account map %s reloaded (%zu entries)", m->path,
                               pk_account_map_count(fresh));
        return;
    }
    pk_file_watch_stat(&m->watch, m->path);
    m->broken = true;
    /* WARNING, not ERROR: an ERROR event would make the host disable the
     * plug-in. Authentication fails closed meanwhile (every resolution is
     * refused) and resumes as soon as the file is fixed. */
    if (m->host)
        m->host->log_event(m->host->host, GUISE_EVENT_WARNING, m->event_id, r,
                           "account map not reloaded, denying every user until it is fixed: %s",
                           err);
}

guise_result pk_account_mapper_resolve(pk_account_mapper *m, const char *user, char **account)
{
    guise_result r = GUISE_S_OK;
    *account = NULL;
    pthread_mutex_lock(&m->lock);
    if (m->path && pk_file_watch_poll(&m->watch, m->path, 1000))
        reload(m);
    if (m->broken) {
        r = GUISE_E_BAD_FORMAT;
    } else {
        *account = strdup(pk_account_map_resolve(m->map, user, m->fixed));
        if (!*account)
            r = GUISE_E_OUTOFMEMORY;
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}
