/* htpasswd files: parsing, and verification of hashes made by Apache's
 * htpasswd, OpenSSL and libxcrypt. */
#include "plugins/basic/basic_apr1.h"
#include "plugins/basic/basic_hash.h"
#include "plugins/basic/basic_htpasswd.h"

#include "basic_test_util.h"

#include <crypt.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- parsing ---- */

static struct basic_userdb *parse_ok(const char *text)
{
    struct basic_userdb *db = NULL;
    char err[256] = "";
    guise_result r = basic_userdb_parse(text, strlen(text), &db, err, sizeof err);
    if (r != GUISE_S_OK)
        fail_msg("parse: %s", err);
    return db;
}

static void test_parse(void **state)
{
    struct basic_userdb *db = parse_ok("# users\n"
                                       "\n"
                                       "   \t\n"
                                       "alice:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\r\n"
                                       "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=:Bob Smith:x\n"
                                       "J\xc3\xa4s\xc3\xb8n:$2y$05$abcdefghijklmnopqrstuu\n"
                                       "carol:plain\n"
                                       "  \t# indented comment\n"
                                       " \terin:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g= \t\r\n"
                                       "dave:abJnggxhB/yWI"); /* no final newline */
    assert_int_equal(basic_userdb_count(db), 6);
    /* Blanks around a line are stripped, as Apache does. */
    assert_string_equal(basic_userdb_find(db, "erin", NULL), "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=");
    enum basic_hash_kind k;
    assert_string_equal(basic_userdb_find(db, "alice", &k),
                        "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/");
    assert_int_equal(k, BASIC_HASH_APR1);
    /* Extra fields after the hash are ignored, as Apache does. */
    assert_string_equal(basic_userdb_find(db, "bob", &k), "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=");
    assert_int_equal(k, BASIC_HASH_SHA1);
    assert_non_null(basic_userdb_find(db, "J\xc3\xa4s\xc3\xb8n", &k));
    assert_int_equal(k, BASIC_HASH_BCRYPT);
    assert_non_null(basic_userdb_find(db, "carol", &k));
    assert_int_equal(k, BASIC_HASH_UNSUPPORTED);
    assert_null(basic_userdb_find(db, "Alice", NULL));
    assert_null(basic_userdb_find(db, "# users", NULL));
    assert_null(basic_userdb_find(db, "", NULL));

    /* The sample hash is a usable one: the first by name (bytes order). */
    assert_string_equal(basic_userdb_sample_hash(db), "$2y$05$abcdefghijklmnopqrstuu");

    char names[64];
    assert_int_equal(basic_userdb_unusable(db, names, sizeof names), 2);
    assert_string_equal(names, "carol, dave");

    /* References: the db lives until the last one goes. */
    assert_ptr_equal(basic_userdb_ref(db), db);
    basic_userdb_unref(db);
    assert_int_equal(basic_userdb_count(db), 6);
    basic_userdb_unref(db);

    db = parse_ok("");
    assert_int_equal(basic_userdb_count(db), 0);
    assert_null(basic_userdb_sample_hash(db));
    assert_null(basic_userdb_find(db, "alice", NULL));
    basic_userdb_unref(db);
}

