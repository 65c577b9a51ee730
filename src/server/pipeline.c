/* The pipeline of one content request, exactly the model's flow: the
 * authentication front (server/authn.c: anonymous first, credentials a
 * client sends always verified, throttling); authorization server-level
 * then point-level for the request's event, one denial ends the round; then
 * the content phase.
 *
 * Plug-in calls complete asynchronously. drive() advances the request
 * through its lifecycle phases until it has to wait; the completion (on any
 * thread) drives it on. Who drives, and when the connection is suspended
 * and resumed, is the lifecycle's flow (server/lifecycle.h): the first wait
 * suspends the libmicrohttpd connection, the end of the pipeline resumes
 * it, exactly one thread drives at a time. Arrows point one way:
 * http.c -> pipeline.c -> serve.c -> answer.c. */
#include "server/pipeline.h"

#include "server/request.h"
#include "server/client_event.h"
#include "server/stats.h"
#include "server/throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void drive(struct request *r);

void conn_reset(struct conn *c)
{
    authn_conn_reset(&c->auth);
}

/* A completion arrived: the waiting request is driven on by this thread,
 * unless the thread that started the call is still driving it. */
static void completed(struct request *r, enum lc_phase next)
{
    if (lc_completed(&r->lc, next))
        drive(r);
}

/* ---- authentication: the front ---- */

static void authn_done(struct authn *a)
{
    struct request *r = a->cookie;
    completed(r, LC_AUTHN_RESULT);
}

/* Starts the front; true when its answer is in and the caller may go on. */
static bool start_authentication(struct request *r)
{
    struct authn *a = &r->authn;
    *a = (struct authn){
        .srv = r->srv,
        .gen = r->gen,
        .scope = r->scope,
        .conn = &r->conn->auth,
        .client_ip = r->conn->client_ip,
        .credentials =
            MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .info = &r->info,
        .anonymous_allowed = true,
        .listener = "server",
        .done = authn_done,
        .cookie = r,
    };
    lc_call_begin(&r->lc);
    authn_start(a);
    return lc_await(&r->lc);
}

static void authentication_result(struct request *r)
{
    struct authn *a = &r->authn;
    if (a->outcome != AUTHN_IDENTIFIED) {
        finish_status(r, a->status, a->detail);
        r->delay_ms = a->delay_ms;
        return;
    }
    authn_accept(a);
    r->ident = a->ident; /* the request takes the identity over */
    memset(&a->ident, 0, sizeof a->ident);
    r->have_ident = true;
    r->authz_index = 0;
    lc_set(&r->lc, LC_AUTHZ);
}

/* ---- authorization ---- */

/* Authorization calls in flight one client address, and one user, may
 * have (`max-client-jobs`): checked before the plug-in is called (a full
 * worker queue is then never reached by one client's flood). */

static void job_keys(const struct request *r, char *ipkey, size_t ipsz, char *userkey,
                     size_t usersz)
{
    snprintf(ipkey, ipsz, "jobs:%s", r->conn->client_ip);
    snprintf(userkey, usersz, "jobs-user:%.120s",
             r->ident.logical_user ? r->ident.logical_user : "-");
}

/* false (and nothing counted) when the client or the user is at its cap. */
static bool jobs_begin(struct request *r)
{
    char ipkey[96], userkey[160];
    job_keys(r, ipkey, sizeof ipkey, userkey, sizeof userkey);
    unsigned cap = r->gen->cfg->max_client_jobs;
    if (!throttle_job_begin(r->srv->throttle, ipkey, cap))
        return false;
    if (!r->ident.anonymous && !throttle_job_begin(r->srv->throttle, userkey, cap)) {
        throttle_job_end(r->srv->throttle, ipkey);
        return false;
    }
    return true;
}

static void jobs_end(struct request *r)
{
    char ipkey[96], userkey[160];
    job_keys(r, ipkey, sizeof ipkey, userkey, sizeof userkey);
    throttle_job_end(r->srv->throttle, ipkey);
    if (!r->ident.anonymous)
        throttle_job_end(r->srv->throttle, userkey);
}

static void refuse_busy(struct request *r, const char *why)
{
    client_event(r->srv, r->gen->log, GUISE_EVENT_WARNING, "server", GUISE_EV_REQUEST_REFUSED,
                 GUISE_E_BUSY, r->conn->client_ip, "client %s (%s): %s; refused for now",
                 r->conn->client_ip, r->ident.logical_user ? r->ident.logical_user : "-", why);
    finish_busy(r, 1);
}

static void authz_done(enum guise_authz_decision decision, guise_result code, void *cookie)
{
    struct request *r = cookie;
    jobs_end(r);
    r->authz_decision = decision;
    r->authz_code = code;
    completed(r, LC_AUTHZ_RESULT);
}

/* An administrator disabled the plug-in between its choice and the call
 * (the host refused it, nothing ran): skipped like any disabled plug-in. */
static bool disabled_meanwhile(const guise_plugin *p)
{
    return guise_plugin_state_of(p) == GUISE_PLUGIN_DISABLED;
}

