/* Unit tests: the player page and the one-entry M3U (src/http/player.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/player.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static char *render(const struct gh_player *p, struct gh_buf *b)
{
    assert_int_equal(gh_player_html(b, p), 0);
    assert_int_equal(gh_buf_puts(b, ""), 0); /* NUL-terminated for strstr */
    return b->data;
}

static void test_hls_with_hlsjs(void **state)
{
    struct gh_buf b = {0};
    struct gh_player p = {.title = "Week 1",
                          .src = "/lectures/week%201/index.m3u8",
                          .kind = GH_PLAYER_HLS_VIDEO,
                          .m3u_href = "/lectures/week%201/index.m3u8",
                          .download_href = NULL,
                          .status = "live since 2026-12-08 01:00 UTC",
                          .back_href = "/lectures/week%201/",
                          .have_hlsjs = 1};
    const char *s;
    (void)state;

    s = render(&p, &b);
    assert_non_null(strstr(s, "<title>Week 1</title>"));
    assert_non_null(strstr(s,
                           "<video id=\"player\" controls playsinline "
                           "data-hls-src=\"/lectures/week%201/index.m3u8\" data-hlsjs=\"yes\">"));
    assert_non_null(strstr(s, "<script src=\"/.guise/hls.min.js\" defer></script>"));
    assert_non_null(strstr(s, "<script src=\"/.guise/player.js\" defer></script>"));
    assert_non_null(strstr(s, "live since 2026-12-08 01:00 UTC"));
    assert_non_null(strstr(s, ">Open in VLC/mpv</a>"));
    assert_null(strstr(s, ">Download</a>"));
    assert_non_null(strstr(s, "href=\"/lectures/week%201/\""));
    /* Scripts only by src: nothing inline for the CSP. */
    assert_int_equal(count(s, "<script"), 2);
    assert_int_equal(count(s, "<script src="), 2);
    assert_null(strstr(s, " src=\"/lectures"));
    gh_buf_free(&b);
}

static void test_hls_without_hlsjs(void **state)
{
    struct gh_buf b = {0};
    struct gh_player p = {.src = "/live/index.m3u8", .kind = GH_PLAYER_HLS_VIDEO};
    const char *s;
    (void)state;

    s = render(&p, &b);
    assert_null(strstr(s, "hls.min.js"));
    assert_non_null(strstr(s, "/.guise/player.js"));
    assert_non_null(strstr(s, "data-hlsjs=\"no\""));
    assert_non_null(strstr(s, "<title>/live/index.m3u8</title>")); /* title defaults to src */
    gh_buf_free(&b);
    p.asset_version = "0123abcd\"";
    p.have_hlsjs = 1;
    s = render(&p, &b);
    assert_non_null(strstr(s, "<script src=\"/.guise/hls.min.js?v=0123abcd&quot;\" defer>"));
    assert_non_null(strstr(s, "<script src=\"/.guise/player.js?v=0123abcd&quot;\" defer>"));
    assert_null(strstr(s, "class=\"status\""));
    gh_buf_free(&b);
}

static void test_progressive_kinds(void **state)
{
    struct gh_buf b = {0};
    struct gh_player a = {.title = "Radio", .src = "/radio/", .kind = GH_PLAYER_AUDIO};
    struct gh_player v = {.title = "Film",
                          .src = "/films/a.webm",
                          .kind = GH_PLAYER_VIDEO,
                          .download_href = "/films/a.webm"};
    const char *s;
    (void)state;

    s = render(&a, &b);
    assert_non_null(strstr(s, "<audio id=\"player\" controls preload=\"metadata\" "
                              "src=\"/radio/\"></audio>"));
    assert_null(strstr(s, "<video"));
    assert_null(strstr(s, "<script"));
    gh_buf_free(&b);

    s = render(&v, &b);
    assert_non_null(strstr(s, "<video id=\"player\" controls preload=\"metadata\" "
                              "src=\"/films/a.webm\"></video>"));
    assert_non_null(strstr(s, "<a class=\"download\" download href=\"/films/a.webm\">"));
    assert_null(strstr(s, "<script"));
    gh_buf_free(&b);
}

static void test_external_has_no_player(void **state)
{
    struct gh_buf b = {0};
    struct gh_player p = {.title = "rec.ts",
                          .src = "/p/rec.ts",
                          .kind = GH_PLAYER_EXTERNAL,
                          .m3u_href = "/p/rec.ts?view=m3u",
                          .download_href = "/p/rec.ts"};
    const char *s;
    (void)state;

    s = render(&p, &b);
    assert_null(strstr(s, "<video"));
    assert_null(strstr(s, "<audio"));
    assert_non_null(strstr(s, "Browsers cannot play this format"));
    assert_non_null(strstr(s, "href=\"/p/rec.ts?view=m3u\">Open in VLC/mpv</a>"));
    assert_non_null(strstr(s, ">Download</a>"));
    gh_buf_free(&b);
}

