/* Unit tests of the worker pool's lanes and owners, and of what the host
 * makes of them: a full queue is GUISE_E_BUSY and never a plug-in failure,
 * short jobs do not wait behind slow ones, and freeing an authentication
 * context cancels its queued work without calling the caller back. */
#include <guise/host.h>

#include "core/workers.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- a gate that holds workers ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static atomic_int ran;

static void gate_reset(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = false;
    pthread_mutex_unlock(&gate_mu);
    atomic_store(&ran, 0);
}

static void gate_release(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = true;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static void blocked_job(void *arg)
{
    pthread_mutex_lock(&gate_mu);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    atomic_fetch_add(&ran, 1);
}

static void quick_job(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

static bool wait_for(atomic_int *v, int want)
{
    for (int i = 0; i < 5000 && atomic_load(v) < want; i++)
        usleep(1000);
    return atomic_load(v) >= want;
}

/* A full slow lane answers GUISE_E_BUSY; the quick lane still runs. */
static void test_full_queue_is_busy_and_quick_lane_free(void **state)
{
    gate_reset();
    guise_workers *w;
    assert_int_equal(guise_workers_new(1, 4, &w), GUISE_S_OK);
    /* Four queued, plus one running (blocked) once the worker took it:
     * then the lane refuses. */
    int accepted = 0;
    guise_result r;
    while ((r = guise_workers_submit(w, blocked_job, NULL)) == GUISE_S_OK && accepted < 10)
        accepted++;
    assert_int_equal(r, GUISE_E_BUSY);
    assert_in_range(accepted, 4, 5);
    /* Token look-ups do not wait behind the blocked password checks. */
    atomic_int quick = 0;
    assert_int_equal(guise_workers_submit_to(w, GUISE_LANE_QUICK, quick_job, &quick, NULL),
                     GUISE_S_OK);
    assert_true(wait_for(&quick, 1));
    assert_int_equal(atomic_load(&ran), 0);
    gate_release();
    guise_workers_free(w); /* runs every queued job */
    assert_int_equal(atomic_load(&ran), accepted);
}

/* ---- owners ---- */

static atomic_int cancelled_seen, not_cancelled_seen;

static void owner_probe(void *arg)
{
    if (guise_work_owner_cancelled(guise_work_owner_current()))
        atomic_fetch_add(&cancelled_seen, 1);
    else
        atomic_fetch_add(&not_cancelled_seen, 1);
}

static void test_owner_cancel_seen_by_queued_job(void **state)
{
    gate_reset();
    atomic_store(&cancelled_seen, 0);
    atomic_store(&not_cancelled_seen, 0);
    guise_workers *w;
    assert_int_equal(guise_workers_new(1, 16, &w), GUISE_S_OK);
    assert_int_equal(guise_workers_submit(w, blocked_job, NULL), GUISE_S_OK);
    guise_work_owner *gone = guise_work_owner_new(), *kept = guise_work_owner_new();
    assert_int_equal(guise_workers_submit_to(w, GUISE_LANE_SLOW, owner_probe, NULL, gone),
                     GUISE_S_OK);
    assert_int_equal(guise_workers_submit_to(w, GUISE_LANE_SLOW, owner_probe, NULL, kept),
                     GUISE_S_OK);
    /* The requester goes away and drops its reference: the queued job
     * keeps the owner alive and sees the cancellation. */
    guise_work_owner_cancel(gone);
    guise_work_owner_unref(gone);
    gate_release();
    guise_workers_free(w);
    assert_int_equal(atomic_load(&cancelled_seen), 1);
    assert_int_equal(atomic_load(&not_cancelled_seen), 1);
    guise_work_owner_unref(kept);
}

/* ---- through the host, with a scripted authentication plug-in ---- */

static const struct guise_host_services *svc;
static atomic_int destroyed, checks_done, checks_skipped;
static guise_result submit_result; /* what the fake's authenticate returns on a failed submit */

struct fake_job {
    guise_auth_done_fn done;
    void *cookie;
};

static void fake_check(void *arg)
{
    struct fake_job *j = arg;
    /* Hold the worker until the test lets go (the queue fills up). */
    blocked_job(NULL);
    if (svc->work_cancelled(svc->host)) {
        atomic_fetch_add(&checks_skipped, 1);
        j->done(GUISE_AUTH_DENIED, GUISE_E_ABORTED, NULL, j->cookie);
    } else {
        atomic_fetch_add(&checks_done, 1);
        j->done(GUISE_AUTH_SUCCESS, GUISE_S_OK, NULL, j->cookie);
    }
    free(j);
}

static guise_result fake_init(const struct guise_host_services *host, const guise_props *props,
                              void **out)
{
    svc = host;
    *out = (void *)host;
    return GUISE_S_OK;
}
static void fake_shutdown(void *p)
{
}
static guise_result fake_create(void *plugin, void **ctx)
{
    *ctx = malloc(1);
    return *ctx ? GUISE_S_OK : GUISE_E_OUTOFMEMORY;
}
static void fake_destroy(void *plugin, void *ctx)
{
    free(ctx);
    atomic_fetch_add(&destroyed, 1);
}
static guise_result fake_authenticate(void *plugin, void *ctx, const struct guise_blob *response,
                                      const struct guise_request_info *req, guise_auth_done_fn done,
                                      void *cookie)
{
    struct fake_job *j = malloc(sizeof *j);
    if (!j)
        return GUISE_E_OUTOFMEMORY;
    *j = (struct fake_job){done, cookie};
    guise_result r = svc->submit_work(svc->host, fake_check, j);
    if (r != GUISE_S_OK) {
        free(j);
        if (submit_result == GUISE_S_OK) {
            /* Passed on as the code of a denial. */
            done(GUISE_AUTH_DENIED, r, NULL, cookie);
            return GUISE_S_OK;
        }
        return r; /* passed on as the result */
    }
    return GUISE_S_OK;
}
static guise_result fake_getter(void *ctx, const char **out)
{
    *out = "x";
    return GUISE_S_OK;
}
static guise_result fake_token(void *ctx, guise_token **out)
{
    *out = NULL;
    return GUISE_S_OK;
}
static const struct guise_authn_ops fake_authn = {
    .protocol = "Fake",
    .flags = GUISE_AUTH_ANONYMOUS,
    .create_context = fake_create,
    .destroy_context = fake_destroy,
    .authenticate = fake_authenticate,
    .logical_user_id = fake_getter,
    .impersonation_account_name = fake_getter,
    .impersonation_token = fake_token,
};
static const struct guise_plugin_descriptor fake_desc = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "fake",
    .package = "Fake",
    .init = fake_init,
    .shutdown = fake_shutdown,
    .authn = &fake_authn,
};

struct capture {
    atomic_int calls;
    enum guise_auth_status status;
    guise_result code;
};

static void capture_done(enum guise_auth_status status, guise_result code,
                         const struct guise_blob *challenge, void *cookie)
{
    struct capture *c = cookie;
    c->status = status;
    c->code = code;
    atomic_fetch_add(&c->calls, 1);
}

struct fixture {
    guise_eventlog *log;
    guise_workers *workers;
    guise_host *host;
    guise_plugin *plugin;
    guise_scope *scope;
};

static void fixture_start(struct fixture *f, size_t queue)
{
    gate_reset();
    atomic_store(&destroyed, 0);
    atomic_store(&checks_done, 0);
    atomic_store(&checks_skipped, 0);
    assert_int_equal(guise_eventlog_new(GUISE_SINK_NONE, 8, &f->log), GUISE_S_OK);
    assert_int_equal(guise_workers_new(1, queue, &f->workers), GUISE_S_OK);
    struct guise_host_options o = {.log = f->log, .workers = f->workers};
    assert_int_equal(guise_host_new(&o, &f->host), GUISE_S_OK);
    assert_int_equal(guise_host_add_type(f->host, &fake_desc), GUISE_S_OK);
    assert_int_equal(guise_host_instantiate(f->host, "fake", NULL, NULL, &f->plugin, NULL, 0),
                     GUISE_S_OK);
    assert_int_equal(guise_plugin_enable(f->plugin), GUISE_S_OK);
    assert_int_equal(guise_scope_new(f->host, "server", &f->plugin, 1, NULL, 0, &f->scope),
                     GUISE_S_OK);
}

static void fixture_stop(struct fixture *f)
{
    gate_release();
    guise_host_free(f->host);
    guise_workers_free(f->workers);
    guise_eventlog_free(f->log);
}

/* A full queue refuses the request, in both ways a plug-in may pass it on,
 * and leaves the plug-in enabled and the scope out of the critical state. */
static void test_busy_is_no_plugin_failure(void **state)
{
    static const struct guise_request_info req = {.method = "GET", .uri = "/"};
    for (int as_result = 0; as_result < 2; as_result++) {
        struct fixture f;
        fixture_start(&f, 1);
        submit_result = as_result ? GUISE_E_BUSY : GUISE_S_OK;
        guise_auth_ctx *ctx[3];
        struct capture cap[3];
        memset(cap, 0, sizeof cap);
        guise_result r[3];
        for (int i = 0; i < 3; i++) {
            assert_int_equal(guise_auth_ctx_new(f.plugin, &ctx[i]), GUISE_S_OK);
            r[i] = guise_auth_ctx_authenticate(ctx[i], NULL, &req, capture_done, &cap[i]);
        }
        /* One runs (blocked), one waits in the queue of one, the third is
         * refused, unless the worker had not taken the first yet. */
        bool refused = false;
        for (int i = 0; i < 3; i++)
            refused |= as_result
                           ? r[i] == GUISE_E_BUSY
                           : (atomic_load(&cap[i].calls) == 1 &&
                              cap[i].status == GUISE_AUTH_DENIED && cap[i].code == GUISE_E_BUSY);
        assert_true(refused);
        assert_int_equal(guise_plugin_state_of(f.plugin), GUISE_PLUGIN_ENABLED);
        assert_false(guise_scope_critical(f.scope));
        /* The host's report of a BUSY completion changes nothing either. */
        guise_plugin_report_failure(f.plugin, "authenticate", GUISE_E_BUSY);
        assert_int_equal(guise_plugin_state_of(f.plugin), GUISE_PLUGIN_ENABLED);
        assert_int_equal(guise_plugin_last_error(f.plugin, NULL, 0), GUISE_S_OK);
        gate_release();
        for (int i = 0; i < 3; i++)
            guise_auth_ctx_free(ctx[i]);
        fixture_stop(&f);
    }
    submit_result = GUISE_S_OK;
}

/* The client goes away with its check still queued: the check is skipped,
 * the caller is not called back, the plug-in's context is destroyed once,
 * after the job, and a disable waits for that job. */
static void test_freeing_context_cancels_queued_work(void **state)
{
    static const struct guise_request_info req = {.method = "GET", .uri = "/"};
    struct fixture f;
    fixture_start(&f, 16);
    guise_auth_ctx *kept, *gone;
    struct capture cap_kept = {0}, cap_gone = {0};
    assert_int_equal(guise_auth_ctx_new(f.plugin, &kept), GUISE_S_OK);
    assert_int_equal(guise_auth_ctx_new(f.plugin, &gone), GUISE_S_OK);
    assert_int_equal(guise_auth_ctx_authenticate(kept, NULL, &req, capture_done, &cap_kept),
                     GUISE_S_OK);
    assert_int_equal(guise_auth_ctx_authenticate(gone, NULL, &req, capture_done, &cap_gone),
                     GUISE_S_OK);
    /* A second authenticate on a context with one in flight is refused. */
    assert_int_equal(guise_auth_ctx_authenticate(kept, NULL, &req, capture_done, &cap_kept),
                     GUISE_E_UNEXPECTED);
    assert_int_equal(guise_plugin_calls_in_flight(f.plugin), 2);
    guise_auth_ctx_free(gone);
    /* Its job still runs on it: not destroyed yet. */
    assert_int_equal(atomic_load(&destroyed), 0);
    gate_release();
    assert_int_equal(guise_plugin_disable(f.plugin), GUISE_S_OK);
    /* The disable drained both calls. */
    assert_int_equal(guise_plugin_calls_in_flight(f.plugin), 0);
    assert_int_equal(atomic_load(&checks_done), 1);
    assert_int_equal(atomic_load(&checks_skipped), 1);
    assert_int_equal(atomic_load(&cap_kept.calls), 1);
    assert_int_equal(cap_kept.status, GUISE_AUTH_SUCCESS);
    assert_int_equal(atomic_load(&cap_gone.calls), 0);
    assert_int_equal(atomic_load(&destroyed), 1);
    guise_auth_ctx_free(kept);
    assert_int_equal(atomic_load(&destroyed), 2);
    assert_int_equal(guise_plugin_state_of(f.plugin), GUISE_PLUGIN_DISABLED);
    fixture_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_queue_is_busy_and_quick_lane_free),
        cmocka_unit_test(test_owner_cancel_seen_by_queued_job),
        cmocka_unit_test(test_busy_is_no_plugin_failure),
        cmocka_unit_test(test_freeing_context_cancels_queued_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
