/* Parsing of declared configuration keys (server/config_keys.h). */
#include "server/config_keys.h"

#include <guise/host_props.h>
#include "server/config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct cfg_key *cfg_key_find(const struct cfg_key *table, const char *name)
{
    for (const struct cfg_key *k = table; k->name; k++)
        if (!strcmp(k->name, name))
            return k;
    return NULL;
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

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i]))
            return *out = true, true;
        if (!strcasecmp(s, no[i]))
            return *out = false, true;
    }
    return false;
}

int cfg_list_parse(struct cfg_list *l, const char *value, int line, bool append)
{
    if (!append)
        cfg_list_free(l);
    l->set = true;
    l->line = line;
    char *copy = strdup(value), *save = NULL;
    if (!copy)
        return -1;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        char **v = realloc(l->v, (l->n + 1) * sizeof *v);
        if (!v) {
            free(copy);
            return -1;
        }
        l->v = v;
        if (!(v[l->n] = strdup(t))) {
            free(copy);
            return -1;
        }
        l->n++;
    }
    free(copy);
    return 0;
}

void cfg_list_free(struct cfg_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Parses one value: 0, or -1 with why. */
static int apply_one(const struct cfg_key *k, void *section, const char *v, int line, char *why,
                     size_t whysz)
{
    char *at = (char *)section + k->offset;
    unsigned long n;
    switch (k->type) {
    case CFG_UINT:
    case CFG_ULONG:
        if (!parse_ulong(v, k->min, k->max, &n)) {
            snprintf(why, whysz, "'%s' is not %s", v, k->what);
            return -1;
        }
        if (k->type == CFG_UINT)
            *(unsigned *)(void *)at = (unsigned)n;
        else
            *(unsigned long *)(void *)at = n;
        return 0;
    case CFG_BOOL:
        if (!parse_bool(v, (bool *)(void *)at)) {
            snprintf(why, whysz, "'%s' is not true or false", v);
            return -1;
        }
        return 0;
    case CFG_ABSPATH:
        if (v[0] != '/') {
            snprintf(why, whysz, "'%s' is not an absolute path", v);
            return -1;
        }
        /* fall through */
    case CFG_STRING: {
        if ((k->flags & CFG_NONEMPTY) && !*v) {
            snprintf(why, whysz, "must not be empty");
            return -1;
        }
        char **dst = (char **)(void *)at, *copy = strdup(v);
        if (!copy) {
            snprintf(why, whysz, "out of memory");
            return -1;
        }
        free(*dst);
        *dst = copy;
        return 0;
    }
    case CFG_LIST:
    case CFG_LIST_APPEND:
        if (cfg_list_parse((struct cfg_list *)(void *)at, v, line, k->type == CFG_LIST_APPEND) !=
            0) {
            snprintf(why, whysz, "out of memory");
            return -1;
        }
        return 0;
    case CFG_ENUM:
        for (int i = 0; k->choices[i]; i++)
            if (!strcmp(k->choices[i], v)) {
                *(int *)(void *)at = i;
                return 0;
            }
        snprintf(why, whysz, "'%s' is not %s", v, k->what);
        return -1;
    case CFG_CUSTOM:
        return k->parse(section, v, line, why, whysz);
    }
    snprintf(why, whysz, "key of an unknown type");
    return -1;
}

int cfg_keys_apply(const struct cfg_key *table, void *section, const guise_props *props,
                   const char *file, const char *where, char *err, size_t errsz)
{
    return cfg_keys_apply_tables(&table, &section, 1, props, file, where, err, errsz);
}

int cfg_keys_apply_tables(const struct cfg_key *const *tables, void *const *sections, size_t n,
                          const guise_props *props, const char *file, const char *where, char *err,
                          size_t errsz)
{
    for (size_t i = 0; i < guise_props_size(props); i++) {
        const char *key, *value;
        int line;
        guise_props_entry(props, i, &key, &value, &line);
        const struct cfg_key *k = NULL;
        void *section = NULL;
        for (size_t t = 0; t < n && !k; t++)
            if ((k = cfg_key_find(tables[t], key)))
                section = sections[t];
        char why[320] = "";
        if (!k)
            snprintf(why, sizeof why, "unknown key in %s", where);
        else if (apply_one(k, section, value, line, why, sizeof why) == 0) {
            if (k->line_offset)
                *(int *)(void *)((char *)section + k->line_offset - 1) = line;
            continue;
        }
        snprintf(err, errsz, "%s:%d: key '%s': %s", file, line, key, why[0] ? why : "invalid");
        return -1;
    }
    return 0;
}

void cfg_keys_free(const struct cfg_key *table, void *section)
{
    for (const struct cfg_key *k = table; k->name; k++) {
        char *at = (char *)section + k->offset;
        if (k->type == CFG_STRING || k->type == CFG_ABSPATH) {
            free(*(char **)(void *)at);
            *(char **)(void *)at = NULL;
        } else if (k->type == CFG_LIST || k->type == CFG_LIST_APPEND) {
            cfg_list_free((struct cfg_list *)(void *)at);
        }
    }
}
