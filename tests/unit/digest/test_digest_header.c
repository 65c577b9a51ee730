/* Digest credentials parser: accept/reject tables and limits. */
#include "plugins/digest/digest_header.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct digest_params params;
static struct digest_credentials cred;

static const char *parse(const char *s)
{
    return digest_params_parse(s, strlen(s), &params);
}

static void test_params_accept(void **state)
{
    static const char *ok[] = {
        "a=b",
        "a=\"b\"",
        "  a = b ,c= \"d e\"  ",
        "a=b,,, c=d",
        ", a=b,",
        "a=\"\"",
        "a=\"x\\\"y\\\\z\"",
        "a=\"tab\there\"",
        "a=\"utf8 \xc3\xa9\"",
        "a=!#$%&'*+-.^_`|~09AZaz",
        "A-b_c=1",
        "x*=UTF-8''%c2%a3",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const char *why = parse(ok[i]);
        if (why)
            fail_msg("rejected '%s': %s", ok[i], why);
    }
    assert_null(parse("a=\"x\\\"y\\\\z\", b=c"));
    assert_int_equal(params.count, 2);
    assert_string_equal(params.params[0].value, "x\"y\\z");
    assert_true(params.params[0].quoted);
    assert_string_equal(digest_params_find(&params, "B")->value, "c");
    assert_false(digest_params_find(&params, "b")->quoted);
    assert_null(digest_params_find(&params, "d"));
}

static void test_params_reject(void **state)
{
    static const char *bad[] = {
        "",         "   ",          ",,",          "a",           "a=",           "a= ",
        "=b",       "a==b",         "a=b c=d",     "a=b;c=d",     "a=\"b",        "a=\"b\\",
        "a=\"b\"c", "a=\"b\nc\"",   "a=\"b\x01\"", "a=\"b\x7f\"", "a=\"\\\x01\"", "a=b, A=c",
        "a=b, c",   "dG9rZW42OA==", "a=b\r\n",     "a b=c",       "a=(b)",        "a=\"b\" \"c\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!parse(bad[i]))
            fail_msg("accepted '%s'", bad[i]);
    }
    /* An embedded NUL (strlen would stop there). */
    assert_non_null(digest_params_parse("a=b\0c", 5, &params));
    assert_non_null(digest_params_parse("a=\"b\0c\"", 7, &params));
}

static void test_params_limits(void **state)
{
    char *s = malloc(4 * DIGEST_HDR_MAX_INPUT);
    if (!s)
        abort();
    /* 32 parameters pass, 33 do not. */
    size_t n = 0;
    for (int i = 0; i < DIGEST_HDR_MAX_PARAMS; i++)
        n += (size_t)sprintf(s + n, "p%d=v,", i);
    assert_null(parse(s));
    sprintf(s + n, "extra=1");
    assert_string_equal(parse(s), "too many parameters");

    /* A value of 1024 bytes passes, 1025 does not (quoted or token). */
    memcpy(s, "a=\"", 3);
    memset(s + 3, 'x', DIGEST_HDR_MAX_VALUE);
    strcpy(s + 3 + DIGEST_HDR_MAX_VALUE, "\"");
    assert_null(parse(s));
    memset(s + 3, 'x', DIGEST_HDR_MAX_VALUE + 1);
    strcpy(s + 4 + DIGEST_HDR_MAX_VALUE, "\"");
    assert_string_equal(parse(s), "parameter value too long");
    memset(s + 2, 'y', DIGEST_HDR_MAX_VALUE + 1);
    s[3 + DIGEST_HDR_MAX_VALUE] = '\0';
    assert_string_equal(parse(s), "parameter value too long");
    /* Escapes count once: 1024 escaped quotes are 1024 bytes. */
    n = (size_t)sprintf(s, "a=\"");
    for (int i = 0; i < DIGEST_HDR_MAX_VALUE; i++)
        n += (size_t)sprintf(s + n, "\\\"");
    strcpy(s + n, "\"");
    assert_null(parse(s));
    assert_int_equal(params.params[0].value_len, DIGEST_HDR_MAX_VALUE);
    /* Runs of plain text and escapes together: 1023 + 1 passes, 1024 + 1
     * and 1 + 1024 do not, and the escape lands where it was. */
    n = (size_t)sprintf(s, "a=\"");
    memset(s + n, 'p', DIGEST_HDR_MAX_VALUE - 1);
    n += DIGEST_HDR_MAX_VALUE - 1;
    strcpy(s + n, "\\\\\"");
    assert_null(parse(s));
    assert_int_equal(params.params[0].value_len, DIGEST_HDR_MAX_VALUE);
    assert_int_equal(params.params[0].value[DIGEST_HDR_MAX_VALUE - 1], '\\');
    assert_int_equal(params.params[0].value[DIGEST_HDR_MAX_VALUE - 2], 'p');
    n = (size_t)sprintf(s, "a=\"");
    memset(s + n, 'p', DIGEST_HDR_MAX_VALUE);
    n += DIGEST_HDR_MAX_VALUE;
    strcpy(s + n, "\\q\"");
    assert_string_equal(parse(s), "parameter value too long");
    n = (size_t)sprintf(s, "a=\"\\q");
    memset(s + n, 'p', DIGEST_HDR_MAX_VALUE);
    n += DIGEST_HDR_MAX_VALUE;
    strcpy(s + n, "\"");
    assert_string_equal(parse(s), "parameter value too long");

    /* The whole input is limited to 8 KiB. */
    n = 0;
    for (int i = 0; i < 9; i++) {
        n += (size_t)sprintf(s + n, "k%d=\"", i);
        memset(s + n, 'z', 1010);
        n += 1010;
        n += (size_t)sprintf(s + n, "\",");
    }
    assert_true(n > DIGEST_HDR_MAX_INPUT);
    assert_string_equal(parse(s), "credentials too long");

    /* Names are limited too. */
    memset(s, 'n', DIGEST_HDR_MAX_NAME + 1);
    strcpy(s + DIGEST_HDR_MAX_NAME + 1, "=v");
    assert_string_equal(parse(s), "parameter name too long");
    free(s);
}

