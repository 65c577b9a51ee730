/* guise HTTP helpers: directory listings as HTML, JSON and M3U (see
 * dirindex.h).
 *
 * Every renderer writes through a small writer with a sticky error flag, so
 * the layout code reads top to bottom and out-of-memory is checked once.
 */
#include "http/dirindex.h"
#include "http/mime.h"
#include "http/path.h"
#include "http/player.h"
#include "http/utf8.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct writer {
    struct gh_buf *b;
    int err;
};

static void put(struct writer *w, const char *s, size_t n)
{
    if (!w->err && gh_buf_append(w->b, s, n) < 0)
        w->err = 1;
}

static void puts_w(struct writer *w, const char *s)
{
    put(w, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void printf_w(struct writer *w, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    /* Only short numeric fields go through here. */
    if (n < 0 || (size_t)n >= sizeof(tmp))
        w->err = 1;
    else
        put(w, tmp, (size_t)n);
}

/* How text is made safe for its destination. */
enum clean_mode {
    CLEAN_HTML, /* & < > " ' as references, controls as U+FFFD */
    CLEAN_LINE, /* controls (CR, LF, ...) as U+FFFD: one M3U line */
    CLEAN_JSON, /* only invalid UTF-8 replaced; jansson escapes the rest */
};

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

static void put_clean(struct writer *w, const char *s, enum clean_mode mode)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);

    while (left > 0) {
        int r = gh_utf8_check(p, left);
        const char *ref = NULL;

        if (r <= 0) { /* invalid, or cut off by the end of the string */
            puts_w(w, replacement);
            p++;
            left--;
            continue;
        }
        if (r == 1 && mode != CLEAN_JSON && (*p < 0x20 || *p == 0x7F))
            ref = replacement;
        else if (r == 1 && mode == CLEAN_HTML) {
            switch (*p) {
            case '&':
                ref = "&amp;";
                break;
            case '<':
                ref = "&lt;";
                break;
            case '>':
                ref = "&gt;";
                break;
            case '"':
                ref = "&quot;";
                break;
            case '\'':
                ref = "&#39;";
                break;
            default:
                break;
            }
        }
        if (ref != NULL)
            puts_w(w, ref);
        else
            put(w, (const char *)p, (size_t)r);
        p += r;
        left -= (size_t)r;
    }
}

/* Appends the n first bytes of s percent-encoded; '/' is kept unless
 * segment is set (a file name is one segment whatever it holds). */
static void put_escaped_n(struct writer *w, const char *s, size_t n, int segment)
{
    size_t (*esc)(const char *, char *, size_t) =
        segment ? gh_url_escape_segment : gh_url_escape_path;
    struct gh_buf tmp = {0};
    size_t need;

    if (w->err)
        return;
    if (gh_buf_append(&tmp, s, n) < 0) {
        w->err = 1;
        return;
    }
    need = esc(tmp.data, NULL, 0);
    if (gh_buf_reserve(w->b, need) < 0) {
        w->err = 1;
    } else {
        esc(tmp.data, w->b->data + w->b->len, need + 1);
        w->b->len += need;
    }
    gh_buf_free(&tmp);
}

/* Appends the link to a directory path (decoded): encoded, ending in '/'. */
static void put_dir_url(struct writer *w, const char *dir, size_t n)
{
    if (n == 0 || dir[0] != '/')
        puts_w(w, "/");
    put_escaped_n(w, dir, n, 0);
    if (n > 0 && dir[n - 1] != '/')
        puts_w(w, "/");
}

static void put_entry_url(struct writer *w, const char *base, const struct gh_dirent *e)
{
    put_dir_url(w, base, strlen(base));
    put_escaped_n(w, e->name, strlen(e->name), 1);
    if (e->is_dir)
        puts_w(w, "/");
}

static int skip_entry(const struct gh_dirent *e)
{
    return e->name == NULL || e->name[0] == '\0' || strcmp(e->name, ".") == 0 ||
           strcmp(e->name, "..") == 0;
}

static const char *entry_mime(const struct gh_dirent *e)
{
    return e->mime != NULL ? e->mime : gh_mime_type(e->name);
}

