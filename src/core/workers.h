/* The worker pool: threads for blocking plug-in work (PAM, GSSAPI, NSS,
 * crypt), so that the HTTP I/O threads never block. A bounded queue makes
 * overload visible (submit fails) instead of growing without limit. */
#ifndef GUISE_CORE_WORKERS_H
#define GUISE_CORE_WORKERS_H

#include <guise/plugin.h>
#include <stdint.h>

typedef struct guise_workers guise_workers;

guise_result guise_workers_new(unsigned nthreads, size_t queue_max, guise_workers **out);
/* Runs fn(arg) on a worker. GUISE_E_OUTOFMEMORY when the queue is full or the
 * pool is stopping. */
guise_result guise_workers_submit(guise_workers *w, guise_work_fn fn, void *arg);
/* Runs every queued job, then joins the threads and frees the pool. */
void guise_workers_free(guise_workers *w);
/* Jobs queued or running right now. */
size_t guise_workers_pending(guise_workers *w);
/* Jobs run to the end since the pool started: how much blocking work
 * (password hashing, PAM, GSSAPI, NSS) the server has done. */
uint64_t guise_workers_completed(guise_workers *w);

#endif
