/* Negotiate / NTLM plug-ins: mechanism lists, service principals, token
 * classification, NTLMSSP layout fix-up and GSS name copies. */
#include "plugins/negotiate/negotiate_config.h"
#include "plugins/negotiate/negotiate_token.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- mechanisms ---- */

static void test_mechs_good(void **state)
{
    static const struct {
        const char *list;
        unsigned mechs;
    } cases[] = {
        {"krb5", NEGOTIATE_MECH_KRB5},
        {"ntlmssp", NEGOTIATE_MECH_NTLMSSP},
        {"krb5 ntlmssp", NEGOTIATE_MECH_KRB5 | NEGOTIATE_MECH_NTLMSSP},
        {" ntlmssp,krb5\t", NEGOTIATE_MECH_KRB5 | NEGOTIATE_MECH_NTLMSSP},
        {"krb5,,ntlmssp", NEGOTIATE_MECH_KRB5 | NEGOTIATE_MECH_NTLMSSP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned m = 99;
        const char *bad = "x";
        size_t bad_len = 7;
        const char *why = negotiate_mechs_parse(cases[i].list, &m, &bad, &bad_len);
        if (why)
            fail_msg("'%s': %s", cases[i].list, why);
        assert_int_equal(m, cases[i].mechs);
        assert_null(bad);
        assert_int_equal(bad_len, 0);
    }
}

static void test_mechs_bad(void **state)
{
    static const struct {
        const char *list;
        const char *reason;
        const char *bad; /* the token named, NULL for none */
    } cases[] = {
        {"", "no mechanism", NULL},
        {" , ", "no mechanism", NULL},
        {"spnego", "unknown", "spnego"},
        {"krb5 ntlm", "unknown", "ntlm"},
        {"KRB5", "unknown", "KRB5"},
        {"krb5 krb5", "twice", "krb5"},
        {"ntlmssp krb5 ntlmssp", "twice", "ntlmssp"},
        {"krb5x", "unknown", "krb5x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned m;
        const char *bad;
        size_t bad_len;
        const char *why = negotiate_mechs_parse(cases[i].list, &m, &bad, &bad_len);
        if (!why)
            fail_msg("'%s' accepted", cases[i].list);
        if (!strstr(why, cases[i].reason))
            fail_msg("'%s': '%s' does not say '%s'", cases[i].list, why, cases[i].reason);
        if (cases[i].bad) {
            assert_non_null(bad);
            assert_int_equal(bad_len, strlen(cases[i].bad));
            assert_memory_equal(bad, cases[i].bad, bad_len);
        } else {
            assert_int_equal(bad_len, 0);
        }
    }
}

/* ---- principals ---- */

static void test_principals(void **state)
{
    static const char *const good[] = {
        "HTTP/localhost",
        "HTTP/media.example.org@EXAMPLE.ORG",
        "HTTP/media.example.org@example.org",
        "host/a/b",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (negotiate_principal_check(good[i]))
            fail_msg("'%s' refused: %s", good[i], negotiate_principal_check(good[i]));

    static const struct {
        const char *s;
        const char *reason;
    } bad[] = {
        {"", "empty"},
        {"HTTP", "not a service principal"},
        {"HTTP@REALM", "not a service principal"},
        {"HTTP/", "empty component"},
        {"/host", "empty component"},
        {"HTTP//host", "empty component"},
        {"HTTP/host@", "empty realm"},
        {"HTTP/host@A@B", "more than one"},
        {"HTTP/ho st", "blank"},
        {"HTTP/host\n", "control"},
        {"HTTP/ho\\/st", "escaped"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = negotiate_principal_check(bad[i].s);
        if (!why)
            fail_msg("'%s' accepted", bad[i].s);
        if (!strstr(why, bad[i].reason))
            fail_msg("'%s': '%s' does not say '%s'", bad[i].s, why, bad[i].reason);
    }

    char longest[NEGOTIATE_PRINCIPAL_MAX + 2];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    longest[4] = '/';
    assert_non_null(negotiate_principal_check(longest));
    longest[NEGOTIATE_PRINCIPAL_MAX] = '\0';
    assert_null(negotiate_principal_check(longest));
}

/* ---- tokens ---- */

/* A 32-byte NEGOTIATE_MESSAGE as curl sends it (no Version). */
static const unsigned char curl_type1[32] = {
    'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0, 0x06, 0x82, 0x08, 0x00,
};

static void test_initial_tokens(void **state)
{
    static const unsigned char spnego_init[] = {0x60, 0x48, 0x06, 0x06, 0x2b, 0x06};
    static const unsigned char spnego_resp[] = {0xa1, 0x82, 0x01, 0x37};
    unsigned char type3[64] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 3, 0, 0, 0};
    unsigned char type1_big_type[12] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 1};

    assert_true(negotiate_token_is_initial(spnego_init, sizeof spnego_init));
    assert_true(negotiate_token_is_initial(curl_type1, sizeof curl_type1));
    assert_false(negotiate_token_is_initial(spnego_resp, sizeof spnego_resp));
    assert_false(negotiate_token_is_initial(type3, sizeof type3));
    assert_false(negotiate_token_is_initial(type1_big_type, sizeof type1_big_type));
    assert_false(negotiate_token_is_initial("", 0));
    assert_false(negotiate_token_is_initial("NTLMSSP", 8)); /* no type */
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_layout_negotiate(void **state)
{
    unsigned char out[sizeof curl_type1 + NEGOTIATE_NTLM_GROWTH];
    size_t n = negotiate_ntlm_layout(curl_type1, sizeof curl_type1, out);
    assert_int_equal(n, 40);
    assert_memory_equal(out, curl_type1, sizeof curl_type1);
    static const unsigned char zeros[8];
    assert_memory_equal(out + 32, zeros, 8);

    /* With a domain in the payload at 32: it moves to 40, and its offset. */
    unsigned char with_domain[37];
    memcpy(with_domain, curl_type1, 32);
    put16(with_domain + 16, 5);
    put16(with_domain + 18, 5);
    put32(with_domain + 20, 32);
    memcpy(with_domain + 32, "GUISE", 5);
    unsigned char out2[sizeof with_domain + NEGOTIATE_NTLM_GROWTH];
    n = negotiate_ntlm_layout(with_domain, sizeof with_domain, out2);
    assert_int_equal(n, 45);
    assert_int_equal(get32(out2 + 20), 40);
    assert_memory_equal(out2 + 40, "GUISE", 5);
    assert_memory_equal(out2 + 32, zeros, 8);
}

/* An AUTHENTICATE_MESSAGE with its payload right after the flags (offset
 * 64), as curl builds it: LM 4 bytes, NT 6, domain 2, user 3, workstation
 * 1, no session key. */
static size_t build_type3(unsigned char *m, size_t payload_at)
{
    memset(m, 0, 128);
    memcpy(m, "NTLMSSP", 8);
    m[8] = 3;
    static const struct {
        size_t field;
        unsigned len;
        char fill;
    } f[] = {{12, 4, 'L'}, {20, 6, 'N'}, {28, 2, 'D'}, {36, 3, 'U'}, {44, 1, 'W'}};
    size_t off = payload_at;
    for (size_t i = 0; i < 5; i++) {
        put16(m + f[i].field, f[i].len);
        put16(m + f[i].field + 2, f[i].len);
        put32(m + f[i].field + 4, (uint32_t)off);
        memset(m + off, f[i].fill, f[i].len);
        off += f[i].len;
    }
    put32(m + 60, 0x00088205); /* flags */
    return off;
}

static void test_layout_authenticate(void **state)
{
    unsigned char in[128], out[128 + NEGOTIATE_NTLM_GROWTH];
    size_t len = build_type3(in, 64);
    size_t n = negotiate_ntlm_layout(in, len, out);
    assert_int_equal(n, len + 24);
    assert_memory_equal(out, in, 12);
    assert_memory_equal(out + 60, in + 60, 4); /* flags untouched */
    static const unsigned char zeros[24];
    assert_memory_equal(out + 64, zeros, 24);
    static const struct {
        size_t field;
        char fill;
    } f[] = {{12, 'L'}, {20, 'N'}, {28, 'D'}, {36, 'U'}, {44, 'W'}};
    for (size_t i = 0; i < 5; i++) {
        uint32_t off = get32(out + f[i].field + 4);
        assert_int_equal(off, get32(in + f[i].field + 4) + 24);
        unsigned flen = (unsigned)out[f[i].field] | (unsigned)out[f[i].field + 1] << 8;
        for (unsigned k = 0; k < flen; k++)
            assert_int_equal(out[off + k], f[i].fill);
    }
    /* The empty session key keeps offset 0. */
    assert_int_equal(get32(out + 52 + 4), 0);

    /* With Version but no MIC (payload at 72): 16 zeros for the MIC. */
    len = build_type3(in, 72);
    n = negotiate_ntlm_layout(in, len, out);
    assert_int_equal(n, len + 16);
    assert_int_equal(get32(out + 12 + 4), 88);

    /* Already in the Windows layout (payload at 88): copied as is. */
    len = build_type3(in, 88);
    n = negotiate_ntlm_layout(in, len, out);
    assert_int_equal(n, len);
    assert_memory_equal(out, in, len);
}

static void test_layout_leaves_other_tokens(void **state)
{
    unsigned char in[128], out[128 + NEGOTIATE_NTLM_GROWTH];
    /* SPNEGO, NTLMSSP CHALLENGE, short or truncated messages, a payload
     * offset inside the fixed part: verbatim, for GSSAPI to judge. */
    static const unsigned char spnego[] = {0x60, 0x03, 0x06, 0x01, 0x00};
    assert_int_equal(negotiate_ntlm_layout(spnego, sizeof spnego, out), sizeof spnego);
    assert_memory_equal(out, spnego, sizeof spnego);

    unsigned char type2[48] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 2};
    assert_int_equal(negotiate_ntlm_layout(type2, sizeof type2, out), sizeof type2);

    size_t len = build_type3(in, 64);
    assert_int_equal(negotiate_ntlm_layout(in, 40, out), 40); /* truncated fixed part */
    assert_memory_equal(out, in, 40);

    put32(in + 20 + 4, 30); /* NT response inside the header */
    assert_int_equal(negotiate_ntlm_layout(in, len, out), len);
    assert_memory_equal(out, in, len);

    /* Offsets beyond the message move like the others (GSSAPI refuses
     * them), so that a rewritten message needs no second rewrite. */
    len = build_type3(in, 64);
    put32(in + 28 + 4, 5000);
    size_t n = negotiate_ntlm_layout(in, len, out);
    assert_int_equal(n, len + 24);
    assert_int_equal(get32(out + 28 + 4), 5024);
    unsigned char twice[128 + 2 * NEGOTIATE_NTLM_GROWTH];
    assert_int_equal(negotiate_ntlm_layout(out, n, twice), n);
    assert_memory_equal(twice, out, n);
    put32(in + 28 + 4, UINT32_MAX - 3); /* would wrap: left alone */
    n = negotiate_ntlm_layout(in, len, out);
    assert_int_equal(get32(out + 28 + 4), UINT32_MAX - 3);
}

/* Every prefix and random bytes: no read or write outside the buffers (run
 * under the sanitizers to mean something). */
static void test_layout_any_input(void **state)
{
    unsigned char in[128], out[128 + NEGOTIATE_NTLM_GROWTH];
    size_t len = build_type3(in, 64);
    for (size_t n = 0; n <= len; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, in, n);
        size_t got = negotiate_ntlm_layout(copy, n, out);
        assert_true(got == n || got == n + 24);
        free(copy);
    }
    srand(7);
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)rand() % sizeof in;
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)rand();
        if (n >= 12) {
            memcpy(in, "NTLMSSP", 8);
            in[8] = round % 2 ? 1 : 3;
            in[9] = in[10] = in[11] = 0;
        }
        size_t got = negotiate_ntlm_layout(in, n, out);
        assert_true(got >= n && got <= n + NEGOTIATE_NTLM_GROWTH);
    }
}

