/* Unit tests: validators and conditional requests (src/http/conditional.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/conditional.h"

/* 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (the RFC's example). */
#define T_RFC    784111777
#define D_RFC    "Sun, 06 Nov 1994 08:49:37 GMT"
#define D_BEFORE "Sun, 06 Nov 1994 08:49:36 GMT"
#define D_AFTER  "Sun, 06 Nov 1994 08:49:38 GMT"
#define ETAG     "\"1a-2b-3c\""

static void test_etag_make(void **state)
{
    char a[GH_ETAG_MAX], b[GH_ETAG_MAX];
    (void)state;

    gh_etag_make(a, sizeof(a), 0x1234, 0xabcdef, 1700000000, 5);
    assert_string_equal(a, "\"1234-abcdef-17979cfe362a0005\"");
    /* any change of inode, size or nanoseconds changes the tag */
    gh_etag_make(b, sizeof(b), 0x1235, 0xabcdef, 1700000000, 5);
    assert_string_not_equal(a, b);
    gh_etag_make(b, sizeof(b), 0x1234, 0xabcdee, 1700000000, 5);
    assert_string_not_equal(a, b);
    gh_etag_make(b, sizeof(b), 0x1234, 0xabcdef, 1700000000, 6);
    assert_string_not_equal(a, b);
    gh_etag_make(b, sizeof(b), 0x1234, 0xabcdef, 1700000001, 5);
    assert_string_not_equal(a, b);
    /* the longest tag fits GH_ETAG_MAX */
    gh_etag_make(a, sizeof(a), UINT64_MAX, UINT64_MAX, INT64_MAX, 999999999);
    assert_true(strlen(a) < GH_ETAG_MAX);
    assert_true(strncmp(a, "\"ffffffffffffffff-ffffffffffffffff-", 35) == 0);
    assert_int_equal(a[strlen(a) - 1], '"');
    /* a negative (pre-1970) time still gives a well-formed tag */
    gh_etag_make(a, sizeof(a), 1, 2, -1, 0);
    assert_string_equal(a, "\"1-2-ffffffffc4653600\"");
    /* a small buffer is cut, always terminated */
    gh_etag_make(a, 4, 1, 2, 3, 4);
    assert_string_equal(a, "\"1-");
    /* tags we make are ones we accept */
    gh_etag_make(a, sizeof(a), 7, 8, 9, 10);
    assert_int_equal(gh_if_range_ok(a, a, 0), 1);
    assert_int_equal(gh_conditional_eval("GET", NULL, a, NULL, NULL, a, 0), GH_COND_NOT_MODIFIED);
}

static void test_http_date(void **state)
{
    char d[GH_HTTP_DATE_MAX];
    (void)state;

    gh_http_date(d, sizeof(d), T_RFC);
    assert_string_equal(d, D_RFC);
    gh_http_date(d, sizeof(d), 0);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    gh_http_date(d, sizeof(d), 951782400); /* leap day */
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 GMT");
    gh_http_date(d, sizeof(d), 253402300799); /* the last second of 9999 */
    assert_string_equal(d, "Fri, 31 Dec 9999 23:59:59 GMT");
    gh_http_date(d, sizeof(d), 253402300800); /* year 10000: not an HTTP-date */
    assert_string_equal(d, "");
    gh_http_date(d, 29, T_RFC); /* one byte short */
    assert_string_equal(d, "");
    gh_http_date(d, 30, T_RFC);
    assert_string_equal(d, D_RFC);
}

