/* Plug-in property sets: the ordered key=value pairs of a [plugin "x"]
 * section, remembering file and line so errors can point at them. */
#include <guise/host_props.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct prop_entry {
    char *key;
    char *value;
    int line;
};

struct guise_props {
    char *file;
    struct prop_entry *v;
    size_t n, cap;
    /* guise_props_fail writes here although the set is const for the
     * plug-in: the error is diagnostic state, not a property. */
    char error[512];
};

guise_props *guise_props_new(const char *file)
{
    guise_props *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (file && !(p->file = strdup(file))) {
        free(p);
        return NULL;
    }
    return p;
}

void guise_props_free(guise_props *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].value);
    }
    free(p->v);
    free(p->file);
    free(p);
}

int guise_props_add(guise_props *p, const char *key, const char *value, int line)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        struct prop_entry *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    char *k = strdup(key), *val = strdup(value);
    if (!k || !val) {
        free(k);
        free(val);
        return -1;
    }
    p->v[p->n++] = (struct prop_entry){k, val, line};
    return 0;
}

int guise_props_set(guise_props *p, const char *key, const char *value)
{
    size_t w = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].key, key) == 0) {
            free(p->v[i].key);
            free(p->v[i].value);
            continue;
        }
        p->v[w++] = p->v[i];
    }
    p->n = w;
    return guise_props_add(p, key, value, 0);
}

guise_props *guise_props_dup(const guise_props *p)
{
    guise_props *d = guise_props_new(p->file);
    if (!d)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (guise_props_add(d, p->v[i].key, p->v[i].value, p->v[i].line) != 0) {
            guise_props_free(d);
            return NULL;
        }
    return d;
}

size_t guise_props_size(const guise_props *p)
{
    return p ? p->n : 0;
}

void guise_props_entry(const guise_props *p, size_t i, const char **key, const char **value,
                       int *line)
{
    *key = p->v[i].key;
    *value = p->v[i].value;
    if (line)
        *line = p->v[i].line;
}

const char *guise_props_error(const guise_props *p)
{
    return p ? p->error : "";
}

static const struct prop_entry *last_entry(const guise_props *p, const char *key)
{
    if (!p)
        return NULL;
    for (size_t i = p->n; i-- > 0;)
        if (strcmp(p->v[i].key, key) == 0)
            return &p->v[i];
    return NULL;
}

int guise_props_line(const guise_props *p, const char *key)
{
    const struct prop_entry *e = last_entry(p, key);
    return e ? e->line : 0;
}

const char *guise_props_get(const guise_props *p, const char *key)
{
    const struct prop_entry *e = last_entry(p, key);
    return e ? e->value : NULL;
}

size_t guise_props_count(const guise_props *p, const char *key)
{
    size_t c = 0;
    for (size_t i = 0; p && i < p->n; i++)
        c += strcmp(p->v[i].key, key) == 0;
    return c;
}

const char *guise_props_at(const guise_props *p, const char *key, size_t idx)
{
    for (size_t i = 0; p && i < p->n; i++)
        if (strcmp(p->v[i].key, key) == 0 && idx-- == 0)
            return p->v[i].value;
    return NULL;
}

guise_result guise_props_fail(const guise_props *cp, const char *key, const char *fmt, ...)
{
    if (!cp)
        return GUISE_E_INVALIDARG;
    guise_props *p = (guise_props *)cp;
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = guise_props_line(p, key);
    if (line > 0)
        snprintf(p->error, sizeof p->error, "%s:%d: key '%s': %s", p->file ? p->file : "(config)",
                 line, key, msg);
    else
        snprintf(p->error, sizeof p->error, "%s: key '%s': %s", p->file ? p->file : "(config)", key,
                 msg);
    return GUISE_E_INVALIDARG;
}

guise_result guise_props_uint(const guise_props *p, const char *key, unsigned long dflt,
                              unsigned long min, unsigned long max, unsigned long *out)
{
    const char *s = guise_props_get(p, key);
    if (!s) {
        *out = dflt;
        return GUISE_S_OK;
    }
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return guise_props_fail(p, key, "'%s' is not a number", s);
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end)
        return guise_props_fail(p, key, "'%s' is not a number", s);
    if (v < min || v > max)
        return guise_props_fail(p, key, "%lu is out of range [%lu, %lu]", v, min, max);
    *out = v;
    return GUISE_S_OK;
}

guise_result guise_props_bool(const guise_props *p, const char *key, bool dflt, bool *out)
{
    const char *s = guise_props_get(p, key);
    if (!s) {
        *out = dflt;
        return GUISE_S_OK;
    }
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on") ||
        !strcmp(s, "1")) {
        *out = true;
        return GUISE_S_OK;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off") ||
        !strcmp(s, "0")) {
        *out = false;
        return GUISE_S_OK;
    }
    return guise_props_fail(p, key, "'%s' is not a boolean (true/false)", s);
}
