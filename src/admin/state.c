/* The persistent administrative state: what was changed through the API
 * (disabled plug-ins, property values, authentication orders) survives
 * restarts and reloads in FILE.state next to the configuration:
 *
 *   {"plugins": {"digest": {"enabled": false, "properties": {"k": "v"}}},
 *    "authentication": {"server": ["digest", "anonymous"], "POINT": [...]}}
 *
 * It is applied after every load of the configuration, so the file wins
 * over the configuration for what it names. */
#include "admin/admin_internal.h"

#include <guise/host_props.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *state_path(const struct server *srv, const struct guise_config *cfg)
{
    if (cfg && cfg->admin_state)
        return strdup(cfg->admin_state);
    char *p = NULL;
    if (asprintf(&p, "%s.state", srv->config_path) < 0)
        return NULL;
    return p;
}

json_t *state_load(const char *path, char *err, size_t errsz)
{
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return json_object();
    json_error_t je;
    json_t *st = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!st) {
        snprintf(err, errsz, "%s:%d: %s", path, je.line, je.text);
        return NULL;
    }
    if (!json_is_object(st)) {
        snprintf(err, errsz, "%s: not a JSON object", path);
        json_decref(st);
        return NULL;
    }
    return st;
}

int state_save(const char *path, json_t *st, char *err, size_t errsz)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    /* Never through a link or into a file someone else made: a leftover of
     * ours (a crash) is removed first, then the name must be new. */
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errsz, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    char *text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
    size_t len = text ? strlen(text) : 0;
    bool ok = text != NULL;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            ok = false;
        else
            off += (size_t)w;
    }
    ok = ok && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    int saved = errno;
    free(text);
    if (close(fd) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errsz, "cannot write %s: %s", path, strerror(ok ? errno : saved));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* Loads the state for applying; logs and returns NULL when unusable. */
static json_t *load_for_apply(struct server *srv, const struct guise_config *cfg)
{
    char *path = state_path(srv, cfg);
    if (!path)
        return NULL;
    char err[512];
    json_t *st = state_load(path, err, sizeof err);
    if (!st)
        guise_eventlog_write(srv->log, GUISE_EVENT_WARNING, "admin", ADMIN_EV_STATE,
                             GUISE_E_BAD_FORMAT, "administrative state ignored: %s", err);
    free(path);
    return st;
}

static struct cfg_plugin *config_section(struct guise_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nplugins; i++)
        if (!strcmp(cfg->plugins[i].name, name))
            return &cfg->plugins[i];
    struct cfg_plugin *v = realloc(cfg->plugins, (cfg->nplugins + 1) * sizeof *v);
    if (!v)
        return NULL;
    cfg->plugins = v;
    v[cfg->nplugins] = (struct cfg_plugin){strdup(name), guise_props_new(cfg->file), 0};
    if (!v[cfg->nplugins].name || !v[cfg->nplugins].props) {
        free(v[cfg->nplugins].name);
        guise_props_free(v[cfg->nplugins].props);
        return NULL;
    }
    return &v[cfg->nplugins++];
}

/* 0, or -1 when out of memory (the list is then unchanged). */
static int replace_list(struct cfg_list *l, json_t *names)
{
    size_t n = json_array_size(names);
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(names, i)) ||
            !(v[i] = strdup(json_string_value(json_array_get(names, i))))) {
            for (size_t j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return -1;
        }
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = v;
    l->n = n;
    l->set = true;
    return 0;
}

static bool list_has(const struct cfg_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], name))
            return true;
    return false;
}

/* Whether names (from the state file) are a new order of exactly the list
 * the configuration gives: after the file itself changed the list, an old
 * order must not bring back or drop plug-ins. */
static bool same_names(const struct cfg_list *l, json_t *names)
{
    if (!json_is_array(names) || json_array_size(names) != l->n)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        if (!json_is_string(v) || !list_has(l, json_string_value(v)))
            return false;
    }
    for (i = 0; i < l->n; i++) {
        bool found = false;
        for (size_t j = 0; j < l->n && !found; j++)
            found = !strcmp(json_string_value(json_array_get(names, j)), l->v[i]);
        if (!found)
            return false;
    }
    return true;
}

/* Whether the configuration has plug-in `name` (a section or a list). */
static bool configured(const struct guise_config *cfg, const char *name)
{
    if (guise_config_plugin(cfg, name) || list_has(&cfg->authn, name) ||
        list_has(&cfg->authz, name))
        return true;
    for (size_t i = 0; i < cfg->npoints; i++)
        if (list_has(&cfg->points[i].authn, name) || list_has(&cfg->points[i].authz, name))
            return true;
    return false;
}

static void ignored(struct server *srv, const char *what, const char *name, const char *why)
{
    guise_eventlog_write(srv->log, GUISE_EVENT_WARNING, "admin", ADMIN_EV_STATE, GUISE_S_OK,
                         "administrative %s of '%s' ignored: %s", what, name, why);
}

int admin_state_apply_config(struct server *srv, struct guise_config *cfg, char *err, size_t errsz)
{
    json_t *st = load_for_apply(srv, cfg);
    if (!st)
        return 0;
    int rc = 0;
    const char *name;
    json_t *pl;
    json_object_foreach(json_object_get(st, "plugins"), name, pl)
    {
        json_t *props = json_object_get(pl, "properties");
        if (!json_object_size(props))
            continue;
        if (!configured(cfg, name)) {
            ignored(srv, "properties", name, "the configuration no longer uses the plug-in");
            continue;
        }
        struct cfg_plugin *sec = config_section(cfg, name);
        const char *key;
        json_t *val;
        /* guise_props_set drops the key's values before it adds the new
         * one: a failure would leave the key unset (its default). */
        if (!sec)
            rc = -1;
        json_object_foreach(props, key, val)
        {
            if (sec && json_is_string(val) &&
                guise_props_set(sec->props, key, json_string_value(val)) != 0)
                rc = -1;
        }
    }
    json_t *names;
    json_object_foreach(json_object_get(st, "authentication"), name, names)
    {
        struct cfg_list *target = NULL;
        const struct cfg_list *effective = NULL;
        if (!strcmp(name, "server")) {
            target = &cfg->authn;
            effective = &cfg->authn;
        } else {
            for (size_t i = 0; i < cfg->npoints; i++)
                if (!strcmp(cfg->points[i].name, name)) {
                    target = &cfg->points[i].authn;
                    /* A point without its own list has the server's. */
                    effective = target->set ? target : &cfg->authn;
                }
        }
        if (!target) {
            ignored(srv, "authentication order", name, "no such publishing point");
            continue;
        }
        if (!same_names(effective, names)) {
            ignored(srv, "authentication order", name,
                    "the configuration file changed the list since");
            continue;
        }
        int line = effective->line;
        if (replace_list(target, names) != 0)
            rc = -1;
        target->line = line;
    }
    json_decref(st);
    if (rc != 0)
        snprintf(err, errsz, "%s: out of memory while applying the admin state", cfg->file);
    return rc;
}

void admin_state_apply_gen(struct server *srv, struct gen *g)
{
    json_t *st = load_for_apply(srv, g->cfg);
    if (!st)
        return;
    const char *name;
    json_t *pl;
    json_object_foreach(json_object_get(st, "plugins"), name, pl)
    {
        guise_plugin *p = guise_host_plugin(g->host, name);
        if (p && json_is_false(json_object_get(pl, "enabled")) &&
            guise_plugin_state_of(p) != GUISE_PLUGIN_DISABLED)
            guise_plugin_disable(p);
    }
    json_decref(st);
}
