/* Events about one client (a refused request, a denied login): per client
 * and event id a burst of 64 lines, then 5 a second, so a client looping on a refusal
 * cannot flood the log; the next line written says how many like it were
 * suppressed. Events that are not about a client (plug-in failures,
 * reloads) are not limited here. */
#ifndef GUISE_SERVER_CLIENT_EVENT_H
#define GUISE_SERVER_CLIENT_EVENT_H

#include "server/server.h"

#include <guise/events.h>

void client_event(struct server *srv, guise_eventlog *log, enum guise_event_level level,
                  const char *source, unsigned id, guise_result code, const char *client_ip,
                  const char *fmt, ...) __attribute__((format(printf, 8, 9)));

#endif
