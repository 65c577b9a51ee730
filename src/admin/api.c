/* The REST resources and actions of the admin API (src/admin/API.md lists
 * them with their error codes). Every answer is JSON; errors are
 * {"error":{"code":..,"message":..}} with stable codes. Changes are persisted
 * in the state file and logged as INFORMATION events naming the
 * administrator. */
#include "admin/admin_internal.h"

#include <guise/host_props.h>
#include "server/server_query.h"
#include "server/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- answers ---- */

void reply_json(struct areply *out, unsigned status, json_t *v)
{
    out->status = status;
    out->body = v ? json_dumps(v, JSON_INDENT(1) | JSON_ENSURE_ASCII) : NULL;
    json_decref(v);
    if (!out->body) {
        out->status = 500;
        out->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    }
    out->len = out->body ? strlen(out->body) : 0;
    out->content_type = "application/json; charset=utf-8";
}

void reply_error(struct areply *out, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_json(out, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

static void reply_ok(struct areply *out, json_t *extra)
{
    json_t *v = extra ? extra : json_object();
    json_object_set_new(v, "ok", json_true());
    reply_json(out, 200, v);
}

static void changed(struct areq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void changed(struct areq *q, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    guise_eventlog_write(server_eventlog(q->a->srv), GUISE_EVENT_INFORMATION, "admin",
                         ADMIN_EV_CHANGE, GUISE_S_OK, "%s: %s", q->who, msg);
}

static json_t *iso_time(time_t t)
{
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *result_json(guise_result code)
{
    char hex[16];
    snprintf(hex, sizeof hex, "0x%08X", (unsigned)code);
    return json_pack("{s:s,s:s}", "code", hex, "name", guise_result_name(code));
}

/* ---- request bodies ---- */

static json_t *body_object(struct areq *q, struct areply *out)
{
    json_error_t je;
    json_t *v = q->body ? json_loadb(q->body, q->len, 0, &je) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        reply_error(out, 400, "bad_body", "the body must be a JSON object%s%s", q->body ? ": " : "",
                    q->body ? je.text : "");
        return NULL;
    }
    return v;
}

/* ---- the state file ---- */

/* Runs edit on the persisted state and saves it; 0 or -1 with out set. The
 * previous state goes into *prev (when non-NULL) so a change that the
 * reload refuses can be rolled back. */
static char *current_state_path(struct server *srv)
{
    struct gen *g = server_current_gen(srv);
    char *p = state_path(srv, g ? g->cfg : NULL);
    gen_unref(g);
    return p;
}

static int state_edit(struct areq *q, struct areply *out, void (*edit)(json_t *st, void *arg),
                      void *arg, json_t **prev)
{
    char *path = current_state_path(q->a->srv);
    char err[512];
    json_t *st = path ? state_load(path, err, sizeof err) : NULL;
    if (!st) {
        reply_error(out, 500, "state_unreadable", "%s", path ? err : "out of memory");
        free(path);
        return -1;
    }
    if (prev)
        *prev = json_deep_copy(st);
    edit(st, arg);
    int rc = state_save(path, st, err, sizeof err);
    if (rc != 0)
        reply_error(out, 500, "state_unwritable", "%s", err);
    json_decref(st);
    free(path);
    return rc;
}

static void state_restore(struct areq *q, json_t *prev)
{
    char *path = current_state_path(q->a->srv);
    char err[512];
    if (path && prev && state_save(path, prev, err, sizeof err) != 0)
        guise_eventlog_write(server_eventlog(q->a->srv), GUISE_EVENT_ERROR, "admin", ADMIN_EV_STATE,
                             GUISE_E_FAIL, "cannot roll back the administrative state: %s", err);
    free(path);
}

static json_t *state_plugin(json_t *st, const char *name)
{
    json_t *plugins = json_object_get(st, "plugins");
    if (!json_is_object(plugins)) {
        plugins = json_object();
        json_object_set_new(st, "plugins", plugins);
    }
    json_t *p = json_object_get(plugins, name);
    if (!json_is_object(p)) {
        p = json_object();
        json_object_set_new(plugins, name, p);
    }
    return p;
}

/* ---- server ---- */

static uint64_t stats_total(struct server *srv, enum stats_kind kind, const char *a)
{
    struct stats_entry *v = calloc(1024, sizeof *v);
    if (!v)
        return 0;
    size_t n = stats_snapshot(server_stats(srv), v, 1024);
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == kind && (!a || !strcmp(v[i].a, a)))
            t += v[i].value;
    free(v);
    return t;
}

static json_t *requests_by_status(struct server *srv, const char *point)
{
    struct stats_entry *v = calloc(1024, sizeof *v);
    json_t *o = json_object();
    if (!v)
        return o;
    size_t n = stats_snapshot(server_stats(srv), v, 1024);
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == STATS_REQUESTS && (!point || !strcmp(v[i].a, point))) {
            json_int_t have = json_integer_value(json_object_get(o, v[i].b));
            json_object_set_new(o, v[i].b, json_integer(have + (json_int_t)v[i].value));
        }
    free(v);
    return o;
}

static json_t *names_json(guise_plugin *const *list, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(guise_plugin_name(list[i])));
    return a;
}

