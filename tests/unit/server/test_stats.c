/* guised's labelled counters: exact sums under concurrent adds from threads
 * that remember indexes, the bound on label pairs, independent sets. */
#include "server/stats.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static uint64_t value_of(struct stats *s, enum stats_kind kind, const char *a, const char *b)
{
    static struct stats_entry v[2048];
    size_t n = stats_snapshot(s, v, 2048);
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == kind && !strcmp(v[i].a, a) && !strcmp(v[i].b, b))
            return v[i].value;
    return UINT64_MAX;
}

static void test_adds_and_labels(void **state)
{
    (void)state;
    struct stats *s = stats_new();
    stats_add(s, STATS_REQUESTS, "pub", "200", 1);
    stats_add(s, STATS_REQUESTS, "pub", "200", 2);
    stats_add(s, STATS_REQUESTS, "pub", "404", 1);
    stats_add(s, STATS_BYTES, "pub", NULL, 100);
    stats_add(s, STATS_REQUESTS, NULL, "200", 5);
    assert_int_equal(value_of(s, STATS_REQUESTS, "pub", "200"), 3);
    assert_int_equal(value_of(s, STATS_REQUESTS, "pub", "404"), 1);
    assert_int_equal(value_of(s, STATS_BYTES, "pub", ""), 100);
    assert_int_equal(value_of(s, STATS_REQUESTS, "", "200"), 5);
    /* Same labels, another kind: another counter. */
    assert_int_equal(value_of(s, STATS_BYTES, "pub", "200"), UINT64_MAX);
    stats_free(s);
}

static void test_sets_are_independent(void **state)
{
    (void)state;
    /* The same thread's memo must not carry an index from one set to another. */
    struct stats *a = stats_new(), *b = stats_new();
    stats_add(a, STATS_REQUESTS, "x", "1", 1);
    stats_add(b, STATS_REQUESTS, "y", "1", 1);
    stats_add(b, STATS_REQUESTS, "x", "1", 7);
    stats_add(a, STATS_REQUESTS, "x", "1", 1);
    assert_int_equal(value_of(a, STATS_REQUESTS, "x", "1"), 2);
    assert_int_equal(value_of(b, STATS_REQUESTS, "x", "1"), 7);
    assert_int_equal(value_of(b, STATS_REQUESTS, "y", "1"), 1);
    stats_free(a);
    stats_free(b);
}

static void test_bounded(void **state)
{
    (void)state;
    struct stats *s = stats_new();
    char name[32];
    for (int i = 0; i < 1500; i++) {
        snprintf(name, sizeof name, "p%d", i);
        stats_add(s, STATS_BYTES, name, "", 1);
    }
    static struct stats_entry v[2048];
    assert_int_equal(stats_snapshot(s, v, 2048), 1024);
    assert_int_equal(value_of(s, STATS_BYTES, "p1023", ""), 1);
    assert_int_equal(value_of(s, STATS_BYTES, "p1024", ""), UINT64_MAX);
    /* Existing pairs still count once the set is full. */
    stats_add(s, STATS_BYTES, "p0", "", 1);
    assert_int_equal(value_of(s, STATS_BYTES, "p0", ""), 2);
    stats_free(s);
}

#define THREADS 4
#define ADDS    100000

static void *adder(void *arg)
{
    struct stats *s = arg;
    static const char *const status[] = {"200", "206", "304", "401", "404"};
    for (int i = 0; i < ADDS; i++) {
        stats_add(s, STATS_REQUESTS, "pub", status[i % 5], 1);
        stats_add(s, STATS_BYTES, "pub", "", 3);
    }
    return NULL;
}

static void test_concurrent_adds_are_exact(void **state)
{
    (void)state;
    struct stats *s = stats_new();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, adder, s), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t total = 0;
    static const char *const status[] = {"200", "206", "304", "401", "404"};
    for (int i = 0; i < 5; i++) {
        uint64_t v = value_of(s, STATS_REQUESTS, "pub", status[i]);
        assert_int_equal(v, THREADS * ADDS / 5);
        total += v;
    }
    assert_int_equal(total, THREADS * ADDS);
    assert_int_equal(value_of(s, STATS_BYTES, "pub", ""), 3ull * THREADS * ADDS);
    stats_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adds_and_labels),
        cmocka_unit_test(test_sets_are_independent),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_concurrent_adds_are_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
