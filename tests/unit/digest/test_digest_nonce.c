/* Digest nonces (key file, make, check) and the replay cache. */
#include "plugins/digest/digest_nonce.h"
#include "plugins/digest/digest_replay.h"

#include "digest_test_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define LIFE (300 * UINT64_C(1000000))

static const uint8_t key1[DIGEST_NONCE_KEY_SIZE] = {1, 2, 3};
static const uint8_t key2[DIGEST_NONCE_KEY_SIZE] = {1, 2, 4};

static void test_make_and_check(void **state)
{
    char n[DIGEST_NONCE_TEXT_LEN + 1], m[DIGEST_NONCE_TEXT_LEN + 1];
    struct digest_nonce_info info;
    uint64_t now = digest_nonce_now_us();
    digest_nonce_make(key1, "realm", now, n);
    digest_nonce_make(key1, "realm", now, m);
    assert_int_equal(strlen(n), DIGEST_NONCE_TEXT_LEN);
    assert_string_not_equal(n, m); /* random part */
    /* Quoted-string safe: base64url only. */
    assert_int_equal(strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     DIGEST_NONCE_TEXT_LEN);

    assert_int_equal(digest_nonce_check(key1, "realm", n, now + 1000, LIFE, &info),
                     DIGEST_NONCE_VALID);
    assert_int_equal(info.stamp_us, now);
    assert_int_equal(info.age_us, 1000);
    /* Another node with the same key accepts it: nothing but the key is needed. */
    assert_int_equal(digest_nonce_check(key1, "realm", n, now + LIFE, LIFE, &info),
                     DIGEST_NONCE_VALID);
    /* Expired, yet authentic. */
    assert_int_equal(digest_nonce_check(key1, "realm", n, now + LIFE + 1, LIFE, &info),
                     DIGEST_NONCE_EXPIRED);
    /* Other key, other realm. */
    assert_int_equal(digest_nonce_check(key2, "realm", n, now, LIFE, &info), DIGEST_NONCE_INVALID);
    assert_int_equal(digest_nonce_check(key1, "realm2", n, now, LIFE, &info), DIGEST_NONCE_INVALID);
}

static void test_forged(void **state)
{
    char n[DIGEST_NONCE_TEXT_LEN + 1];
    struct digest_nonce_info info;
    uint64_t now = digest_nonce_now_us();
    digest_nonce_make(key1, "r", now, n);
    /* Flip each character in turn: the MAC, the stamp or the random part
     * no longer match. */
    for (size_t i = 0; i < DIGEST_NONCE_TEXT_LEN; i++) {
        char f[DIGEST_NONCE_TEXT_LEN + 1];
        memcpy(f, n, sizeof f);
        f[i] = f[i] == 'A' ? 'B' : 'A';
        assert_int_equal(digest_nonce_check(key1, "r", f, now, LIFE, &info), DIGEST_NONCE_INVALID);
    }
    static const char *junk[] = {
        "",
        "x",
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(digest_nonce_check(key1, "r", junk[i], now, LIFE, &info),
                         DIGEST_NONCE_INVALID);
    /* A trailing byte after a good nonce. */
    char longer[DIGEST_NONCE_TEXT_LEN + 2];
    snprintf(longer, sizeof longer, "%sA", n);
    assert_int_equal(digest_nonce_check(key1, "r", longer, now, LIFE, &info), DIGEST_NONCE_INVALID);
}

static void test_future_stamp(void **state)
{
    char n[DIGEST_NONCE_TEXT_LEN + 1];
    struct digest_nonce_info info;
    uint64_t now = digest_nonce_now_us();
    digest_nonce_make(key1, "r", now + 5000000, n);
    assert_int_equal(digest_nonce_check(key1, "r", n, now, LIFE, &info), DIGEST_NONCE_VALID);
    assert_int_equal(info.age_us, 0);
    digest_nonce_make(key1, "r", now + LIFE + 5000000, n);
    assert_int_equal(digest_nonce_check(key1, "r", n, now, LIFE, &info), DIGEST_NONCE_EXPIRED);
}

static void test_now_increases(void **state)
{
    uint64_t a = digest_nonce_now_us();
    for (int i = 0; i < 10000; i++) {
        uint64_t b = digest_nonce_now_us();
        assert_true(b > a);
        a = b;
    }
}

static void test_key_file(void **state)
{
    char dir[256], path[300];
    uint8_t k[DIGEST_NONCE_KEY_SIZE], k2[DIGEST_NONCE_KEY_SIZE];
    char err[256];
    bool created, too_open;
    struct stat st;
    test_mkdtemp(dir);
    snprintf(path, sizeof path, "%s/digest-nonce.key", dir);

    assert_int_equal(digest_nonce_key_load(path, k, &created, &too_open, err, sizeof err),
                     GUISE_S_OK);
    assert_true(created);
    assert_false(too_open);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, DIGEST_NONCE_KEY_SIZE);
    /* Read back, not recreated. */
    assert_int_equal(digest_nonce_key_load(path, k2, &created, &too_open, err, sizeof err),
                     GUISE_S_OK);
    assert_false(created);
    assert_memory_equal(k, k2, sizeof k);
    /* No temporary file left behind. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);

    chmod(path, 0644);
    assert_int_equal(digest_nonce_key_load(path, k2, &created, &too_open, err, sizeof err),
                     GUISE_S_OK);
    assert_true(too_open);

    /* Wrong sizes are refused, never padded or truncated. */
    test_write_file(dir, "short.key", "0123456789", 0600);
    snprintf(path, sizeof path, "%s/short.key", dir);
    assert_int_equal(digest_nonce_key_load(path, k2, &created, &too_open, err, sizeof err),
                     GUISE_E_BAD_FORMAT);
    assert_non_null(strstr(err, "exactly 32"));
    test_write_file(dir, "long.key", "0123456789012345678901234567890123", 0600);
    snprintf(path, sizeof path, "%s/long.key", dir);
    assert_int_equal(digest_nonce_key_load(path, k2, &created, &too_open, err, sizeof err),
                     GUISE_E_BAD_FORMAT);
    /* A directory is not a key; a missing directory cannot hold one. */
    assert_int_not_equal(digest_nonce_key_load(dir, k2, &created, &too_open, err, sizeof err),
                         GUISE_S_OK);
    snprintf(path, sizeof path, "%s/nodir/key", dir);
    assert_int_not_equal(digest_nonce_key_load(path, k2, &created, &too_open, err, sizeof err),
                         GUISE_S_OK);
    test_rmtree(dir);
}

