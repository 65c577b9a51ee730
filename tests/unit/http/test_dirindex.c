/* Unit tests: directory listings (src/http/dirindex.c) and the buffer
 * (src/http/buf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "http/dirindex.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static const char xss[] = "<script>alert(1)</script>.mp4";

static const struct gh_dirent sample[] = {
    {"docs", 1, 4096, 1700000000, NULL},
    {"a b&c.txt", 0, 512, 1700000000, NULL},
    {"<script>alert(1)</script>.mp4", 0, 1536, 1700000000, NULL},
    {"song \"one\".mp3", 0, 3 * 1024 * 1024 + 1024 * 512, 0, NULL},
    {"playlist.m3u", 0, 10, 0, NULL},
    {"clip.webm", 0, 5ull << 30, -1, "video/webm"},
};
#define N_SAMPLE (sizeof(sample) / sizeof(sample[0]))

static void test_buf(void **state)
{
    struct gh_buf b = {0};
    (void)state;

    assert_int_equal(gh_buf_puts(&b, "abc"), 0);
    assert_int_equal(gh_buf_printf(&b, "-%d-", 42), 0);
    assert_int_equal(gh_buf_append(&b, "xyz", 2), 0);
    assert_string_equal(b.data, "abc-42-xy");
    assert_int_equal(b.len, 9);
    assert_true(b.cap > b.len);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(gh_buf_puts(&b, "0123456789"), 0);
    assert_int_equal(b.len, 10009);
    assert_int_equal(b.data[b.len], '\0');
    gh_buf_truncate(&b, 3);
    assert_string_equal(b.data, "abc");
    /* impossible sizes fail cleanly and leave the buffer alone */
    assert_int_equal(gh_buf_reserve(&b, SIZE_MAX), -1);
    assert_int_equal(gh_buf_reserve(&b, SIZE_MAX - 3), -1);
    assert_string_equal(b.data, "abc");
    gh_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(gh_buf_append(&b, "", 0), 0); /* reusable after free */
    assert_string_equal(b.data, "");
    gh_buf_free(&b);
}

static void test_html_escaping(void **state)
{
    struct gh_buf out = {0};
    (void)state;

    assert_int_equal(gh_index_html(&out, "Index of /<b>x</b>&/", "/media/x/", sample, N_SAMPLE), 0);
    /* no raw markup from names or the title anywhere */
    assert_null(strstr(out.data, "<script"));
    assert_null(strstr(out.data, "<b>"));
    assert_non_null(strstr(out.data, "&lt;script&gt;alert(1)&lt;/script&gt;.mp4"));
    assert_non_null(strstr(out.data, "<title>Index of /&lt;b&gt;x&lt;/b&gt;&amp;/</title>"));
    assert_non_null(strstr(out.data, "<h1>Index of /&lt;b&gt;x&lt;/b&gt;&amp;/</h1>"));
    assert_non_null(strstr(out.data, ">a b&amp;c.txt</a>"));
    assert_non_null(strstr(out.data, ">song &quot;one&quot;.mp3</a>"));
    /* links are percent-encoded, absolute */
    assert_non_null(
        strstr(out.data, "href=\"/media/x/%3Cscript%3Ealert%281%29%3C%2Fscript%3E.mp4\""));
    assert_non_null(strstr(out.data, "href=\"/media/x/a%20b%26c.txt\""));
    assert_non_null(strstr(out.data, "href=\"/media/x/song%20%22one%22.mp3\""));
    assert_non_null(strstr(out.data, "href=\"/media/x/docs/\">docs/</a>"));
    gh_buf_free(&out);
}

static void test_html_players(void **state)
{
    struct gh_buf out = {0};
    const char *first;
    (void)state;

    assert_int_equal(gh_index_html(&out, "t", "/media/x/", sample, N_SAMPLE), 0);
    /* exactly one id="player", on the first media entry (the .mp4) */
    assert_int_equal(count(out.data, "id=\"player\""), 1);
    first = strstr(out.data, "<video id=\"player\" controls preload=\"metadata\" src=\"/media/x/"
                             "%3Cscript%3Ealert%281%29%3C%2Fscript%3E.mp4\"></video>");
    assert_non_null(first);
    /* the mp3 gets an audio element, the webm a video one, the playlist,
     * the text file and the directory none */
    assert_non_null(strstr(out.data, "<audio controls preload=\"metadata\" "
                                     "src=\"/media/x/song%20%22one%22.mp3\"></audio>"));
    assert_non_null(
        strstr(out.data, "<video controls preload=\"metadata\" src=\"/media/x/clip.webm\">"));
    assert_int_equal(count(out.data, "<video"), 2);
    assert_int_equal(count(out.data, "<audio"), 1);
    assert_null(strstr(out.data, "src=\"/media/x/playlist.m3u\""));
    assert_null(strstr(out.data, "src=\"/media/x/docs"));
    assert_null(strstr(out.data, "<script"));
    gh_buf_free(&out);
}

