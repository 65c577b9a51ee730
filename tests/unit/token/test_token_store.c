/* Unit tests: tokens and the token store, over nss_wrapper databases. */
#include "nsswrap.h"
#include "token/token_internal.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static guise_token_store *new_store(uid_t min_uid, unsigned ttl, const char *const *allow)
{
    struct guise_token_store_options opt = {.min_uid = min_uid, .ttl_seconds = ttl, .allow = allow};
    guise_token_store *s = NULL;
    assert_int_equal(guise_token_store_new(&opt, &s), GUISE_S_OK);
    assert_non_null(s);
    return s;
}

static void assert_groups(const guise_token *t, const gid_t *want, size_t n)
{
    const gid_t *groups;
    assert_int_equal(guise_token_groups(t, &groups), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(groups[i], want[i]);
}

static void test_lookup_user(void **state)
{
    (void)state;
    guise_token_store *s = NULL;
    assert_int_equal(guise_token_store_new(NULL, &s), GUISE_S_OK);
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_user(s, "alice", &t), GUISE_S_OK);
    assert_string_equal(guise_token_name(t), "alice");
    assert_int_equal(guise_token_uid(t), 2001);
    assert_int_equal(guise_token_gid(t), 2001);
    assert_false(guise_token_is_group(t));
    assert_true(guise_token_in_group(t, 2001));
    assert_true(guise_token_in_group(t, 2100));
    assert_false(guise_token_in_group(t, 2101));
    assert_true(guise_token_serial(t) > 0);
    guise_token_unref(t);
    guise_token_store_free(s);
}

static void test_groups_from_getgrouplist(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 0, NULL);
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_user(s, "carol", &t), GUISE_S_OK);
    assert_groups(t, (const gid_t[]){2003, 2100, 2101}, 3);
    guise_token_unref(t);
    assert_int_equal(guise_token_for_user(s, "bob", &t), GUISE_S_OK);
    assert_groups(t, (const gid_t[]){2002}, 1);
    guise_token_unref(t);
    guise_token_store_free(s);
}

static void test_unknown_account(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 0, NULL);
    guise_token *t = (guise_token *)&t; /* must be reset to NULL */
    assert_int_equal(guise_token_for_user(s, "nosuch", &t), GUISE_E_NOT_FOUND);
    assert_null(t);
    assert_int_equal(guise_token_for_group(s, "nosuch", &t), GUISE_E_NOT_FOUND);
    assert_int_equal(guise_token_for_account(s, "nosuch", &t), GUISE_E_NOT_FOUND);
    /* a group is not a user, and a user with no group of its name is not a group */
    assert_int_equal(guise_token_for_user(s, "media", &t), GUISE_E_NOT_FOUND);
    assert_int_equal(guise_token_for_group(s, "nobody", &t), GUISE_E_NOT_FOUND);
    assert_null(t);
    guise_token_store_free(s);
}

static void test_uid0_refused(void **state)
{
    (void)state;
    static const char *const allow[] = {"root", "toor", "rootgrp", NULL};
    guise_token_store *plain = new_store(0, 0, NULL);
    guise_token_store *allowing = new_store(0, 0, allow);
    guise_token_store *low = new_store(1, 0, allow); /* minimum as low as it goes */
    guise_token_store *stores[] = {plain, allowing, low};
    for (size_t i = 0; i < 3; i++) {
        guise_token *t = NULL;
        assert_int_equal(guise_token_for_user(stores[i], "root", &t), GUISE_E_ACCESSDENIED);
        assert_int_equal(guise_token_for_user(stores[i], "toor", &t), GUISE_E_ACCESSDENIED);
        assert_int_equal(guise_token_for_account(stores[i], "root", &t), GUISE_E_ACCESSDENIED);
        assert_int_equal(guise_token_for_group(stores[i], "root", &t), GUISE_E_ACCESSDENIED);
        /* primary group 0 */
        assert_int_equal(guise_token_for_user(stores[i], "rootgrp", &t), GUISE_E_ACCESSDENIED);
        assert_null(t);
        guise_token_store_free(stores[i]);
    }
}