static json_t *scope_json(guise_scope *s)
{
    guise_plugin *const *authn, *const *authz;
    size_t na = guise_scope_authn(s, &authn), nz = guise_scope_authz(s, &authz);
    return json_pack("{s:s,s:o,s:o,s:s}", "name", guise_scope_name(s), "authentication",
                     names_json(authn, na), "authorization", names_json(authz, nz), "state",
                     guise_scope_critical(s) ? "critical" : "ok");
}

static void get_server(struct areq *q, struct gen *g, struct areply *out)
{
    struct server *srv = q->a->srv;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct server_counts n;
    server_counts(srv, &n);
    json_t *critical = json_array();
    for (size_t i = 0; i < guise_host_scope_count(g->host); i++) {
        guise_scope *s = guise_host_scope_at(g->host, i);
        if (guise_scope_critical(s))
            json_array_append_new(critical, json_string(guise_scope_name(s)));
    }
    json_t *v = json_pack(
        "{s:s,s:I,s:o,s:s,s:b,s:o,s:o,s:s,s:I,s:{s:o,s:I,s:I,s:I,s:I}}", "version", GUISE_VERSION,
        "uptime_seconds", (json_int_t)(now.tv_sec - server_started(srv)), "started",
        iso_time(server_started(srv)), "config_file", server_config_path(srv), "critical",
        json_array_size(critical) > 0, "critical_scopes", critical, "scope",
        scope_json(g->root_scope), "impersonation", server_impersonation(srv), "generation",
        (json_int_t)g->id, "counters", "requests", requests_by_status(srv, NULL), "bytes_sent",
        (json_int_t)stats_total(srv, STATS_BYTES, NULL), "open_connections",
        (json_int_t)n.open_connections, "active_requests", (json_int_t)n.active_requests,
        "workers_pending", (json_int_t)n.workers_pending);
    char *sp = state_path(srv, g->cfg);
    json_object_set_new(v, "state_file", json_string(sp ? sp : ""));
    free(sp);
    reply_json(out, 200, v);
}

/* ---- plug-ins ---- */

static const struct guise_property_spec *prop_spec(const struct guise_plugin_descriptor *d,
                                                   const char *key)
{
    for (const struct guise_property_spec *s = d->properties; s && s->name; s++)
        if (!strcmp(s->name, key))
            return s;
    return NULL;
}

