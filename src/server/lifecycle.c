/* The request lifecycle's phase and flow; the transitions are written down
 * in lifecycle.h and enforced here. */
#include "server/lifecycle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BIT(p) (1u << (p))

/* allowed_phase[from]: the phases the driver may move to from `from`. */
static const uint32_t allowed_phase[LC_NPHASES] = {
    [LC_RECEIVED] = BIT(LC_ROUTED) | BIT(LC_ANSWER),
    [LC_ROUTED] = BIT(LC_AUTHN) | BIT(LC_ANSWER),
    [LC_AUTHN] = BIT(LC_AUTHN_RESULT) | BIT(LC_ANSWER),
    [LC_AUTHN_RESULT] = BIT(LC_AUTHZ) | BIT(LC_ANSWER),
    [LC_AUTHZ] = BIT(LC_AUTHZ_RESULT) | BIT(LC_CONTENT) | BIT(LC_ANSWER),
    [LC_AUTHZ_RESULT] = BIT(LC_AUTHZ) | BIT(LC_ANSWER),
    [LC_CONTENT] = BIT(LC_ANSWER) | BIT(LC_BODY_IN),
    [LC_BODY_IN] = BIT(LC_BODY_IN) | BIT(LC_ANSWER),
    [LC_ANSWER] = BIT(LC_DELAYED),
    [LC_DELAYED] = BIT(LC_DONE),
    [LC_DONE] = 0,
};

static const char *const phase_names[LC_NPHASES] = {
    "RECEIVED", "ROUTED",  "AUTHN",  "AUTHN_RESULT", "AUTHZ", "AUTHZ_RESULT",
    "CONTENT",  "BODY_IN", "ANSWER", "DELAYED",      "DONE",
};

static const char *const flow_names[LC_NFLOWS] = {"IDLE",       "RUNNING",           "CALLING",
                                                  "PARKED",     "RESUMED",           "RCALLING",
                                                  "ABANDONING", "ABANDONING_CALLED", "ABANDONED"};

const char *lc_phase_name(enum lc_phase p)
{
    return (unsigned)p < LC_NPHASES ? phase_names[p] : "?";
}

static _Noreturn void bad_transition(const char *what, const char *from, const char *to)
{
    fprintf(stderr, "guised: request lifecycle: %s %s -> %s is not allowed\n", what, from, to);
    abort();
}

void lc_init(struct lifecycle *l, struct MHD_Connection *mc)
{
    pthread_mutex_init(&l->mu, NULL);
    l->phase = LC_RECEIVED;
    l->flow = LC_IDLE;
    l->mc = mc;
}

void lc_destroy(struct lifecycle *l)
{
    pthread_mutex_destroy(&l->mu);
}

enum lc_phase lc_phase(const struct lifecycle *l)
{
    return l->phase;
}

void lc_set(struct lifecycle *l, enum lc_phase to)
{
    if (!(allowed_phase[l->phase] & BIT(to)))
        bad_transition("phase", phase_names[l->phase], phase_names[to]);
    l->phase = to;
}

void lc_answer(struct lifecycle *l)
{
    if (l->phase >= LC_ANSWER)
        bad_transition("phase", phase_names[l->phase], phase_names[LC_ANSWER]);
    l->phase = LC_ANSWER;
}

bool lc_answered(const struct lifecycle *l)
{
    return l->phase == LC_ANSWER || l->phase == LC_DELAYED || l->phase == LC_DONE;
}

/* Moves the flow from `from` to `to` under the lock already held. */
static void flow_move(struct lifecycle *l, enum lc_flow from, enum lc_flow to)
{
    if (l->flow != from)
        bad_transition("flow", flow_names[l->flow], flow_names[to]);
    l->flow = to;
}

void lc_drive_begin(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    flow_move(l, LC_IDLE, LC_RUNNING);
    pthread_mutex_unlock(&l->mu);
}

