/* The credentials cache: hits, expiry, eviction of the oldest, forgetting
 * a user, clearing, and keys that keep user and password apart. */
#include "plugins/basic/basic_cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void key_of(struct basic_cache *c, const char *user, const char *pw, uint8_t *key)
{
    basic_cache_key(c, user, pw, strlen(pw), key);
}

static bool hit(struct basic_cache *c, const char *user, const char *pw, uint64_t now,
                const char *want_name)
{
    uint8_t key[BASIC_CACHE_KEY_SIZE];
    char *name = NULL;
    key_of(c, user, pw, key);
    bool h = basic_cache_lookup(c, key, now, &name);
    if (h && want_name)
        assert_string_equal(name, want_name);
    if (!h)
        assert_null(name);
    free(name);
    return h;
}

static void put(struct basic_cache *c, const char *user, const char *pw, const char *name,
                uint64_t now)
{
    uint8_t key[BASIC_CACHE_KEY_SIZE];
    key_of(c, user, pw, key);
    basic_cache_insert(c, key, user, name, now);
}

static void test_hit_and_expiry(void **state)
{
    struct basic_cache *c = basic_cache_new(16, 60000);
    assert_non_null(c);
    assert_false(hit(c, "alice", "pw", 1000, NULL));
    put(c, "alice", "pw", "alice-mapped", 1000);
    assert_true(hit(c, "alice", "pw", 1000, "alice-mapped"));
    assert_true(hit(c, "alice", "pw", 60999, "alice-mapped"));
    assert_false(hit(c, "alice", "pw", 61000, NULL)); /* TTL over */
    assert_false(hit(c, "alice", "pW", 1000, NULL));
    assert_false(hit(c, "alicE", "pw", 1000, NULL));
    /* A fresh success renews the entry, without a second slot. */
    put(c, "alice", "pw", "alice", 61000);
    assert_true(hit(c, "alice", "pw", 62000, "alice"));
    assert_int_equal(basic_cache_count(c), 1);
    basic_cache_free(c);
}

static void test_keys(void **state)
{
    struct basic_cache *c = basic_cache_new(16, 60000);
    struct basic_cache *d = basic_cache_new(16, 60000);
    uint8_t k1[BASIC_CACHE_KEY_SIZE], k2[BASIC_CACHE_KEY_SIZE];
    /* The NUL separator: ("ab", "c") differs from ("a", "bc"). */
    key_of(c, "ab", "c", k1);
    key_of(c, "a", "bc", k2);
    assert_memory_not_equal(k1, k2, sizeof k1);
    put(c, "ab", "c", "ab", 0);
    assert_false(hit(c, "a", "bc", 0, NULL));
    /* Each cache draws its own random key. */
    key_of(d, "ab", "c", k2);
    assert_memory_not_equal(k1, k2, sizeof k1);
    basic_cache_free(c);
    basic_cache_free(d);
}

static void test_evicts_oldest(void **state)
{
    struct basic_cache *c = basic_cache_new(4, 60000);
    char user[16];
    for (int i = 0; i < 4; i++) {
        snprintf(user, sizeof user, "u%d", i);
        put(c, user, "pw", user, 0);
    }
    assert_int_equal(basic_cache_count(c), 4);
    put(c, "u4", "pw", "u4", 0);
    assert_int_equal(basic_cache_count(c), 4);
    assert_false(hit(c, "u0", "pw", 0, NULL)); /* the oldest went */
    for (int i = 1; i < 5; i++) {
        snprintf(user, sizeof user, "u%d", i);
        assert_true(hit(c, user, "pw", 0, user));
    }
    /* Many more than the size: bounded, the newest kept. */
    for (int i = 0; i < 1000; i++) {
        snprintf(user, sizeof user, "v%d", i);
        put(c, user, "pw", user, 0);
    }
    assert_int_equal(basic_cache_count(c), 4);
    assert_true(hit(c, "v999", "pw", 0, "v999"));
    assert_true(hit(c, "v996", "pw", 0, "v996"));
    assert_false(hit(c, "v995", "pw", 0, NULL));
    basic_cache_free(c);
}

static void test_forget_and_clear(void **state)
{
    struct basic_cache *c = basic_cache_new(8, 60000);
    put(c, "alice", "old", "alice", 0);
    put(c, "alice", "new", "alice", 0);
    put(c, "bob", "pw", "bob", 0);
    basic_cache_forget_user(c, "alice");
    assert_false(hit(c, "alice", "old", 0, NULL));
    assert_false(hit(c, "alice", "new", 0, NULL));
    assert_true(hit(c, "bob", "pw", 0, "bob"));
    assert_int_equal(basic_cache_count(c), 1);
    /* Slots freed in the middle of the ring are reused cleanly. */
    for (int i = 0; i < 20; i++)
        put(c, "carol", i % 2 ? "a" : "b", "carol", 0);
    assert_true(hit(c, "carol", "a", 0, "carol"));
    basic_cache_clear(c);
    assert_int_equal(basic_cache_count(c), 0);
    assert_false(hit(c, "bob", "pw", 0, NULL));
    basic_cache_free(c);
    basic_cache_free(NULL);
    assert_null(basic_cache_new(0, 1000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_expiry),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_evicts_oldest),
        cmocka_unit_test(test_forget_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