static json_t *plugin_json(struct gen *g, guise_plugin *p)
{
    const struct guise_plugin_descriptor *d = guise_plugin_descriptor_of(p);
    json_t *flags = json_array();
    const char *protocol = NULL;
    if (d->kind == GUISE_PLUGIN_AUTHENTICATION && d->authn) {
        protocol = d->authn->protocol;
        static const struct {
            uint32_t bit;
            const char *name;
        } names[] = {{GUISE_AUTH_TEXT_CHALLENGE, "text-challenge"},
                     {GUISE_AUTH_CLIENT_SHOWS_UI, "client-shows-ui"},
                     {GUISE_AUTH_ANONYMOUS, "anonymous"},
                     {GUISE_AUTH_CHALLENGE_FIRST, "challenge-first"}};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (d->authn->flags & names[i].bit)
                json_array_append_new(flags, json_string(names[i].name));
    } else if (d->authz) {
        if (d->authz->events & GUISE_AUTHZ_READ)
            json_array_append_new(flags, json_string("read"));
        if (d->authz->events & GUISE_AUTHZ_WRITE)
            json_array_append_new(flags, json_string("write"));
        if (d->authz->events & GUISE_AUTHZ_CREATE)
            json_array_append_new(flags, json_string("create"));
        if (d->authz->point_level_allowed)
            json_array_append_new(flags, json_string("point-level"));
    }
    /* Properties: secrets never leave the server. */
    json_t *props = json_object();
    const guise_props *pp = guise_plugin_props(p);
    for (size_t i = 0; pp && i < guise_props_size(pp); i++) {
        const char *k, *val;
        int line;
        guise_props_entry(pp, i, &k, &val, &line);
        const struct guise_property_spec *s = prop_spec(d, k);
        json_t *jv = json_string(s && (s->flags & GUISE_PROP_SECRET) ? "(secret)" : val);
        json_t *have = json_object_get(props, k);
        if (!have) {
            json_object_set_new(props, k, jv);
        } else if (json_is_array(have)) {
            json_array_append_new(have, jv);
        } else {
            json_object_set_new(props, k, json_pack("[O,o]", have, jv));
        }
    }
    /* Selection order: the position in every scope list naming it. */
    json_t *order = json_array();
    for (size_t i = 0; i < guise_host_scope_count(g->host); i++) {
        guise_scope *s = guise_host_scope_at(g->host, i);
        guise_plugin *const *list;
        size_t n = d->kind == GUISE_PLUGIN_AUTHENTICATION ? guise_scope_authn(s, &list)
                                                          : guise_scope_authz(s, &list);
        for (size_t j = 0; j < n; j++)
            if (list[j] == p)
                json_array_append_new(order, json_pack("{s:s,s:I}", "scope", guise_scope_name(s),
                                                       "position", (json_int_t)(j + 1)));
    }
    char msg[512] = "";
    guise_result code = guise_plugin_last_error(p, msg, sizeof msg);
    json_t *last = json_null();
    if (code != GUISE_S_OK) {
        last = result_json(code);
        json_object_set_new(last, "message", json_string(msg));
    }
    json_t *v = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:o,s:o,s:o}", "name", guise_plugin_name(p), "type", d->name,
        "kind", d->kind == GUISE_PLUGIN_AUTHENTICATION ? "authentication" : "authorization",
        "package", d->package ? d->package : "", "version", d->version ? d->version : "", "flags",
        flags, "state", guise_plugin_state_name(guise_plugin_state_of(p)), "order", order,
        "properties", props, "last_error", last);
    json_object_set_new(v, "protocol", protocol ? json_string(protocol) : json_null());
    json_object_set_new(v, "description", json_string(d->description ? d->description : ""));
    return v;
}

static void get_plugins(struct gen *g, struct areply *out)
{
    json_t *a = json_array();
    for (size_t i = 0; i < guise_host_plugin_count(g->host); i++)
        json_array_append_new(a, plugin_json(g, guise_host_plugin_at(g->host, i)));
    reply_json(out, 200, json_pack("{s:o}", "plugins", a));
}

struct enabled_edit {
    const char *name;
    bool enabled;
};

static void edit_enabled(json_t *st, void *arg)
{
    struct enabled_edit *e = arg;
    json_t *p = state_plugin(st, e->name);
    if (e->enabled)
        json_object_del(p, "enabled"); /* back to the configuration's default */
    else
        json_object_set_new(p, "enabled", json_false());
}

/* Under the reload lock: a reload running at the same time would otherwise
 * build its generation from the state file before this change and install
 * it after, losing the change on the running instances. */
static void plugin_enable(struct areq *q, const char *name, bool enable, struct areply *out)
{
    struct server *srv = q->a->srv;
    /* Lock order everywhere: state_lock, then reload_lock. */
    pthread_mutex_lock(&q->a->state_lock);
    server_changes_begin(srv);
    struct gen *g = server_current_gen(srv);
    guise_plugin *p = g ? guise_host_plugin(g->host, name) : NULL;
    struct enabled_edit e = {name, enable};
    if (!p) {
        reply_error(out, 404, "no_such_plugin", "no plug-in instance '%s'", name);
    } else if (state_edit(q, out, edit_enabled, &e, NULL) == 0) {
        guise_result r = GUISE_S_OK;
        if (enable) {
            r = guise_plugin_enable(p);
            changed(q, "enabled plug-in '%s'%s", name, r == GUISE_S_OK ? "" : " (enable failed)");
        } else {
            guise_plugin_disable(p);
            changed(q, "disabled plug-in '%s'", name);
        }
        if (r != GUISE_S_OK) {
            char msg[512] = "";
            guise_plugin_last_error(p, msg, sizeof msg);
            reply_error(out, 409, "enable_failed", "%s", msg);
        } else {
            reply_ok(out, json_pack("{s:o}", "plugin", plugin_json(g, p)));
        }
    }
    gen_unref(g);
    server_changes_end(srv);
    pthread_mutex_unlock(&q->a->state_lock);
}