void lc_call_begin(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    if (l->flow == LC_RESUMED)
        l->flow = LC_RCALLING;
    else
        flow_move(l, LC_RUNNING, LC_CALLING);
    pthread_mutex_unlock(&l->mu);
}

void lc_call_abandon(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    if (l->flow == LC_RCALLING)
        l->flow = LC_RESUMED;
    else
        flow_move(l, LC_CALLING, LC_RUNNING);
    pthread_mutex_unlock(&l->mu);
}

bool lc_await(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    bool go_on = false;
    switch (l->flow) {
    case LC_RUNNING:
    case LC_RESUMED: /* the completion came first */
        go_on = true;
        break;
    case LC_CALLING:
        MHD_suspend_connection(l->mc);
        l->flow = LC_PARKED;
        break;
    case LC_RCALLING:
        l->flow = LC_PARKED;
        break;
    default:
        bad_transition("flow (await)", flow_names[l->flow], flow_names[LC_PARKED]);
    }
    pthread_mutex_unlock(&l->mu);
    return go_on;
}

bool lc_completed(struct lifecycle *l, enum lc_phase next)
{
    pthread_mutex_lock(&l->mu);
    bool take = false;
    /* A request shutdown took over keeps its answer: the late completion
     * moves nothing. */
    if (l->flow != LC_ABANDONING && l->flow != LC_ABANDONED)
        lc_set(l, next);
    switch (l->flow) {
    case LC_CALLING:
        l->flow = LC_RUNNING;
        break;
    case LC_RCALLING:
        l->flow = LC_RESUMED;
        break;
    case LC_PARKED:
        l->flow = LC_RESUMED;
        take = true;
        break;
    case LC_ABANDONING:
        l->flow = LC_ABANDONING_CALLED;
        break;
    case LC_ABANDONED: /* shutdown answered it: the late completion drives nothing */
        l->flow = LC_IDLE;
        break;
    default:
        bad_transition("flow (completion)", flow_names[l->flow], "?");
    }
    pthread_mutex_unlock(&l->mu);
    return take;
}

void lc_drive_end(struct lifecycle *l)
{
    lc_set(l, LC_DONE);
    lc_drive_release(l);
}

void lc_drive_release(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    bool resume = l->flow == LC_RESUMED;
    if (!resume)
        flow_move(l, LC_RUNNING, LC_IDLE);
    l->flow = LC_IDLE;
    pthread_mutex_unlock(&l->mu);
    if (resume)
        MHD_resume_connection(l->mc);
}

bool lc_suspended(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    bool s = l->flow == LC_RESUMED || l->flow == LC_RCALLING || l->flow == LC_PARKED ||
             l->flow == LC_ABANDONING || l->flow == LC_ABANDONING_CALLED;
    pthread_mutex_unlock(&l->mu);
    return s;
}

bool lc_ready(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    bool ready = (l->flow == LC_IDLE || l->flow == LC_ABANDONED) &&
                 (l->phase == LC_ANSWER || l->phase == LC_DONE);
    pthread_mutex_unlock(&l->mu);
    return ready;
}

bool lc_abandon(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    bool parked = l->flow == LC_PARKED;
    if (parked)
        l->flow = LC_ABANDONING;
    pthread_mutex_unlock(&l->mu);
    return parked;
}

void lc_abandon_finish(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    if (l->flow == LC_ABANDONING_CALLED)
        l->flow = LC_IDLE;
    else
        flow_move(l, LC_ABANDONING, LC_ABANDONED);
    l->phase = LC_DONE; /* the answer stands: no driver will run again */
    pthread_mutex_unlock(&l->mu);
    MHD_resume_connection(l->mc);
}

bool lc_orphaned(struct lifecycle *l)
{
    pthread_mutex_lock(&l->mu);
    bool o = l->flow == LC_ABANDONED;
    pthread_mutex_unlock(&l->mu);
    return o;
}
