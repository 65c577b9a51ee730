/* The admin interface of guised: a REST+JSON API, the web administration
 * page and Prometheus metrics on a listener of its own (admin-listen), and
 * the persistent administrative state (FILE.state next to the config).
 *
 * The server calls these from main.c; everything else of the admin code is
 * private to src/admin. */
#ifndef GUISE_ADMIN_ADMIN_H
#define GUISE_ADMIN_ADMIN_H

#include "server/server.h"

#include <stddef.h>

struct admin;

/* Starts the admin listener of cfg; *out is the running interface (NULL
 * when none was started). 0; or -1 with why in err when an explicitly
 * configured listener cannot be set up (the default socket in use by
 * another server only logs an event). The admin code reads the server only
 * through server/server_query.h and server_current_gen. */
int admin_start(struct server *srv, const struct guise_config *cfg, struct admin **out, char *err,
                size_t errsz);
/* Stops the listener and removes its socket file (NULL: nothing). */
void admin_stop(struct admin *a);

/* Applies the persisted changes made through the API after every load of
 * the configuration: property values and authentication orders into cfg
 * (before the generation is built), disabled plug-ins onto g (after).
 * admin_state_apply_config returns -1 (why in err) when memory ran out
 * half-way: the configuration must then be refused, not used. */
int admin_state_apply_config(struct server *srv, struct guise_config *cfg, char *err, size_t errsz);
void admin_state_apply_gen(struct server *srv, struct gen *g);

#endif