struct prop_edit {
    const char *name, *key, *value;
};

static void edit_prop(json_t *st, void *arg)
{
    struct prop_edit *e = arg;
    json_t *p = state_plugin(st, e->name);
    json_t *props = json_object_get(p, "properties");
    if (!json_is_object(props)) {
        props = json_object();
        json_object_set_new(p, "properties", props);
    }
    if (e->value)
        json_object_set_new(props, e->key, json_string(e->value));
    else
        json_object_del(props, e->key); /* back to the configuration's value */
}

/* Reloads the configuration (with the state applied). 0, or -1 with out set. */
static int do_reload(struct areq *q, struct areply *out)
{
    char err[1024] = "";
    struct server *srv = q->a->srv;
    if (server_reload(srv, err, sizeof err) != 0) {
        reply_error(out, 400, "reload_failed", "%s", err);
        return -1;
    }
    return 0;
}

/* The instance named name in the generation now current, as JSON. */
static json_t *current_plugin_json(struct server *srv, const char *name)
{
    struct gen *g = server_current_gen(srv);
    guise_plugin *p = g ? guise_host_plugin(g->host, name) : NULL;
    json_t *v = p ? plugin_json(g, p) : json_null();
    gen_unref(g);
    return v;
}

/* PUT sets a property ({"value": "..."}); DELETE drops the value set
 * through the API, so that the configuration file's applies again. */
static void plugin_set_property(struct areq *q, guise_plugin *p, const char *key, bool remove,
                                struct areply *out)
{
    const struct guise_plugin_descriptor *d = guise_plugin_descriptor_of(p);
    const char *name = guise_plugin_name(p);
    if (strchr(name, '@')) {
        reply_error(out, 400, "per_point_instance",
                    "'%s' is made from its publishing point's keys; change those in the "
                    "configuration",
                    name);
        return;
    }
    const struct guise_property_spec *s = prop_spec(d, key);
    if (!s) {
        reply_error(out, 400, "unknown_property", "plug-in '%s' has no property '%s'", name, key);
        return;
    }
    json_t *b = NULL;
    struct prop_edit e = {name, key, NULL};
    if (!remove) {
        if (!(b = body_object(q, out)))
            return;
        json_t *jv = json_object_get(b, "value");
        if (!json_is_string(jv)) {
            json_decref(b);
            reply_error(out, 400, "bad_body", "expected {\"value\": \"...\"}");
            return;
        }
        e.value = json_string_value(jv);
    }
    json_t *prev = NULL;
    /* Instances are re-initialised by building a new generation: the
     * simplest way that is correct for every plug-in. */
    pthread_mutex_lock(&q->a->state_lock);
    if (state_edit(q, out, edit_prop, &e, &prev) == 0) {
        if (do_reload(q, out) != 0) {
            state_restore(q, prev);
        } else {
            if (remove)
                changed(q, "reset property '%s' of plug-in '%s' to the configuration's", key, name);
            else if (s->flags & GUISE_PROP_SECRET)
                changed(q, "set secret property '%s' of plug-in '%s'", key, name);
            else
                changed(q, "set property '%s' of plug-in '%s' to '%s'", key, name, e.value);
            reply_ok(out, json_pack("{s:o}", "plugin", current_plugin_json(q->a->srv, name)));
        }
    }
    pthread_mutex_unlock(&q->a->state_lock);
    json_decref(prev);
    json_decref(b);
}

/* ---- authentication order ---- */

struct order_edit {
    const char *scope;
    json_t *names;
};

static void edit_order(json_t *st, void *arg)
{
    struct order_edit *e = arg;
    json_t *o = json_object_get(st, "authentication");
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(st, "authentication", o);
    }
    json_object_set(o, e->scope, e->names);
}

