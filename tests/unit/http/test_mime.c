/* Unit tests: Content-Type by extension (src/http/mime.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/mime.h"

static int teardown(void **state)
{
    (void)state;
    gh_mime_free();
    return 0;
}

/* The overrides, as the task and browsers need them. */
static void check_overrides(void)
{
    static const char *const pairs[][2] = {
        {"a.mp4", "video/mp4"},
        {"a.m4v", "video/mp4"},
        {"a.m4a", "audio/mp4"},
        {"a.webm", "video/webm"},
        {"a.mkv", "video/x-matroska"},
        {"a.ts", "video/mp2t"},
        {"a.m3u8", "application/vnd.apple.mpegurl"},
        {"a.mpd", "application/dash+xml"},
        {"a.mp3", "audio/mpeg"},
        {"a.aac", "audio/aac"},
        {"a.ogg", "audio/ogg"},
        {"a.oga", "audio/ogg"},
        {"a.ogv", "video/ogg"},
        {"a.opus", "audio/ogg"},
        {"a.flac", "audio/flac"},
        {"a.wav", "audio/wav"},
        {"a.html", "text/html; charset=utf-8"},
        {"a.txt", "text/plain; charset=utf-8"},
        {"a.m3u", "audio/x-mpegurl"},
        {"a.vtt", "text/vtt"},
        {"a.json", "application/json"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const char *got = gh_mime_type(pairs[i][0]);
        if (strcmp(got, pairs[i][1]) != 0)
            fail_msg("%s: got %s, want %s", pairs[i][0], got, pairs[i][1]);
    }
}

static void test_overrides_without_load(void **state)
{
    (void)state;
    gh_mime_free();
    check_overrides();
    assert_string_equal(gh_mime_type("a.png"), GH_MIME_DEFAULT); /* not an override */
}

static void test_missing_file(void **state)
{
    (void)state;
    assert_int_equal(gh_mime_load("/nonexistent/guise/mime.types"), 0);
    check_overrides();
    assert_string_equal(gh_mime_type("a.png"), GH_MIME_DEFAULT);
}

static void test_unreadable_path(void **state)
{
    (void)state;
    /* A directory is not a mime.types file: error, but overrides work. */
    errno = 0;
    assert_int_equal(gh_mime_load("/"), -1);
    assert_int_not_equal(errno, 0);
    check_overrides();
}

static const char sample[] = "# comment line\n"
                             "\n"
                             "image/png\t\t\tpng\n"
                             "image/jpeg jpeg jpg jpe\n"
                             "text/vnd.trolltech.linguist ts\n"
                             "application/x-Mixed PDQ\n"
                             "text/plain txt text   # trailing comment brf\n"
                             "audio/x-first dup\n"
                             "audio/x-second dup\n"
                             "application/no-extensions\n"
                             "bad-type-no-slash bad1\n"
                             "bad/ty\"pe bad2\n"
                             "/nosubtype bad3\n"
                             "notype/ bad4\n"
                             "text/crlf crlf\r\n"
                             "application/long waaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaay\n"
                             "   image/indented   ind   \n"
                             "application/last last"; /* no final newline */

static void test_parse_buffer(void **state)
{
    (void)state;
    /* png jpeg jpg jpe ts pdq txt text dup(once) crlf ind last + 0 bad */
    assert_int_equal(gh_mime_load_buffer(sample, strlen(sample)), 12);
    assert_string_equal(gh_mime_type("x.png"), "image/png");
    assert_string_equal(gh_mime_type("x.JPG"), "image/jpeg");
    assert_string_equal(gh_mime_type("x.jpe"), "image/jpeg");
    assert_string_equal(gh_mime_type("x.pdq"), "application/x-Mixed"); /* ext lower-cased */
    assert_string_equal(gh_mime_type("x.PDQ"), "application/x-Mixed");
    assert_string_equal(gh_mime_type("x.text"), "text/plain");
    assert_string_equal(gh_mime_type("x.brf"), GH_MIME_DEFAULT); /* after '#' */
    assert_string_equal(gh_mime_type("x.dup"), "audio/x-first"); /* first line wins */
    assert_string_equal(gh_mime_type("x.crlf"), "text/crlf");
    assert_string_equal(gh_mime_type("x.ind"), "image/indented");
    assert_string_equal(gh_mime_type("x.last"), "application/last");
    assert_string_equal(gh_mime_type("x.bad1"), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type("x.bad2"), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type("x.bad3"), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type("x.bad4"), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type("x.waaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaay"), GH_MIME_DEFAULT);
    /* overrides win over the file (ts, txt) */
    assert_string_equal(gh_mime_type("x.ts"), "video/mp2t");
    assert_string_equal(gh_mime_type("x.txt"), "text/plain; charset=utf-8");
    check_overrides();
}

static void test_extension_rules(void **state)
{
    (void)state;
    assert_int_equal(gh_mime_load_buffer(sample, strlen(sample)), 12);
    assert_string_equal(gh_mime_type("MOVIE.MP4"), "video/mp4");
    assert_string_equal(gh_mime_type("Movie.Mp4"), "video/mp4");
    assert_string_equal(gh_mime_type("/dir.png/file"), GH_MIME_DEFAULT); /* dot in dir */
    assert_string_equal(gh_mime_type("/dir/file.png"), "image/png");
    assert_string_equal(gh_mime_type("archive.tar.png"), "image/png"); /* last dot */
    assert_string_equal(gh_mime_type(".png"), GH_MIME_DEFAULT);        /* hidden, no ext */
    assert_string_equal(gh_mime_type("dir/.png"), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type("..png"), "image/png");
    assert_string_equal(gh_mime_type("file."), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type("file"), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type(""), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type(NULL), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type("x.p\xc3\xa9g"), GH_MIME_DEFAULT);
    assert_string_equal(gh_mime_type("x.unknownext"), GH_MIME_DEFAULT);
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/guise-mime-XXXXXX";
    int fd = mkstemp(path);
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, sample, strlen(sample)), (ssize_t)strlen(sample));
    close(fd);
    assert_int_equal(gh_mime_load(path), 12);
    unlink(path);
    assert_string_equal(gh_mime_type("a.jpg"), "image/jpeg");
    check_overrides();
    /* Loading again replaces, not merges. */
    assert_int_equal(gh_mime_load_buffer("image/gif gif\n", 14), 1);
    assert_string_equal(gh_mime_type("a.gif"), "image/gif");
    assert_string_equal(gh_mime_type("a.jpg"), GH_MIME_DEFAULT);
}

