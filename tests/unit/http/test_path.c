/* Unit tests: request path decoding and normalisation (src/http/path.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/path.h"

struct norm_case {
    const char *raw;
    int rc;
    const char *want; /* when rc == 0 */
};

static void check_cases(const struct norm_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[256];
        int rc;

        memset(out, 'X', sizeof(out));
        rc = gh_path_normalize(cases[i].raw, out, sizeof(out));
        if (rc != cases[i].rc)
            fail_msg("gh_path_normalize(\"%s\") = %d, want %d", cases[i].raw, rc, cases[i].rc);
        if (rc == 0 && strcmp(out, cases[i].want) != 0)
            fail_msg("gh_path_normalize(\"%s\") -> \"%s\", want \"%s\"", cases[i].raw, out,
                     cases[i].want);
    }
}

static void test_normal_paths(void **state)
{
    static const struct norm_case cases[] = {
        {"/", 0, "/"},
        {"//", 0, "/"},
        {"///", 0, "/"},
        {"/a", 0, "/a"},
        {"/a/", 0, "/a/"},
        {"/a/b/c.mp4", 0, "/a/b/c.mp4"},
        {"//a///b//", 0, "/a/b/"},
        {"/lectures/week%201/intro.mp4", 0, "/lectures/week 1/intro.mp4"},
        {"/a%20b", 0, "/a b"},
        {"/%41%42%63", 0, "/ABc"},
        {"/%e2%82%ac", 0, "/\xe2\x82\xac"},              /* EURO SIGN, lower-case hex */
        {"/%E2%82%AC", 0, "/\xe2\x82\xac"},              /* upper-case hex */
        {"/\xc3\xa9t\xc3\xa9", 0, "/\xc3\xa9t\xc3\xa9"}, /* raw UTF-8 passes */
        {"/%F0%9F%8E%A5", 0, "/\xf0\x9f\x8e\xa5"},       /* 4-byte sequence */
        {"/%c3%a9", 0, "/\xc3\xa9"},
        {"/\xc3%a9", 0, "/\xc3\xa9"}, /* one sequence split between raw and escape */
        {"/...", 0, "/..."},          /* three dots is a plain name */
        {"/.hidden", 0, "/.hidden"},
        {"/a..b", 0, "/a..b"},
        {"/..a", 0, "/..a"},
        {"/a.", 0, "/a."},
        {"/%2e%2e%2e", 0, "/..."},
        {"/%25", 0, "/%"},
        {"/%252e%252e", 0, "/%2e%2e"}, /* decoded once only: a literal name */
        {"/%252f", 0, "/%2f"},
        {"/a+b", 0, "/a+b"}, /* '+' is not a space in a path */
        {"/a;b=c", 0, "/a;b=c"},
        {"/~user", 0, "/~user"},
    };
    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* The traversal corpus: every one of these must be refused. */
static void test_traversal_refused(void **state)
{
    static const struct norm_case cases[] = {
        {"/..", -1, NULL},
        {"/../", -1, NULL},
        {"/../etc/passwd", -1, NULL},
        {"/a/../b", -1, NULL},
        {"/a/..", -1, NULL},
        {"/a/b/../../..", -1, NULL},
        {"/.", -1, NULL},
        {"/./", -1, NULL},
        {"/a/./b", -1, NULL},
        {"/a/.", -1, NULL},
        {"/%2e%2e", -1, NULL},
        {"/%2e%2e/etc/passwd", -1, NULL},
        {"/%2E%2E/", -1, NULL},
        {"/%2E%2e", -1, NULL},
        {"/.%2e", -1, NULL},
        {"/%2e.", -1, NULL},
        {"/a/.%2E/b", -1, NULL},
        {"/%2e", -1, NULL},
        {"/%2e/", -1, NULL},
        {"/..%2f", -1, NULL},
        {"/..%2fetc%2fpasswd", -1, NULL},
        {"/%2e%2e%2f", -1, NULL},
        {"/a%2fb", -1, NULL},
        {"/a%2Fb", -1, NULL},
        {"/%2f", -1, NULL},
        {"/%2F%2F", -1, NULL},
        {"/a%5cb", -1, NULL},
        {"/a%5Cb", -1, NULL},
        {"/..%5c..%5cwindows", -1, NULL},
        {"/a\\b", -1, NULL},
        {"/..\\", -1, NULL},
        {"/a%00b", -1, NULL},
        {"/a%00", -1, NULL},
        {"/%00/../x", -1, NULL},
        {"/%c0%ae%c0%ae/", -1, NULL},    /* overlong '.' */
        {"/%c0%af", -1, NULL},           /* overlong '/' */
        {"/%e0%80%ae", -1, NULL},        /* 3-byte overlong '.' */
        {"/%f0%80%80%ae", -1, NULL},     /* 4-byte overlong '.' */
        {"/%c1%9c", -1, NULL},           /* overlong '\\' */
        {"/\xc0\xae\xc0\xae", -1, NULL}, /* raw overlong */
        {"/%ed%a0%80", -1, NULL},        /* UTF-16 surrogate */
        {"/%f4%90%80%80", -1, NULL},     /* above U+10FFFF */
        {"/%ff", -1, NULL},
        {"/%80", -1, NULL},   /* lone continuation byte */
        {"/%c3", -1, NULL},   /* truncated sequence */
        {"/%c3/a", -1, NULL}, /* sequence cut by a separator */
        {"/%e2%82", -1, NULL},
        {"/a%0ab", -1, NULL}, /* LF */
        {"/a%0db", -1, NULL}, /* CR */
        {"/a%09b", -1, NULL}, /* TAB */
        {"/a%1fb", -1, NULL},
        {"/a%7fb", -1, NULL}, /* DEL */
        {"/a\tb", -1, NULL},
        {"/a\nb", -1, NULL},
        {"/a\x01", -1, NULL},
        {"/a\x7f", -1, NULL},
        {"/%", -1, NULL},
        {"/%2", -1, NULL},
        {"/%zz", -1, NULL},
        {"/%g0", -1, NULL},
        {"/%0g", -1, NULL},
        {"/%%32%65", -1, NULL},
        {"", -1, NULL},
        {"a/b", -1, NULL},
        {"%2fetc", -1, NULL},
        {"*", -1, NULL},
        {"http://x/", -1, NULL},
    };
    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(gh_path_normalize(NULL, (char[8]){0}, 8), GH_PATH_INVALID);
}

static void test_too_long(void **state)
{
    char out[8];
    (void)state;

    assert_int_equal(gh_path_normalize("/abcdef", out, sizeof(out)), 0); /* 7 + NUL */
    assert_string_equal(out, "/abcdef");
    assert_int_equal(gh_path_normalize("/abcdefg", out, sizeof(out)), GH_PATH_TOO_LONG);
    assert_int_equal(gh_path_normalize("/abcdef/", out, sizeof(out)), GH_PATH_TOO_LONG);
    /* Collapsing and decoding shrink the output: only the result counts. */
    assert_int_equal(gh_path_normalize("//////a%62%63%64%65%66", out, sizeof(out)), 0);
    assert_string_equal(out, "/abcdef");
    assert_int_equal(gh_path_normalize("/", out, 1), GH_PATH_TOO_LONG);
    assert_int_equal(gh_path_normalize("/", out, 2), 0);
    assert_int_equal(gh_path_normalize("/", NULL, 0), GH_PATH_TOO_LONG);
    /* Invalid wins over too long: the path is bad whatever the buffer. */
    assert_int_equal(gh_path_normalize("/abcdefghijk/../x", out, sizeof(out)), GH_PATH_INVALID);
}

static void test_split_point(void **state)
{
    char point[16];
    const char *rest = NULL;
    (void)state;

    assert_int_equal(gh_path_split_point("/lectures/a/b.mp4", point, sizeof(point), &rest), 0);
    assert_string_equal(point, "lectures");
    assert_string_equal(rest, "a/b.mp4");

    assert_int_equal(gh_path_split_point("/lectures", point, sizeof(point), &rest), 0);
    assert_string_equal(point, "lectures");
    assert_string_equal(rest, "");

    assert_int_equal(gh_path_split_point("/lectures/", point, sizeof(point), &rest), 0);
    assert_string_equal(point, "lectures");
    assert_string_equal(rest, "");

    assert_int_equal(gh_path_split_point("/lectures/a/", point, sizeof(point), &rest), 0);
    assert_string_equal(rest, "a/");

    assert_int_equal(gh_path_split_point("/", point, sizeof(point), &rest), GH_PATH_INVALID);
    assert_int_equal(gh_path_split_point("", point, sizeof(point), &rest), GH_PATH_INVALID);
    assert_int_equal(gh_path_split_point("x/y", point, sizeof(point), &rest), GH_PATH_INVALID);
    assert_int_equal(gh_path_split_point(NULL, point, sizeof(point), &rest), GH_PATH_INVALID);

    /* point must fit with its NUL */
    assert_int_equal(gh_path_split_point("/abcdefghijklmno/x", point, 16, &rest), 0);
    assert_string_equal(point, "abcdefghijklmno");
    assert_int_equal(gh_path_split_point("/abcdefghijklmnop/x", point, 16, &rest),
                     GH_PATH_TOO_LONG);
    /* rest may be NULL when only the point is wanted */
    assert_int_equal(gh_path_split_point("/m/x", point, sizeof(point), NULL), 0);
    assert_string_equal(point, "m");
}

static void test_normalize_then_split(void **state)
{
    char norm[64], point[16];
    const char *rest;
    (void)state;

    assert_int_equal(gh_path_normalize("//music%20box///disc%201//track.flac", norm, 64), 0);
    assert_int_equal(gh_path_split_point(norm, point, sizeof(point), &rest), 0);
    assert_string_equal(point, "music box");
    assert_string_equal(rest, "disc 1/track.flac");
}

static void test_url_escape(void **state)
{
    char out[128];
    size_t n;
    (void)state;

    n = gh_url_escape_path("/a b/c.mp4", out, sizeof(out));
    assert_string_equal(out, "/a%20b/c.mp4");
    assert_int_equal(n, strlen(out));

    gh_url_escape_path("AZaz09-._~/", out, sizeof(out));
    assert_string_equal(out, "AZaz09-._~/");

    gh_url_escape_path("<script>\"'&?#%+;=:@!$()*,[]", out, sizeof(out));
    assert_string_equal(out,
                        "%3Cscript%3E%22%27%26%3F%23%25%2B%3B%3D%3A%40%21%24%28%29%2A%2C%5B%5D");

    gh_url_escape_path("\xe2\x82\xac\n\x7f\x01", out, sizeof(out));
    assert_string_equal(out, "%E2%82%AC%0A%7F%01");

    gh_url_escape_path("", out, sizeof(out));
    assert_string_equal(out, "");

    /* Truncation: like snprintf, returns the full length; never a cut
     * escape in the output. */
    n = gh_url_escape_path("ab c", out, 5);
    assert_int_equal(n, 6);
    assert_string_equal(out, "ab");
    n = gh_url_escape_path("ab c", out, 6);
    assert_string_equal(out, "ab%20");
    n = gh_url_escape_path("ab c", out, 7);
    assert_string_equal(out, "ab%20c");
    assert_int_equal(gh_url_escape_path("a b", NULL, 0), 5);

    /* a segment keeps no '/' */
    n = gh_url_escape_segment("../a b/c", out, sizeof(out));
    assert_string_equal(out, "..%2Fa%20b%2Fc");
    assert_int_equal(n, strlen(out));
    gh_url_escape_segment("x~y_z-1.mp4", out, sizeof(out));
    assert_string_equal(out, "x~y_z-1.mp4");
    assert_int_equal(gh_url_escape_segment("/", NULL, 0), 3);
}

/* Round trip: whatever gh_url_escape_path makes of a normalised path must
 * normalise back to the same path. */
static void test_escape_roundtrip(void **state)
{
    static const char *const paths[] = {
        "/a b/c", "/\xc3\xa9t\xc3\xa9/%", "/x/<y>&\"z'", "/100% real/#1?.mp4", "/a+b;c=d/",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char esc[128], back[128];
        assert_true(gh_url_escape_path(paths[i], esc, sizeof(esc)) < sizeof(esc));
        assert_int_equal(gh_path_normalize(esc, back, sizeof(back)), 0);
        assert_string_equal(back, paths[i]);
    }
}

static void test_path_encode(void **state)
{
    (void)state;
    char out[64], norm[64];
    assert_int_equal(gh_path_normalize("//media", norm, sizeof norm), GH_PATH_OK);
    assert_int_equal(gh_path_encode(norm, out, sizeof out), GH_PATH_OK);
    assert_string_equal(out, "/media"); /* never "//media": another host */
    assert_int_equal(gh_path_normalize("/a%20b/%3F%23%25", norm, sizeof norm), GH_PATH_OK);
    assert_int_equal(gh_path_encode(norm, out, sizeof out), GH_PATH_OK);
    assert_string_equal(out, "/a%20b/%3F%23%25");
    assert_int_equal(gh_path_encode("/caf\xc3\xa9", out, sizeof out), GH_PATH_OK);
    assert_string_equal(out, "/caf%C3%A9");
    assert_int_equal(gh_path_encode("relative", out, sizeof out), GH_PATH_INVALID);
    assert_int_equal(gh_path_encode("/\xff\xff", out, 6), GH_PATH_TOO_LONG);
    assert_int_equal(gh_path_encode("/ab", out, 4), GH_PATH_OK);
    assert_int_equal(gh_path_encode("/abc", out, 4), GH_PATH_TOO_LONG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_paths),
        cmocka_unit_test(test_traversal_refused),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_split_point),
        cmocka_unit_test(test_normalize_then_split),
        cmocka_unit_test(test_url_escape),
        cmocka_unit_test(test_escape_roundtrip),
        cmocka_unit_test(test_path_encode),
    };
    return cmocka_run_group_tests_name("http/path", tests, NULL, NULL);
}