static void put_order(struct areq *q, guise_scope *s, const char *state_key, struct areply *out)
{
    json_t *b = body_object(q, out);
    if (!b)
        return;
    json_t *names = json_object_get(b, "order");
    guise_plugin *const *list;
    size_t n = guise_scope_authn(s, &list);
    /* A new order of the same plug-ins: adding or removing one is a
     * configuration change, not an ordering. */
    bool ok = json_is_array(names) && json_array_size(names) == n;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *jn = json_array_get(names, i);
        ok = json_is_string(jn);
        bool found = false;
        for (size_t j = 0; ok && j < n; j++)
            if (!strcmp(guise_plugin_name(list[j]), json_string_value(jn)))
                found = true;
        for (size_t j = 0; ok && j < i; j++)
            if (!strcmp(json_string_value(json_array_get(names, j)), json_string_value(jn)))
                found = false;
        ok = ok && found;
    }
    if (!ok) {
        json_t *cur = names_json(list, n);
        char *txt = json_dumps(cur, JSON_COMPACT);
        reply_error(out, 400, "bad_order", "expected {\"order\": [...]}, a permutation of %s",
                    txt ? txt : "the current list");
        free(txt);
        json_decref(cur);
        json_decref(b);
        return;
    }
    struct order_edit e = {state_key, names};
    json_t *prev = NULL;
    pthread_mutex_lock(&q->a->state_lock);
    if (state_edit(q, out, edit_order, &e, &prev) == 0) {
        if (do_reload(q, out) != 0) {
            state_restore(q, prev);
        } else {
            char *txt = json_dumps(names, JSON_COMPACT);
            changed(q, "set the authentication order of scope '%s' to %s", state_key,
                    txt ? txt : "?");
            free(txt);
            reply_ok(out, NULL);
        }
    }
    pthread_mutex_unlock(&q->a->state_lock);
    json_decref(prev);
    json_decref(b);
}

/* ---- points ---- */

static json_t *point_json(struct server *srv, struct gen *g, struct point *pt)
{
    json_t *v = scope_json(pt->scope);
    const struct cfg_point *cp = guise_config_point(g->cfg, pt->name);
    json_object_set_new(v, "path", json_string(cp ? cp->path : ""));
    json_object_set_new(v, "counters",
                        json_pack("{s:o,s:I}", "requests", requests_by_status(srv, pt->name),
                                  "bytes_sent",
                                  (json_int_t)stats_total(srv, STATS_BYTES, pt->name)));
    json_t *live = admin_live_json(srv, g, pt->name);
    if (live)
        json_object_set_new(v, "live", live);
    return v;
}

static void scope_reenable(struct areq *q, guise_scope *s, struct areply *out)
{
    guise_result r = guise_scope_reenable(s);
    changed(q, "re-enabled scope '%s'%s", guise_scope_name(s), r == GUISE_S_OK ? "" : " (failed)");
    if (r != GUISE_S_OK) {
        reply_error(out, 409, "reenable_failed",
                    "a plug-in of scope '%s' cannot be enabled (%s); see the diagnostics",
                    guise_scope_name(s), guise_result_name(r));
        return;
    }
    reply_ok(out, json_pack("{s:o}", "scope", scope_json(s)));
}

/* ---- clients ---- */

static void get_clients(struct areq *q, struct areply *out)
{
    struct conn_info *v = NULL;
    long n = http_connections(q->a->srv, &v);
    if (n < 0) {
        reply_error(out, 500, "internal", "out of memory");
        return;
    }
    json_t *a = json_array();
    for (long i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:I,s:s,s:s?,s:s?,s:s?,s:I,s:o}", "id",
                                           (json_int_t)v[i].id, "address", v[i].client_ip, "user",
                                           v[i].user[0] ? v[i].user : NULL, "account",
                                           v[i].account[0] ? v[i].account : NULL, "point",
                                           v[i].point[0] ? v[i].point : NULL, "bytes",
                                           (json_int_t)v[i].bytes, "since", iso_time(v[i].since)));
    free(v);
    reply_json(out, 200, json_pack("{s:o}", "clients", a));
}

/* ---- diagnostics ---- */