/* Runs the next authorization plug-in deciding the request's event; true
 * when the caller may go on. */
static bool start_authorization(struct request *r)
{
    guise_plugin *const *list;
    size_t n = guise_scope_authz(r->scope, &list);
    while (r->authz_index < n) {
        guise_plugin *p = list[r->authz_index];
        const struct guise_plugin_descriptor *d = guise_plugin_descriptor_of(p);
        if (guise_plugin_state_of(p) != GUISE_PLUGIN_ENABLED ||
            !(d->authz->events & r->authz_event)) {
            r->authz_index++;
            continue;
        }
        struct guise_identity who = {.logical_user = r->ident.logical_user,
                                     .account = r->ident.account,
                                     .token = r->ident.token,
                                     .anonymous = r->ident.anonymous,
                                     .scheme = r->ident.scheme};
        if (!jobs_begin(r)) {
            refuse_busy(r, "too many calls in flight");
            return true;
        }
        lc_call_begin(&r->lc);
        guise_result rc = guise_plugin_authorize(p, r->authz_event, &who, &r->info, authz_done, r);
        if (rc != GUISE_S_OK) {
            jobs_end(r);
            lc_call_abandon(&r->lc);
            if (disabled_meanwhile(p)) {
                r->authz_index++;
                continue;
            }
            if (rc == GUISE_E_BUSY)
                refuse_busy(r, "the worker queue is full");
            else
                finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authorization failed.");
            return true;
        }
        return lc_await(&r->lc);
    }
    lc_set(&r->lc, LC_CONTENT);
    return true;
}

static void authorization_result(struct request *r)
{
    guise_plugin *const *list;
    guise_scope_authz(r->scope, &list);
    guise_plugin *p = list[r->authz_index];
    switch (r->authz_decision) {
    case GUISE_AUTHZ_ALLOW:
        r->authz_decided++;
        r->authz_index++;
        lc_set(&r->lc, LC_AUTHZ);
        return;
    case GUISE_AUTHZ_DENY:
        stats_add(r->srv->stats, STATS_AUTHZ_DENIED, guise_plugin_name(p), "", 1);
        client_event(r->srv, r->gen->log, GUISE_EVENT_INFORMATION, "server",
                     GUISE_EV_REQUEST_REFUSED, r->authz_code, r->conn->client_ip,
                     "%s denied %s (%s as %s) %s", guise_plugin_name(p), r->conn->client_ip,
                     r->ident.logical_user, r->ident.account, r->url);
        finish_refusal(r, r->authz_code);
        return;
    case GUISE_AUTHZ_ERROR:
    default:
        if (r->authz_code == GUISE_E_BUSY) {
            /* A full worker queue: this one request is refused for now;
             * the plug-in did nothing wrong. */
            refuse_busy(r, "the worker queue is full");
            return;
        }
        guise_plugin_report_failure(p, "authorize", r->authz_code);
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authorization failed.");
        return;
    }
}

/* ---- the driver ---- */

static void delay_elapsed(void *arg)
{
    completed(arg, LC_DELAYED);
}

/* After an authentication failure the answer waits delay_ms on the timer
 * thread (holding no I/O or worker thread); true when the caller may go
 * on (no delay, or the timer could not be set). */
static bool answer_delay(struct request *r)
{
    if (!r->delay_ms) {
        lc_set(&r->lc, LC_DELAYED);
        return true;
    }
    lc_call_begin(&r->lc);
    if (throttle_after(r->srv->throttle, r->delay_ms, delay_elapsed, r) != 0) {
        lc_call_abandon(&r->lc);
        lc_set(&r->lc, LC_DELAYED);
        return true;
    }
    return lc_await(&r->lc);
}

static void drive(struct request *r)
{
    for (;;) {
        switch (lc_phase(&r->lc)) {
        case LC_AUTHN:
            if (!start_authentication(r))
                return;
            break;
        case LC_AUTHN_RESULT:
            authentication_result(r);
            break;
        case LC_AUTHZ:
            if (!start_authorization(r))
                return;
            break;
        case LC_AUTHZ_RESULT:
            authorization_result(r);
            break;
        case LC_CONTENT:
            /* The dispatch: on-demand content, or the phase routing chose. */
            if (r->content_phase)
                r->content_phase(r);
            else
                serve_content(r);
            break;
        case LC_BODY_IN:
            /* The content phase goes on in the handler's calls with the
             * body's pieces: the driver lets go. */
            lc_drive_release(&r->lc);
            return;
        case LC_ANSWER:
            if (!answer_delay(r))
                return;
            break;
        case LC_DELAYED:
            lc_drive_end(&r->lc);
            return;
        default:
            abort(); /* RECEIVED, ROUTED, DONE are never driven */
        }
    }
}

void pipeline_start(struct request *r)
{
    lc_drive_begin(&r->lc);
    lc_set(&r->lc, LC_AUTHN);
    drive(r);
}

void pipeline_request_cleanup(struct request *r)
{
    identity_clear(&r->ident);
    authn_cleanup(&r->authn);
}
