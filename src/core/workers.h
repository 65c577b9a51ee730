/* The worker pool: threads for blocking plug-in work (PAM, GSSAPI, NSS,
 * crypt), so that the HTTP I/O threads never block. Bounded queues make
 * overload visible (submit answers GUISE_E_BUSY) instead of growing without
 * limit.
 *
 * Two lanes, each with threads and a queue of its own: the slow lane for
 * password checks and GSSAPI legs (milliseconds each, bcrypt or yescrypt),
 * the quick lane for short jobs such as NSS token look-ups, so that those
 * never wait behind thousands of slow checks. The submitter chooses.
 *
 * Owners. A job may belong to an owner (an authentication context): the
 * owner is referenced while the job is queued or runs, and whoever frees the
 * requester marks it cancelled, so that the job can notice, when it runs,
 * that nobody waits for it and skip its costly part. While a job runs, its
 * owner is the thread's current owner, inherited by the jobs it submits. */
#ifndef GUISE_CORE_WORKERS_H
#define GUISE_CORE_WORKERS_H

#include <guise/plugin.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct guise_workers guise_workers;

enum guise_work_lane {
    GUISE_LANE_SLOW = 0,  /* password checks, PAM, GSSAPI */
    GUISE_LANE_QUICK = 1, /* NSS look-ups and other short jobs */
};

/* Who is waiting for a job: reference-counted, cancelled at most once. */
typedef struct guise_work_owner guise_work_owner;

guise_work_owner *guise_work_owner_new(void);
guise_work_owner *guise_work_owner_ref(guise_work_owner *o);
void guise_work_owner_unref(guise_work_owner *o);
/* Marks the owner's queued and future jobs as unwanted. Any thread. */
void guise_work_owner_cancel(guise_work_owner *o);
bool guise_work_owner_cancelled(const guise_work_owner *o);
/* The owner of the job running on this thread, or the one set by
 * guise_work_owner_set_current (the host sets it around plug-in calls);
 * NULL when none. Returns the previous value. */
guise_work_owner *guise_work_owner_set_current(guise_work_owner *o);
guise_work_owner *guise_work_owner_current(void);

/* nthreads slow threads (at least 1) and a quick lane of max(1, nthreads/4)
 * threads; each lane's queue holds queue_max jobs (0: 4096). */
GUISE_API guise_result guise_workers_new(unsigned nthreads, size_t queue_max, guise_workers **out);
/* Runs fn(arg) on a slow-lane worker, owned by the current owner.
 * GUISE_E_BUSY when the queue is full or the pool is stopping. */
GUISE_API guise_result guise_workers_submit(guise_workers *w, guise_work_fn fn, void *arg);
/* The same on a chosen lane with an explicit owner (may be NULL). */
guise_result guise_workers_submit_to(guise_workers *w, enum guise_work_lane lane, guise_work_fn fn,
                                     void *arg, guise_work_owner *owner);
/* Runs every queued job, then joins the threads and frees the pool. */
GUISE_API void guise_workers_free(guise_workers *w);
/* Jobs queued or running right now, both lanes. */
GUISE_API size_t guise_workers_pending(guise_workers *w);
/* Jobs run to the end since the pool started, both lanes: how much blocking
 * work (password hashing, PAM, GSSAPI, NSS) the server has done. */
GUISE_API uint64_t guise_workers_completed(guise_workers *w);

#endif