static void get_diagnostics(struct areq *q, struct areply *out)
{
    enum { MAX = 1024 };
    struct guise_diag_entry *v = calloc(MAX, sizeof *v);
    if (!v) {
        reply_error(out, 500, "internal", "out of memory");
        return;
    }
    size_t n = guise_eventlog_diagnostics(server_eventlog(q->a->srv), v, MAX);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e =
            json_pack("{s:I,s:o,s:s,s:s,s:I,s:o,s:s}", "seq", (json_int_t)v[i].seq, "time",
                      iso_time(v[i].when.tv_sec), "level", guise_event_level_name(v[i].level),
                      "source", v[i].source, "event_id", (json_int_t)v[i].event_id, "result",
                      result_json(v[i].code), "message", v[i].message);
        json_array_append_new(a, e);
    }
    free(v);
    reply_json(out, 200, json_pack("{s:o}", "diagnostics", a));
}

/* ---- static files ---- */

static bool serve_www(struct areq *q, struct areply *out)
{
    const char *path = !strcmp(q->url, "/") ? "/index.html" : q->url;
    for (const struct www_file *f = admin_www_files; f->path; f++)
        if (!strcmp(f->path, path)) {
            out->status = 200;
            out->body = malloc(f->len + 1);
            if (!out->body) {
                reply_error(out, 500, "internal", "out of memory");
                return true;
            }
            memcpy(out->body, f->data, f->len);
            out->len = f->len;
            out->content_type = f->content_type;
            return true;
        }
    return false;
}

/* ---- routing ---- */

/* Splits url (after the prefix) into at most 4 segments. */
static size_t segments(const char *url, char seg[][128], size_t max)
{
    size_t n = 0;
    const char *s = url;
    while (*s == '/')
        s++;
    while (*s && n < max) {
        size_t len = strcspn(s, "/");
        if (len >= 128)
            return max + 1;
        memcpy(seg[n], s, len);
        seg[n][len] = '\0';
        n++;
        s += len;
        while (*s == '/')
            s++;
    }
    return *s ? max + 1 : n;
}

static bool is(const struct areq *q, const char *m)
{
    return !strcmp(q->method, m);
}

static void method_not_allowed(struct areq *q, struct areply *out, const char *allow)
{
    areq_add_header(q, MHD_HTTP_HEADER_ALLOW, allow);
    reply_error(out, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)", q->method,
                q->url, allow);
}

