/* The lifecycle of one content request: where it is (the phase) and who
 * drives it (the flow), both owned by lifecycle.c. Every other file asks
 * through these functions; a transition the tables below do not allow is a
 * bug and aborts the process (fail closed) rather than answer twice or free
 * a request a plug-in still completes.
 *
 * Phases, written only by the thread that drives the request:
 *
 *   RECEIVED --first handler call--> ROUTED --next call--> AUTHN
 *   RECEIVED / ROUTED --refused by routing--> ANSWER
 *   AUTHN --the authentication front completed--> AUTHN_RESULT
 *   AUTHN_RESULT --identity--> AUTHZ          --refusal--> ANSWER
 *   AUTHZ --call an authorization plug-in--> AUTHZ_RESULT --allow--> AUTHZ
 *   AUTHZ --every plug-in allowed--> CONTENT  AUTHZ_RESULT --deny--> ANSWER
 *   CONTENT --on-demand answer built--> ANSWER
 *   CONTENT --a phase consuming the request body (live ingest)--> BODY_IN
 *   BODY_IN --more body--> BODY_IN         BODY_IN --body ended--> ANSWER
 *   (a live progressive listener's answer is an ordinary ANSWER whose
 *   response callback produces the stream while it is sent)
 *   ANSWER --a failure delay to wait (timer thread)--> DELAYED
 *   ANSWER --no delay--> DELAYED      DELAYED --the driver let go--> DONE
 *   any phase before ANSWER --shutdown answers a waiting request--> ANSWER
 *
 * The handler queues the response when the phase is DONE (or an ANSWER
 * that no driver runs: from routing, or from BODY_IN in a handler call)
 * and no thread drives.
 *
 * Flow, under the request's mutex (the suspend/resume hand-off):
 *
 *   IDLE     no thread drives, no call pending, not suspended
 *   RUNNING  the connection's thread drives (inside a handler call)
 *   CALLING  RUNNING with an asynchronous call started
 *   PARKED   the call is pending, the connection suspended, nobody drives
 *   RESUMED  a completion's thread drives; the connection is still suspended
 *   RCALLING RESUMED with another call started
 *   ABANDONING  shutdown took a PARKED request (call still pending)
 *   ABANDONING_CALLED  ... and the call completed meanwhile
 *   ABANDONED   shutdown answered and resumed it; the call is still pending
 *
 *   IDLE -lc_drive_begin-> RUNNING -lc_call_begin-> CALLING
 *   CALLING -completion-> RUNNING           CALLING -lc_await-> PARKED
 *   PARKED -completion (this thread now drives)-> RESUMED
 *   RESUMED -lc_call_begin-> RCALLING -completion-> RESUMED
 *   RCALLING -lc_await-> PARKED (already suspended: not suspended again)
 *   CALLING / RCALLING -lc_call_abandon (failed synchronously)-> RUNNING / RESUMED
 *   RUNNING -lc_drive_end-> IDLE      RESUMED -lc_drive_end (resumes)-> IDLE
 *   (lc_drive_release: the same moves, leaving the phase as it is)
 *   PARKED -lc_abandon-> ABANDONING -completion-> ABANDONING_CALLED
 *   ABANDONING -lc_abandon_finish (resumes)-> ABANDONED -completion-> IDLE
 *   ABANDONING_CALLED -lc_abandon_finish (resumes)-> IDLE
 *
 * So exactly one thread drives at a time, resume follows suspend exactly
 * once, and a completion arriving before the starter waits (CALLING ->
 * RUNNING) lets the starter simply go on without suspending. */
#ifndef GUISE_SERVER_LIFECYCLE_H
#define GUISE_SERVER_LIFECYCLE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

enum lc_phase {
    LC_RECEIVED,
    LC_ROUTED,
    LC_AUTHN,
    LC_AUTHN_RESULT,
    LC_AUTHZ,
    LC_AUTHZ_RESULT,
    LC_CONTENT,
    LC_BODY_IN,
    LC_ANSWER,
    LC_DELAYED,
    LC_DONE,
    LC_NPHASES
};

enum lc_flow {
    LC_IDLE,
    LC_RUNNING,
    LC_CALLING,
    LC_PARKED,
    LC_RESUMED,
    LC_RCALLING,
    LC_ABANDONING,
    LC_ABANDONING_CALLED,
    LC_ABANDONED,
    LC_NFLOWS
};

/* Lives in struct request; only lifecycle.c reads or writes its fields. */
struct lifecycle {
    pthread_mutex_t mu;
    enum lc_phase phase;
    enum lc_flow flow;
    struct MHD_Connection *mc; /* suspended and resumed */
};

void lc_init(struct lifecycle *l, struct MHD_Connection *mc);
void lc_destroy(struct lifecycle *l);

enum lc_phase lc_phase(const struct lifecycle *l);
/* The driver moves to phase `to` (checked against the phase table). */
void lc_set(struct lifecycle *l, enum lc_phase to);
/* An answer was built (answer.c): phase ANSWER. */
void lc_answer(struct lifecycle *l);
/* Whether an answer has been built (ANSWER, DELAYED, DONE):
 * a 401 waiting for its failure delay is already the answer. */
bool lc_answered(const struct lifecycle *l);

/* The handler starts driving (IDLE -> RUNNING). */
void lc_drive_begin(struct lifecycle *l);
/* Before starting an asynchronous call. */
void lc_call_begin(struct lifecycle *l);
/* The call failed synchronously: no completion will come. */
void lc_call_abandon(struct lifecycle *l);
/* After starting the call: true when its completion already arrived and
 * the caller goes on; false when the request is now PARKED (its connection
 * suspended) and the completion will drive it. */
bool lc_await(struct lifecycle *l);
/* A completion arrived; the request moves to phase next (unless shutdown
 * took it over). true when the calling thread must now drive. */
bool lc_completed(struct lifecycle *l, enum lc_phase next);
/* The driver lets go (DELAYED -> DONE, resuming the connection if needed). */
void lc_drive_end(struct lifecycle *l);
/* The driver lets go without an answer (BODY_IN: the content phase goes
 * on in the handler's calls with the body). */
void lc_drive_release(struct lifecycle *l);
/* Whether the connection is suspended (the driver is not the connection's
 * thread). Meaningful for the driver. */
bool lc_suspended(struct lifecycle *l);
/* Whether the handler may queue the answer now. */
bool lc_ready(struct lifecycle *l);

/* Shutdown: takes a PARKED request away from its pending call (true), or
 * false when it is not parked. The caller then builds the answer if
 * !lc_answered and calls lc_abandon_finish, which resumes the connection. */
bool lc_abandon(struct lifecycle *l);
void lc_abandon_finish(struct lifecycle *l);
/* Whether an abandoned request's call is still pending (its memory must
 * wait until no plug-in can complete it). */
bool lc_orphaned(struct lifecycle *l);

const char *lc_phase_name(enum lc_phase p);

#endif
