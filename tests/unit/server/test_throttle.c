/* The failure throttle: delays growing with failures in a row, lockouts,
 * successes forgetting a key (never a lockout), and the lock-free fast path
 * that depends on the count of slots in use staying exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "server/throttle.h"

static struct throttle *make(unsigned delay, unsigned lockout_after)
{
    struct throttle_policy p = {delay, lockout_after, 30};
    struct throttle *t = throttle_new(&p, 64);
    assert_non_null(t);
    return t;
}

static void test_delays_grow_and_success_forgets(void **state)
{
    (void)state;
    struct throttle *t = make(100, 0);
    assert_int_equal(throttle_live(t), 0);
    assert_int_equal(throttle_failure(t, "ip:1"), 0);
    assert_int_equal(throttle_failure(t, "ip:1"), 100);
    assert_int_equal(throttle_failure(t, "ip:1"), 200);
    assert_int_equal(throttle_failure(t, "user:a"), 0);
    assert_int_equal(throttle_live(t), 2);
    throttle_success(t, "ip:1");
    assert_int_equal(throttle_live(t), 1);
    assert_int_equal(throttle_failure(t, "ip:1"), 0); /* the count starts over */
    throttle_success(t, "ip:1");
    throttle_success(t, "user:a");
    assert_int_equal(throttle_live(t), 0);
    /* Forgetting a key that was never seen changes nothing. */
    throttle_success(t, "ip:2");
    assert_int_equal(throttle_live(t), 0);
    throttle_free(t);
}

static void test_delay_is_capped(void **state)
{
    (void)state;
    struct throttle *t = make(1000, 0);
    unsigned d = 0;
    for (int i = 0; i < 10; i++)
        d = throttle_failure(t, "ip:1");
    assert_int_equal(d, 4000);
    throttle_free(t);
}

static void test_lockout_survives_success(void **state)
{
    (void)state;
    struct throttle *t = make(0, 3);
    assert_int_equal(throttle_locked(t, "user:a"), 0);
    throttle_failure(t, "user:a");
    throttle_failure(t, "user:a");
    assert_int_equal(throttle_locked(t, "user:a"), 0);
    throttle_failure(t, "user:a");
    unsigned left = throttle_locked(t, "user:a");
    assert_true(left >= 29 && left <= 30);
    assert_int_equal(throttle_locked(t, "user:b"), 0);
    throttle_success(t, "user:a"); /* the guesser may have found it */
    assert_true(throttle_locked(t, "user:a") > 0);
    assert_int_equal(throttle_live(t), 1);
    throttle_free(t);
}

static void test_sweep_clears_stale_slots_only(void **state)
{
    (void)state;
    struct throttle *t = make(0, 2);
    throttle_failure(t, "ip:old");
    throttle_failure(t, "user:locked");
    throttle_failure(t, "user:locked");
    assert_int_equal(throttle_live(t), 2);
    time_t now = time(NULL);
    throttle_sweep_at(t, now);
    assert_int_equal(throttle_live(t), 2); /* nothing stale yet */
    /* 61 s later the plain failure is forgotten; the lockout (30 s) too. */
    throttle_sweep_at(t, now + 61);
    assert_int_equal(throttle_live(t), 0);
    assert_int_equal(throttle_locked(t, "user:locked"), 0);
    throttle_free(t);
}

static void test_lockout_is_not_swept_early(void **state)
{
    (void)state;
    struct throttle_policy p = {0, 1, 3600};
    struct throttle *t = throttle_new(&p, 64);
    assert_non_null(t);
    throttle_failure(t, "ip:9");
    time_t now = time(NULL);
    throttle_sweep_at(t, now + 61); /* failure stale, lockout not over */
    assert_int_equal(throttle_live(t), 1);
    assert_true(throttle_locked(t, "ip:9") > 0);
    throttle_free(t);
}

/* Many threads failing and succeeding on their own keys: at the end every
 * key was forgotten, so the count of slots in use must be back to zero. */
static struct throttle *shared;

static void *churn(void *arg)
{
    char key[32];
    snprintf(key, sizeof key, "ip:%d", (int)(intptr_t)arg);
    for (int i = 0; i < 20000; i++) {
        throttle_failure(shared, key);
        (void)throttle_locked(shared, key);
        throttle_success(shared, key);
    }
    return NULL;
}