/* ---- claimed NTLM users ---- */

/* An AUTHENTICATE_MESSAGE with only domain and user, at offset 88. */
static size_t build_named_type3(unsigned char *m, const void *domain, size_t dlen, const void *user,
                                size_t ulen, bool unicode)
{
    memset(m, 0, 88);
    memcpy(m, "NTLMSSP", 8);
    m[8] = 3;
    put16(m + 28, (unsigned)dlen);
    put16(m + 30, (unsigned)dlen);
    put32(m + 32, 88);
    memcpy(m + 88, domain, dlen);
    put16(m + 36, (unsigned)ulen);
    put16(m + 38, (unsigned)ulen);
    put32(m + 40, (uint32_t)(88 + dlen));
    memcpy(m + 88 + dlen, user, ulen);
    put32(m + 60, unicode ? 0x00088205 : 0x00088206);
    return 88 + dlen + ulen;
}

static void expect_claimed(const unsigned char *m, size_t len, const char *want)
{
    char *got = negotiate_ntlm_claimed_user(m, len);
    if (want) {
        if (!got)
            fail_msg("no user, expected '%s'", want);
        assert_string_equal(got, want);
    } else if (got) {
        fail_msg("got '%s', expected none", got);
    }
    free(got);
}

static void test_claimed_user(void **state)
{
    unsigned char m[512];
    size_t len = build_named_type3(m, "GUISE", 5, "carol", 5, false);
    expect_claimed(m, len, "GUISE\\carol");
    len = build_named_type3(m, "", 0, "carol", 5, false);
    expect_claimed(m, len, "carol");
    /* UTF-16LE: "DOM", "j\u00f6rg" and a character outside the BMP. */
    static const unsigned char dom16[] = {'D', 0, 'O', 0, 'M', 0};
    static const unsigned char user16[] = {'j', 0, 0xf6, 0, 'r', 0, 'g', 0, 0x3d, 0xd8, 0x00, 0xde};
    len = build_named_type3(m, dom16, sizeof dom16, user16, sizeof user16, true);
    expect_claimed(m, len, "DOM\\j\xc3\xb6rg\xf0\x9f\x98\x80");

    /* Unusable: no user, odd UTF-16 length, lone surrogates, control
     * characters, a field past the end, other messages. */
    len = build_named_type3(m, "GUISE", 5, "", 0, false);
    expect_claimed(m, len, NULL);
    len = build_named_type3(m, dom16, sizeof dom16, user16, 3, true);
    expect_claimed(m, len, NULL);
    static const unsigned char lone_high[] = {'a', 0, 0x3d, 0xd8};
    len = build_named_type3(m, "", 0, lone_high, sizeof lone_high, true);
    expect_claimed(m, len, NULL);
    static const unsigned char lone_low[] = {0x00, 0xde, 'a', 0};
    len = build_named_type3(m, "", 0, lone_low, sizeof lone_low, true);
    expect_claimed(m, len, NULL);
    len = build_named_type3(m, "GUISE", 5, "ca\nrol", 6, false);
    expect_claimed(m, len, NULL);
    len = build_named_type3(m, "GUISE", 5, "carol", 5, false);
    expect_claimed(m, len - 1, NULL);
    put32(m + 40, UINT32_MAX);
    expect_claimed(m, len, NULL);
    expect_claimed(curl_type1, sizeof curl_type1, NULL);
    len = build_named_type3(m, "GUISE", 5, "carol", 5, false);
    expect_claimed(m, 63, NULL);
    /* A name longer than NEGOTIATE_NAME_MAX. */
    unsigned char big[NEGOTIATE_NAME_MAX + 100];
    memset(big, 'u', sizeof big);
    unsigned char m2[sizeof big + 200];
    len = build_named_type3(m2, "D", 1, big, sizeof big, false);
    expect_claimed(m2, len, NULL);
}