/* 1 audio, 2 video, 0 not playable inline. */
static int entry_media(const struct gh_dirent *e)
{
    return e->is_dir ? 0 : gh_mime_is_media(entry_mime(e));
}

/* An HLS segment or fMP4 init section, as ffmpeg's hls muxer names them. */
static int hls_segment_name(const char *name)
{
    size_t n = strlen(name);

    return (n > 3 && strcmp(name + n - 3, ".ts") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".m4s") == 0) || strcmp(name, "init.mp4") == 0;
}

/* Appends href with a query ("?view=player") to a file entry's link. */
static void put_entry_view(struct writer *w, const char *base, const struct gh_dirent *e,
                           const char *query)
{
    put_entry_url(w, base, e);
    puts_w(w, query);
}

static int finish(struct writer *w, size_t start_len)
{
    if (!w->err)
        return 0;
    gh_buf_truncate(w->b, start_len);
    return -1;
}

/* "512 B", "1.5 KiB", ... "16.0 EiB". */
static void put_size(struct writer *w, uint64_t n)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)n;
    size_t u = 0;

    if (n < 1024) {
        printf_w(w, "%" PRIu64 " B", n);
        return;
    }
    v /= 1024;
    /* 1023.95 and up would print as "1024.0": move to the next unit. */
    while (v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    printf_w(w, "%.1f %s", v, units[u]);
}

