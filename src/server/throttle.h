/* Throttling of repeated authentication failures per client address: each
 * failure in a row makes the next 401 wait longer, which turns a password
 * guessing run into a crawl without blocking any thread. */
#ifndef GUISE_SERVER_THROTTLE_H
#define GUISE_SERVER_THROTTLE_H

#include <stdint.h>
#include <time.h>

struct throttle;

/* Keys are client addresses ("ip:...") and claimed user names ("user:..."):
 * guessing passwords for one user from many addresses is slowed as well as
 * one address trying many users. */
struct throttle_policy {
    unsigned base_delay_ms;   /* each failure in a row adds this much delay */
    unsigned lockout_after;   /* failures in a row that lock the key out (0: never) */
    unsigned lockout_seconds; /* how long a locked key gets 429 */
};

struct throttle *throttle_new(const struct throttle_policy *p, unsigned max_entries);
void throttle_free(struct throttle *t);
void throttle_set_policy(struct throttle *t, const struct throttle_policy *p);
/* Records a failure of key; returns how long its answer should wait (ms). */
unsigned throttle_failure(struct throttle *t, const char *key);
/* Seconds key stays locked out (429), 0 when it is not. */
unsigned throttle_locked(struct throttle *t, const char *key);
/* Forgets key's failures (after a success). */
void throttle_success(struct throttle *t, const char *key);

/* Slots in use (keys with recent failures or lockouts), without the lock.
 * Zero means no key is locked and no success has anything to forget: the
 * pipeline then skips building keys. */
unsigned throttle_live(struct throttle *t);
/* Clears the slots that are stale at now (normally done at most every 10 s
 * by throttle_locked); for tests. */
void throttle_sweep_at(struct throttle *t, time_t now);

/* Calls fn(arg) once delay_ms have passed, on the timer thread. */
int throttle_after(struct throttle *t, unsigned delay_ms, void (*fn)(void *), void *arg);

#endif