/* ---- names ---- */

static void test_names(void **state)
{
    char *s = negotiate_name_dup("alice@GUISE.TEST", 16);
    assert_string_equal(s, "alice@GUISE.TEST");
    free(s);
    /* gss-ntlmssp counts the NUL. */
    s = negotiate_name_dup("GUISE\\carol", 12);
    assert_string_equal(s, "GUISE\\carol");
    free(s);
    assert_null(negotiate_name_dup("", 0));
    assert_null(negotiate_name_dup("\0", 1));
    assert_null(negotiate_name_dup("ali\nce", 6));
    assert_null(negotiate_name_dup("ali\0ce", 6));
    assert_null(negotiate_name_dup("bell\x7f", 5));
    char big[NEGOTIATE_NAME_MAX + 1];
    memset(big, 'a', sizeof big);
    assert_null(negotiate_name_dup(big, sizeof big));
    s = negotiate_name_dup(big, NEGOTIATE_NAME_MAX);
    assert_non_null(s);
    assert_int_equal(strlen(s), NEGOTIATE_NAME_MAX);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mechs_good),
        cmocka_unit_test(test_mechs_bad),
        cmocka_unit_test(test_principals),
        cmocka_unit_test(test_initial_tokens),
        cmocka_unit_test(test_layout_negotiate),
        cmocka_unit_test(test_layout_authenticate),
        cmocka_unit_test(test_layout_leaves_other_tokens),
        cmocka_unit_test(test_layout_any_input),
        cmocka_unit_test(test_claimed_user),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