static void test_html_layout(void **state)
{
    struct gh_buf out = {0};
    (void)state;

    assert_int_equal(gh_index_html(&out, "t", "/media/x/", sample, N_SAMPLE), 0);
    assert_true(strncmp(out.data, "<!DOCTYPE html>\n<html lang=\"en\">", 31) == 0);
    assert_non_null(strstr(out.data, "<meta charset=\"utf-8\">"));
    assert_true(out.len == strlen(out.data));
    assert_string_equal(out.data + out.len - 8, "</html>\n");
    /* parent link */
    assert_non_null(strstr(out.data, "<a rel=\"up\" href=\"/media/\">../</a>"));
    /* sizes in binary units; "-" for directories */
    assert_non_null(strstr(out.data, "<td class=\"size\">512 B</td>"));
    assert_non_null(strstr(out.data, "<td class=\"size\">1.5 KiB</td>"));
    assert_non_null(strstr(out.data, "<td class=\"size\">3.5 MiB</td>"));
    assert_non_null(strstr(out.data, "<td class=\"size\">5.0 GiB</td>"));
    assert_non_null(strstr(out.data, ">docs/</a></td><td class=\"size\">-</td>"));
    /* UTC times */
    assert_non_null(
        strstr(out.data, "<time datetime=\"2023-11-14T22:13:20Z\">2023-11-14 22:13</time>"));
    assert_non_null(
        strstr(out.data, "<time datetime=\"1970-01-01T00:00:00Z\">1970-01-01 00:00</time>"));
    assert_non_null(
        strstr(out.data, "<time datetime=\"1969-12-31T23:59:59Z\">1969-12-31 23:59</time>"));
    /* order kept as given */
    assert_true(strstr(out.data, ">docs/<") < strstr(out.data, ">a b&amp;c.txt<"));
    assert_true(strstr(out.data, ">a b&amp;c.txt<") < strstr(out.data, ">clip.webm<"));
    gh_buf_free(&out);
}

static void test_html_parent_and_base(void **state)
{
    struct gh_buf out = {0};
    static const struct gh_dirent one[] = {{"f.txt", 0, 1, 0, NULL}};
    (void)state;

    /* root: no parent link */
    assert_int_equal(gh_index_html(&out, "root", "/", one, 1), 0);
    assert_null(strstr(out.data, "rel=\"up\""));
    assert_non_null(strstr(out.data, "href=\"/f.txt\""));
    gh_buf_free(&out);

    /* a point's top directory: parent is the root */
    assert_int_equal(gh_index_html(&out, "t", "/lectures/", one, 1), 0);
    assert_non_null(strstr(out.data, "<a rel=\"up\" href=\"/\">"));
    gh_buf_free(&out);

    /* base without the final '/', with characters to encode */
    assert_int_equal(gh_index_html(&out, "t", "/a b/c&d", one, 1), 0);
    assert_non_null(strstr(out.data, "<a rel=\"up\" href=\"/a%20b/\">"));
    assert_non_null(strstr(out.data, "href=\"/a%20b/c%26d/f.txt\""));
    gh_buf_free(&out);

    /* NULL title and base: the root */
    assert_int_equal(gh_index_html(&out, NULL, NULL, one, 1), 0);
    assert_non_null(strstr(out.data, "<title>/</title>"));
    assert_non_null(strstr(out.data, "href=\"/f.txt\""));
    gh_buf_free(&out);
    assert_int_equal(gh_index_json(&out, NULL, NULL, 0), 0);
    assert_string_equal(out.data, "{\"path\":\"/\",\"entries\":[]}");
    gh_buf_free(&out);
    assert_int_equal(gh_index_m3u(&out, NULL, one, 0), 0);
    assert_string_equal(out.data, "#EXTM3U\n");
    gh_buf_free(&out);

    /* empty listing */
    assert_int_equal(gh_index_html(&out, "t", "/e/", NULL, 0), 0);
    assert_non_null(strstr(out.data, "This directory is empty."));
    assert_null(strstr(out.data, "id=\"player\""));
    gh_buf_free(&out);
}

