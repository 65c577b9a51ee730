/* GET /metrics: the Prometheus text exposition format, version 0.0.4. */
#include "admin/admin_internal.h"

#include "server/server_query.h"
#include "server/content_cache.h"
#include "server/stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Label values escape backslash, double quote and newline. */
static void label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counters(FILE *f, const struct stats_entry *v, size_t n, enum stats_kind kind,
                     const char *name, const char *la, const char *lb, const char *help)
{
    header(f, name, "counter", help);
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != kind)
            continue;
        fprintf(f, "%s{%s=\"", name, la);
        label(f, v[i].a);
        if (lb) {
            fprintf(f, "\",%s=\"", lb);
            label(f, v[i].b);
        }
        fprintf(f, "\"} %" PRIu64 "\n", v[i].value);
    }
}

static struct server_counts server_counts_now(struct server *srv)
{
    struct server_counts c;
    server_counts(srv, &c);
    return c;
}

char *metrics_render(struct server *srv, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    struct stats_entry *v = calloc(1024, sizeof *v);
    size_t n = v ? stats_snapshot(server_stats(srv), v, 1024) : 0;
    counters(f, v, n, STATS_REQUESTS, "guise_requests_total", "point", "status",
             "Requests answered, by publishing point (\"\" for the server root) and status.");
    counters(f, v, n, STATS_AUTHN, "guise_authentications_total", "plugin", "result",
             "Authentication attempts, by plug-in and result.");
    counters(f, v, n, STATS_AUTHZ_DENIED, "guise_authorization_denials_total", "plugin", NULL,
             "Requests denied by an authorization plug-in.");
    counters(f, v, n, STATS_BYTES, "guise_bytes_sent_total", "point", NULL,
             "Body bytes sent, by publishing point.");
    free(v);

    header(f, "guise_open_connections", "gauge", "Open client connections.");
    fprintf(f, "guise_open_connections %ld\n", server_counts_now(srv).open_connections);
    header(f, "guise_active_requests", "gauge", "Requests in progress.");
    fprintf(f, "guise_active_requests %ld\n", server_counts_now(srv).active_requests);
    header(f, "guise_workers_pending", "gauge", "Jobs waiting for a worker thread.");
    fprintf(f, "guise_workers_pending %zu\n", server_counts_now(srv).workers_pending);
    header(f, "guise_worker_jobs_total", "counter",
           "Blocking jobs (password hashing, PAM, GSSAPI, NSS) run on the worker pool.");
    fprintf(f, "guise_worker_jobs_total %" PRIu64 "\n", server_counts_now(srv).worker_jobs_total);
    uint64_t hits, misses, inserts;
    cc_counters(&hits, &misses, &inserts);
    header(f, "guise_content_cache_lookups_total", "counter",
           "Small-file cache lookups (content-cache-ttl), by result.");
    fprintf(f, "guise_content_cache_lookups_total{result=\"hit\"} %" PRIu64 "\n", hits);
    fprintf(f, "guise_content_cache_lookups_total{result=\"miss\"} %" PRIu64 "\n", misses);
    header(f, "guise_content_cache_inserts_total", "counter",
           "Small files read and kept for the identity that opened them.");
    fprintf(f, "guise_content_cache_inserts_total %" PRIu64 "\n", inserts);
    header(f, "guise_impersonation_info", "gauge", "The impersonation mechanism in use.");
    fprintf(f, "guise_impersonation_info{mechanism=\"%s\"} 1\n", server_impersonation(srv));

    enum { MAXD = 1024 };
    struct guise_diag_entry *d = calloc(MAXD, sizeof *d);
    size_t nd = d ? guise_eventlog_diagnostics(server_eventlog(srv), d, MAXD) : 0;
    size_t errors = 0, warnings = 0, infos = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i].level == GUISE_EVENT_ERROR)
            errors++;
        else if (d[i].level == GUISE_EVENT_WARNING)
            warnings++;
        else
            infos++;
    }
    free(d);
    header(f, "guise_diagnostics", "gauge", "Entries in the diagnostics list, by level.");
    fprintf(f, "guise_diagnostics{level=\"error\"} %zu\n", errors);
    fprintf(f, "guise_diagnostics{level=\"warning\"} %zu\n", warnings);
    fprintf(f, "guise_diagnostics{level=\"information\"} %zu\n", infos);

    struct gen *g = server_current_gen(srv);
    if (g) {
        header(f, "guise_plugin_enabled", "gauge",
               "1 when the plug-in instance is enabled, 0 when disabled or in error.");
        for (size_t i = 0; i < guise_host_plugin_count(g->host); i++) {
            guise_plugin *p = guise_host_plugin_at(g->host, i);
            fputs("guise_plugin_enabled{plugin=\"", f);
            label(f, guise_plugin_name(p));
            fprintf(f, "\",state=\"%s\"} %d\n", guise_plugin_state_name(guise_plugin_state_of(p)),
                    guise_plugin_state_of(p) == GUISE_PLUGIN_ENABLED);
        }
        admin_live_metrics(f, srv, g);
        header(f, "guise_scope_critical", "gauge",
               "1 when the scope is in the critical-error state (answers 503).");
        for (size_t i = 0; i < guise_host_scope_count(g->host); i++) {
            guise_scope *s = guise_host_scope_at(g->host, i);
            fputs("guise_scope_critical{scope=\"", f);
            label(f, guise_scope_name(s));
            fprintf(f, "\"} %d\n", guise_scope_critical(s));
        }
        gen_unref(g);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    header(f, "guise_uptime_seconds", "gauge", "Seconds since guised started.");
    fprintf(f, "guise_uptime_seconds %lld\n", (long long)(now.tv_sec - server_started(srv)));
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
