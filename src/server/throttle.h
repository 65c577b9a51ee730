/* Throttling of repeated authentication failures per client address: each
 * failure in a row makes the next 401 wait longer, which turns a password
 * guessing run into a crawl without blocking any thread. */
#ifndef GUISE_SERVER_THROTTLE_H
#define GUISE_SERVER_THROTTLE_H

#include <stdbool.h>
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
/* The same with a slower policy: the delay grows `scale` times slower and
 * the lockout needs `scale` times as many failures (per-name counting,
 * which an attacker can drive from anywhere). */
unsigned throttle_failure_scaled(struct throttle *t, const char *key, unsigned scale);
/* Whether key has recent failures or is locked out. */
bool throttle_failing(struct throttle *t, const char *key);

/* Rate limit of one client's events per key: a burst of 64 lines, then 5
 * a second. 0 when this one is to be suppressed, else 1 + how many were
 * suppressed since the last one written. */
unsigned throttle_event(struct throttle *t, const char *key);

/* Jobs in flight per key (client address, user): true and counted when
 * fewer than max are in flight, false when the cap is reached (the caller
 * answers 503 before queueing anything). Every true is paired with one
 * throttle_job_end. */
bool throttle_job_begin(struct throttle *t, const char *key, unsigned max);
void throttle_job_end(struct throttle *t, const char *key);
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