/* A folder holding an HLS stream is one item (the playlist, with its player
 * page); the segments are counted, not listed; MPEG-TS and Matroska outside
 * it get links instead of a player. JSON and M3U keep every file. */
static void test_html_hls_folder(void **state)
{
    struct gh_buf out = {0};
    static const struct gh_dirent ents[] = {
        {"index.m3u8", 0, 200, 0, NULL},     {"index0.ts", 0, 1000, 0, NULL},
        {"index1.ts", 0, 1000, 0, NULL},     {"init.mp4", 0, 900, 0, NULL},
        {"index2.m4s", 0, 1000, 0, NULL},    {"cover.jpg", 0, 10, 0, NULL},
        {"extra \"x\".mkv", 0, 10, 0, NULL},
    };
    static const struct gh_dirent plain[] = {
        {"rec.ts", 0, 1000, 0, NULL},
        {"film.mkv", 0, 1000, 0, NULL},
        {"ok.mp4", 0, 1000, 0, NULL},
    };
    (void)state;

    assert_int_equal(gh_index_html(&out, "t", "/p/hls/", ents, 7), 0);
    assert_int_equal(gh_buf_puts(&out, ""), 0);
    assert_int_equal(count(out.data, "<tr class=\"file hls\">"), 1);
    assert_non_null(strstr(out.data, "<a href=\"/p/hls/index.m3u8?view=player\">index.m3u8</a>"));
    assert_non_null(strstr(out.data, "<a class=\"play\" href=\"/p/hls/index.m3u8?view=player\">"));
    assert_null(strstr(out.data, "index0.ts"));
    assert_null(strstr(out.data, "index1.ts"));
    assert_null(strstr(out.data, "init.mp4"));
    assert_null(strstr(out.data, "index2.m4s"));
    assert_non_null(strstr(out.data, ">4 HLS segment files,"));
    assert_non_null(strstr(out.data, ">cover.jpg</a>"));
    /* the Matroska file is no segment: listed, with links, no player */
    assert_non_null(
        strstr(out.data, "href=\"/p/hls/extra%20%22x%22.mkv?view=m3u\">Open in VLC/mpv"));
    assert_null(strstr(out.data, "<video"));
    assert_null(strstr(out.data, "<audio"));
    gh_buf_free(&out);

    assert_int_equal(gh_index_json(&out, "/p/hls/", ents, 7), 0);
    assert_int_equal(gh_buf_puts(&out, ""), 0);
    assert_non_null(strstr(out.data, "\"name\":\"index0.ts\""));
    assert_non_null(strstr(out.data, "\"name\":\"index2.m4s\""));
    gh_buf_free(&out);
    assert_int_equal(gh_index_m3u(&out, "http://h/p/hls/", ents, 7), 0);
    assert_int_equal(gh_buf_puts(&out, ""), 0);
    assert_non_null(strstr(out.data, "http://h/p/hls/index1.ts\n"));
    gh_buf_free(&out);

    /* without a playlist, .ts files are listed, with links and no player */
    assert_int_equal(gh_index_html(&out, "t", "/p/", plain, 3), 0);
    assert_int_equal(gh_buf_puts(&out, ""), 0);
    assert_non_null(strstr(out.data, ">rec.ts</a>"));
    assert_non_null(strstr(out.data, "<a class=\"m3u\" href=\"/p/rec.ts?view=m3u\">"));
    assert_non_null(strstr(out.data, "<a class=\"download\" download href=\"/p/rec.ts\">"));
    assert_non_null(strstr(out.data, "<a class=\"download\" download href=\"/p/film.mkv\">"));
    assert_int_equal(count(out.data, "<video"), 1);
    assert_non_null(strstr(out.data, "src=\"/p/ok.mp4\"></video>"));
    assert_null(strstr(out.data, "<tr class=\"segments\""));
    gh_buf_free(&out);
}

