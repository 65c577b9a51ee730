/* Rate-limited per-client events (see client_event.h); the counting is the
 * throttle's (server/throttle.h: throttle_event). */
#include "server/client_event.h"

#include "server/throttle.h"

#include <stdarg.h>
#include <stdio.h>

void client_event(struct server *srv, guise_eventlog *log, enum guise_event_level level,
                  const char *source, unsigned id, guise_result code, const char *client_ip,
                  const char *fmt, ...)
{
    char key[96];
    snprintf(key, sizeof key, "ev:%u:%s", id, client_ip ? client_ip : "-");
    unsigned n = srv->throttle ? throttle_event(srv->throttle, key) : 1;
    if (n == 0)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > 1)
        guise_eventlog_write(log, level, source, id, code,
                             "%s (%u similar events of this client suppressed in the last seconds)",
                             msg, n - 1);
    else
        guise_eventlog_write(log, level, source, id, code, "%s", msg);
}