static void test_parse_errors(void **state)
{
    static const struct {
        const char *text;
        const char *err;
    } cases[] = {
        {"alice:x\nbob\n", "line 2: no ':'"},
        {"alice:\n", "line 1: empty hash"},
        {":hash\n", "line 1: empty user"},
        {"al\x01ice:hash\n", "line 1: empty user name or control"},
        {"alice:a\n# c\nbob:b\nalice:c\n", "line 4: user listed twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct basic_userdb *db = (struct basic_userdb *)&db;
        char err[256] = "";
        assert_int_equal(
            basic_userdb_parse(cases[i].text, strlen(cases[i].text), &db, err, sizeof err),
            GUISE_E_BAD_FORMAT);
        assert_null(db);
        if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
            fail_msg("case %zu: '%s', want '%s'", i, err, cases[i].err);
    }
    /* A NUL inside a line is refused, not truncated. */
    static const char nul[] = "alice:ab\0cd\n";
    struct basic_userdb *db = NULL;
    char err[256];
    assert_int_equal(basic_userdb_parse(nul, sizeof nul - 1, &db, err, sizeof err),
                     GUISE_E_BAD_FORMAT);
}

/* ---- hashes ---- */

static void test_classify(void **state)
{
    assert_int_equal(basic_hash_classify("$y$j9T$a$b"), BASIC_HASH_YESCRYPT);
    assert_int_equal(basic_hash_classify("$2y$05$x"), BASIC_HASH_BCRYPT);
    assert_int_equal(basic_hash_classify("$2b$05$x"), BASIC_HASH_BCRYPT);
    assert_int_equal(basic_hash_classify("$2a$05$x"), BASIC_HASH_BCRYPT);
    assert_int_equal(basic_hash_classify("$6$salt$x"), BASIC_HASH_SHA512CRYPT);
    assert_int_equal(basic_hash_classify("$5$salt$x"), BASIC_HASH_SHA256CRYPT);
    assert_int_equal(basic_hash_classify("$apr1$salt$x"), BASIC_HASH_APR1);
    assert_int_equal(basic_hash_classify("{SHA}x"), BASIC_HASH_SHA1);
    assert_int_equal(basic_hash_classify("$1$salt$x"), BASIC_HASH_UNSUPPORTED);
    assert_int_equal(basic_hash_classify("abJnggxhB/yWI"), BASIC_HASH_UNSUPPORTED);
    assert_int_equal(basic_hash_classify("secret"), BASIC_HASH_UNSUPPORTED);
    assert_string_equal(basic_hash_kind_name(BASIC_HASH_YESCRYPT), "yescrypt");
    assert_string_equal(basic_hash_kind_name(BASIC_HASH_UNSUPPORTED), "plain text or unknown");
}

/* apr1 against OpenSSL's implementation (openssl passwd -apr1 -salt S P). */
static void test_apr1_vectors(void **state)
{
    static const char *const v[][2] = {
        {"myPassword", "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/"},
        {"x", "$apr1$$jYtXyIcDHukcQfHjblNhq/"},
        {"", "$apr1$12345678$sHuPAw7VA9xjRbJz7zKV7/"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[BASIC_APR1_SIZE];
        assert_true(basic_apr1_hash(v[i][0], strlen(v[i][0]), v[i][1], out));
        assert_string_equal(out, v[i][1]);
        assert_true(basic_hash_verify(v[i][1], v[i][0], strlen(v[i][0])));
    }
    char out[BASIC_APR1_SIZE];
    assert_false(basic_apr1_hash("x", 1, "$1$abc$", out));
    /* The salt stops after 8 characters; a long password crosses 16. */
    assert_true(
        basic_apr1_hash("a password longer than sixteen bytes", 36, "$apr1$0123456789$", out));
    assert_int_equal(strncmp(out, "$apr1$01234567$", 15), 0);
    assert_int_equal(strlen(out), 15 + 22);
}

static void test_fixed_vectors(void **state)
{
    /* htpasswd -nbs u password */
    assert_true(basic_hash_verify("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "password", 8));
    assert_false(basic_hash_verify("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "Password", 8));
    assert_false(basic_hash_verify("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g", "password", 8));
    /* perl crypt() through libxcrypt, yescrypt */
    static const char y[] = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./"
                            "tK5KU79";
    assert_true(basic_hash_verify(y, "correct horse", 13));
    assert_false(basic_hash_verify(y, "correct horsf", 13));
    /* Unsupported entries never match, even their own text. */
    assert_false(basic_hash_verify("secret", "secret", 6));
    assert_false(basic_hash_verify("abJnggxhB/yWI", "abJnggxhB/yWI", 13));
    /* A hash crypt(3) rejects does not match. */
    assert_false(basic_hash_verify("$2y$05$short", "x", 1));
    assert_false(basic_hash_verify("$y$", "", 0));
}

/* Hashes made by Apache's htpasswd, one per supported flag. */
static void test_htpasswd_tool(void **state)
{
    static const struct {
        const char *flags;
        enum basic_hash_kind kind;
    } tools[] = {
        {"-B -C 4", BASIC_HASH_BCRYPT}, {"-m", BASIC_HASH_APR1},        {"-s", BASIC_HASH_SHA1},
        {"-2", BASIC_HASH_SHA256CRYPT}, {"-5", BASIC_HASH_SHA512CRYPT},
    };
    static const char *const passwords[] = {"s3cret", "p\xc3\xa4ss w:rd", "x"};
    if (!bt_command_line("command -v htpasswd")) {
        print_message("SKIP: htpasswd (apache2-utils) not installed\n");
        skip();
    }
    for (size_t t = 0; t < sizeof tools / sizeof tools[0]; t++)
        for (size_t i = 0; i < sizeof passwords / sizeof passwords[0]; i++) {
            char cmd[256];
            snprintf(cmd, sizeof cmd, "htpasswd -nb %s user '%s'", tools[t].flags, passwords[i]);
            const char *line = bt_command_line(cmd);
            assert_non_null(line);
            struct basic_userdb *db = parse_ok(line);
            enum basic_hash_kind k;
            const char *hash = basic_userdb_find(db, "user", &k);
            assert_non_null(hash);
            if (k != tools[t].kind)
                fail_msg("%s: kind %s of %s", tools[t].flags, basic_hash_kind_name(k), hash);
            const char *pw = passwords[i];
            if (!basic_hash_verify(hash, pw, strlen(pw)))
                fail_msg("%s: '%s' does not verify against %s", tools[t].flags, pw, hash);
            assert_false(basic_hash_verify(hash, "wrong", 5));
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%.*s", (int)strlen(pw) - 1, pw);
            if (basic_hash_verify(hash, prefix, strlen(prefix)))
                fail_msg("%s: a prefix of %s verifies against %s", tools[t].flags, pw, hash);
            basic_userdb_unref(db);
        }
}

/* Hashes made by mkpasswd (package whois), as for /etc/shadow. */
static void test_mkpasswd_tool(void **state)
{
    static const struct {
        const char *method;
        enum basic_hash_kind kind;
    } tools[] = {
        {"yescrypt", BASIC_HASH_YESCRYPT},       {"bcrypt -R 4", BASIC_HASH_BCRYPT},
        {"bcrypt-a -R 4", BASIC_HASH_BCRYPT},    {"sha512crypt", BASIC_HASH_SHA512CRYPT},
        {"sha256crypt", BASIC_HASH_SHA256CRYPT}, {"md5crypt", BASIC_HASH_UNSUPPORTED},
    };
    if (!bt_command_line("command -v mkpasswd")) {
        print_message("SKIP: mkpasswd (whois) not installed\n");
        skip();
    }
    for (size_t t = 0; t < sizeof tools / sizeof tools[0]; t++) {
        char cmd[256], hash[256];
        snprintf(cmd, sizeof cmd, "mkpasswd -m %s 'p\xc3\xa4ss word'", tools[t].method);
        const char *line = bt_command_line(cmd);
        assert_non_null(line);
        snprintf(hash, sizeof hash, "%s", line);
        if (basic_hash_classify(hash) != tools[t].kind)
            fail_msg("%s: %s classified %s", tools[t].method, hash,
                     basic_hash_kind_name(basic_hash_classify(hash)));
        bool supported = tools[t].kind != BASIC_HASH_UNSUPPORTED;
        assert_int_equal(basic_hash_verify(hash, "p\xc3\xa4ss word", 10), supported);
        assert_false(basic_hash_verify(hash, "p\xc3\xa4ss Word", 10));
    }
}

/* yescrypt with a fresh salt from libxcrypt (Debian's default hash). */
static void test_yescrypt_fresh(void **state)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    assert_non_null(crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof setting));
    const char *h = crypt_rn("fresh pw", setting, &data, (int)sizeof data);
    assert_non_null(h);
    char hash[CRYPT_OUTPUT_SIZE];
    snprintf(hash, sizeof hash, "%s", h);
    assert_int_equal(basic_hash_classify(hash), BASIC_HASH_YESCRYPT);
    assert_true(basic_hash_verify(hash, "fresh pw", 8));
    assert_false(basic_hash_verify(hash, "fresh pW", 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),         cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_classify),      cmocka_unit_test(test_apr1_vectors),
        cmocka_unit_test(test_fixed_vectors), cmocka_unit_test(test_htpasswd_tool),
        cmocka_unit_test(test_mkpasswd_tool), cmocka_unit_test(test_yescrypt_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
