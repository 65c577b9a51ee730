/* The event log: journal or stderr sink, a capture hook, and the bounded
 * diagnostics ring behind the troubleshooting list. */
#include <guise/events.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

struct guise_eventlog {
    pthread_mutex_t lock;
    enum guise_event_sink sink;
    guise_event_hook hook;
    void *hook_arg;
    struct guise_diag_entry *ring;
    size_t cap, count, head; /* head: next slot to write */
    uint64_t seq;
};

/* One MESSAGE_ID per event kind, so `journalctl MESSAGE_ID=...` finds them. */
static const char *message_id_for(enum guise_event_level level)
{
    switch (level) {
    case GUISE_EVENT_ERROR:
        return "7d3c2f4e0a6b4b8e9c51f0d2a8e6b101";
    case GUISE_EVENT_WARNING:
        return "7d3c2f4e0a6b4b8e9c51f0d2a8e6b102";
    default:
        return "7d3c2f4e0a6b4b8e9c51f0d2a8e6b103";
    }
}

const char *guise_event_level_name(enum guise_event_level level)
{
    switch (level) {
    case GUISE_EVENT_ERROR:
        return "error";
    case GUISE_EVENT_WARNING:
        return "warning";
    case GUISE_EVENT_INFORMATION:
        return "information";
    }
    return "unknown";
}

guise_result guise_eventlog_new(enum guise_event_sink sink, size_t diag_capacity,
                                guise_eventlog **out)
{
    guise_eventlog *log = calloc(1, sizeof *log);
    if (!log)
        return GUISE_E_OUTOFMEMORY;
    log->cap = diag_capacity ? diag_capacity : 256;
    log->ring = calloc(log->cap, sizeof *log->ring);
    if (!log->ring) {
        free(log);
        return GUISE_E_OUTOFMEMORY;
    }
    pthread_mutex_init(&log->lock, NULL);
    log->sink = sink;
    *out = log;
    return GUISE_S_OK;
}

void guise_eventlog_free(guise_eventlog *log)
{
    if (!log)
        return;
    pthread_mutex_destroy(&log->lock);
    free(log->ring);
    free(log);
}

void guise_eventlog_set_sink(guise_eventlog *log, enum guise_event_sink sink)
{
    pthread_mutex_lock(&log->lock);
    log->sink = sink;
    pthread_mutex_unlock(&log->lock);
}

void guise_eventlog_set_hook(guise_eventlog *log, guise_event_hook hook, void *arg)
{
    pthread_mutex_lock(&log->lock);
    log->hook = hook;
    log->hook_arg = arg;
    pthread_mutex_unlock(&log->lock);
}

static int syslog_priority(enum guise_event_level level)
{
    return level == GUISE_EVENT_ERROR     ? LOG_ERR
           : level == GUISE_EVENT_WARNING ? LOG_WARNING
                                          : LOG_INFO;
}

static void write_sink(enum guise_event_sink sink, const struct guise_event *ev)
{
    if (sink == GUISE_SINK_JOURNAL) {
        sd_journal_send("MESSAGE=%s: %s", ev->source, ev->message, "PRIORITY=%d",
                        syslog_priority(ev->level), "MESSAGE_ID=%s", message_id_for(ev->level),
                        "GUISE_SOURCE=%s", ev->source, "GUISE_EVENT_ID=%u", ev->event_id,
                        "GUISE_RESULT=0x%08X", (unsigned)ev->code, "GUISE_RESULT_NAME=%s",
                        guise_result_name(ev->code), "SYSLOG_IDENTIFIER=guised", NULL);
    } else if (sink == GUISE_SINK_STDERR) {
        struct tm tm;
        char ts[32];
        gmtime_r(&ev->when.tv_sec, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        if (ev->code != GUISE_S_OK)
            fprintf(stderr, "%s.%03ldZ %s %s[%u] %s (%s)\n", ts, ev->when.tv_nsec / 1000000,
                    guise_event_level_name(ev->level), ev->source, ev->event_id, ev->message,
                    guise_result_name(ev->code));
        else
            fprintf(stderr, "%s.%03ldZ %s %s[%u] %s\n", ts, ev->when.tv_nsec / 1000000,
                    guise_event_level_name(ev->level), ev->source, ev->event_id, ev->message);
    }
}

void guise_eventlog_vwrite(guise_eventlog *log, enum guise_event_level level, const char *source,
                           uint32_t event_id, guise_result code, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* Messages may quote what a client sent: keep one event on one line. */
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    struct guise_event ev = {.level = level,
                             .source = source ? source : "server",
                             .event_id = event_id,
                             .code = code,
                             .message = msg};
    clock_gettime(CLOCK_REALTIME, &ev.when);

    pthread_mutex_lock(&log->lock);
    write_sink(log->sink, &ev);
    if (level == GUISE_EVENT_ERROR || level == GUISE_EVENT_WARNING) {
        struct guise_diag_entry *d = &log->ring[log->head];
        memset(d, 0, sizeof *d);
        d->when = ev.when;
        d->level = level;
        snprintf(d->source, sizeof d->source, "%s", ev.source);
        d->event_id = event_id;
        d->code = code;
        snprintf(d->message, sizeof d->message, "%s", msg);
        d->seq = ++log->seq;
        log->head = (log->head + 1) % log->cap;
        if (log->count < log->cap)
            log->count++;
    }
    if (log->hook)
        log->hook(&ev, log->hook_arg);
    pthread_mutex_unlock(&log->lock);
}

void guise_eventlog_write(guise_eventlog *log, enum guise_event_level level, const char *source,
                          uint32_t event_id, guise_result code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    guise_eventlog_vwrite(log, level, source, event_id, code, fmt, ap);
    va_end(ap);
}

size_t guise_eventlog_diagnostics(guise_eventlog *log, struct guise_diag_entry *out, size_t max)
{
    pthread_mutex_lock(&log->lock);
    size_t n = log->count < max ? log->count : max;
    for (size_t i = 0; i < n; i++) {
        size_t idx = (log->head + log->cap - 1 - i) % log->cap;
        out[i] = log->ring[idx];
    }
    pthread_mutex_unlock(&log->lock);
    return n;
}

void guise_eventlog_clear_diagnostics(guise_eventlog *log)
{
    pthread_mutex_lock(&log->lock);
    log->count = 0;
    log->head = 0;
    pthread_mutex_unlock(&log->lock);
}
