/* Request framing checks (http/framing.h). */
#include "http/framing.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define H(n, v)                                                                                    \
    {                                                                                              \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                                         \
    }

static enum gh_framing check(const struct gh_header_view *h, size_t n)
{
    return gh_framing_check(h, n, 30, 8192);
}

static void test_legal_framing(void **state)
{
    (void)state;
    struct gh_header_view none[] = {H("Host", "x")};
    struct gh_header_view one_length[] = {H("Host", "x"), H("content-length", "42")};
    struct gh_header_view chunked[] = {H("Host", "x"), H("Transfer-Encoding", "Chunked")};
    assert_int_equal(check(none, 1), GH_FRAMING_OK);
    assert_int_equal(check(one_length, 2), GH_FRAMING_OK);
    assert_int_equal(check(chunked, 2), GH_FRAMING_OK);
}

static void test_smuggling_primitives(void **state)
{
    (void)state;
    struct gh_header_view two[] = {H("Content-Length", "5"), H("Content-Length", "42")};
    struct gh_header_view same[] = {H("Content-Length", "5"), H("content-length", "5")};
    struct gh_header_view both[] = {H("Content-Length", "5"), H("Transfer-Encoding", "chunked")};
    struct gh_header_view spaced[] = {H("Content-Length ", "42")};
    struct gh_header_view xchunked[] = {H("Transfer-Encoding", "xchunked")};
    struct gh_header_view trailing[] = {H("Transfer-Encoding", "chunked ")};
    struct gh_header_view list[] = {H("Transfer-Encoding", "gzip, chunked")};
    struct gh_header_view twice[] = {H("Transfer-Encoding", "chunked"),
                                     H("Transfer-Encoding", "chunked")};
    struct gh_header_view signed_len[] = {H("Content-Length", "+5")};
    struct gh_header_view list_len[] = {H("Content-Length", "5, 5")};
    struct gh_header_view huge_len[] = {H("Content-Length", "99999999999999999999")};
    struct gh_header_view empty_name[] = {H("", "x")};
    assert_int_equal(check(two, 2), GH_FRAMING_DUPLICATE_LENGTH);
    assert_int_equal(check(same, 2), GH_FRAMING_DUPLICATE_LENGTH);
    assert_int_equal(check(both, 2), GH_FRAMING_LENGTH_AND_CODING);
    assert_int_equal(check(spaced, 1), GH_FRAMING_BAD_NAME);
    assert_int_equal(check(xchunked, 1), GH_FRAMING_BAD_CODING);
    assert_int_equal(check(trailing, 1), GH_FRAMING_BAD_CODING);
    assert_int_equal(check(list, 1), GH_FRAMING_BAD_CODING);
    assert_int_equal(check(twice, 2), GH_FRAMING_BAD_CODING);
    assert_int_equal(check(signed_len, 1), GH_FRAMING_BAD_LENGTH);
    assert_int_equal(check(list_len, 1), GH_FRAMING_BAD_LENGTH);
    assert_int_equal(check(huge_len, 1), GH_FRAMING_BAD_LENGTH);
    assert_int_equal(check(empty_name, 1), GH_FRAMING_BAD_NAME);
}

static void test_size_limit_counts_every_byte(void **state)
{
    (void)state;
    static char big[9000];
    memset(big, 'a', sizeof big);
    struct gh_header_view h[] = {{"X-Big", 5, big, sizeof big}};
    assert_int_equal(gh_framing_check(h, 1, 30, 8192), GH_FRAMING_TOO_LARGE);
    /* line + CRLF + "X-Big: " + value + CRLF, exactly at the limit */
    size_t exact = 30 + 2 + 5 + 2 + sizeof big + 2;
    assert_int_equal(gh_framing_check(h, 1, 30, exact), GH_FRAMING_OK);
    assert_int_equal(gh_framing_check(h, 1, 30, exact - 1), GH_FRAMING_TOO_LARGE);
    assert_non_null(strstr(gh_framing_reason(GH_FRAMING_TOO_LARGE), "max-header-size"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legal_framing),
        cmocka_unit_test(test_smuggling_primitives),
        cmocka_unit_test(test_size_limit_counts_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
