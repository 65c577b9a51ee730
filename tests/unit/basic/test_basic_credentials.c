/* Decoding of Basic credentials: a table of good and malformed blobs. */
#include "plugins/basic/basic_credentials.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct good_case {
    const char *blob;
    const char *user;
    const char *password;
    size_t password_len;
};

static void test_good(void **state)
{
    static const struct good_case cases[] = {
        /* RFC 7617 2: Aladdin / open sesame */
        {"QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin", "open sesame", 11},
        /* RFC 7617 2.1: test / 123£ in UTF-8 */
        {"dGVzdDoxMjPCow==", "test", "123\xc2\xa3", 5},
        /* blanks around the token are tolerated */
        {"  QWxhZGRpbjpvcGVuIHNlc2FtZQ==\t", "Aladdin", "open sesame", 11},
        /* empty password; a colon inside the password */
        {"YWxpY2U6", "alice", "", 0},
        {"YWxpY2U6YTpiOmM=", "alice", "a:b:c", 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct basic_credentials c;
        const char *why = basic_credentials_decode(cases[i].blob, strlen(cases[i].blob), &c);
        if (why)
            fail_msg("case %zu: %s", i, why);
        assert_string_equal(c.user, cases[i].user);
        assert_string_equal(c.password, cases[i].password);
        assert_int_equal(c.password_len, cases[i].password_len);
        basic_credentials_clear(&c);
        assert_null(c.user);
        assert_null(c.password);
    }
}

struct bad_case {
    const char *blob;
    const char *reason; /* a word of the reason */
};

static void test_malformed(void **state)
{
    static const struct bad_case cases[] = {
        {"", "no credentials"},
        {"   ", "no credentials"},
        {"QWxhZGRpbjpvcGVuIHNlc2FtZQ=", "base64"},   /* length not a multiple of 4 */
        {"QWxhZGRpbjpvc GVuIHNlc2FtZQ==", "base64"}, /* blank inside */
        {"QWxh*GRpbjpvcGVuIHNlc2FtZQ==", "base64"},  /* not the alphabet */
        {"QWxhZGRpbjpvcGVuIHNlc2FtZQ=x", "base64"},  /* data after padding */
        {"YWxpY2U=", "colon"},                       /* "alice" */
        {"OnB3", "empty user"},                      /* ":pw" */
        {"YWwAaWNlOnB3", "NUL"},                     /* "al\0ice:pw" */
        {"YWxpY2U6cAB3", "NUL"},                     /* "alice:p\0w" */
        {"YWxpY2U6cAp3", "control"},                 /* "alice:p\nw" */
        {"YWwJaWNlOnB3", "control"},                 /* "al\tice:pw" */
        {"YWxpY2U6cH93", "control"},                 /* DEL in the password */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct basic_credentials c;
        const char *why = basic_credentials_decode(cases[i].blob, strlen(cases[i].blob), &c);
        if (!why || !strstr(why, cases[i].reason))
            fail_msg("case %zu (%s): got '%s', want '%s'", i, cases[i].blob, why ? why : "ok",
                     cases[i].reason);
        assert_null(c.user);
        assert_null(c.password);
    }
}

/* The 4 KiB bound: at the limit accepted, one quad more refused. */
static void test_size_limit(void **state)
{
    char *blob = malloc(BASIC_CREDENTIALS_MAX + 8);
    assert_non_null(blob);
    /* "YWE6" is "aa:"; then "YWFh" ("aaa") repeated. */
    memcpy(blob, "YWE6", 4);
    for (size_t i = 4; i < BASIC_CREDENTIALS_MAX; i += 4)
        memcpy(blob + i, "YWFh", 4);
    struct basic_credentials c;
    assert_null(basic_credentials_decode(blob, BASIC_CREDENTIALS_MAX, &c));
    assert_string_equal(c.user, "aa");
    assert_int_equal(c.password_len, (BASIC_CREDENTIALS_MAX - 4) / 4 * 3);
    basic_credentials_clear(&c);
    memcpy(blob + BASIC_CREDENTIALS_MAX, "YWFh", 4);
    const char *why = basic_credentials_decode(blob, BASIC_CREDENTIALS_MAX + 4, &c);
    assert_non_null(why);
    assert_non_null(strstr(why, "4 KiB"));
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