/* Several processes creating the key at once all end up with the same one. */
static void test_key_file_race(void **state)
{
    char dir[256], path[300];
    test_mkdtemp(dir);
    snprintf(path, sizeof path, "%s/k", dir);
    int fds[8][2];
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pipe(fds[i]), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            uint8_t k[DIGEST_NONCE_KEY_SIZE];
            char err[256];
            bool c, o;
            if (digest_nonce_key_load(path, k, &c, &o, err, sizeof err) != GUISE_S_OK)
                _exit(1);
            _exit(write(fds[i][1], k, sizeof k) == (ssize_t)sizeof k ? 0 : 1);
        }
        close(fds[i][1]);
    }
    uint8_t first[DIGEST_NONCE_KEY_SIZE];
    for (int i = 0; i < 8; i++) {
        uint8_t k[DIGEST_NONCE_KEY_SIZE];
        int status;
        assert_int_equal(read(fds[i][0], k, sizeof k), (ssize_t)sizeof k);
        close(fds[i][0]);
        if (i == 0)
            memcpy(first, k, sizeof k);
        assert_memory_equal(first, k, sizeof k);
        wait(&status);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    test_rmtree(dir);
}

static void test_opaque(void **state)
{
    char a[33], b[33], c[33];
    digest_opaque_make(key1, "r", a);
    digest_opaque_make(key1, "r", b);
    digest_opaque_make(key2, "r", c);
    assert_int_equal(strlen(a), 32);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
}

/* ---- replay cache ---- */

static void id_of(int i, uint8_t *id)
{
    memset(id, 0, DIGEST_NONCE_ID_SIZE);
    memcpy(id, &i, sizeof i);
    /* The random part decides the bucket; vary it as real nonces do. */
    id[8] = (uint8_t)(i * 151);
    id[9] = (uint8_t)(i >> 3);
}

static void test_replay_basic(void **state)
{
    struct digest_replay *r = digest_replay_new(16);
    uint8_t id[DIGEST_NONCE_ID_SIZE];
    id_of(1, id);
    assert_int_equal(digest_replay_check(r, id, 100, 1), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 1), DIGEST_REPLAY_SEEN);
    assert_int_equal(digest_replay_check(r, id, 100, 2), DIGEST_REPLAY_FRESH);
    /* Out of order inside the window. */
    assert_int_equal(digest_replay_check(r, id, 100, 10), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 5), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 3), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 5), DIGEST_REPLAY_SEEN);
    assert_int_equal(digest_replay_check(r, id, 100, 10), DIGEST_REPLAY_SEEN);
    /* Slide: 100 makes the window 37..100. */
    assert_int_equal(digest_replay_check(r, id, 100, 100), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 36), DIGEST_REPLAY_TOO_OLD);
    assert_int_equal(digest_replay_check(r, id, 100, 4), DIGEST_REPLAY_TOO_OLD);
    assert_int_equal(digest_replay_check(r, id, 100, 37), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 99), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 100), DIGEST_REPLAY_SEEN);
    /* A jump far ahead clears the window. */
    assert_int_equal(digest_replay_check(r, id, 100, 1000000), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 999999), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, 100), DIGEST_REPLAY_TOO_OLD);
    assert_int_equal(digest_replay_check(r, id, 100, UINT32_MAX), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_check(r, id, 100, UINT32_MAX), DIGEST_REPLAY_SEEN);
    /* Other nonces have their own windows. */
    id_of(2, id);
    assert_int_equal(digest_replay_check(r, id, 101, 1), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_size(r), 2);
    digest_replay_free(r);
}