static void test_http_date_parse(void **state)
{
    time_t t = 0;
    (void)state;

    assert_int_equal(gh_http_date_parse(D_RFC, &t), 0);
    assert_int_equal(t, T_RFC);
    assert_int_equal(gh_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
    assert_int_equal(t, T_RFC);
    assert_int_equal(gh_http_date_parse("Sun Nov  6 08:49:37 1994", &t), 0);
    assert_int_equal(t, T_RFC);
    assert_int_equal(gh_http_date_parse("Sun Nov 16 08:49:37 1994", &t), 0);
    assert_int_equal(t, T_RFC + 10 * 86400);
    assert_int_equal(gh_http_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(gh_http_date_parse("Wed, 31 Dec 1969 23:59:59 GMT", &t), 0);
    assert_int_equal(t, -1);
    assert_int_equal(gh_http_date_parse("Tue, 29 Feb 2000 00:00:00 GMT", &t), 0);
    assert_int_equal(t, 951782400);
    /* two-digit years: not more than 50 years in the future */
    assert_int_equal(gh_http_date_parse("Thursday, 01-Jan-70 00:00:00 GMT", &t), 0);
    assert_true(t == 0 || t == 3155760000); /* 1970 or 2070, by today's date */
    assert_int_equal(gh_http_date_parse("Saturday, 01-Jan-00 00:00:00 GMT", &t), 0);
    assert_int_equal(t, 946684800); /* 2000 for the next 25 years at least */
    /* the day name is not checked against the date */
    assert_int_equal(gh_http_date_parse("Mon, 06 Nov 1994 08:49:37 GMT", &t), 0);
    /* a round trip of our own output */
    for (time_t v = -86400; v < 4000000000; v += 86400 * 397 + 3671) {
        char d[GH_HTTP_DATE_MAX];
        time_t back;
        gh_http_date(d, sizeof(d), v);
        assert_int_equal(gh_http_date_parse(d, &back), 0);
        assert_int_equal(back, v);
    }
}

static void test_http_date_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMTX",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 00:00:00 GMT", /* 1900 is not a leap year */
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Xyz 1994 08:49:37 GMT",
        "Sux, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", /* a list */
        "Sun, 0x Nov 1994 08:49:37 GMT",
        "Sun, -6 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov 06 08:49:37 1994 GMT",
        "Sun Nov  6 08:49:37 1994\n",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        time_t t = 42;
        if (gh_http_date_parse(bad[i], &t) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(t, 42);
    }
    assert_int_equal(gh_http_date_parse(NULL, (time_t[1]){0}), -1);
    /* a leap second is accepted and lands on the next minute */
    {
        time_t t;
        assert_int_equal(gh_http_date_parse("Sat, 31 Dec 2016 23:59:60 GMT", &t), 0);
        assert_int_equal(t, 1483228800);
    }
}

static enum gh_cond eval(const char *method, const char *im, const char *inm, const char *ims,
                         const char *ius)
{
    return gh_conditional_eval(method, im, inm, ims, ius, ETAG, T_RFC);
}

static void test_no_conditions(void **state)
{
    (void)state;
    assert_int_equal(eval("GET", NULL, NULL, NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("HEAD", "", " ", "\t", ""), GH_COND_PROCEED); /* blank = absent */
    assert_int_equal(eval("POST", NULL, NULL, NULL, NULL), GH_COND_PROCEED);
}

static void test_if_match(void **state)
{
    (void)state;
    assert_int_equal(eval("GET", ETAG, NULL, NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", "*", NULL, NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", " * ", NULL, NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", "\"x\", " ETAG, NULL, NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", ", ,\"x\" ,\t" ETAG " ,", NULL, NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", "\"x\"", NULL, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    /* strong comparison: a weak tag never matches */
    assert_int_equal(eval("GET", "W/" ETAG, NULL, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    assert_int_equal(eval("GET", "w/" ETAG, NULL, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    /* malformed lists match nothing */
    assert_int_equal(eval("GET", "1a-2b-3c", NULL, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    assert_int_equal(eval("GET", ETAG " junk", NULL, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    assert_int_equal(eval("GET", "\"1a-2b-3c", NULL, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    assert_int_equal(eval("GET", "*, " ETAG, NULL, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    assert_int_equal(eval("GET", "\"a b\"", NULL, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    /* If-Match decides; If-Unmodified-Since is then not looked at */
    assert_int_equal(eval("PUT", ETAG, NULL, NULL, D_BEFORE), GH_COND_PROCEED);
    assert_int_equal(eval("PUT", "\"x\"", NULL, NULL, D_AFTER), GH_COND_PRECONDITION_FAILED);
    /* an unknown etag only matches "*" */
    assert_int_equal(gh_conditional_eval("GET", ETAG, NULL, NULL, NULL, NULL, 0),
                     GH_COND_PRECONDITION_FAILED);
    assert_int_equal(gh_conditional_eval("GET", "*", NULL, NULL, NULL, NULL, 0), GH_COND_PROCEED);
}

static void test_if_unmodified_since(void **state)
{
    (void)state;
    assert_int_equal(eval("GET", NULL, NULL, NULL, D_RFC), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, NULL, NULL, D_AFTER), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, NULL, NULL, D_BEFORE), GH_COND_PRECONDITION_FAILED);
    /* an invalid date is ignored */
    assert_int_equal(eval("GET", NULL, NULL, NULL, "garbage"), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, NULL, NULL, D_BEFORE ", " D_BEFORE), GH_COND_PROCEED);
}

static void test_if_none_match(void **state)
{
    (void)state;
    assert_int_equal(eval("GET", NULL, ETAG, NULL, NULL), GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("HEAD", NULL, ETAG, NULL, NULL), GH_COND_NOT_MODIFIED);
    /* weak comparison: W/ still matches */
    assert_int_equal(eval("GET", NULL, "W/" ETAG, NULL, NULL), GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("GET", NULL, "\"a\", W/\"b\", " ETAG, NULL, NULL), GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("GET", NULL, "*", NULL, NULL), GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("GET", NULL, "\"other\"", NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, "\"other\", W/\"x\"", NULL, NULL), GH_COND_PROCEED);
    /* opaque tags compare exactly, quotes included */
    assert_int_equal(eval("GET", NULL, "\"1A-2B-3C\"", NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, "\"1a-2b-3c \"", NULL, NULL), GH_COND_PROCEED);
    /* other methods: 412 instead of 304 */
    assert_int_equal(eval("POST", NULL, ETAG, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    assert_int_equal(eval("DELETE", NULL, "*", NULL, NULL), GH_COND_PRECONDITION_FAILED);
    assert_int_equal(eval("get", NULL, ETAG, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    /* malformed: no match, the request goes through */
    assert_int_equal(eval("GET", NULL, "1a-2b-3c", NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, ETAG ";", NULL, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, "\"x\" " ETAG, NULL, NULL), GH_COND_PROCEED);
}

static void test_if_modified_since(void **state)
{
    (void)state;
    assert_int_equal(eval("GET", NULL, NULL, D_RFC, NULL), GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("GET", NULL, NULL, D_AFTER, NULL), GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("HEAD", NULL, NULL, D_RFC, NULL), GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("GET", NULL, NULL, D_BEFORE, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, NULL, "Sunday, 06-Nov-94 08:49:37 GMT", NULL),
                     GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("GET", NULL, NULL, "Sun Nov  6 08:49:37 1994", NULL),
                     GH_COND_NOT_MODIFIED);
    /* only for GET and HEAD */
    assert_int_equal(eval("POST", NULL, NULL, D_RFC, NULL), GH_COND_PROCEED);
    /* invalid dates are ignored */
    assert_int_equal(eval("GET", NULL, NULL, "Sun, 06 Nov 1994", NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, NULL, "0", NULL), GH_COND_PROCEED);
}

/* RFC 9110 13.2.2: the order of evaluation decides mixed requests. */
static void test_evaluation_order(void **state)
{
    (void)state;
    /* If-None-Match present: If-Modified-Since is not looked at */
    assert_int_equal(eval("GET", NULL, "\"other\"", D_AFTER, NULL), GH_COND_PROCEED);
    assert_int_equal(eval("GET", NULL, ETAG, D_BEFORE, NULL), GH_COND_NOT_MODIFIED);
    /* a failed If-Match beats a matching If-None-Match (412, not 304) */
    assert_int_equal(eval("GET", "\"x\"", ETAG, NULL, NULL), GH_COND_PRECONDITION_FAILED);
    /* If-Match passes, then If-None-Match decides */
    assert_int_equal(eval("GET", ETAG, ETAG, NULL, NULL), GH_COND_NOT_MODIFIED);
    assert_int_equal(eval("GET", "*", "\"y\"", D_AFTER, NULL), GH_COND_PROCEED);
    /* a failed If-Unmodified-Since beats If-Modified-Since */
    assert_int_equal(eval("GET", NULL, NULL, D_AFTER, D_BEFORE), GH_COND_PRECONDITION_FAILED);
    /* both date conditions pass: 304 from If-Modified-Since */
    assert_int_equal(eval("GET", NULL, NULL, D_AFTER, D_AFTER), GH_COND_NOT_MODIFIED);
    /* If-Unmodified-Since passes, If-None-Match fails for PUT: 412 */
    assert_int_equal(eval("PUT", NULL, ETAG, NULL, D_AFTER), GH_COND_PRECONDITION_FAILED);
    /* everything at once */
    assert_int_equal(eval("GET", ETAG, "\"z\"", D_AFTER, D_BEFORE), GH_COND_PROCEED);
}

static void test_if_range(void **state)
{
    (void)state;
    assert_int_equal(gh_if_range_ok(NULL, ETAG, T_RFC), 1);
    /* present but empty: no validator, so no match (issue 14) */
    assert_int_equal(gh_if_range_ok("", ETAG, T_RFC), 0);
    assert_int_equal(gh_if_range_ok("  ", ETAG, T_RFC), 0);
    assert_int_equal(gh_if_range_ok(ETAG, ETAG, T_RFC), 1);
    assert_int_equal(gh_if_range_ok(" " ETAG " ", ETAG, T_RFC), 1);
    assert_int_equal(gh_if_range_ok("\"other\"", ETAG, T_RFC), 0);
    assert_int_equal(gh_if_range_ok("W/" ETAG, ETAG, T_RFC), 0); /* weak never */
    assert_int_equal(gh_if_range_ok(ETAG, "W/" ETAG, T_RFC), 0);
    assert_int_equal(gh_if_range_ok(ETAG ", \"x\"", ETAG, T_RFC), 0); /* not a list */
    assert_int_equal(gh_if_range_ok("\"1a-2b-3c", ETAG, T_RFC), 0);
    assert_int_equal(gh_if_range_ok(ETAG, NULL, T_RFC), 0);
    assert_int_equal(gh_if_range_ok(D_RFC, ETAG, T_RFC), 1);
    assert_int_equal(gh_if_range_ok("Sun Nov  6 08:49:37 1994", ETAG, T_RFC), 1);
    assert_int_equal(gh_if_range_ok(D_AFTER, ETAG, T_RFC), 0); /* exact match only */
    assert_int_equal(gh_if_range_ok(D_BEFORE, ETAG, T_RFC), 0);
    assert_int_equal(gh_if_range_ok("garbage", ETAG, T_RFC), 0);
    assert_int_equal(gh_if_range_ok("*", ETAG, T_RFC), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_make),
        cmocka_unit_test(test_http_date),
        cmocka_unit_test(test_http_date_parse),
        cmocka_unit_test(test_http_date_parse_invalid),
        cmocka_unit_test(test_no_conditions),
        cmocka_unit_test(test_if_match),
        cmocka_unit_test(test_if_unmodified_since),
        cmocka_unit_test(test_if_none_match),
        cmocka_unit_test(test_if_modified_since),
        cmocka_unit_test(test_evaluation_order),
        cmocka_unit_test(test_if_range),
    };
    return cmocka_run_group_tests_name("http/conditional", tests, NULL, NULL);
}