static void route_api(struct areq *q, struct gen *g, struct areply *out)
{
    char seg[5][128];
    size_t n = segments(q->url, seg, 5);
    struct server *srv = q->a->srv;
    if (n > 5 || n < 2) {
        reply_error(out, 404, "not_found", "no resource %s", q->url);
        return;
    }
    const char *res = seg[1];
    if (!strcmp(res, "server")) {
        if (n == 2) {
            if (!is(q, "GET"))
                return method_not_allowed(q, out, "GET");
            return get_server(q, g, out);
        }
        if (n == 3 && !strcmp(seg[2], "reenable")) {
            if (!is(q, "POST"))
                return method_not_allowed(q, out, "POST");
            return scope_reenable(q, g->root_scope, out);
        }
        if (n == 3 && !strcmp(seg[2], "authentication")) {
            if (!is(q, "PUT"))
                return method_not_allowed(q, out, "PUT");
            return put_order(q, g->root_scope, "server", out);
        }
    } else if (!strcmp(res, "reload") && n == 2) {
        if (!is(q, "POST"))
            return method_not_allowed(q, out, "POST");
        if (do_reload(q, out) == 0) {
            changed(q, "reloaded the configuration");
            reply_ok(out, NULL);
        }
        return;
    } else if (!strcmp(res, "plugins")) {
        if (n == 2) {
            if (!is(q, "GET"))
                return method_not_allowed(q, out, "GET");
            return get_plugins(g, out);
        }
        guise_plugin *p = guise_host_plugin(g->host, seg[2]);
        if (!p) {
            reply_error(out, 404, "no_such_plugin", "no plug-in instance '%s'", seg[2]);
            return;
        }
        if (n == 3) {
            if (!is(q, "GET"))
                return method_not_allowed(q, out, "GET");
            return reply_json(out, 200, plugin_json(g, p));
        }
        if (n == 4 && (!strcmp(seg[3], "enable") || !strcmp(seg[3], "disable"))) {
            if (!is(q, "POST"))
                return method_not_allowed(q, out, "POST");
            return plugin_enable(q, guise_plugin_name(p), !strcmp(seg[3], "enable"), out);
        }
        if (n == 5 && !strcmp(seg[3], "properties")) {
            if (!is(q, "PUT") && !is(q, "DELETE"))
                return method_not_allowed(q, out, "PUT, DELETE");
            return plugin_set_property(q, p, seg[4], is(q, "DELETE"), out);
        }
    } else if (!strcmp(res, "points")) {
        if (n == 2) {
            if (!is(q, "GET"))
                return method_not_allowed(q, out, "GET");
            json_t *a = json_array();
            for (size_t i = 0; i < g->npoints; i++)
                json_array_append_new(a, point_json(srv, g, &g->points[i]));
            return reply_json(out, 200, json_pack("{s:o}", "points", a));
        }
        struct point *pt = gen_point(g, seg[2]);
        if (!pt) {
            reply_error(out, 404, "no_such_point", "no publishing point '%s'", seg[2]);
            return;
        }
        if (n == 3) {
            if (!is(q, "GET"))
                return method_not_allowed(q, out, "GET");
            return reply_json(out, 200, point_json(srv, g, pt));
        }
        if (n == 4 && !strcmp(seg[3], "reenable")) {
            if (!is(q, "POST"))
                return method_not_allowed(q, out, "POST");
            return scope_reenable(q, pt->scope, out);
        }
        if (n == 4 && !strcmp(seg[3], "disconnect-publisher")) {
            if (!is(q, "POST"))
                return method_not_allowed(q, out, "POST");
            if (admin_live_disconnect(srv, pt->name, q->who) != 0) {
                reply_error(out, 404, "no_publisher", "publishing point '%s' has no publisher",
                            pt->name);
                return;
            }
            changed(q, "disconnected the publisher of '%s'", pt->name);
            return reply_ok(out, NULL);
        }
        if (n == 4 && !strcmp(seg[3], "authentication")) {
            if (!is(q, "PUT"))
                return method_not_allowed(q, out, "PUT");
            return put_order(q, pt->scope, pt->name, out);
        }
    } else if (!strcmp(res, "clients")) {
        if (n == 2) {
            if (!is(q, "GET"))
                return method_not_allowed(q, out, "GET");
            return get_clients(q, out);
        }
        if (n == 3) {
            if (!is(q, "DELETE"))
                return method_not_allowed(q, out, "DELETE");
            char *end;
            errno = 0;
            unsigned long long id = strtoull(seg[2], &end, 10);
            if (errno || *end || !seg[2][0]) {
                reply_error(out, 400, "bad_id", "'%s' is not a client id", seg[2]);
                return;
            }
            if (http_disconnect(srv, id) != 0) {
                reply_error(out, 404, "no_such_client", "no client %llu", id);
                return;
            }
            changed(q, "disconnected client %llu", id);
            return reply_ok(out, NULL);
        }
    } else if (!strcmp(res, "diagnostics") && n == 2) {
        if (is(q, "GET"))
            return get_diagnostics(q, out);
        if (is(q, "DELETE")) {
            guise_eventlog_clear_diagnostics(server_eventlog(srv));
            changed(q, "cleared the diagnostics");
            return reply_ok(out, NULL);
        }
        return method_not_allowed(q, out, "GET, DELETE");
    }
    reply_error(out, 404, "not_found", "no resource %s", q->url);
}

void api_handle(struct areq *q, struct areply *out)
{
    if (!strncmp(q->url, "/api/", 5) || !strcmp(q->url, "/api")) {
        struct gen *g = server_current_gen(q->a->srv);
        if (!g) {
            reply_error(out, 503, "unavailable", "the server is stopping");
            return;
        }
        route_api(q, g, out);
        gen_unref(g);
        return;
    }
    if (!strcmp(q->url, "/metrics")) {
        if (!is(q, "GET"))
            return method_not_allowed(q, out, "GET");
        out->status = 200;
        out->body = metrics_render(q->a->srv, &out->len);
        out->content_type = "text/plain; version=0.0.4; charset=utf-8";
        if (!out->body)
            reply_error(out, 500, "internal", "out of memory");
        return;
    }
    if ((is(q, "GET") || is(q, "HEAD")) && serve_www(q, out))
        return;
    reply_error(out, 404, "not_found", "no resource %s", q->url);
}