/* The system file (Debian media-types), when installed. */
static void test_system_mime_types(void **state)
{
    int n;
    (void)state;

    if (access("/etc/mime.types", R_OK) != 0)
        skip();
    n = gh_mime_load("/etc/mime.types");
    assert_true(n > 500);
    assert_string_equal(gh_mime_type("x.png"), "image/png");
    assert_string_equal(gh_mime_type("x.pdf"), "application/pdf");
    assert_string_equal(gh_mime_type("x.css"), "text/css");
    assert_string_equal(gh_mime_type("x.ts"), "video/mp2t"); /* override beats linguist */
    check_overrides();
}

static void test_garbage_buffer(void **state)
{
    static const char junk[] = "\0\0\n\xff\xfe/\x01 \x80\x81\n#\n/ /\n a/b \x00zz\n";
    (void)state;
    assert_true(gh_mime_load_buffer(junk, sizeof(junk) - 1) >= 0);
    check_overrides();
    assert_int_equal(gh_mime_load_buffer(NULL, 0), 0);
    check_overrides();
}

/* Many extensions force the table to grow several times. */
static void test_many_entries(void **state)
{
    size_t cap = 64 * 5000, len = 0;
    char *buf = malloc(cap);
    (void)state;

    assert_non_null(buf);
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(buf + len, cap - len, "type/t%d e%d f%d\n", i, i, i);
    assert_int_equal(gh_mime_load_buffer(buf, len), 10000);
    free(buf);
    for (int i = 0; i < 5000; i += 499) {
        char name[32], want[32];
        snprintf(name, sizeof(name), "x.F%d", i);
        snprintf(want, sizeof(want), "type/t%d", i);
        assert_string_equal(gh_mime_type(name), want);
    }
    check_overrides();
}