static void put_time(struct writer *w, int64_t mtime)
{
    struct tm tm;
    time_t t = (time_t)mtime;

    if ((int64_t)t != mtime || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
        tm.tm_year + 1900 < 0) {
        puts_w(w, "-");
        return;
    }
    printf_w(w, "<time datetime=\"%04d-%02d-%02dT%02d:%02d:%02dZ\">%04d-%02d-%02d %02d:%02d</time>",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static const char html_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<style>\n"
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;"
    "color:#222;background:#fff}\n"
    "h1{font-size:1.4rem;word-break:break-all}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e4e4e4}\n"
    "th{font-weight:600;border-bottom:2px solid #ccc}\n"
    "td.name{word-break:break-all}\n"
    ".size{text-align:right;white-space:nowrap}\n"
    "td.time{white-space:nowrap;color:#555}\n"
    "a{color:#0645ad;text-decoration:none}\n"
    "a:hover{text-decoration:underline}\n"
    "tr.dir a{font-weight:600}\n"
    "tr.player td{padding-top:0}\n"
    ".actions a{margin-left:.8rem;font-size:.9rem}\n"
    "tr.segments td{color:#555;font-style:italic}\n"
    "video{display:block;max-width:100%;max-height:70vh;background:#000}\n"
    "audio{display:block;width:100%}\n"
    "</style>\n";

int gh_index_html(struct gh_buf *out, const char *title, const char *base_href,
                  const struct gh_dirent *ents, size_t n)
{
    struct writer w = {out, 0};
    size_t start_len = out->len, base_len, shown = 0, segments = 0;
    int have_player = 0, have_playlist = 0;

    base_href = base_href ? base_href : "/";
    title = title ? title : base_href;
    base_len = strlen(base_href);

    puts_w(&w, html_head);
    puts_w(&w, "<title>");
    put_clean(&w, title, CLEAN_HTML);
    puts_w(&w, "</title>\n</head>\n<body>\n<h1>");
    put_clean(&w, title, CLEAN_HTML);
    puts_w(&w, "</h1>\n<table>\n<thead><tr><th>Name</th><th class=\"size\">Size</th>"
               "<th>Modified (UTC)</th></tr></thead>\n<tbody>\n");

    /* Parent: base_href less its last segment. */
    {
        size_t p = base_len;
        while (p > 0 && base_href[p - 1] == '/')
            p--;
        if (p > 0) {
            while (p > 0 && base_href[p - 1] != '/')
                p--;
            puts_w(&w, "<tr class=\"dir parent\"><td class=\"name\"><a rel=\"up\" href=\"");
            put_dir_url(&w, base_href, p);
            puts_w(&w, "\">../</a></td><td class=\"size\">-</td><td class=\"time\"></td></tr>\n");
        }
    }

    /* A folder holding an HLS playlist is one item: its playlist, with a
     * player page; the segments stay out of the page (JSON and M3U keep
     * them, for tools). */
    for (size_t i = 0; i < n; i++)
        if (!skip_entry(&ents[i]) && !ents[i].is_dir &&
            gh_player_kind_of(entry_mime(&ents[i])) == GH_PLAYER_HLS_VIDEO)
            have_playlist = 1;

    for (size_t i = 0; i < n; i++) {
        const struct gh_dirent *e = &ents[i];
        int media, kind;

        if (skip_entry(e))
            continue;
        shown++;
        kind = e->is_dir ? -1 : gh_player_kind_of(entry_mime(e));
        if (have_playlist && !e->is_dir && hls_segment_name(e->name) &&
            kind != GH_PLAYER_HLS_VIDEO) {
            segments++;
            continue;
        }
        media = kind == GH_PLAYER_AUDIO ? 1 : kind == GH_PLAYER_VIDEO ? 2 : 0;
        puts_w(&w, e->is_dir                     ? "<tr class=\"dir\">"
                   : kind == GH_PLAYER_HLS_VIDEO ? "<tr class=\"file hls\">"
                                                 : "<tr class=\"file\">");
        puts_w(&w, "<td class=\"name\"><a href=\"");
        if (kind == GH_PLAYER_HLS_VIDEO)
            put_entry_view(&w, base_href, e, "?view=player");
        else
            put_entry_url(&w, base_href, e);
        puts_w(&w, "\">");
        put_clean(&w, e->name, CLEAN_HTML);
        puts_w(&w, e->is_dir ? "/</a>" : "</a>");
        if (kind == GH_PLAYER_HLS_VIDEO || kind == GH_PLAYER_EXTERNAL) {
            puts_w(&w, "<span class=\"actions\">");
            if (kind == GH_PLAYER_HLS_VIDEO) {
                puts_w(&w, "<a class=\"play\" href=\"");
                put_entry_view(&w, base_href, e, "?view=player");
                puts_w(&w, "\">Play</a><a class=\"m3u\" href=\"");
                put_entry_url(&w, base_href, e);
                puts_w(&w, "\">Open in VLC/mpv</a>");
            } else {
                puts_w(&w, "<a class=\"m3u\" href=\"");
                put_entry_view(&w, base_href, e, "?view=m3u");
                puts_w(&w, "\">Open in VLC/mpv</a><a class=\"download\" download href=\"");
                put_entry_url(&w, base_href, e);
                puts_w(&w, "\">Download</a>");
            }
            puts_w(&w, "</span>");
        }
        puts_w(&w, e->is_dir ? "</td><td class=\"size\">-" : "</td><td class=\"size\">");
        if (!e->is_dir)
            put_size(&w, e->size);
        puts_w(&w, "</td><td class=\"time\">");
        put_time(&w, e->mtime);
        puts_w(&w, "</td></tr>\n");
        if (media == 0)
            continue;
        puts_w(&w, "<tr class=\"player\"><td colspan=\"3\"><");
        puts_w(&w, media == 2 ? "video" : "audio");
        if (!have_player)
            puts_w(&w, " id=\"player\"");
        have_player = 1;
        puts_w(&w, " controls preload=\"metadata\" src=\"");
        put_entry_url(&w, base_href, e);
        puts_w(&w, "\"></");
        puts_w(&w, media == 2 ? "video" : "audio");
        puts_w(&w, "></td></tr>\n");
    }
    if (segments > 0) {
        /* printf_w takes short fields only */
        printf_w(&w, "<tr class=\"segments\"><td colspan=\"3\">%zu HLS segment file%s", segments,
                 segments == 1 ? "" : "s");
        puts_w(&w, ", played through the playlist (listed in ?format=json and ?format=m3u)"
                   "</td></tr>\n");
    }
    if (shown == 0)
        puts_w(&w, "<tr><td colspan=\"3\">This directory is empty.</td></tr>\n");
    puts_w(&w, "</tbody>\n</table>\n</body>\n</html>\n");
    return finish(&w, start_len);
}

/* A JSON string of s made valid UTF-8; NULL when out of memory. */
static json_t *json_clean(const char *s)
{
    struct gh_buf tmp = {0};
    struct writer w = {&tmp, 0};
    json_t *j;

    put_clean(&w, s, CLEAN_JSON);
    if (w.err) {
        gh_buf_free(&tmp);
        return NULL;
    }
    j = tmp.len ? json_stringn(tmp.data, tmp.len) : json_string("");
    gh_buf_free(&tmp);
    return j;
}

static json_t *json_href(const char *base, const struct gh_dirent *e)
{
    struct gh_buf tmp = {0};
    struct writer w = {&tmp, 0};
    json_t *j = NULL;

    put_entry_url(&w, base, e);
    if (!w.err)
        j = json_stringn(tmp.data, tmp.len);
    gh_buf_free(&tmp);
    return j;
}

static json_t *json_entry(const char *base, const struct gh_dirent *e)
{
    json_t *o = json_object();
    json_int_t size = e->size > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)e->size;

    if (o == NULL)
        return NULL;
    /* json_object_set_new takes ownership even when it fails, and fails
     * for a NULL value, so one check per member covers every allocation. */
    if (json_object_set_new(o, "name", json_clean(e->name)) < 0 ||
        json_object_set_new(o, "type", json_string(e->is_dir ? "directory" : "file")) < 0 ||
        json_object_set_new(o, "size", json_integer(size)) < 0 ||
        json_object_set_new(o, "mtime", json_integer((json_int_t)e->mtime)) < 0 ||
        json_object_set_new(o, "mime", e->is_dir ? json_null() : json_clean(entry_mime(e))) < 0 ||
        json_object_set_new(o, "href", json_href(base, e)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int dump_to_writer(const char *s, size_t n, void *data)
{
    struct writer *w = data;

    put(w, s, n);
    return w->err ? -1 : 0;
}

int gh_index_json(struct gh_buf *out, const char *base_href, const struct gh_dirent *ents, size_t n)
{
    struct writer w = {out, 0};
    size_t start_len = out->len;
    json_t *root, *list;
    int ok;

    base_href = base_href ? base_href : "/";
    root = json_object();
    list = json_array();
    ok = root != NULL && list != NULL &&
         json_object_set_new(root, "path", json_clean(base_href)) == 0;

    for (size_t i = 0; ok && i < n; i++) {
        if (!skip_entry(&ents[i]))
            ok = json_array_append_new(list, json_entry(base_href, &ents[i])) == 0;
    }
    if (ok) {
        ok = json_object_set_new(root, "entries", list) == 0;
        list = NULL; /* owned by root now, whatever the outcome */
    }
    if (ok && json_dump_callback(root, dump_to_writer, &w, JSON_COMPACT) < 0)
        w.err = 1;
    if (!ok)
        w.err = 1;
    json_decref(list);
    json_decref(root);
    return finish(&w, start_len);
}

/* URL authority characters (RFC 3986: unreserved, sub-delims, ':', '@',
 * '[', ']') plus the '/' of "://". */
static int authority_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._~!$&'()*+,;=:@[]/", c) != NULL);
}

static void put_origin(struct writer *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (authority_char(c))
            put(w, (const char *)&s[i], 1);
        else
            printf_w(w, "%%%02X", c);
    }
}

int gh_index_m3u(struct gh_buf *out, const char *abs_base_url, const struct gh_dirent *ents,
                 size_t n)
{
    struct writer w = {out, 0};
    size_t start_len = out->len, origin_len = 0;
    const char *scheme_end, *path;

    abs_base_url = abs_base_url ? abs_base_url : "/";
    scheme_end = strstr(abs_base_url, "://");
    path = abs_base_url;

    if (scheme_end != NULL) {
        const char *slash = strchr(scheme_end + 3, '/');
        origin_len = slash ? (size_t)(slash - abs_base_url) : strlen(abs_base_url);
        path = abs_base_url + origin_len;
    }
    puts_w(&w, "#EXTM3U\n");
    for (size_t i = 0; i < n; i++) {
        const struct gh_dirent *e = &ents[i];

        if (skip_entry(e) || entry_media(e) == 0)
            continue;
        puts_w(&w, "#EXTINF:-1,");
        put_clean(&w, e->name, CLEAN_LINE);
        puts_w(&w, "\n");
        put_origin(&w, abs_base_url, origin_len);
        put_entry_url(&w, path, e);
        puts_w(&w, "\n");
    }
    return finish(&w, start_len);
}