static void test_html_bad_names(void **state)
{
    struct gh_buf out = {0};
    static const struct gh_dirent ents[] = {
        {".", 1, 0, 0, NULL},
        {"..", 1, 0, 0, NULL},
        {"", 0, 0, 0, NULL},
        {NULL, 0, 0, 0, NULL},
        {"evil/../x", 0, 0, 0, NULL}, /* one name with '/' (not from readdir) */
        {"bad\xff\xfe.txt", 0, 1, 0, NULL},
        {"ctl\x01\x1b[31m.txt", 0, 1, 0, NULL},
        {"it's.txt", 0, 1, 0, NULL},
    };
    (void)state;

    assert_int_equal(gh_index_html(&out, "bad\xc3", "/p/", ents, 8), 0);
    /* shown as one name, linked as one segment */
    assert_non_null(strstr(out.data, "href=\"/p/evil%2F..%2Fx\">evil/../x</a>"));
    assert_null(strstr(out.data, "href=\"/p/evil/"));
    assert_null(strstr(out.data, "href=\"/p/./\""));
    assert_null(strstr(out.data, "href=\"/p/../\""));
    /* invalid UTF-8 and control characters are shown as U+FFFD */
    assert_non_null(strstr(out.data, ">bad\xef\xbf\xbd\xef\xbf\xbd.txt</a>"));
    assert_non_null(strstr(out.data, "href=\"/p/bad%FF%FE.txt\""));
    assert_non_null(strstr(out.data, ">ctl\xef\xbf\xbd\xef\xbf\xbd[31m.txt</a>"));
    assert_non_null(strstr(out.data, "<title>bad\xef\xbf\xbd</title>"));
    assert_non_null(strstr(out.data, ">it&#39;s.txt</a>"));
    assert_null(strstr(out.data, "\x1b"));
    gh_buf_free(&out);
}

static void test_appends(void **state)
{
    struct gh_buf out = {0};
    (void)state;

    assert_int_equal(gh_buf_puts(&out, "PREFIX"), 0);
    assert_int_equal(gh_index_m3u(&out, "http://h/p/", sample, N_SAMPLE), 0);
    assert_true(strncmp(out.data, "PREFIX#EXTM3U\n", 14) == 0);
    gh_buf_free(&out);
}

static void test_json(void **state)
{
    struct gh_buf out = {0};
    json_error_t err;
    json_t *root, *entries, *e;
    (void)state;

    assert_int_equal(gh_index_json(&out, "/media/x/", sample, N_SAMPLE), 0);
    root = json_loads(out.data, 0, &err);
    if (root == NULL)
        fail_msg("invalid JSON: %s", err.text);
    assert_string_equal(json_string_value(json_object_get(root, "path")), "/media/x/");
    entries = json_object_get(root, "entries");
    assert_true(json_is_array(entries));
    assert_int_equal(json_array_size(entries), N_SAMPLE);

    e = json_array_get(entries, 0);
    assert_string_equal(json_string_value(json_object_get(e, "name")), "docs");
    assert_string_equal(json_string_value(json_object_get(e, "type")), "directory");
    assert_true(json_is_null(json_object_get(e, "mime")));
    assert_string_equal(json_string_value(json_object_get(e, "href")), "/media/x/docs/");

    e = json_array_get(entries, 2);
    assert_string_equal(json_string_value(json_object_get(e, "name")), xss);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "file");
    assert_int_equal(json_integer_value(json_object_get(e, "size")), 1536);
    assert_int_equal(json_integer_value(json_object_get(e, "mtime")), 1700000000);
    assert_string_equal(json_string_value(json_object_get(e, "mime")), "video/mp4");
    assert_string_equal(json_string_value(json_object_get(e, "href")),
                        "/media/x/%3Cscript%3Ealert%281%29%3C%2Fscript%3E.mp4");

    e = json_array_get(entries, 5);
    assert_int_equal(json_integer_value(json_object_get(e, "size")), 5ll << 30);
    assert_int_equal(json_integer_value(json_object_get(e, "mtime")), -1);
    assert_string_equal(json_string_value(json_object_get(e, "mime")), "video/webm");
    json_decref(root);
    gh_buf_free(&out);
}

static void test_json_edge(void **state)
{
    struct gh_buf out = {0};
    json_t *root, *e;
    static const struct gh_dirent ents[] = {
        {"..", 1, 0, 0, NULL},
        {"bad\xff.bin", 0, UINT64_MAX, 0, NULL},
        {"tab\there\n\"q\"", 0, 1, 0, NULL},
    };
    (void)state;

    assert_int_equal(gh_index_json(&out, "/p\xc3/", ents, 3), 0);
    root = json_loads(out.data, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "path")), "/p\xef\xbf\xbd/");
    assert_int_equal(json_array_size(json_object_get(root, "entries")), 2); /* ".." skipped */
    e = json_array_get(json_object_get(root, "entries"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "name")), "bad\xef\xbf\xbd.bin");
    assert_int_equal(json_integer_value(json_object_get(e, "size")), INT64_MAX);
    assert_string_equal(json_string_value(json_object_get(e, "href")), "/p%C3/bad%FF.bin");
    assert_string_equal(json_string_value(json_object_get(e, "mime")), "application/octet-stream");
    e = json_array_get(json_object_get(root, "entries"), 1);
    assert_string_equal(json_string_value(json_object_get(e, "name")), "tab\there\n\"q\"");
    json_decref(root);
    gh_buf_free(&out);

    assert_int_equal(gh_index_json(&out, "/", NULL, 0), 0);
    assert_string_equal(out.data, "{\"path\":\"/\",\"entries\":[]}");
    gh_buf_free(&out);
}