static void test_live_count_exact_under_concurrency(void **state)
{
    (void)state;
    struct throttle_policy p = {0, 0, 30};
    shared = throttle_new(&p, 4096);
    assert_non_null(shared);
    pthread_t th[8];
    for (intptr_t i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, churn, (void *)i), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(throttle_live(shared), 0);
    throttle_free(shared);
}

static void test_scaled_failures_are_slower(void **state)
{
    (void)state;
    struct throttle *t = make(400, 3);
    /* Scale 4: the delay grows a quarter as fast, the lockout needs 12. */
    for (unsigned i = 0; i < 11; i++)
        assert_int_equal(throttle_failure_scaled(t, "user:bob", 4), 100 * i);
    assert_int_equal(throttle_locked(t, "user:bob"), 0);
    throttle_failure_scaled(t, "user:bob", 4);
    assert_true(throttle_locked(t, "user:bob") > 0);
    throttle_free(t);
}

static void test_failing_tells_clean_keys(void **state)
{
    (void)state;
    struct throttle *t = make(0, 3);
    assert_false(throttle_failing(t, "ip:1"));
    throttle_failure(t, "ip:1");
    assert_true(throttle_failing(t, "ip:1"));
    assert_false(throttle_failing(t, "ip:2"));
    throttle_success(t, "ip:1");
    assert_false(throttle_failing(t, "ip:1"));
    for (int i = 0; i < 3; i++)
        throttle_failure(t, "ip:3");
    assert_true(throttle_failing(t, "ip:3")); /* locked: failing while it lasts */
    throttle_free(t);
}

static void test_events_one_a_second_with_a_count(void **state)
{
    (void)state;
    struct throttle *t = make(0, 0);
    /* Within one second the first passes and the rest are counted. The
     * clock may tick between calls: then the count is handed over earlier,
     * never lost - what passes plus what it reports is what was asked. */
    unsigned passed = 0, reported = 0;
    for (int i = 0; i < 200; i++) {
        unsigned n = throttle_event(t, "ev:300:10.0.0.1");
        if (n) {
            passed++;
            reported += n;
        }
    }
    assert_true(passed >= 64 && passed <= 74); /* the burst, and a tick or two */
    /* Another client is not affected by the first one's flood. */
    assert_true(throttle_event(t, "ev:300:10.0.0.2") == 1);
    struct timespec ts = {1, 100000000};
    nanosleep(&ts, NULL);
    unsigned n = throttle_event(t, "ev:300:10.0.0.1");
    assert_true(n >= 1);
    assert_int_equal(reported + n - 1, 200);
    throttle_free(t);
}

static void test_job_caps(void **state)
{
    (void)state;
    struct throttle *t = make(0, 0);
    for (int i = 0; i < 3; i++)
        assert_true(throttle_job_begin(t, "jobs:a", 3));
    assert_false(throttle_job_begin(t, "jobs:a", 3)); /* at the cap */
    assert_true(throttle_job_begin(t, "jobs:b", 3));  /* another key is not */
    throttle_job_end(t, "jobs:a");
    assert_true(throttle_job_begin(t, "jobs:a", 3));
    for (int i = 0; i < 3; i++)
        throttle_job_end(t, "jobs:a");
    throttle_job_end(t, "jobs:b");
    /* All ended: the slots are free again and the count starts at zero. */
    for (int i = 0; i < 3; i++)
        assert_true(throttle_job_begin(t, "jobs:a", 3));
    assert_false(throttle_job_begin(t, "jobs:a", 3));
    throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delays_grow_and_success_forgets),
        cmocka_unit_test(test_delay_is_capped),
        cmocka_unit_test(test_lockout_survives_success),
        cmocka_unit_test(test_sweep_clears_stale_slots_only),
        cmocka_unit_test(test_lockout_is_not_swept_early),
        cmocka_unit_test(test_live_count_exact_under_concurrency),
        cmocka_unit_test(test_scaled_failures_are_slower),
        cmocka_unit_test(test_failing_tells_clean_keys),
        cmocka_unit_test(test_events_one_a_second_with_a_count),
        cmocka_unit_test(test_job_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
