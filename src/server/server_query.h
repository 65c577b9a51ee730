/* What the admin interface may ask of the running server and tell it: a
 * narrow query/command interface, so that src/admin never reads the fields
 * of struct server. The composition root (main.c) is the one place that
 * knows both the server and the admin interface: it starts the admin
 * listener with the server as an opaque handle and sets the reload
 * command. */
#ifndef GUISE_SERVER_QUERY_H
#define GUISE_SERVER_QUERY_H

#include <guise/events.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct server;
struct stats;
struct live_hub;

/* Numbers of the moment (each read atomically, not as one snapshot). */
struct server_counts {
    long open_connections; /* content connections */
    long active_requests;
    size_t workers_pending;     /* jobs queued or running on the worker pool */
    uint64_t worker_jobs_total; /* jobs completed since start-up */
};

void server_counts(struct server *srv, struct server_counts *out);
const char *server_config_path(const struct server *srv);
/* CLOCK_REALTIME seconds at start-up. */
time_t server_started(const struct server *srv);
/* The impersonation mechanism in use ("io_uring", "syscalls", "off"). */
const char *server_impersonation(const struct server *srv);
guise_eventlog *server_eventlog(const struct server *srv);
/* The request and authentication counters (kept across reloads). */
struct stats *server_stats(const struct server *srv);
/* The broadcast points' live state (live/live.h), kept across reloads. */
struct live_hub *server_live(const struct server *srv);

/* Commands. Builds and installs a new generation from the configuration
 * file: 0, or -1 with why in err (also when no reload was set up). */
int server_reload(struct server *srv, char *err, size_t errsz);
/* Holds off reloads while a change to the running instances is made and
 * written to the state file (a reload in between would lose it). */
void server_changes_begin(struct server *srv);
void server_changes_end(struct server *srv);
/* Calls fn(arg) once delay_ms have passed, on the timer thread that delays
 * the content server's answers to failures: 0, or -1 when it cannot. */
int server_delay(struct server *srv, unsigned delay_ms, void (*fn)(void *), void *arg);

#endif