static void test_below_min_uid_refused(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 0, NULL); /* default minimum: 1000 */
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_user(s, "lowuser", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_for_user(s, "legacy", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_for_group(s, "lowgrp", &t), GUISE_E_ACCESSDENIED); /* gid 29 */
    assert_int_equal(guise_token_for_group(s, "lowuser", &t), GUISE_S_OK); /* gid 500 >= 100 */
    guise_token_unref(t);
    t = NULL;
    assert_int_equal(guise_token_for_user(s, "lowgrp", &t), GUISE_E_NOT_FOUND);
    assert_null(t);
    guise_token_store_free(s);

    /* the option moves the limit */
    s = new_store(400, 0, NULL);
    assert_int_equal(guise_token_for_user(s, "lowuser", &t), GUISE_S_OK);
    assert_int_equal(guise_token_uid(t), 500);
    guise_token_unref(t);
    assert_int_equal(guise_token_for_group(s, "lowgrp", &t), GUISE_E_ACCESSDENIED);
    guise_token_store_free(s);
}

static void test_allow_list(void **state)
{
    (void)state;
    static const char *const allow[] = {"legacy", "lowgrp", "lowgid", "rootgrp", NULL};
    guise_token_store *s = new_store(0, 0, allow);
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_user(s, "legacy", &t), GUISE_S_OK);
    assert_int_equal(guise_token_uid(t), 900);
    guise_token_unref(t);
    assert_int_equal(guise_token_for_user(s, "lowgid", &t), GUISE_S_OK);
    assert_int_equal(guise_token_gid(t), 100);
    guise_token_unref(t);
    assert_int_equal(guise_token_for_group(s, "lowgrp", &t), GUISE_S_OK);
    assert_int_equal(guise_token_gid(t), 29);
    guise_token_unref(t);
    /* allowed, but never gid 0 */
    assert_int_equal(guise_token_for_user(s, "rootgrp", &t), GUISE_E_ACCESSDENIED);
    /* not in the list */
    assert_int_equal(guise_token_for_user(s, "lowuser", &t), GUISE_E_ACCESSDENIED);
    guise_token_store_free(s);
}

static guise_token_store *new_gid_store(gid_t min_gid, const char *const *allow_groups,
                                        const char *const *guests)
{
    struct guise_token_store_options opt = {
        .min_gid = min_gid, .allow_groups = allow_groups, .guests = guests};
    guise_token_store *s = NULL;
    assert_int_equal(guise_token_store_new(&opt, &s), GUISE_S_OK);
    return s;
}

/* The bug of issue 14 section 2: min-uid also refused every user whose
 * primary group is users (100). */
static void test_primary_gid_users_accepted(void **state)
{
    (void)state;
    guise_token_store *s = new_gid_store(0, NULL, NULL); /* default min-gid: 100 */
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_user(s, "lowgid", &t), GUISE_S_OK);
    assert_int_equal(guise_token_uid(t), 2051);
    assert_int_equal(guise_token_gid(t), 100);
    assert_groups(t, (const gid_t[]){100}, 1);
    guise_token_unref(t);
    assert_int_equal(guise_token_for_group(s, "users", &t), GUISE_S_OK);
    assert_int_equal(guise_token_uid(t), GUISE_NOBODY_UID);
    guise_token_unref(t);
    /* gid 0 stays refused whatever the minimum */
    assert_int_equal(guise_token_for_user(s, "rootgrp", &t), GUISE_E_ACCESSDENIED);
    guise_token_store_free(s);

    /* min-gid moves the limit; allow-groups (by name) lets one group back */
    s = new_gid_store(200, NULL, NULL);
    assert_int_equal(guise_token_for_user(s, "lowgid", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_for_group(s, "users", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_for_user(s, "alice", &t), GUISE_S_OK);
    guise_token_unref(t);
    guise_token_store_free(s);
    static const char *const users[] = {"users", NULL};
    s = new_gid_store(200, users, NULL);
    assert_int_equal(guise_token_for_user(s, "lowgid", &t), GUISE_S_OK);
    assert_int_equal(guise_token_gid(t), 100);
    guise_token_unref(t);
    guise_token_store_free(s);
}

static void test_low_supplementary_groups_dropped(void **state)
{
    (void)state;
    /* alice@example.org: primary users (100), members of lowgrp (29),
     * video (44) and shared (2200) */
    guise_token_store *s = new_gid_store(0, NULL, NULL);
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_user(s, "alice@example.org", &t), GUISE_S_OK);
    assert_groups(t, (const gid_t[]){100, 2200}, 2);
    assert_false(guise_token_in_group(t, 29));
    assert_false(guise_token_in_group(t, 44));
    guise_token_unref(t);
    guise_token_store_free(s);

    /* listed groups are kept, by name or number; 0 never */
    static const char *const video[] = {"video", "29", "root", "0", NULL};
    s = new_gid_store(0, video, NULL);
    assert_int_equal(guise_token_for_user(s, "alice@example.org", &t), GUISE_S_OK);
    assert_groups(t, (const gid_t[]){29, 44, 100, 2200}, 4);
    guise_token_unref(t);
    assert_int_equal(guise_token_for_user(s, "wheelie", &t), GUISE_S_OK);
    assert_groups(t, (const gid_t[]){2060}, 1);
    guise_token_unref(t);
    /* a low primary group listed is accepted as primary too */
    assert_int_equal(guise_token_for_group(s, "lowgrp", &t), GUISE_S_OK);
    guise_token_unref(t);
    guise_token_store_free(s);

    /* an unknown group is a configuration error, not silently ignored */
    static const char *const bad[] = {"video", "nosuchgroup", NULL};
    struct guise_token_store_options opt = {.allow_groups = bad};
    s = (guise_token_store *)&s;
    assert_int_equal(guise_token_store_new(&opt, &s), GUISE_E_NOT_FOUND);
    assert_null(s);
}

