/* The admin interface's view of the server (server_query.h). */
#include "server/server_query.h"

#include "server/server.h"
#include "server/throttle.h"

#include "core/workers.h"
#include <stdio.h>

void server_counts(struct server *srv, struct server_counts *out)
{
    out->open_connections = atomic_load(&srv->open_connections);
    out->active_requests = atomic_load(&srv->active_requests);
    out->workers_pending = guise_workers_pending(srv->workers);
    out->worker_jobs_total = guise_workers_completed(srv->workers);
}

const char *server_config_path(const struct server *srv)
{
    return srv->config_path;
}

time_t server_started(const struct server *srv)
{
    return srv->started.tv_sec;
}

const char *server_impersonation(const struct server *srv)
{
    return guise_imp_mode_name(guise_imp_mode_of(srv->imp));
}

guise_eventlog *server_eventlog(const struct server *srv)
{
    return srv->log;
}

struct stats *server_stats(const struct server *srv)
{
    return srv->stats;
}

int server_reload(struct server *srv, char *err, size_t errsz)
{
    if (!srv->reload) {
        snprintf(err, errsz, "this server cannot reload");
        return -1;
    }
    return srv->reload(srv, err, errsz);
}

int server_delay(struct server *srv, unsigned delay_ms, void (*fn)(void *), void *arg)
{
    return throttle_after(srv->throttle, delay_ms, fn, arg);
}

void server_changes_begin(struct server *srv)
{
    pthread_mutex_lock(&srv->reload_lock);
}

void server_changes_end(struct server *srv)
{
    pthread_mutex_unlock(&srv->reload_lock);
}

struct live_hub *server_live(const struct server *srv)
{
    return srv->live;
}