static void test_replay_eviction(void **state)
{
    struct digest_replay *r = digest_replay_new(4);
    uint8_t id[DIGEST_NONCE_ID_SIZE];
    /* Nonces 1..4 fill the cache; 1 is then used again (most recent). */
    for (int i = 1; i <= 4; i++) {
        id_of(i, id);
        assert_int_equal(digest_replay_check(r, id, (uint64_t)i * 10, 1), DIGEST_REPLAY_FRESH);
    }
    id_of(1, id);
    assert_int_equal(digest_replay_check(r, id, 10, 2), DIGEST_REPLAY_FRESH);
    /* 5 evicts the least recently used, nonce 2. */
    id_of(5, id);
    assert_int_equal(digest_replay_check(r, id, 50, 1), DIGEST_REPLAY_FRESH);
    assert_int_equal(digest_replay_size(r), 4);
    /* Nonce 2 is forgotten: even a count never seen is not accepted (it
     * could have been seen), the client must take a new nonce. */
    id_of(2, id);
    assert_int_equal(digest_replay_check(r, id, 20, 2), DIGEST_REPLAY_FORGOTTEN);
    assert_int_equal(digest_replay_check(r, id, 20, 1), DIGEST_REPLAY_FORGOTTEN);
    /* Nonce 1 (kept) still remembers its counts. */
    id_of(1, id);
    assert_int_equal(digest_replay_check(r, id, 10, 2), DIGEST_REPLAY_SEEN);
    assert_int_equal(digest_replay_check(r, id, 10, 3), DIGEST_REPLAY_FRESH);
    /* A nonce issued after the evicted one is fine. */
    id_of(6, id);
    assert_int_equal(digest_replay_check(r, id, 60, 1), DIGEST_REPLAY_FRESH);
    /* Memory stays bounded whatever the traffic. */
    for (int i = 100; i < 1100; i++) {
        id_of(i, id);
        assert_int_equal(digest_replay_check(r, id, (uint64_t)i * 10, 1), DIGEST_REPLAY_FRESH);
    }
    assert_int_equal(digest_replay_size(r), 4);
    /* A nonce older than everything evicted, first seen now: forgotten. */
    id_of(7, id);
    assert_int_equal(digest_replay_check(r, id, 70, 1), DIGEST_REPLAY_FORGOTTEN);
    digest_replay_free(r);

    /* A fresh cache told that counts before 500 may have been used. */
    r = digest_replay_new(4);
    digest_replay_forget_until(r, 500);
    id_of(1, id);
    assert_int_equal(digest_replay_check(r, id, 500, 1), DIGEST_REPLAY_FORGOTTEN);
    assert_int_equal(digest_replay_check(r, id, 501, 1), DIGEST_REPLAY_FRESH);
    digest_replay_forget_until(r, 100); /* never lowers it */
    id_of(2, id);
    assert_int_equal(digest_replay_check(r, id, 400, 1), DIGEST_REPLAY_FORGOTTEN);
    /* Tracked nonces are not affected. */
    id_of(1, id);
    digest_replay_forget_until(r, 1000);
    assert_int_equal(digest_replay_check(r, id, 501, 2), DIGEST_REPLAY_FRESH);
    digest_replay_free(r);
}

struct hammer {
    struct digest_replay *r;
    int base;
    int fresh;
};

static void *hammer_thread(void *p)
{
    struct hammer *h = p;
    uint8_t id[DIGEST_NONCE_ID_SIZE];
    for (int i = 0; i < 2000; i++) {
        id_of(i % 50, id);
        if (digest_replay_check(h->r, id, (uint64_t)(i % 50) + 1, (uint32_t)(h->base + i / 50)) ==
            DIGEST_REPLAY_FRESH)
            h->fresh++;
    }
    return NULL;
}

/* Four threads submit the same (nonce, count) pairs: each pair is accepted
 * exactly once. */
static void test_replay_threads(void **state)
{
    struct digest_replay *r = digest_replay_new(64);
    struct hammer h[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){r, 1, 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += h[i].fresh;
    }
    assert_int_equal(total, 2000);
    digest_replay_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_and_check),  cmocka_unit_test(test_forged),
        cmocka_unit_test(test_future_stamp),    cmocka_unit_test(test_now_increases),
        cmocka_unit_test(test_key_file),        cmocka_unit_test(test_key_file_race),
        cmocka_unit_test(test_opaque),          cmocka_unit_test(test_replay_basic),
        cmocka_unit_test(test_replay_eviction), cmocka_unit_test(test_replay_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
