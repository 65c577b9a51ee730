/* The access log: one line per request, reopened on SIGHUP for logrotate.
 * Format (documented in docs/CONFIGURATION.md):
 *   CLIENT LOGICAL-USER ACCOUNT [TIME] "METHOD TARGET PROTO" STATUS BYTES
 *   "REFERER" "USER-AGENT" SCHEME POINT MICROSECONDS
 * Fields that are unknown are "-". */
#ifndef GUISE_SERVER_ACCESSLOG_H
#define GUISE_SERVER_ACCESSLOG_H

#include <guise/events.h>

#include <stdint.h>

struct accesslog;

struct access_entry {
    const char *client, *user, *account, *method, *target, *proto, *referer, *agent, *scheme,
        *point;
    unsigned status;
    uint64_t bytes;
    uint64_t micros;
};

/* path NULL: no access log. Returns NULL with errno on failure. log
 * (may be NULL) receives a WARNING when lines start being lost (a full
 * disk), a reminder with the count at most once a minute while they are,
 * and an INFORMATION when writing works again. */
struct accesslog *accesslog_open(const char *path, guise_eventlog *log);
int accesslog_reopen(struct accesslog *a);
void accesslog_write(struct accesslog *a, const struct access_entry *e);
void accesslog_close(struct accesslog *a);

#endif