static void test_m3u(void **state)
{
    struct gh_buf out = {0};
    (void)state;

    assert_int_equal(gh_index_m3u(&out, "http://127.0.0.1:8080/media/x/", sample, N_SAMPLE), 0);
    assert_string_equal(
        out.data, "#EXTM3U\n"
                  "#EXTINF:-1,<script>alert(1)</script>.mp4\n"
                  "http://127.0.0.1:8080/media/x/%3Cscript%3Ealert%281%29%3C%2Fscript%3E.mp4\n"
                  "#EXTINF:-1,song \"one\".mp3\n"
                  "http://127.0.0.1:8080/media/x/song%20%22one%22.mp3\n"
                  "#EXTINF:-1,clip.webm\n"
                  "http://127.0.0.1:8080/media/x/clip.webm\n");
    gh_buf_free(&out);
}

static void test_m3u_escaping(void **state)
{
    struct gh_buf out = {0};
    static const struct gh_dirent ents[] = {
        {"line\nbreak\r#EXTINF:-1,evil.mp3", 0, 1, 0, NULL},
        {"../../x.mp3", 0, 1, 0, NULL}, /* '/' in a name stays inside it */
        {"\xc3\xa9t\xc3\xa9.ogg", 0, 1, 0, NULL},
        {"sub", 1, 0, 0, NULL},
        {"notes.txt", 0, 1, 0, NULL},
    };
    (void)state;

    /* a hostile Host header cannot start a line of its own */
    assert_int_equal(gh_index_m3u(&out, "http://evil\r\n#EXTINF:0,x/a b/", ents, 5), 0);
    assert_string_equal(out.data, "#EXTM3U\n"
                                  "#EXTINF:-1,line\xef\xbf\xbd"
                                  "break\xef\xbf\xbd#EXTINF:-1,evil.mp3\n"
                                  "http://evil%0D%0A%23EXTINF:0,x/a%20b/"
                                  "line%0Abreak%0D%23EXTINF%3A-1%2Cevil.mp3\n"
                                  "#EXTINF:-1,../../x.mp3\n"
                                  "http://evil%0D%0A%23EXTINF:0,x/a%20b/..%2F..%2Fx.mp3\n"
                                  "#EXTINF:-1,\xc3\xa9t\xc3\xa9.ogg\n"
                                  "http://evil%0D%0A%23EXTINF:0,x/a%20b/%C3%A9t%C3%A9.ogg\n");
    /* exactly one line per header and per entry: 1 + 3 * 2 */
    assert_int_equal(count(out.data, "\n"), 7);
    assert_null(strchr(out.data, '\r'));
    gh_buf_free(&out);

    /* origin only, or a relative base */
    static const struct gh_dirent one[] = {{"a.mp3", 0, 1, 0, NULL}};
    assert_int_equal(gh_index_m3u(&out, "https://[::1]:8443", one, 1), 0);
    assert_string_equal(out.data, "#EXTM3U\n#EXTINF:-1,a.mp3\nhttps://[::1]:8443/a.mp3\n");
    gh_buf_free(&out);
    assert_int_equal(gh_index_m3u(&out, "/rel/dir", one, 1), 0);
    assert_string_equal(out.data, "#EXTM3U\n#EXTINF:-1,a.mp3\n/rel/dir/a.mp3\n");
    gh_buf_free(&out);
    assert_int_equal(gh_index_m3u(&out, "http://h/", NULL, 0), 0);
    assert_string_equal(out.data, "#EXTM3U\n");
    gh_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_html_escaping),
        cmocka_unit_test(test_html_players),
        cmocka_unit_test(test_html_hls_folder),
        cmocka_unit_test(test_html_layout),
        cmocka_unit_test(test_html_parent_and_base),
        cmocka_unit_test(test_html_bad_names),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_edge),
        cmocka_unit_test(test_m3u),
        cmocka_unit_test(test_m3u_escaping),
    };
    return cmocka_run_group_tests_name("http/dirindex", tests, NULL, NULL);
}
