/* guise: the event log and the diagnostics ("troubleshooting") list.
 *
 * Events have a level, the plug-in (or "server") that raised them, an event
 * id, a result code and a message. Every event goes to the configured sink:
 * the systemd journal with structured fields, or stderr with one line per
 * event. Errors and warnings also enter the diagnostics list, a bounded ring
 * that the admin API shows newest first.
 */
#ifndef GUISE_EVENTS_H
#define GUISE_EVENTS_H

#include <guise/plugin.h>
#include <guise/result.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct guise_eventlog guise_eventlog;

enum guise_event_sink {
    GUISE_SINK_STDERR = 0,
    GUISE_SINK_JOURNAL = 1,
    GUISE_SINK_NONE = 2, /* tests: only the capture hook and the diagnostics */
};

struct guise_event {
    struct timespec when;
    enum guise_event_level level;
    const char *source; /* plug-in name or "server" */
    uint32_t event_id;
    guise_result code;
    const char *message;
};

/* Event ids of the host itself (plug-ins choose their own ids). */
enum {
    GUISE_EV_PLUGIN_METHOD_FAILED = 100,
    GUISE_EV_PLUGIN_DISABLED = 101,
    GUISE_EV_SCOPE_CRITICAL = 102,
    GUISE_EV_PLUGIN_LOAD_FAILED = 103,
    GUISE_EV_PLUGIN_ENABLED = 104,
    GUISE_EV_SCOPE_REENABLED = 105,
    GUISE_EV_SERVER_STARTED = 200,
    GUISE_EV_SERVER_STOPPING = 201,
    GUISE_EV_CONFIG_RELOADED = 202,
    GUISE_EV_CONFIG_REJECTED = 203,
    GUISE_EV_AUTH_DENIED = 300,
    GUISE_EV_AUTH_MALFORMED = 301,
    GUISE_EV_AUTH_THROTTLED = 302,
    GUISE_EV_REQUEST_REFUSED = 303,
    GUISE_EV_IO_ERROR = 400,
};

/* Captures every event (tests, admin API live feed). Called with the log's
 * lock held: do not log from inside. */
typedef void (*guise_event_hook)(const struct guise_event *ev, void *arg);

GUISE_API guise_result guise_eventlog_new(enum guise_event_sink sink, size_t diag_capacity,
                                          guise_eventlog **out);
GUISE_API void guise_eventlog_free(guise_eventlog *log);
GUISE_API void guise_eventlog_set_sink(guise_eventlog *log, enum guise_event_sink sink);
GUISE_API void guise_eventlog_set_hook(guise_eventlog *log, guise_event_hook hook, void *arg);

GUISE_API void guise_eventlog_write(guise_eventlog *log, enum guise_event_level level,
                                    const char *source, uint32_t event_id, guise_result code,
                                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
GUISE_API void guise_eventlog_vwrite(guise_eventlog *log, enum guise_event_level level,
                                     const char *source, uint32_t event_id, guise_result code,
                                     const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* One entry of the diagnostics list: a plain copy, nothing to free. */
struct guise_diag_entry {
    struct timespec when;
    enum guise_event_level level;
    char source[64];
    uint32_t event_id;
    guise_result code;
    char message[512];
    uint64_t seq; /* monotonically increasing */
};
/* Copies up to max entries, newest first, into out; returns how many. */
GUISE_API size_t guise_eventlog_diagnostics(guise_eventlog *log, struct guise_diag_entry *out,
                                            size_t max);
GUISE_API void guise_eventlog_clear_diagnostics(guise_eventlog *log);
GUISE_API const char *guise_event_level_name(enum guise_event_level level);

#ifdef __cplusplus
}
#endif
#endif
