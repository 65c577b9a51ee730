/* The htdigest user file: line formats, bad lines, realms, userhash index. */
#include "plugins/digest/digest_userfile.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* HA1s of password "secret" in realm "media". */
#define ALICE_MD5    "b2a1ad8ca8bd3ae14e37af4f6b39cbbe"
#define ALICE_SHA256 "1c1f2dbe9b7f7a2f8fdf1d8e4d8c8c2f1c1f2dbe9b7f7a2f8fdf1d8e4d8c8c2f"

static struct digest_userdb *parse_ok(const char *text, const char *realm)
{
    struct digest_userdb *db = NULL;
    char err[256] = "";
    guise_result r = digest_userdb_parse(text, strlen(text), realm, &db, err, sizeof err);
    if (r != GUISE_S_OK)
        fail_msg("refused: %s", err);
    return db;
}

static void parse_bad(const char *text, const char *expect)
{
    struct digest_userdb *db = NULL;
    char err[256] = "";
    assert_int_equal(digest_userdb_parse(text, strlen(text), "media", &db, err, sizeof err),
                     GUISE_E_BAD_FORMAT);
    assert_null(db);
    if (!strstr(err, expect))
        fail_msg("'%s' does not contain '%s'", err, expect);
}

static void test_formats(void **state)
{
    char ha1[DIGEST_MAX_HEX + 1];
    struct digest_userdb *db =
        parse_ok("# comment\n"
                 "\n"
                 "alice:media:" ALICE_MD5 "\n"                        /* Apache htdigest */
                 "alice:media:" ALICE_SHA256 "\n"                     /* lighttpd SHA-256 */
                 "bob:media:SHA-512-256:" ALICE_SHA256 "\r\n"         /* marker, CRLF */
                 "carol:media:md5:B2A1AD8CA8BD3AE14E37AF4F6B39CBBE\n" /* marker, uppercase hex */
                 "dave:other:" ALICE_MD5 "\n"                         /* other realm: ignored */
                 "   \t\n"
                 "  # indented comment\n"
                 "erin:media:sha-256:" ALICE_SHA256, /* no final newline */
                 "media");
    assert_int_equal(digest_userdb_count(db), 4);
    const struct digest_user *u = digest_userdb_find(db, "alice");
    assert_non_null(u);
    assert_string_equal(digest_user_name(u), "alice");
    assert_string_equal(digest_user_ha1(u, DIGEST_HASH_MD5), ALICE_MD5);
    assert_string_equal(digest_user_ha1(u, DIGEST_HASH_SHA256), ALICE_SHA256);
    assert_null(digest_user_ha1(u, DIGEST_HASH_SHA512_256));
    u = digest_userdb_find(db, "bob");
    assert_null(digest_user_ha1(u, DIGEST_HASH_SHA256));
    assert_string_equal(digest_user_ha1(u, DIGEST_HASH_SHA512_256), ALICE_SHA256);
    u = digest_userdb_find(db, "carol");
    assert_string_equal(digest_user_ha1(u, DIGEST_HASH_MD5), ALICE_MD5); /* lowercased */
    assert_null(digest_userdb_find(db, "dave"));
    assert_null(digest_userdb_find(db, "Alice"));
    assert_non_null(digest_userdb_find(db, "erin"));

    /* userhash index: per hash, only users with that HA1. */
    digest_userhash(DIGEST_HASH_MD5, "alice", "media", ha1);
    u = digest_userdb_find_hashed(db, DIGEST_HASH_MD5, ha1);
    assert_non_null(u);
    assert_string_equal(digest_user_name(u), "alice");
    for (char *p = ha1; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_non_null(digest_userdb_find_hashed(db, DIGEST_HASH_MD5, ha1));
    digest_userhash(DIGEST_HASH_SHA512_256, "bob", "media", ha1);
    assert_ptr_equal(digest_userdb_find_hashed(db, DIGEST_HASH_SHA512_256, ha1),
                     digest_userdb_find(db, "bob"));
    digest_userhash(DIGEST_HASH_SHA256, "bob", "media", ha1);
    assert_null(digest_userdb_find_hashed(db, DIGEST_HASH_SHA256, ha1));
    digest_userhash(DIGEST_HASH_MD5, "dave", "other", ha1);
    assert_null(digest_userdb_find_hashed(db, DIGEST_HASH_MD5, ha1));
    assert_null(digest_userdb_find_hashed(db, DIGEST_HASH_MD5, "abc"));

    /* References keep the table alive. */
    struct digest_userdb *again = digest_userdb_ref(db);
    digest_userdb_unref(db);
    assert_non_null(digest_userdb_find(again, "alice"));
    digest_userdb_unref(again);
}

static void test_empty(void **state)
{
    struct digest_userdb *db = parse_ok("", "media");
    assert_int_equal(digest_userdb_count(db), 0);
    assert_null(digest_userdb_find(db, "x"));
    assert_null(digest_userdb_find_hashed(db, DIGEST_HASH_MD5, ALICE_MD5));
    digest_userdb_unref(db);
}

static void test_bad_lines(void **state)
{
    parse_bad("alice:media\n", "line 1:");
    parse_bad("ok:media:" ALICE_MD5 "\nalice\n", "line 2:");
    parse_bad("alice:media:" ALICE_MD5 ":x\n", "line 1:");
    parse_bad("alice:media:MD5:" ALICE_MD5 ":x\n", "too many");
    parse_bad(":media:" ALICE_MD5 "\n", "empty user");
    parse_bad("alice:media:" ALICE_MD5 "0\n", "32 (MD5) or 64");
    parse_bad("alice:media:xyz1ad8ca8bd3ae14e37af4f6b39cbbe\n", "not hex");
    parse_bad("alice:media:SHA-1:" ALICE_MD5 "\n", "unknown hash marker");
    parse_bad("alice:media:SHA-512-256:" ALICE_MD5 "\n", "does not match");
    parse_bad("alice:media:MD5:" ALICE_SHA256 "\n", "does not match");
    parse_bad("al\x01ice:media:" ALICE_MD5 "\n", "control character");
    parse_bad("alice:media:" ALICE_MD5 " \n", "not hex");
    /* Bad lines of other realms fail the file too: it is one file. */
    parse_bad("alice:other:12\n", "line 1:");
    /* Duplicates, with both line numbers. */
    parse_bad("alice:media:" ALICE_MD5 "\n#\nalice:media:" ALICE_MD5 "\n",
              "line 3: second MD5 entry for user 'alice' (first on line 1)");
    parse_bad("bob:media:" ALICE_SHA256 "\nbob:media:SHA-256:" ALICE_SHA256 "\n", "second SHA-256");
    /* NUL byte. */
    struct digest_userdb *db = NULL;
    char err[128];
    assert_int_equal(digest_userdb_parse("a:media:\0", 9, "media", &db, err, sizeof err),
                     GUISE_E_BAD_FORMAT);
}

static void test_duplicates_across_realms_are_fine(void **state)
{
    struct digest_userdb *db = parse_ok("alice:media:" ALICE_MD5 "\nalice:other:" ALICE_MD5
                                        "\nalice:other:" ALICE_MD5 "\n",
                                        "media");
    assert_int_equal(digest_userdb_count(db), 1);
    digest_userdb_unref(db);
}

static void test_line_format(void **state)
{
    char line[256];
    struct digest_line l;
    const char *why;
    size_t n = digest_line_format(line, sizeof line, "u", "r", DIGEST_HASH_MD5, ALICE_MD5);
    assert_string_equal(line, "u:r:" ALICE_MD5);
    assert_int_equal(n, strlen(line));
    digest_line_format(line, sizeof line, "u", "r", DIGEST_HASH_SHA256, ALICE_SHA256);
    assert_string_equal(line, "u:r:" ALICE_SHA256);
    digest_line_format(line, sizeof line, "u", "r", DIGEST_HASH_SHA512_256, ALICE_SHA256);
    assert_string_equal(line, "u:r:SHA-512-256:" ALICE_SHA256);
    for (int h = 0; h < DIGEST_HASH_COUNT; h++) {
        const char *ha1 = h == DIGEST_HASH_MD5 ? ALICE_MD5 : ALICE_SHA256;
        digest_line_format(line, sizeof line, "u", "r", (enum digest_hash)h, ha1);
        assert_int_equal(digest_line_parse(line, strlen(line), &l, &why), DIGEST_LINE_ENTRY);
        assert_int_equal(l.hash, h);
    }
    assert_int_equal(digest_line_format(line, 8, "u", "r", DIGEST_HASH_MD5, ALICE_MD5), 0);
    assert_true(digest_userfile_name_ok("J\xc3\xa4s\xc3\xb8n Doe", 10));
    assert_false(digest_userfile_name_ok("a:b", 3));
    assert_false(digest_userfile_name_ok("a\nb", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_duplicates_across_realms_are_fine),
        cmocka_unit_test(test_line_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
