/* The admin interface's view of broadcast points (src/live): a point's live
 * state in GET /api/points, disconnecting its publisher, and the /metrics
 * samples of live points. */
#include "admin/admin_internal.h"

#include "live/live.h"
#include "server/broadcast_config.h"
#include "server/server_query.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static json_t *when(time_t t)
{
    if (!t)
        return json_null();
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

json_t *admin_live_json(struct server *srv, struct gen *g, const char *point)
{
    if (!broadcast_config_of(guise_config_point(g->cfg, point)) || !server_live(srv))
        return NULL;
    struct live_point_info in;
    bool seen = live_point_info(server_live(srv), point, &in);
    json_t *v =
        json_pack("{s:s,s:o,s:I,s:I,s:I,s:I}", "state", in.live ? "live" : "offline", "since",
                  when(seen ? in.since : 0), "listeners", (json_int_t)in.listeners, "bytes_out",
                  (json_int_t)in.bytes_out, "segments_written", (json_int_t)in.segments_written,
                  "listeners_dropped", (json_int_t)in.listeners_dropped);
    if (in.last_end[0])
        json_object_set_new(v, "last_end", json_string(in.last_end));
    if (in.live)
        json_object_set_new(v, "publisher",
                            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "user", in.user,
                                      "account", in.account, "address", in.client_ip, "agent",
                                      in.agent, "format", in.format, "codecs", in.codecs,
                                      "bytes_in", (json_int_t)in.bytes_in, "id",
                                      (json_int_t)in.publisher_id));
    return v;
}

int admin_live_disconnect(struct server *srv, const char *point, const char *who)
{
    char why[256];
    snprintf(why, sizeof why, "disconnected by an administrator (%s)", who);
    return server_live(srv) ? live_disconnect_publisher(server_live(srv), point, why) : -1;
}

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

void admin_live_metrics(FILE *f, struct server *srv, struct gen *g)
{
    static const struct {
        const char *name, *type, *help;
    } m[] = {
        {"guise_live_up", "gauge", "1 while the broadcast point has a publisher."},
        {"guise_live_listeners", "gauge", "Progressive listeners of the broadcast point."},
        {"guise_live_ingest_bytes_total", "counter", "Bytes received from the current publisher."},
        {"guise_live_bytes_out_total", "counter", "Progressive stream bytes sent to listeners."},
        {"guise_live_listeners_dropped_total", "counter", "Listeners dropped as too slow."},
        {"guise_live_segments_written_total", "counter", "HLS segments written."},
    };
    struct live_hub *hub = server_live(srv);
    if (!hub)
        return;
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name, m[k].type);
        for (size_t i = 0; i < g->npoints; i++) {
            const char *name = g->points[i].name;
            if (!broadcast_config_of(guise_config_point(g->cfg, name)))
                continue;
            struct live_point_info in;
            live_point_info(hub, name, &in);
            uint64_t val[] = {in.live,      (uint64_t)in.listeners, in.bytes_in,
                              in.bytes_out, in.listeners_dropped,   in.segments_written};
            fprintf(f, "%s{point=\"", m[k].name);
            label(f, name);
            fprintf(f, "\"} %" PRIu64 "\n", val[k]);
        }
    }
}