#define GOOD                                                                                       \
    "username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", "              \
    "algorithm=SHA-256, nonce=\"n\", nc=00000001, cnonce=\"c\", qop=auth, "                        \
    "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "              \
    "opaque=\"o\""

static const char *cparse(const char *s)
{
    return digest_credentials_parse(s, strlen(s), &params, &cred);
}

static void test_credentials_good(void **state)
{
    assert_null(cparse(GOOD));
    assert_string_equal(cred.username, "Mufasa");
    assert_false(cred.username_ext);
    assert_false(cred.userhash);
    assert_string_equal(cred.realm, "http-auth@example.org");
    assert_string_equal(cred.uri, "/dir/index.html");
    assert_true(cred.alg_known);
    assert_int_equal(cred.alg, DIGEST_ALG_SHA256);
    assert_int_equal(cred.nc, 1);
    assert_string_equal(cred.nc_text, "00000001");
    assert_int_equal(cred.qop, DIGEST_QOP_AUTH);
    assert_string_equal(cred.opaque, "o");

    /* Unknown extra parameters are fine; quoting of tokens is tolerated. */
    assert_null(cparse(GOOD ", future-ext=\"x\", qop2=y"));
    assert_null(cparse("username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=0000ABCD, "
                       "cnonce=\"c\", qop=\"auth-int\", "
                       "response=\"0123456789abcdef0123456789ABCDEF\""));
    assert_int_equal(cred.alg, DIGEST_ALG_MD5); /* default */
    assert_null(cred.alg_text);
    assert_null(cred.opaque);
    assert_int_equal(cred.qop, DIGEST_QOP_AUTH_INT);
    assert_int_equal(cred.nc, 0xabcd);

    /* Well formed but never offered: left to the caller to deny. */
    assert_null(cparse("username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, "
                       "cnonce=\"c\", qop=auth-conf, algorithm=SHA-1, response=\"ab\""));
    assert_false(cred.alg_known);
    assert_int_equal(cred.qop, DIGEST_QOP_UNKNOWN);
}

static void test_credentials_userhash_and_ext(void **state)
{
    assert_null(cparse("username=\"4238f3a16167373febb9bc4d43db9cc4\", userhash=TRUE, "
                       "realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", "
                       "qop=auth, response=\"0123456789abcdef0123456789abcdef\""));
    assert_true(cred.userhash);
    assert_null(cparse("username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"r\", uri=\"/\", "
                       "nonce=\"n\", nc=00000001, cnonce=\"c\", qop=auth, "
                       "response=\"0123456789abcdef0123456789abcdef\", userhash=false"));
    assert_true(cred.username_ext);
    assert_string_equal(cred.username, "J\xc3\xa4s\xc3\xb8n Doe");
    assert_null(cparse("username*=utf-8'en-US'bob, realm=\"r\", uri=\"/\", "
                       "nonce=\"n\", nc=00000001, cnonce=\"c\", qop=auth, "
                       "response=\"0123456789abcdef0123456789abcdef\""));
    assert_string_equal(cred.username, "bob");
}

