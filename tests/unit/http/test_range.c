/* Unit tests: Range header parsing (src/http/range.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/range.h"

struct range_case {
    const char *header;
    uint64_t size;
    enum gh_range_result want;
    uint64_t start, len; /* when GH_RANGE_OK */
};

static void check_cases(const struct range_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t start = 12345, len = 12345;
        enum gh_range_result r = gh_range_parse(cases[i].header, cases[i].size, &start, &len);

        if (r != cases[i].want)
            fail_msg("Range \"%s\" size %ju: result %d, want %d",
                     cases[i].header ? cases[i].header : "(null)", (uintmax_t)cases[i].size, r,
                     cases[i].want);
        if (r == GH_RANGE_OK && (start != cases[i].start || len != cases[i].len))
            fail_msg("Range \"%s\" size %ju: %ju+%ju, want %ju+%ju", cases[i].header,
                     (uintmax_t)cases[i].size, (uintmax_t)start, (uintmax_t)len,
                     (uintmax_t)cases[i].start, (uintmax_t)cases[i].len);
        if (r != GH_RANGE_OK && (start != 0 || len != 0))
            fail_msg("Range \"%s\": outputs not zeroed", cases[i].header);
        if (r == GH_RANGE_OK && (len == 0 || start + len > cases[i].size))
            fail_msg("Range \"%s\": range outside the representation", cases[i].header);
    }
}

static void test_single_ranges(void **state)
{
    static const struct range_case cases[] = {
        {"bytes=0-0", 100, GH_RANGE_OK, 0, 1},
        {"bytes=0-99", 100, GH_RANGE_OK, 0, 100},
        {"bytes=0-", 100, GH_RANGE_OK, 0, 100},
        {"bytes=10-19", 100, GH_RANGE_OK, 10, 10},
        {"bytes=99-99", 100, GH_RANGE_OK, 99, 1},
        {"bytes=99-", 100, GH_RANGE_OK, 99, 1},
        {"bytes=50-1000", 100, GH_RANGE_OK, 50, 50}, /* last-pos clamped */
        {"bytes=-1", 100, GH_RANGE_OK, 99, 1},
        {"bytes=-10", 100, GH_RANGE_OK, 90, 10},
        {"bytes=-100", 100, GH_RANGE_OK, 0, 100},
        {"bytes=-500", 100, GH_RANGE_OK, 0, 100}, /* longer suffix: whole file */
        {"BYTES=0-1", 100, GH_RANGE_OK, 0, 2},    /* unit is case-insensitive */
        {"Bytes=0-1", 100, GH_RANGE_OK, 0, 2},
        {"bytes=007-008", 100, GH_RANGE_OK, 7, 2}, /* leading zeros */
        {"bytes=,0-1", 100, GH_RANGE_OK, 0, 2},    /* empty list elements */
        {"bytes=0-1,", 100, GH_RANGE_OK, 0, 2},
        {"bytes= 0-1 ", 100, GH_RANGE_OK, 0, 2}, /* OWS around the element */
        {"bytes=, ,\t0-1 , ", 100, GH_RANGE_OK, 0, 2},
        {"  bytes=0-1", 100, GH_RANGE_OK, 0, 2},
        {"bytes=0-0", 1, GH_RANGE_OK, 0, 1},
        {"bytes=-1", 1, GH_RANGE_OK, 0, 1},
    };
    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_absent_and_invalid(void **state)
{
    static const struct range_case cases[] = {
        {NULL, 100, GH_RANGE_NONE, 0, 0},
        {"", 100, GH_RANGE_NONE, 0, 0},
        {"  \t", 100, GH_RANGE_NONE, 0, 0},
        {"bytes=", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=,", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes 0-1", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes =0-1", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes= 0 -1", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=0 - 1", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=1-0", 100, GH_RANGE_IGNORE, 0, 0}, /* last < first: invalid */
        {"bytes=5-4", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=-", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=--1", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=a-b", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=1", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=1-2-3", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=+1-2", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=0x10-20", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=-1-2", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=1-2;x", 100, GH_RANGE_IGNORE, 0, 0},
        {"items=0-1", 100, GH_RANGE_IGNORE, 0, 0}, /* other unit */
        {"bytesx=0-1", 100, GH_RANGE_IGNORE, 0, 0},
        {"=0-1", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=\xff-1", 100, GH_RANGE_IGNORE, 0, 0},
    };
    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_multiple_ranges_ignored(void **state)
{
    static const struct range_case cases[] = {
        {"bytes=0-1,2-3", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=0-1, 5-", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=0-,-5", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=0-1,0-1", 100, GH_RANGE_IGNORE, 0, 0},
        {"bytes=200-300,400-", 100, GH_RANGE_IGNORE, 0, 0},
    };
    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_unsatisfiable(void **state)
{
    static const struct range_case cases[] = {
        {"bytes=100-", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=100-200", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=1000-", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-0", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-000", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
        /* size 0: no int-range is satisfiable (first-pos < 0 never holds) */
        {"bytes=0-", 0, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-0", 0, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-0", 0, GH_RANGE_UNSATISFIABLE, 0, 0},
        /* ... but a non-zero suffix is: it selects nothing, 200 is sent */
        {"bytes=-1", 0, GH_RANGE_IGNORE, 0, 0},
        {"bytes=-99999999999999999999999", 0, GH_RANGE_IGNORE, 0, 0},
    };
    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_overflow(void **state)
{
    static const struct range_case cases[] = {
        /* 2^64 - 1 and beyond: saturate, never wrap to small numbers */
        {"bytes=18446744073709551615-", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=18446744073709551616-", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=36893488147419103232-", 100, GH_RANGE_UNSATISFIABLE, 0, 0}, /* 2^65 */
        {"bytes=99999999999999999999999999999999999999-", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-18446744073709551615", 100, GH_RANGE_OK, 0, 100},
        {"bytes=0-99999999999999999999999999999999999999", 100, GH_RANGE_OK, 0, 100},
        {"bytes=5-18446744073709551616", 100, GH_RANGE_OK, 5, 95},
        {"bytes=-18446744073709551615", 100, GH_RANGE_OK, 0, 100},
        {"bytes=-99999999999999999999999999999", 100, GH_RANGE_OK, 0, 100},
        /* the largest representation sizes */
        {"bytes=0-", UINT64_MAX, GH_RANGE_OK, 0, UINT64_MAX},
        {"bytes=18446744073709551614-", UINT64_MAX, GH_RANGE_OK, UINT64_MAX - 1, 1},
        {"bytes=18446744073709551615-", UINT64_MAX, GH_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-18446744073709551615", UINT64_MAX, GH_RANGE_OK, 0, UINT64_MAX},
        {"bytes=-1", UINT64_MAX, GH_RANGE_OK, UINT64_MAX - 1, 1},
        {"bytes=1-99999999999999999999999999", UINT64_MAX, GH_RANGE_OK, 1, UINT64_MAX - 1},
        /* wrapping 2^64 + 5 to 5 would wrongly give an OK range */
        {"bytes=18446744073709551621-18446744073709551630", 100, GH_RANGE_UNSATISFIABLE, 0, 0},
    };
    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_ranges),
        cmocka_unit_test(test_absent_and_invalid),
        cmocka_unit_test(test_multiple_ranges_ignored),
        cmocka_unit_test(test_unsatisfiable),
        cmocka_unit_test(test_overflow),
    };
    return cmocka_run_group_tests_name("http/range", tests, NULL, NULL);
}