static void test_is_media(void **state)
{
    (void)state;
    assert_int_equal(gh_mime_is_media("audio/mpeg"), 1);
    assert_int_equal(gh_mime_is_media("audio/ogg"), 1);
    assert_int_equal(gh_mime_is_media("Audio/Flac"), 1);
    assert_int_equal(gh_mime_is_media("video/mp4"), 2);
    assert_int_equal(gh_mime_is_media("VIDEO/webm"), 2);
    assert_int_equal(gh_mime_is_media("video/mp4; codecs=\"avc1\""), 2);
    assert_int_equal(gh_mime_is_media("text/html; charset=utf-8"), 0);
    assert_int_equal(gh_mime_is_media("application/vnd.apple.mpegurl"), 0);
    assert_int_equal(gh_mime_is_media("application/octet-stream"), 0);
    assert_int_equal(gh_mime_is_media("audio"), 0);
    assert_int_equal(gh_mime_is_media("audiox/foo"), 0);
    assert_int_equal(gh_mime_is_media(""), 0);
    assert_int_equal(gh_mime_is_media(NULL), 0);
    /* playlists are not playable media */
    assert_int_equal(gh_mime_is_media("audio/x-mpegurl"), 0);
    assert_int_equal(gh_mime_is_media("audio/mpegurl"), 0);
    assert_int_equal(gh_mime_is_media("AUDIO/X-MPEGURL ; charset=utf-8"), 0);
    assert_int_equal(gh_mime_is_media("audio/x-scpls"), 0);
    assert_int_equal(gh_mime_is_media("video/vnd.mpegurl"), 0);
    assert_int_equal(gh_mime_is_media("audio/x-mpegurl2"), 1); /* not a prefix match */
    assert_int_equal(gh_mime_is_media(gh_mime_type("a.m3u")), 0);
    assert_int_equal(gh_mime_is_media(gh_mime_type("a.opus")), 1);
    assert_int_equal(gh_mime_is_media(gh_mime_type("a.mkv")), 2);
}

static void test_is_active(void **state)
{
    (void)state;
    assert_int_equal(gh_mime_is_active("text/html; charset=utf-8"), 1);
    assert_int_equal(gh_mime_is_active("image/svg+xml"), 1);
    assert_int_equal(gh_mime_is_active("application/xhtml+xml"), 1);
    assert_int_equal(gh_mime_is_active("text/xml"), 1);
    assert_int_equal(gh_mime_is_active("application/atom+xml ; q=1"), 1);
    assert_int_equal(gh_mime_is_active("TEXT/HTML"), 1);
    assert_int_equal(gh_mime_is_active("text/plain; charset=utf-8"), 0);
    assert_int_equal(gh_mime_is_active("video/mp4"), 0);
    assert_int_equal(gh_mime_is_active("text/htmlx"), 0);
    assert_int_equal(gh_mime_is_active(NULL), 0);
    assert_int_equal(gh_mime_is_active(gh_mime_type("page.svg")), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_overrides_without_load, teardown),
        cmocka_unit_test_teardown(test_missing_file, teardown),
        cmocka_unit_test_teardown(test_unreadable_path, teardown),
        cmocka_unit_test_teardown(test_parse_buffer, teardown),
        cmocka_unit_test_teardown(test_extension_rules, teardown),
        cmocka_unit_test_teardown(test_load_file, teardown),
        cmocka_unit_test_teardown(test_system_mime_types, teardown),
        cmocka_unit_test_teardown(test_garbage_buffer, teardown),
        cmocka_unit_test_teardown(test_many_entries, teardown),
        cmocka_unit_test_teardown(test_is_media, teardown),
        cmocka_unit_test_teardown(test_is_active, teardown),
    };
    return cmocka_run_group_tests_name("http/mime", tests, NULL, NULL);
}