/* sssd and winbind names: capitals, dots, '@' and '\\' are ordinary
 * characters to NSS, and must be to the store. */
static void test_directory_style_names(void **state)
{
    (void)state;
    guise_token_store *s = new_gid_store(0, NULL, NULL);
    static const struct {
        const char *name;
        uid_t uid;
        gid_t gid;
    } names[] = {
        {"alice@example.org", 2010, 100},
        {"EXAMPLE\\alice", 2011, 2011},
        {"Mixed.Case", 2012, 100},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        guise_token *t = NULL;
        assert_int_equal(guise_token_for_account(s, names[i].name, &t), GUISE_S_OK);
        assert_string_equal(guise_token_name(t), names[i].name);
        assert_int_equal(guise_token_uid(t), names[i].uid);
        assert_int_equal(guise_token_gid(t), names[i].gid);
        assert_true(guise_token_in_group(t, 2200));
        guise_token_unref(t);
        /* the cache answers the same */
        assert_int_equal(guise_token_store_lookup_cached(s, names[i].name, &t), GUISE_S_OK);
        assert_int_equal(guise_token_uid(t), names[i].uid);
        guise_token_unref(t);
    }
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_group(s, "EXAMPLE\\alice", &t), GUISE_S_OK);
    assert_true(guise_token_is_group(t));
    guise_token_unref(t);
    /* names NSS does not know (files are case-sensitive) are refused */
    static const char *const unknown[] = {"mixed.case", "ALICE@EXAMPLE.ORG", "EXAMPLE\\bob",
                                          "example\\alice", "alice@example"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        t = NULL;
        assert_int_equal(guise_token_for_account(s, unknown[i], &t), GUISE_E_NOT_FOUND);
        assert_null(t);
    }
    guise_token_store_free(s);
}

/* The finding of issue 14: the guest was on the store-wide allow list, so a
 * Digest user mapped to the guest's low-uid account was accepted. */