static void test_escaping(void **state)
{
    struct gh_buf b = {0};
    struct gh_player p = {.title = "<script>alert('x')</script> & \"q\"\x01\xff",
                          .src = "/p/a\"onerror=\"x.m3u8",
                          .kind = GH_PLAYER_HLS_VIDEO,
                          .status = "<b>live</b>",
                          .have_hlsjs = 1};
    const char *s;
    (void)state;

    s = render(&p, &b);
    assert_null(strstr(s, "<script>alert"));
    assert_null(strstr(s, "<b>live"));
    assert_null(strstr(s, "\"onerror"));
    assert_non_null(strstr(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                              "&quot;q&quot;\xEF\xBF\xBD\xEF\xBF\xBD"));
    assert_non_null(strstr(s, "data-hls-src=\"/p/a&quot;onerror=&quot;x.m3u8\""));
    assert_non_null(strstr(s, "&lt;b&gt;live&lt;/b&gt;"));
    gh_buf_free(&b);
}

static void test_bad_urls_refused(void **state)
{
    struct gh_buf b = {0};
    static const char *const bad[] = {"javascript:alert(1)",
                                      "//evil.example/x.m3u8",
                                      "data:text/html,x",
                                      "x.m3u8",
                                      "",
                                      "/\\evil"};
    (void)state;

    assert_int_equal(gh_buf_puts(&b, "keep"), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct gh_player p = {.src = bad[i], .kind = GH_PLAYER_VIDEO};
        struct gh_player q = {.src = "/ok.mp4", .kind = GH_PLAYER_VIDEO, .m3u_href = bad[i]};
        struct gh_player r = {.src = "/ok.mp4", .kind = GH_PLAYER_VIDEO, .download_href = bad[i]};
        assert_int_equal(gh_player_html(&b, &p), -1);
        assert_int_equal(gh_player_html(&b, &q), -1);
        assert_int_equal(gh_player_html(&b, &r), -1);
        assert_int_equal(b.len, 4); /* cut back */
    }
    assert_int_equal(gh_player_html(&b, NULL), -1);
    {
        struct gh_player p = {.src = NULL, .kind = GH_PLAYER_VIDEO};
        assert_int_equal(gh_player_html(&b, &p), -1);
    }
    assert_int_equal(b.len, 4);
    gh_buf_free(&b);
}

static void test_m3u(void **state)
{
    struct gh_buf b = {0};
    (void)state;

    assert_int_equal(gh_player_m3u(&b, "rec\n#EXT-X evil.ts", "http://h:8080/p/rec.ts"), 0);
    assert_int_equal(gh_buf_puts(&b, ""), 0);
    assert_string_equal(b.data, "#EXTM3U\n#EXTINF:-1,rec\xEF\xBF\xBD#EXT-X evil.ts\n"
                                "http://h:8080/p/rec.ts\n");
    gh_buf_truncate(&b, 0);
    assert_int_equal(gh_player_m3u(&b, "x", "http://h/a\nb"), -1);
    assert_int_equal(gh_player_m3u(&b, "x", "http://h/a b"), -1);
    assert_int_equal(gh_player_m3u(&b, "x", "/relative.ts"), -1);
    assert_int_equal(gh_player_m3u(&b, "x", "javascript:x"), -1);
    assert_int_equal(b.len, 0);
    gh_buf_free(&b);
}

static void test_kind_of(void **state)
{
    (void)state;
    assert_int_equal(gh_player_kind_of("application/vnd.apple.mpegurl"), GH_PLAYER_HLS_VIDEO);
    assert_int_equal(gh_player_kind_of("application/x-mpegURL; charset=utf-8"),
                     GH_PLAYER_HLS_VIDEO);
    assert_int_equal(gh_player_kind_of("video/mp2t"), GH_PLAYER_EXTERNAL);
    assert_int_equal(gh_player_kind_of("video/x-matroska"), GH_PLAYER_EXTERNAL);
    assert_int_equal(gh_player_kind_of("video/mp4"), GH_PLAYER_VIDEO);
    assert_int_equal(gh_player_kind_of("video/webm"), GH_PLAYER_VIDEO);
    assert_int_equal(gh_player_kind_of("audio/mpeg"), GH_PLAYER_AUDIO);
    assert_int_equal(gh_player_kind_of("audio/x-mpegurl"), -1); /* an M3U list */
    assert_int_equal(gh_player_kind_of("text/plain"), -1);
    assert_int_equal(gh_player_kind_of(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hls_with_hlsjs),
        cmocka_unit_test(test_hls_without_hlsjs),
        cmocka_unit_test(test_progressive_kinds),
        cmocka_unit_test(test_external_has_no_player),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_bad_urls_refused),
        cmocka_unit_test(test_m3u),
        cmocka_unit_test(test_kind_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
