/* The small-file cache: reading, keys, expiry, eviction, references that
 * outlive the table, and per-thread tables. */
#include "server/content_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* A temporary file holding text; its descriptor and stat. */
static int temp_file(const char *text, struct stat *st)
{
    char name[] = "/tmp/guise-cc-XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    unlink(name);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fstat(fd, st), 0);
    return fd;
}

static struct cc_entry *entry_of(const char *text)
{
    struct stat st;
    int fd = temp_file(text, &st);
    struct cc_entry *e = cc_read(fd, &st);
    close(fd);
    assert_non_null(e);
    return e;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_read_whole_file(void **state)
{
    (void)state;
    struct cc_entry *e = entry_of("hello, world\n");
    assert_int_equal(e->len, 13);
    assert_memory_equal(e->body, "hello, world\n", 13);
    assert_int_equal(e->st.st_size, 13);
    cc_unref(e);
}

static void test_read_refuses_a_file_that_shrank(void **state)
{
    (void)state;
    struct stat st;
    int fd = temp_file("0123456789", &st);
    assert_int_equal(ftruncate(fd, 4), 0); /* st still says 10 bytes */
    errno = 0;
    assert_null(cc_read(fd, &st));
    assert_int_equal(errno, EIO);
    close(fd);
}

static void test_read_refuses_large_files(void **state)
{
    (void)state;
    struct stat st;
    int fd = temp_file("x", &st);
    st.st_size = CC_MAX_FILE_SIZE + 1;
    errno = 0;
    assert_null(cc_read(fd, &st));
    assert_int_equal(errno, EFBIG);
    close(fd);
}

static void test_hit_only_for_the_same_key(void **state)
{
    (void)state;
    struct cc_entry *e = entry_of("alice's bytes");
    cc_insert(e, 7, 100, "a/b.txt", 60000, 64);
    struct cc_entry *h = cc_lookup(7, 100, "a/b.txt");
    assert_ptr_equal(h, e);
    cc_unref(h);
    /* Another identity, another point, another path: never this entry. */
    assert_null(cc_lookup(7, 101, "a/b.txt"));
    assert_null(cc_lookup(8, 100, "a/b.txt"));
    assert_null(cc_lookup(7, 100, "a/b.txt2"));
    assert_null(cc_lookup(7, 100, "a/b.tx"));
    cc_unref(e);
    cc_thread_flush();
}

static void test_entries_expire(void **state)
{
    (void)state;
    struct cc_entry *e = entry_of("short-lived");
    cc_insert(e, 1, 1, "f", 30, 64);
    struct cc_entry *h = cc_lookup(1, 1, "f");
    assert_non_null(h);
    cc_unref(h);
    sleep_ms(80);
    assert_null(cc_lookup(1, 1, "f"));
    /* The expired entry left the table: ours is the last reference. */
    assert_int_equal(atomic_load(&e->refs), 1);
    cc_unref(e);
    cc_thread_flush();
}

static void test_ttl_zero_keeps_nothing(void **state)
{
    (void)state;
    struct cc_entry *e = entry_of("not kept");
    cc_insert(e, 1, 1, "f", 0, 64);
    assert_null(cc_lookup(1, 1, "f"));
    assert_int_equal(atomic_load(&e->refs), 1);
    cc_unref(e);
}

static void test_a_held_entry_outlives_the_table(void **state)
{
    (void)state;
    struct cc_entry *e = entry_of("being sent");
    cc_insert(e, 1, 1, "f", 60000, 64);
    struct cc_entry *held = cc_lookup(1, 1, "f"); /* a response's reference */
    cc_unref(e);                                  /* the reader's */
    cc_thread_flush();                            /* the table's */
    assert_int_equal(atomic_load(&held->refs), 1);
    assert_memory_equal(held->body, "being sent", 10);
    cc_unref(held); /* freed here: ASan would see a leak or a double free */
}

static void test_colliding_keys_evict_each_other(void **state)
{
    (void)state;
    /* 16 slots, 64 keys: every slot is reused; each lookup either finds
     * its own entry or nothing, never another key's. */
    struct cc_entry *e[64];
    char path[32];
    for (int i = 0; i < 64; i++) {
        char text[32];
        snprintf(text, sizeof text, "body %d", i);
        e[i] = entry_of(text);
        snprintf(path, sizeof path, "file-%d", i);
        cc_insert(e[i], 1, 1, path, 60000, 16);
    }
    int found = 0;
    for (int i = 0; i < 64; i++) {
        snprintf(path, sizeof path, "file-%d", i);
        struct cc_entry *h = cc_lookup(1, 1, path);
        if (h) {
            assert_ptr_equal(h, e[i]);
            found++;
            cc_unref(h);
        }
    }
    assert_true(found > 0 && found <= 16);
    for (int i = 0; i < 64; i++)
        cc_unref(e[i]);
    cc_thread_flush();
}

static void test_resizing_the_table_empties_it(void **state)
{
    (void)state;
    struct cc_entry *e = entry_of("x");
    cc_insert(e, 1, 1, "f", 60000, 64);
    struct cc_entry *f = entry_of("y");
    cc_insert(f, 1, 1, "g", 60000, 128); /* a reload changed the size */
    assert_null(cc_lookup(1, 1, "f"));
    struct cc_entry *h = cc_lookup(1, 1, "g");
    assert_ptr_equal(h, f);
    cc_unref(h);
    assert_int_equal(atomic_load(&e->refs), 1);
    cc_unref(e);
    cc_unref(f);
    cc_thread_flush();
}

static void *lookup_elsewhere(void *arg)
{
    (void)arg;
    struct cc_entry *h = cc_lookup(1, 1, "f");
    /* Fill this thread's own table; its exit must free it. */
    struct cc_entry *e = entry_of("other thread");
    cc_insert(e, 1, 1, "f", 60000, 64);
    cc_unref(e);
    return h;
}

static void test_tables_are_per_thread(void **state)
{
    (void)state;
    struct cc_entry *e = entry_of("this thread");
    cc_insert(e, 1, 1, "f", 60000, 64);
    pthread_t t;
    void *seen = (void *)1;
    assert_int_equal(pthread_create(&t, NULL, lookup_elsewhere, NULL), 0);
    assert_int_equal(pthread_join(t, &seen), 0);
    assert_null(seen);
    struct cc_entry *h = cc_lookup(1, 1, "f");
    assert_ptr_equal(h, e); /* the other thread's insert did not touch ours */
    cc_unref(h);
    cc_unref(e);
    cc_thread_flush();
}

static void test_counters_count(void **state)
{
    (void)state;
    uint64_t h0, m0, i0, h1, m1, i1;
    cc_counters(&h0, &m0, &i0);
    struct cc_entry *e = entry_of("counted");
    assert_null(cc_lookup(9, 9, "c"));
    cc_insert(e, 9, 9, "c", 60000, 64);
    cc_unref(cc_lookup(9, 9, "c"));
    cc_counters(&h1, &m1, &i1);
    assert_int_equal(h1 - h0, 1);
    assert_int_equal(m1 - m0, 1);
    assert_int_equal(i1 - i0, 1);
    cc_unref(e);
    cc_thread_flush();
}

/* Attachments: a counter of detach calls per attached object. */
struct probe {
    int detached;
};

static void probe_detach(void *p)
{
    ((struct probe *)p)->detached++;
}

static void test_attach_only_while_in_this_threads_table(void **state)
{
    (void)state;
    struct probe a = {0};
    struct cc_entry *e = entry_of("attached");
    /* Not in any table yet: refused, the object stays the caller's. */
    assert_false(cc_attach(e, &a, probe_detach));
    assert_null(cc_attachment(e));
    cc_insert(e, 1, 1, "f", 60000, 64);
    assert_true(cc_attach(e, &a, probe_detach));
    assert_ptr_equal(cc_attachment(e), &a);
    /* Replacing detaches the old object once. */
    struct probe b = {0};
    assert_true(cc_attach(e, &b, probe_detach));
    assert_int_equal(a.detached, 1);
    assert_ptr_equal(cc_attachment(e), &b);
    /* Dropped by the table (flush): detached, and no longer attachable. */
    cc_thread_flush();
    assert_int_equal(b.detached, 1);
    assert_null(cc_attachment(e));
    assert_false(cc_attach(e, &a, probe_detach));
    assert_int_equal(a.detached, 1);
    cc_unref(e);
}

static void test_expiry_and_eviction_detach(void **state)
{
    (void)state;
    struct probe a = {0}, b = {0};
    struct cc_entry *e = entry_of("expires");
    cc_insert(e, 1, 1, "f", 30, 64);
    assert_true(cc_attach(e, &a, probe_detach));
    sleep_ms(60);
    assert_null(cc_lookup(1, 1, "f")); /* expired: the lookup drops it */
    assert_int_equal(a.detached, 1);
    assert_null(cc_attachment(e));
    cc_unref(e);

    /* Same key again: the new entry evicts the old one from its slot. */
    struct cc_entry *f = entry_of("first");
    cc_insert(f, 2, 2, "g", 60000, 64);
    assert_true(cc_attach(f, &b, probe_detach));
    struct cc_entry *g = entry_of("second");
    cc_insert(g, 2, 2, "g", 60000, 64);
    assert_int_equal(b.detached, 1);
    assert_null(cc_attachment(f));
    assert_null(cc_attachment(g));
    cc_unref(f);
    cc_unref(g);
    cc_thread_flush();
}

static void *attachment_elsewhere(void *arg)
{
    struct cc_entry *e = arg;
    struct probe other = {0};
    /* Another thread sees nothing and may not attach. */
    void *seen = cc_attachment(e);
    bool attached = cc_attach(e, &other, probe_detach);
    return (void *)(uintptr_t)(seen != NULL || attached || other.detached);
}

static void test_attachment_is_the_owning_threads(void **state)
{
    (void)state;
    struct probe a = {0};
    struct cc_entry *e = entry_of("owned");
    cc_insert(e, 1, 1, "f", 60000, 64);
    assert_true(cc_attach(e, &a, probe_detach));
    pthread_t t;
    void *bad = (void *)1;
    assert_int_equal(pthread_create(&t, NULL, attachment_elsewhere, e), 0);
    assert_int_equal(pthread_join(t, &bad), 0);
    assert_null(bad);
    assert_ptr_equal(cc_attachment(e), &a);
    assert_int_equal(a.detached, 0);
    cc_thread_flush();
    assert_int_equal(a.detached, 1);
    cc_unref(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_whole_file),
        cmocka_unit_test(test_read_refuses_a_file_that_shrank),
        cmocka_unit_test(test_read_refuses_large_files),
        cmocka_unit_test(test_hit_only_for_the_same_key),
        cmocka_unit_test(test_entries_expire),
        cmocka_unit_test(test_ttl_zero_keeps_nothing),
        cmocka_unit_test(test_a_held_entry_outlives_the_table),
        cmocka_unit_test(test_colliding_keys_evict_each_other),
        cmocka_unit_test(test_resizing_the_table_empties_it),
        cmocka_unit_test(test_tables_are_per_thread),
        cmocka_unit_test(test_counters_count),
        cmocka_unit_test(test_attach_only_while_in_this_threads_table),
        cmocka_unit_test(test_expiry_and_eviction_detach),
        cmocka_unit_test(test_attachment_is_the_owning_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
