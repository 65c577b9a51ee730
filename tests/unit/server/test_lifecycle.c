/* The request lifecycle: the phase table (an illegal move aborts), and the
 * flow's hand-off between the driver and a completion. The paths that
 * suspend a libmicrohttpd connection are the integration tests'; here a
 * completion that arrives before the driver waits, and shutdown's
 * take-over of a request whose completion comes late. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/lifecycle.h"

/* Runs fn in a child: true when it aborted. */
static bool aborts(void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        close(2); /* the message is expected */
        fn();
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void content_before_authentication(void)
{
    struct lifecycle l;
    lc_init(&l, NULL);
    lc_set(&l, LC_ROUTED);
    lc_set(&l, LC_CONTENT);
}

static void answer_twice(void)
{
    struct lifecycle l;
    lc_init(&l, NULL);
    lc_answer(&l);
    lc_answer(&l);
}

static void completion_without_call(void)
{
    struct lifecycle l;
    lc_init(&l, NULL);
    lc_set(&l, LC_ROUTED);
    lc_drive_begin(&l);
    lc_set(&l, LC_AUTHN);
    lc_completed(&l, LC_AUTHN_RESULT);
}

static void test_illegal_moves_abort(void **state)
{
    (void)state;
    assert_true(aborts(content_before_authentication));
    assert_true(aborts(answer_twice));
    assert_true(aborts(completion_without_call));
}

static void test_the_on_demand_path(void **state)
{
    (void)state;
    struct lifecycle l;
    lc_init(&l, NULL);
    assert_false(lc_ready(&l));
    lc_set(&l, LC_ROUTED);
    lc_drive_begin(&l);
    lc_set(&l, LC_AUTHN);
    /* The front completes inside the call: the driver simply goes on. */
    lc_call_begin(&l);
    assert_false(lc_completed(&l, LC_AUTHN_RESULT));
    assert_true(lc_await(&l));
    assert_int_equal(lc_phase(&l), LC_AUTHN_RESULT);
    lc_set(&l, LC_AUTHZ);
    lc_call_begin(&l);
    assert_false(lc_completed(&l, LC_AUTHZ_RESULT));
    assert_true(lc_await(&l));
    lc_set(&l, LC_AUTHZ);
    lc_set(&l, LC_CONTENT);
    assert_false(lc_answered(&l));
    lc_answer(&l);
    assert_true(lc_answered(&l));
    assert_false(lc_ready(&l)); /* the driver still holds it */
    assert_false(lc_suspended(&l));
    lc_set(&l, LC_DELAYED); /* no failure delay to wait */
    assert_true(lc_answered(&l));
    lc_drive_end(&l);
    assert_int_equal(lc_phase(&l), LC_DONE);
    assert_true(lc_ready(&l));
    lc_destroy(&l);
}

static void test_refused_by_routing_is_ready_at_once(void **state)
{
    (void)state;
    struct lifecycle l;
    lc_init(&l, NULL);
    lc_answer(&l);
    assert_true(lc_ready(&l));
    lc_destroy(&l);
}

static void test_a_call_failing_synchronously(void **state)
{
    (void)state;
    struct lifecycle l;
    lc_init(&l, NULL);
    lc_set(&l, LC_ROUTED);
    lc_drive_begin(&l);
    lc_set(&l, LC_AUTHN);
    lc_set(&l, LC_AUTHN_RESULT);
    lc_set(&l, LC_AUTHZ);
    lc_call_begin(&l);
    lc_call_abandon(&l); /* no completion will come */
    lc_answer(&l);
    /* A failure delay: the timer's completion moves the phase on. */
    lc_call_begin(&l);
    assert_false(lc_completed(&l, LC_DELAYED));
    assert_true(lc_await(&l));
    lc_drive_end(&l);
    assert_true(lc_ready(&l));
    lc_destroy(&l);
}

static void test_streaming_phases_release_the_driver(void **state)
{
    (void)state;
    struct lifecycle l;
    lc_init(&l, NULL);
    lc_set(&l, LC_ROUTED);
    lc_drive_begin(&l);
    lc_set(&l, LC_AUTHN);
    lc_set(&l, LC_AUTHN_RESULT);
    lc_set(&l, LC_AUTHZ);
    lc_set(&l, LC_CONTENT);
    lc_set(&l, LC_BODY_IN); /* a live ingest consumes the body */
    lc_drive_release(&l);
    assert_false(lc_ready(&l));
    lc_set(&l, LC_BODY_IN);
    lc_answer(&l); /* the body ended */
    assert_true(lc_ready(&l));
    lc_destroy(&l);
}

static void test_not_parked_is_not_abandoned(void **state)
{
    (void)state;
    struct lifecycle l;
    lc_init(&l, NULL);
    lc_set(&l, LC_ROUTED);
    lc_drive_begin(&l);
    lc_set(&l, LC_AUTHN);
    lc_call_begin(&l);
    /* Shutdown only takes requests nobody drives. */
    assert_false(lc_abandon(&l));
    assert_false(lc_orphaned(&l));
    lc_completed(&l, LC_AUTHN_RESULT);
    lc_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_illegal_moves_abort),
        cmocka_unit_test(test_the_on_demand_path),
        cmocka_unit_test(test_refused_by_routing_is_ready_at_once),
        cmocka_unit_test(test_a_call_failing_synchronously),
        cmocka_unit_test(test_streaming_phases_release_the_driver),
        cmocka_unit_test(test_not_parked_is_not_abandoned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