static void test_guest_only_as_guest(void **state)
{
    (void)state;
    static const char *const guests[] = {"guestlow", "root", "rootgrp", NULL};
    guise_token_store *s = new_gid_store(0, NULL, guests);
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_account(s, "guestlow", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_for_user(s, "guestlow", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_for_guest(s, "guestlow", &t), GUISE_S_OK);
    assert_int_equal(guise_token_uid(t), 600);
    guise_token_unref(t);
    /* the guest's cached token is not handed out by the other lookups */
    assert_int_equal(guise_token_store_lookup_cached(s, "guestlow", &t), GUISE_E_PENDING);
    assert_int_equal(guise_token_for_account(s, "guestlow", &t), GUISE_E_ACCESSDENIED);
    assert_null(t);
    assert_int_equal(guise_token_store_lookup_cached_guest(s, "guestlow", &t), GUISE_S_OK);
    assert_int_equal(guise_token_uid(t), 600);
    guise_token_unref(t);
    /* a name that is not a guest gets no exception through the guest path */
    assert_int_equal(guise_token_for_guest(s, "lowuser", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_store_lookup_cached_guest(s, "lowuser", &t), GUISE_E_PENDING);
    /* and never root, guest or not */
    assert_int_equal(guise_token_for_guest(s, "root", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_for_guest(s, "rootgrp", &t), GUISE_E_ACCESSDENIED);
    assert_null(t);
    /* a guest the ordinary policy accepts shares the ordinary token */
    guise_token_store_free(s);
    static const char *const nobody[] = {"nobody", NULL};
    s = new_gid_store(0, NULL, nobody);
    guise_token *u = NULL;
    assert_int_equal(guise_token_for_guest(s, "nobody", &t), GUISE_S_OK);
    assert_int_equal(guise_token_for_account(s, "nobody", &u), GUISE_S_OK);
    assert_int_equal(guise_token_serial(t), guise_token_serial(u));
    guise_token_unref(u);
    assert_int_equal(guise_token_store_lookup_cached_guest(s, "nobody", &u), GUISE_S_OK);
    assert_ptr_equal(t, u);
    guise_token_unref(u);
    guise_token_unref(t);
    guise_token_store_free(s);
}

static void test_root_group_membership_dropped(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 0, NULL);
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_user(s, "wheelie", &t), GUISE_S_OK);
    assert_false(guise_token_in_group(t, 0));
    assert_groups(t, (const gid_t[]){2060}, 1);
    guise_token_unref(t);
    guise_token_store_free(s);
}

static void test_group_account(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 0, NULL);
    guise_token *t = NULL;
    assert_int_equal(guise_token_for_group(s, "media", &t), GUISE_S_OK);
    assert_true(guise_token_is_group(t));
    assert_string_equal(guise_token_name(t), "media");
    assert_int_equal(guise_token_uid(t), GUISE_NOBODY_UID);
    assert_int_equal(guise_token_gid(t), 2100);
    assert_groups(t, (const gid_t[]){2100}, 1);
    guise_token_unref(t);

    /* "account" means user first, then group */
    assert_int_equal(guise_token_for_account(s, "staff", &t), GUISE_S_OK);
    assert_true(guise_token_is_group(t));
    assert_int_equal(guise_token_gid(t), 2101);
    guise_token_unref(t);
    assert_int_equal(guise_token_for_account(s, "alice", &t), GUISE_S_OK);
    assert_false(guise_token_is_group(t));
    guise_token_unref(t);
    /* alice the group and alice the user are different accounts */
    assert_int_equal(guise_token_for_group(s, "alice", &t), GUISE_S_OK);
    assert_true(guise_token_is_group(t));
    assert_int_equal(guise_token_uid(t), GUISE_NOBODY_UID);
    guise_token_unref(t);
    guise_token_store_free(s);
}

static void test_ttl_refresh(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 1, NULL);
    guise_token *before = NULL, *cached = NULL, *after = NULL;
    assert_int_equal(guise_token_for_user(s, "alice", &before), GUISE_S_OK);
    assert_false(guise_token_in_group(before, 2101));

    /* alice joins staff */
    char *changed = strdup(nsswrap_group);
    assert_non_null(changed);
    char *staff = strstr(changed, "staff:x:2101:carol,frank");
    assert_non_null(staff);
    size_t len = strlen(changed) + 16;
    char *group = malloc(len);
    assert_non_null(group);
    *staff = '\0';
    snprintf(group, len, "%sstaff:x:2101:carol,frank,alice%s", changed,
             staff + strlen("staff:x:2101:carol,frank"));
    nsswrap_write_group(group);

    /* still cached */
    assert_int_equal(guise_token_for_user(s, "alice", &cached), GUISE_S_OK);
    assert_ptr_equal(cached, before);
    assert_false(guise_token_in_group(cached, 2101));

    usleep(1300 * 1000);
    assert_int_equal(guise_token_for_user(s, "alice", &after), GUISE_S_OK);
    assert_ptr_not_equal(after, before);
    assert_true(guise_token_serial(after) > guise_token_serial(before));
    assert_true(guise_token_in_group(after, 2101));
    assert_groups(after, (const gid_t[]){2001, 2100, 2101}, 3);
    /* the old token is untouched: tokens are immutable */
    assert_false(guise_token_in_group(before, 2101));

    nsswrap_write_group(nsswrap_group);
    guise_token_unref(before);
    guise_token_unref(cached);
    guise_token_unref(after);
    free(group);
    free(changed);
    guise_token_store_free(s);
}

static void test_flush(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 3600, NULL);
    guise_token *a = NULL, *b = NULL;
    assert_int_equal(guise_token_for_group(s, "media", &a), GUISE_S_OK);
    assert_int_equal(guise_token_for_group(s, "media", &b), GUISE_S_OK);
    assert_ptr_equal(a, b);
    guise_token_unref(b);
    guise_token_store_flush(s);
    assert_int_equal(guise_token_for_group(s, "media", &b), GUISE_S_OK);
    assert_ptr_not_equal(a, b);
    assert_int_not_equal(guise_token_serial(a), guise_token_serial(b));
    guise_token_unref(a);
    guise_token_unref(b);
    guise_token_store_free(s);
}