static void test_credentials_malformed(void **state)
{
    static const char *bad[] = {
        /* missing required parameters */
        "realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", qop=auth, "
        "response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", qop=auth, "
        "response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", nonce=\"n\", nc=00000001, cnonce=\"c\", qop=auth, "
        "response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nc=00000001, cnonce=\"c\", qop=auth, "
        "response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", "
        "qop=auth",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", "
        "response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, qop=auth, "
        "response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", cnonce=\"c\", qop=auth, "
        "response=\"0123456789abcdef0123456789abcdef\"",
        /* bad values */
        "username=\"\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", "
        "qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=0000001, cnonce=\"c\", "
        "qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=000000001, cnonce=\"c\", "
        "qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=0000000g, cnonce=\"c\", "
        "qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000000, cnonce=\"c\", "
        "qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"\", "
        "qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", "
        "qop=auth, response=\"0123456789abcdef0123456789abcdeg\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", "
        "qop=auth, algorithm=SHA-256, response=\"0123456789abcdef0123456789abcdef\"",
        "username=\"u\", realm=\"r\", uri=\"/\", nonce=\"n\", nc=00000001, cnonce=\"c\", "
        "qop=auth, userhash=maybe, response=\"0123456789abcdef0123456789abcdef\"",
        /* username and username* */
        "username=\"u\", username*=UTF-8''u, realm=\"r\", uri=\"/\", nonce=\"n\", "
        "nc=00000001, cnonce=\"c\", qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username*=\"UTF-8''u\", realm=\"r\", uri=\"/\", nonce=\"n\", "
        "nc=00000001, cnonce=\"c\", qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username*=UTF-8''u, userhash=true, realm=\"r\", uri=\"/\", nonce=\"n\", "
        "nc=00000001, cnonce=\"c\", qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        "username*=ISO-8859-1''%e4, realm=\"r\", uri=\"/\", nonce=\"n\", "
        "nc=00000001, cnonce=\"c\", qop=auth, response=\"0123456789abcdef0123456789abcdef\"",
        /* duplicated */
        GOOD ", nc=00000002",
        GOOD ", Realm=\"x\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!cparse(bad[i]))
            fail_msg("accepted #%zu '%s'", i, bad[i]);
    }
}

static void test_ext_value(void **state)
{
    char out[64];
    assert_true(digest_ext_value_decode("UTF-8''%e2%82%ac%20rates", 24, out, sizeof out));
    assert_string_equal(out, "\xe2\x82\xac rates");
    assert_true(digest_ext_value_decode("UTF-8'de'x", 10, out, sizeof out));
    static const char *bad[] = {
        "UTF-8'x",             /* one quote */
        "UTF-8''",             /* empty */
        "UTF-8''%c3",          /* truncated UTF-8 */
        "UTF-8''%c0%af",       /* overlong */
        "UTF-8''%ed%a0%80",    /* surrogate */
        "UTF-8''%f4%90%80%80", /* > U+10FFFF */
        "UTF-8''%00",          /* NUL */
        "UTF-8''%0a",          /* control */
        "UTF-8''%2",           /* short escape */
        "UTF-8''%zz",          /* bad escape */
        "UTF-8''a b",          /* not an attr-char */
        "UTF-8''a\"",          /* not an attr-char */
        "UTF-8'e n'a",         /* bad language */
        "UTF8''a",             /* charset */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (digest_ext_value_decode(bad[i], strlen(bad[i]), out, sizeof out))
            fail_msg("accepted '%s'", bad[i]);
    }
    /* Too long for the output buffer. */
    assert_false(digest_ext_value_decode("UTF-8''abcdefgh", 15, out, 8));
    assert_true(digest_ext_value_decode("UTF-8''abcdefg", 14, out, 8));
}

static void test_quote_append(void **state)
{
    char out[16];
    size_t pos = 0;
    assert_true(digest_quote_append(out, sizeof out, &pos, "a\"b\\c"));
    assert_string_equal(out, "a\\\"b\\\\c");
    assert_int_equal(pos, 7);
    pos = 0;
    assert_false(digest_quote_append(out, 4, &pos, "abcdef"));
    assert_true(strlen(out) < 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_accept),
        cmocka_unit_test(test_params_reject),
        cmocka_unit_test(test_params_limits),
        cmocka_unit_test(test_credentials_good),
        cmocka_unit_test(test_credentials_userhash_and_ext),
        cmocka_unit_test(test_credentials_malformed),
        cmocka_unit_test(test_ext_value),
        cmocka_unit_test(test_quote_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
