/* Digest algorithms: RFC 7616 example vectors and every algorithm/qop. */
#include "plugins/digest/digest_algo.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define RFC_USER   "Mufasa"
#define RFC_REALM  "http-auth@example.org"
#define RFC_PASS   "Circle of Life"
#define RFC_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_URI    "/dir/index.html"

static void response_for(enum digest_alg alg, const char *qop, const char *method, const char *body,
                         char *hex)
{
    char ha1[DIGEST_MAX_HEX + 1];
    digest_ha1(digest_alg_hash(alg), RFC_USER, RFC_REALM, RFC_PASS, strlen(RFC_PASS), ha1);
    struct digest_response_input in = {
        .alg = alg,
        .ha1_hex = ha1,
        .nonce = RFC_NONCE,
        .nc = "00000001",
        .cnonce = RFC_CNONCE,
        .qop = qop,
        .method = method,
        .uri = RFC_URI,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    digest_response(&in, hex);
}

/* RFC 7616 section 3.9.1. */
static void test_rfc7616_md5(void **state)
{
    char hex[DIGEST_MAX_HEX + 1];
    response_for(DIGEST_ALG_MD5, "auth", "GET", NULL, hex);
    assert_string_equal(hex, "8ca523f5e9506fed4657c9700eebdbec");
}

static void test_rfc7616_sha256(void **state)
{
    char hex[DIGEST_MAX_HEX + 1];
    response_for(DIGEST_ALG_SHA256, "auth", "GET", NULL, hex);
    assert_string_equal(hex, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

/* RFC 7616 section 3.9.2: SHA-512-256, userhash, a non-ASCII user name. */
static void test_rfc7616_sha512_256_userhash(void **state)
{
    const char *user = "J\xc3\xa4s\xc3\xb8n Doe";
    char hex[DIGEST_MAX_HEX + 1], ha1[DIGEST_MAX_HEX + 1];
    digest_userhash(DIGEST_HASH_SHA512_256, user, "api@example.org", hex);
    assert_string_equal(hex, "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
    digest_ha1(DIGEST_HASH_SHA512_256, user, "api@example.org", "Secret, or not?", 15, ha1);
    struct digest_response_input in = {
        .alg = DIGEST_ALG_SHA512_256,
        .ha1_hex = ha1,
        .nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
        .nc = "00000001",
        .cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        .qop = "auth",
        .method = "GET",
        .uri = "/doe.json",
    };
    digest_response(&in, hex);
    assert_string_equal(hex, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
}

/* Every algorithm and qop, against values computed independently (Python
 * hashlib) from the RFC 3.9.1 inputs; auth-int with method POST and body
 * "hello=world". */
static void test_all_algorithms(void **state)
{
    static const struct {
        enum digest_alg alg;
        const char *auth, *auth_int;
    } v[] = {
        {DIGEST_ALG_MD5, "8ca523f5e9506fed4657c9700eebdbec", "879b06f3d3fc586391bc1b4adcf75527"},
        {DIGEST_ALG_MD5_SESS, "e783283f46242139c486a698fec7211d",
         "52f2ea700da0c4ca376a4d47ebf40ddb"},
        {DIGEST_ALG_SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
         "d24be8594aa5f7f56945cda21153787914043ef62c2e04330343c5d7bf1ed83b"},
        {DIGEST_ALG_SHA256_SESS, "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7",
         "fcb02732d6d8daf4c88f22f74939acad9e49b78f3dccd6762242040142226cc0"},
        {DIGEST_ALG_SHA512_256, "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0",
         "97066a0b3295d99a5ad793464280a7693b6554636b378356f53386115a8aafaa"},
        {DIGEST_ALG_SHA512_256_SESS,
         "3f2a34f923c38b0fb26dce2fdfc2ce326c23cecf86fbb1444f3e51fbbc2cb92e",
         "7de0cafa51bf66948ce009d153a00fbd76b1147672a85f96877ba299c756f92b"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[DIGEST_MAX_HEX + 1];
        response_for(v[i].alg, "auth", "GET", NULL, hex);
        assert_string_equal(hex, v[i].auth);
        response_for(v[i].alg, "auth-int", "POST", "hello=world", hex);
        assert_string_equal(hex, v[i].auth_int);
    }
}

static void test_ha1_and_userhash(void **state)
{
    char hex[DIGEST_MAX_HEX + 1];
    digest_ha1(DIGEST_HASH_MD5, RFC_USER, RFC_REALM, RFC_PASS, strlen(RFC_PASS), hex);
    assert_string_equal(hex, "3d78807defe7de2157e2b0b6573a855f");
    digest_ha1(DIGEST_HASH_SHA256, RFC_USER, RFC_REALM, RFC_PASS, strlen(RFC_PASS), hex);
    assert_string_equal(hex, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
    digest_ha1(DIGEST_HASH_SHA512_256, RFC_USER, RFC_REALM, RFC_PASS, strlen(RFC_PASS), hex);
    assert_string_equal(hex, "fb174f5c3c7802721517cae13b98e2b8dae2e0118cb705d94ee29946319204ce");
    digest_userhash(DIGEST_HASH_MD5, RFC_USER, RFC_REALM, hex);
    assert_string_equal(hex, "4238f3a16167373febb9bc4d43db9cc4");
    digest_userhash(DIGEST_HASH_SHA256, RFC_USER, RFC_REALM, hex);
    assert_string_equal(hex, "a947aad205e80e429958a387394944c6b496301e79f89d35a4cc23b6ee12b5b6");
}

/* rspauth: the response with an empty method (RFC 7616 3.5). */
static void test_rspauth(void **state)
{
    char hex[DIGEST_MAX_HEX + 1];
    response_for(DIGEST_ALG_MD5, "auth", NULL, NULL, hex);
    assert_string_equal(hex, "9b712497bc9f91499fbcca1dfc5f09a5");
}

static void test_names(void **state)
{
    enum digest_alg a;
    enum digest_hash h;
    for (int i = 0; i < DIGEST_ALG_COUNT; i++) {
        const char *name = digest_alg_name((enum digest_alg)i);
        assert_true(digest_alg_parse(name, strlen(name), &a));
        assert_int_equal(a, i);
    }
    assert_true(digest_alg_parse("sha-256-SESS", 12, &a));
    assert_int_equal(a, DIGEST_ALG_SHA256_SESS);
    assert_true(digest_alg_is_sess(a));
    assert_int_equal(digest_alg_hash(a), DIGEST_HASH_SHA256);
    assert_false(digest_alg_parse("SHA-1", 5, &a));
    assert_false(digest_alg_parse("MD5", 2, &a));
    assert_false(digest_alg_parse("MD5x", 4, &a));
    assert_true(digest_hash_parse("sha-512-256", 11, &h));
    assert_int_equal(h, DIGEST_HASH_SHA512_256);
    assert_int_equal(digest_hash_hex_len(DIGEST_HASH_MD5), 32);
    assert_int_equal(digest_hash_hex_len(DIGEST_HASH_SHA256), 64);
    assert_int_equal(digest_hash_hex_len(DIGEST_HASH_SHA512_256), 64);
}

static void test_hex(void **state)
{
    unsigned char raw[4];
    char hex[9];
    assert_true(digest_hex_decode("00aBcDff", 8, raw, 4));
    assert_int_equal(raw[1], 0xab);
    digest_hex_encode(raw, 4, hex);
    assert_string_equal(hex, "00abcdff");
    assert_false(digest_hex_decode("00abcdf", 7, raw, 4));
    assert_false(digest_hex_decode("00 bcdff", 8, raw, 4));
    assert_false(digest_hex_decode("00abcdfg", 8, raw, 4));
    assert_true(digest_is_hex("09afAF", 6));
    assert_false(digest_is_hex("0x", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7616_md5),
        cmocka_unit_test(test_rfc7616_sha256),
        cmocka_unit_test(test_rfc7616_sha512_256_userhash),
        cmocka_unit_test(test_all_algorithms),
        cmocka_unit_test(test_ha1_and_userhash),
        cmocka_unit_test(test_rspauth),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
