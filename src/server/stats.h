/* Counters of guised for the admin API and /metrics: requests by point and
 * status, authentications by plug-in and result, authorization denials by
 * plug-in, bytes sent. They live in the server, not in a generation, so a
 * reload does not reset them. */
#ifndef GUISE_SERVER_STATS_H
#define GUISE_SERVER_STATS_H

#include <stddef.h>
#include <stdint.h>

enum stats_kind {
    STATS_REQUESTS = 0,     /* labels: point ("" for the server root), status */
    STATS_AUTHN = 1,        /* labels: plug-in, result (success, denied, continue, error) */
    STATS_AUTHZ_DENIED = 2, /* labels: plug-in, "" */
    STATS_BYTES = 3,        /* labels: point, "" */
};

struct stats;

struct stats *stats_new(void);
void stats_free(struct stats *s);
/* Adds n to the counter kind{a, b}; silently drops new label pairs beyond a
 * fixed bound (a hostile client cannot grow it: labels are configured names
 * and status codes). */
void stats_add(struct stats *s, enum stats_kind kind, const char *a, const char *b, uint64_t n);

struct stats_entry {
    enum stats_kind kind;
    char a[128], b[64];
    uint64_t value;
};
/* Copies up to max entries into out (in insertion order); returns how many. */
size_t stats_snapshot(struct stats *s, struct stats_entry *out, size_t max);

#endif
