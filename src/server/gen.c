/* Building a generation from a configuration: token store, plug-in host
 * with every instance, scopes and publishing-point roots. */
#include "server/server.h"

#include <guise/host_props.h>
#include "plugins/builtin.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct gen *gen_ref(struct gen *g)
{
    if (g)
        atomic_fetch_add(&g->refs, 1);
    return g;
}

void gen_unref(struct gen *g)
{
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    guise_host_free(g->host);
    for (size_t i = 0; i < g->npoints; i++) {
        if (g->points[i].root_fd >= 0)
            close(g->points[i].root_fd);
        free(g->points[i].file_name);
    }
    free(g->points);
    guise_token_store_free(g->tokens);
    guise_config_free(g->cfg);
    free(g);
}

struct gen *server_current_gen(struct server *srv)
{
    pthread_mutex_lock(&srv->gen_lock);
    struct gen *g = gen_ref(srv->current);
    pthread_mutex_unlock(&srv->gen_lock);
    return g;
}

void server_install_gen(struct server *srv, struct gen *g)
{
    pthread_mutex_lock(&srv->gen_lock);
    struct gen *old = srv->current;
    srv->current = g;
    pthread_mutex_unlock(&srv->gen_lock);
    gen_unref(old);
}

struct point *gen_point(struct gen *g, const char *name)
{
    for (size_t i = 0; i < g->npoints; i++)
        if (!strcmp(g->points[i].name, name))
            return &g->points[i];
    return NULL;
}

/* Finds or creates (with its [plugin] section, or defaults) the instance of
 * plug-in `name`; enables it. */
static guise_plugin *instance_for(struct gen *g, const char *name, int line, char *err,
                                  size_t errsz)
{
    guise_plugin *p = guise_host_plugin(g->host, name);
    if (p)
        return p;
    const struct cfg_plugin *sec = guise_config_plugin(g->cfg, name);
    guise_props *props = sec ? guise_props_dup(sec->props) : guise_props_new(g->cfg->file);
    char why[512];
    guise_result r = guise_host_instantiate(g->host, name, NULL, props, &p, why, sizeof why);
    if (r != GUISE_S_OK) {
        if (r == GUISE_E_NOT_FOUND)
            snprintf(err, errsz, "%s:%d: unknown plug-in '%s'", g->cfg->file, line, name);
        else
            snprintf(err, errsz, "%s", why);
        return NULL;
    }
    /* An enable failure is not a configuration error: the plug-in is in
     * error state (shown in diagnostics) and its scopes fail closed. */
    guise_plugin_enable(p);
    return p;
}

static int build_list(struct gen *g, const struct cfg_list *names, enum guise_plugin_kind kind,
                      bool point_level, guise_plugin ***out, size_t *n, char *err, size_t errsz)
{
    for (size_t i = 0; i < names->n; i++) {
        const char *name = names->v[i];
        const struct guise_plugin_descriptor *d = guise_host_find_type(g->host, name);
        if (!d) {
            snprintf(err, errsz, "%s:%d: key '%s': unknown plug-in '%s'", g->cfg->file, names->line,
                     kind == GUISE_PLUGIN_AUTHENTICATION ? "authentication" : "authorization",
                     name);
            return -1;
        }
        if (d->kind != kind) {
            snprintf(err, errsz, "%s:%d: key '%s': '%s' is an %s plug-in", g->cfg->file,
                     names->line,
                     kind == GUISE_PLUGIN_AUTHENTICATION ? "authentication" : "authorization", name,
                     d->kind == GUISE_PLUGIN_AUTHENTICATION ? "authentication" : "authorization");
            return -1;
        }
        if (point_level && d->authz && !d->authz->point_level_allowed) {
            snprintf(err, errsz,
                     "%s:%d: key 'authorization': plug-in '%s' works at server level only",
                     g->cfg->file, names->line, name);
            return -1;
        }
        if (d->authz && (d->authz->point_level_allowed & GUISE_AUTHZ_POINT_INSTANCE) &&
            !point_level) {
            snprintf(err, errsz,
                     "%s:%d: key 'authorization': %s belongs in a [publishing-point] section",
                     g->cfg->file, names->line, name);
            return -1;
        }
        guise_plugin *p = instance_for(g, name, names->line, err, errsz);
        if (!p)
            return -1;
        guise_plugin **v = realloc(*out, (*n + 1) * sizeof *v);
        if (!v)
            return -1;
        v[(*n)++] = p;
        *out = v;
    }
    return 0;
}