static void test_lookup_cached(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 1, NULL);
    guise_token *t = NULL, *c = NULL;
    /* nothing cached yet: only NSS could answer */
    assert_int_equal(guise_token_store_lookup_cached(s, "alice", &c), GUISE_E_PENDING);
    assert_null(c);
    /* alice is a group too; a cached group must not stand in for the user
     * that guise_token_for_account would find */
    assert_int_equal(guise_token_for_group(s, "alice", &t), GUISE_S_OK);
    guise_token_unref(t);
    assert_int_equal(guise_token_store_lookup_cached(s, "alice", &c), GUISE_E_PENDING);
    assert_null(c);
    assert_int_equal(guise_token_for_user(s, "alice", &t), GUISE_S_OK);
    assert_int_equal(guise_token_store_lookup_cached(s, "alice", &c), GUISE_S_OK);
    assert_ptr_equal(c, t);
    assert_false(guise_token_is_group(c));
    guise_token_unref(c);
    guise_token_unref(t);
    /* groups are found too, once guise_token_for_account said so */
    assert_int_equal(guise_token_for_group(s, "media", &t), GUISE_S_OK);
    guise_token_unref(t);
    assert_int_equal(guise_token_store_lookup_cached(s, "media", &c), GUISE_E_PENDING);
    assert_int_equal(guise_token_for_account(s, "media", &t), GUISE_S_OK);
    assert_int_equal(guise_token_store_lookup_cached(s, "media", &c), GUISE_S_OK);
    assert_true(guise_token_is_group(c));
    guise_token_unref(c);
    guise_token_unref(t);
    /* refusals and unknown names are never cached */
    assert_int_equal(guise_token_for_user(s, "root", &t), GUISE_E_ACCESSDENIED);
    assert_int_equal(guise_token_store_lookup_cached(s, "root", &c), GUISE_E_PENDING);
    assert_int_equal(guise_token_store_lookup_cached(s, "nosuch", &c), GUISE_E_PENDING);
    assert_int_equal(guise_token_store_lookup_cached(s, "", &c), GUISE_E_INVALIDARG);
    assert_int_equal(guise_token_store_lookup_cached(s, "alice", NULL), GUISE_E_POINTER);
    /* expired entries are not handed out */
    usleep(1200 * 1000);
    assert_int_equal(guise_token_store_lookup_cached(s, "alice", &c), GUISE_E_PENDING);
    assert_null(c);
    guise_token_store_free(s);
}

static void test_refcounting(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 0, NULL);
    guise_token *t = NULL, *again = NULL;
    assert_int_equal(guise_token_for_user(s, "bob", &t), GUISE_S_OK);
    assert_int_equal(guise_token_refs(t), 2); /* the cache's and ours */
    assert_int_equal(guise_token_for_user(s, "bob", &again), GUISE_S_OK);
    assert_ptr_equal(t, again);
    assert_int_equal(guise_token_refs(t), 3);
    assert_ptr_equal(guise_token_ref(t), t);
    assert_int_equal(guise_token_refs(t), 4);
    guise_token_unref(again);
    guise_token_unref(t);
    assert_int_equal(guise_token_refs(t), 2);
    guise_token_store_free(s); /* drops the cache's reference */
    assert_int_equal(guise_token_refs(t), 1);
    assert_string_equal(guise_token_name(t), "bob");
    guise_token_unref(t); /* frees: the sanitizer builds check there is no leak or reuse */
    assert_null(guise_token_ref(NULL));
    guise_token_unref(NULL);
}

#define REF_THREADS 4
#define REF_ROUNDS  100000

static void *ref_worker(void *arg)
{
    guise_token *t = arg;
    for (int i = 0; i < REF_ROUNDS; i++) {
        guise_token_ref(t);
        guise_token_ref(t);
        guise_token_unref(t);
        guise_token_unref(t);
    }
    return NULL;
}

static void test_refcount_threads(void **state)
{
    (void)state;
    gid_t groups[] = {3000};
    guise_token *t = guise_token_make("x", 3000, 3000, groups, 1, false);
    assert_non_null(t);
    pthread_t th[REF_THREADS];
    for (int i = 0; i < REF_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, ref_worker, t), 0);
    for (int i = 0; i < REF_THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(guise_token_refs(t), 1);
    guise_token_unref(t);
}

