/* Throttling of repeated authentication failures per client address: each
 * failure in a row makes the next 401 wait longer, which turns a password
 * guessing run into a crawl without blocking any thread. */
#ifndef GUISE_SERVER_THROTTLE_H
#define GUISE_SERVER_THROTTLE_H

#include <stdint.h>

struct throttle;

struct throttle *throttle_new(unsigned base_delay_ms, unsigned max_entries);
void throttle_free(struct throttle *t);
/* Records a failure of ip; returns how long its answer should wait (ms). */
unsigned throttle_failure(struct throttle *t, const char *ip);
/* Forgets ip's failures (after a success). */
void throttle_success(struct throttle *t, const char *ip);
void throttle_set_base(struct throttle *t, unsigned base_delay_ms);

/* Calls fn(arg) once delay_ms have passed, on the timer thread. */
int throttle_after(struct throttle *t, unsigned delay_ms, void (*fn)(void *), void *arg);

#endif