/* Publishing points of every generation get distinct ids, so that what the
 * small-file cache holds for one never answers for another after a reload. */
static _Atomic uint64_t next_point_id = 1;

static int open_point(struct gen *g, const struct cfg_point *cp, struct point *pt, char *err,
                      size_t errsz)
{
    pt->name = cp->name;
    pt->cache_id = atomic_fetch_add(&next_point_id, 1);
    pt->root_fd = -1;
    if (cp->is_dir) {
        pt->root_fd = open(cp->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else {
        char *a = strdup(cp->path), *b = strdup(cp->path);
        if (a && b) {
            pt->root_fd = open(dirname(a), O_PATH | O_DIRECTORY | O_CLOEXEC);
            pt->file_name = strdup(basename(b));
        }
        free(a);
        free(b);
    }
    if (pt->root_fd < 0) {
        snprintf(err, errsz, "%s:%d: key 'path': %s: %s", g->cfg->file, cp->path_line, cp->path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static int build_point_scope(struct gen *g, const struct cfg_point *cp, struct point *pt,
                             guise_plugin **server_authz, size_t nserver_authz, char *err,
                             size_t errsz)
{
    const struct guise_config *c = g->cfg;
    guise_plugin **authn = NULL, **authz = NULL;
    size_t nauthn = 0, nauthz = 0;
    int rc = -1;
    if (build_list(g, cp->authn.set ? &cp->authn : &c->authn, GUISE_PLUGIN_AUTHENTICATION,
                   cp->authn.set, &authn, &nauthn, err, errsz) != 0)
        goto out;
    /* Server-level authorization first, then the point's own. */
    authz = calloc(nserver_authz + cp->authz.n + 1, sizeof *authz);
    if (!authz)
        goto out;
    if (nserver_authz)
        memcpy(authz, server_authz, nserver_authz * sizeof *authz);
    nauthz = nserver_authz;
    for (size_t i = 0; i < cp->authz.n; i++) {
        const char *name = cp->authz.v[i];
        const struct guise_plugin_descriptor *d = guise_host_find_type(g->host, name);
        if (d && d->authz && (d->authz->point_level_allowed & GUISE_AUTHZ_POINT_INSTANCE)) {
            /* One instance per point, made from the point's read/write. */
            char inst[256];
            snprintf(inst, sizeof inst, "%s@%s", name, cp->name);
            guise_props *acl = guise_props_dup(cp->acl);
            guise_plugin *p = NULL;
            char why[512];
            if (guise_host_instantiate(g->host, name, inst, acl, &p, why, sizeof why) !=
                GUISE_S_OK) {
                snprintf(err, errsz, "%s", why);
                goto out;
            }
            guise_plugin_enable(p);
            authz[nauthz++] = p;
            continue;
        }
        struct cfg_list one = {.v = &cp->authz.v[i], .n = 1, .set = true, .line = cp->authz.line};
        guise_plugin **tmp = NULL;
        size_t ntmp = 0;
        if (build_list(g, &one, GUISE_PLUGIN_AUTHORIZATION, true, &tmp, &ntmp, err, errsz) != 0) {
            free(tmp);
            goto out;
        }
        authz[nauthz++] = tmp[0];
        free(tmp);
    }
    if (guise_scope_new(g->host, cp->name, authn, nauthn, authz, nauthz, &pt->scope) != GUISE_S_OK)
        goto out;
    rc = 0;
out:
    free(authn);
    free(authz);
    return rc;
}

struct gen *gen_build(struct server *srv, struct guise_config *cfg, char *err, size_t errsz)
{
    struct gen *g = calloc(1, sizeof *g);
    if (!g) {
        guise_config_free(cfg);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    atomic_init(&g->refs, 1);
    g->cfg = cfg;
    g->log = srv->log;
    const char *allow[64] = {0}, *allow_groups[64] = {0};
    size_t na = 0;
    for (size_t i = 0; i < cfg->allow_accounts.n && na < 63; i++)
        allow[na++] = cfg->allow_accounts.v[i];
    for (size_t i = 0; i < cfg->allow_groups.n && i < 63; i++)
        allow_groups[i] = cfg->allow_groups.v[i];
    /* The guest account of an anonymous plug-in (its "account" property,
     * default nobody) may be below min-uid (nobody is 65534, but
     * distributions differ): it is the store's guest, reachable below the
     * minimums only by anonymous plug-ins (core/host.c), never by a user of
     * another plug-in mapped to it. Which plug-ins are anonymous is their
     * descriptors' GUISE_AUTH_ANONYMOUS, not a name. */
    const char *guests[16] = {0};
    size_t ng = 0;
    for (size_t i = 0; guise_builtin_plugins[i] && ng < 15; i++) {
        const struct guise_plugin_descriptor *d = guise_builtin_plugins[i];
        if (!d->authn || !(d->authn->flags & GUISE_AUTH_ANONYMOUS))
            continue;
        const struct cfg_plugin *sec = guise_config_plugin(cfg, d->name);
        const char *guest = sec ? guise_props_get(sec->props, "account") : NULL;
        guests[ng++] = guest ? guest : "nobody";
    }
    struct guise_token_store_options topt = {.min_uid = (uid_t)cfg->min_uid,
                                             .min_gid = (gid_t)cfg->min_gid,
                                             .ttl_seconds = cfg->token_ttl,
                                             .allow = allow,
                                             .allow_groups = allow_groups,
                                             .guests = guests};
    guise_plugin **server_authn = NULL, **server_authz = NULL;
    size_t nsauthn = 0, nsauthz = 0;
    guise_result tr = guise_token_store_new(&topt, &g->tokens);
    if (tr == GUISE_E_NOT_FOUND) {
        snprintf(err, errsz, "%s: key 'allow-groups': a group does not exist", cfg->file);
        goto fail;
    } else if (tr != GUISE_S_OK) {
        snprintf(err, errsz, "cannot create the token store");
        goto fail;
    }
    struct guise_host_options hopt = {.log = srv->log,
                                      .tokens = g->tokens,
                                      .workers = srv->workers,
                                      .realm = cfg->realm ? cfg->realm : "guise",
                                      .state_dir = cfg->state_dir,
                                      .check_only = cfg->check_only};
    if (guise_host_new(&hopt, &g->host) != GUISE_S_OK) {
        snprintf(err, errsz, "cannot create the plug-in host");
        goto fail;
    }
    for (size_t i = 0; guise_builtin_plugins[i]; i++)
        guise_host_add_type(g->host, guise_builtin_plugins[i]);
    for (size_t i = 0; i < cfg->modules.n; i++) {
        char why[512];
        /* A module that cannot load is reported (event + diagnostics); the
         * plug-ins it would have provided are then unknown names, which the
         * lists below refuse with the file and line. */
        guise_host_load_module(g->host, cfg->modules.v[i], why, sizeof why);
    }
    for (size_t i = 0; i < cfg->nplugins; i++)
        if (!guise_host_find_type(g->host, cfg->plugins[i].name)) {
            snprintf(err, errsz, "%s:%d: [plugin \"%s\"]: unknown plug-in", cfg->file,
                     cfg->plugins[i].line, cfg->plugins[i].name);
            goto fail;
        }
    if (build_list(g, &cfg->authn, GUISE_PLUGIN_AUTHENTICATION, false, &server_authn, &nsauthn, err,
                   errsz) != 0 ||
        build_list(g, &cfg->authz, GUISE_PLUGIN_AUTHORIZATION, false, &server_authz, &nsauthz, err,
                   errsz) != 0)
        goto fail;
    if (guise_scope_new(g->host, "server", server_authn, nsauthn, server_authz, nsauthz,
                        &g->root_scope) != GUISE_S_OK) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    g->points = calloc(cfg->npoints + 1, sizeof *g->points);
    if (!g->points)
        goto fail;
    for (size_t i = 0; i < cfg->npoints; i++) {
        g->npoints++;
        if (open_point(g, &cfg->points[i], &g->points[i], err, errsz) != 0 ||
            build_point_scope(g, &cfg->points[i], &g->points[i], server_authz, nsauthz, err,
                              errsz) != 0)
            goto fail;
    }
    /* Instances configured in a [plugin] section but listed nowhere are still
     * created, so that their errors show and the admin API can list them. */
    for (size_t i = 0; i < cfg->nplugins; i++)
        if (!instance_for(g, cfg->plugins[i].name, cfg->plugins[i].line, err, errsz))
            goto fail;
    free(server_authn);
    free(server_authz);
    return g;
fail:
    free(server_authn);
    free(server_authz);
    if (!err[0])
        snprintf(err, errsz, "out of memory");
    gen_unref(g);
    return NULL;
}