struct lookup_job {
    guise_token_store *s;
    int wrong;
};

static void *lookup_worker(void *arg)
{
    struct lookup_job *job = arg;
    static const char *const names[] = {"alice", "bob", "carol", "media", "nosuch", "root"};
    static const uid_t uids[] = {2001, 2002, 2003, GUISE_NOBODY_UID, 0, 0};
    static const guise_result want[] = {GUISE_S_OK, GUISE_S_OK,        GUISE_S_OK,
                                        GUISE_S_OK, GUISE_E_NOT_FOUND, GUISE_E_ACCESSDENIED};
    unsigned seed = (unsigned)(uintptr_t)job;
    for (int i = 0; i < 3000; i++) {
        unsigned k = (unsigned)rand_r(&seed) % 6;
        guise_token *t = NULL;
        guise_result r = guise_token_for_account(job->s, names[k], &t);
        if (r != want[k] || (t && guise_token_uid(t) != uids[k]))
            job->wrong++;
        if (k == 0 && i % 500 == 0)
            guise_token_store_flush(job->s);
        guise_token_unref(t);
    }
    return NULL;
}

static void test_store_threads(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 1, NULL);
    struct lookup_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct lookup_job){.s = s};
        assert_int_equal(pthread_create(&th[i], NULL, lookup_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].wrong, 0);
    }
    guise_token_store_free(s);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    guise_token_store *s = new_store(0, 0, NULL);
    guise_token *t = NULL;
    char longname[400];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(guise_token_for_user(s, NULL, &t), GUISE_E_INVALIDARG);
    assert_int_equal(guise_token_for_user(s, "", &t), GUISE_E_INVALIDARG);
    assert_int_equal(guise_token_for_user(s, "alice:x", &t), GUISE_E_INVALIDARG);
    assert_int_equal(guise_token_for_user(s, "alice\n", &t), GUISE_E_INVALIDARG);
    assert_int_equal(guise_token_for_user(s, longname, &t), GUISE_E_INVALIDARG);
    assert_int_equal(guise_token_for_user(s, "alice", NULL), GUISE_E_POINTER);
    assert_int_equal(guise_token_for_user(NULL, "alice", &t), GUISE_E_POINTER);
    assert_int_equal(guise_token_store_new(NULL, NULL), GUISE_E_POINTER);
    assert_null(t);
    guise_token_store_free(s);
    guise_token_store_free(NULL);
}

static void test_token_make(void **state)
{
    (void)state;
    gid_t with_root[] = {5, 0};
    errno = 0;
    assert_null(guise_token_make("r", 0, 3000, NULL, 0, false));
    assert_int_equal(errno, EPERM);
    assert_null(guise_token_make("r", 3000, 0, NULL, 0, false));
    assert_null(guise_token_make("r", 3000, 3000, with_root, 2, false));
    assert_null(guise_token_make(NULL, 3000, 3000, NULL, 0, false));

    gid_t messy[] = {3005, 3001, 3005, 3003};
    guise_token *t = guise_token_make("m", 3000, 3002, messy, 4, false);
    assert_non_null(t);
    assert_groups(t, (const gid_t[]){3001, 3002, 3003, 3005}, 4);
    guise_token *u = guise_token_make("m", 3000, 3002, messy, 4, false);
    assert_true(guise_token_serial(u) > guise_token_serial(t));
    guise_token_unref(t);
    guise_token_unref(u);
}

int main(int argc, char **argv)
{
    (void)argc;
    nsswrap_init(argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_user),
        cmocka_unit_test(test_groups_from_getgrouplist),
        cmocka_unit_test(test_unknown_account),
        cmocka_unit_test(test_uid0_refused),
        cmocka_unit_test(test_below_min_uid_refused),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_root_group_membership_dropped),
        cmocka_unit_test(test_primary_gid_users_accepted),
        cmocka_unit_test(test_low_supplementary_groups_dropped),
        cmocka_unit_test(test_directory_style_names),
        cmocka_unit_test(test_guest_only_as_guest),
        cmocka_unit_test(test_group_account),
        cmocka_unit_test(test_ttl_refresh),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_lookup_cached),
        cmocka_unit_test(test_refcounting),
        cmocka_unit_test(test_refcount_threads),
        cmocka_unit_test(test_store_threads),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_token_make),
    };
    int failed = cmocka_run_group_tests_name("token-store", tests, NULL, NULL);
    return failed ? 1 : 0;
}
