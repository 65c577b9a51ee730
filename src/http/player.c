/* guise HTTP helpers: the player page (see player.h).
 *
 * The layout is static markup around escaped strings; what the page does
 * lives in player.js (served from GH_ASSETS_PREFIX), so a Content-Security-
 * Policy without 'unsafe-inline' scripts fits it.
 */
#include "http/player.h"
#include "http/mime.h"
#include "http/utf8.h"

#include <string.h>
#include <strings.h>

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

/* s as HTML text or attribute value: & < > " ' as references; controls and
 * bytes that are not UTF-8 as U+FFFD. line: controls only (an M3U line). */
static void put_clean(struct writer *w, const char *s, int line)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);

    while (left > 0) {
        int r = gh_utf8_check(p, left);
        const char *ref = NULL;

        if (r <= 0) {
            puts_w(w, "\xEF\xBF\xBD");
            p++;
            left--;
            continue;
        }
        if (r == 1 && (*p < 0x20 || *p == 0x7F))
            ref = "\xEF\xBF\xBD";
        else if (r == 1 && !line) {
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
        if (ref)
            puts_w(w, ref);
        else
            put(w, (const char *)p, (size_t)r);
        p += r;
        left -= (size_t)r;
    }
}

/* An absolute path ("/x", not "//host") or an http(s) URL. */
static int url_ok(const char *u)
{
    if (u == NULL)
        return 0;
    if (u[0] == '/')
        return u[1] != '/' && u[1] != '\\';
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<style>\n"
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;"
    "color:#222;background:#fff}\n"
    "h1{font-size:1.4rem;word-break:break-all}\n"
    "video{display:block;width:100%;max-height:75vh;background:#000}\n"
    "audio{display:block;width:100%}\n"
    "a{color:#0645ad}\n"
    ".links a{margin-right:1.2rem}\n"
    ".status{color:#555}\n"
    ".message{color:#a00;font-weight:600}\n"
    "</style>\n";

/* Compares the essence of type (before any ';', trailing OWS trimmed). */
static int essence_is(const char *type, const char *want)
{
    size_t n = strcspn(type, ";");

    while (n > 0 && (type[n - 1] == ' ' || type[n - 1] == '\t'))
        n--;
    return strlen(want) == n && strncasecmp(type, want, n) == 0;
}

int gh_player_kind_of(const char *type)
{
    static const char *const hls[] = {"application/vnd.apple.mpegurl", "application/x-mpegurl"};
    /* What Chromium and Firefox refuse in <video>/<audio> (Safari plays
     * MPEG-TS only through HLS): links instead of a dead element. */
    static const char *const external[] = {
        "video/mp2t",     "video/x-matroska", "video/x-msvideo", "video/x-ms-wmv",
        "video/x-ms-asf", "video/x-flv",      "video/mpeg",      "video/x-ms-wvx",
        "audio/x-ms-wma", "audio/x-aiff",     "audio/aiff",      "audio/x-matroska",
    };

    if (type == NULL)
        return -1;
    for (size_t i = 0; i < sizeof hls / sizeof hls[0]; i++)
        if (essence_is(type, hls[i]))
            return GH_PLAYER_HLS_VIDEO;
    switch (gh_mime_is_media(type)) {
    case 1:
    case 2:
        for (size_t i = 0; i < sizeof external / sizeof external[0]; i++)
            if (essence_is(type, external[i]))
                return GH_PLAYER_EXTERNAL;
        return gh_mime_is_media(type) == 1 ? GH_PLAYER_AUDIO : GH_PLAYER_VIDEO;
    default:
        return -1;
    }
}

int gh_player_html(struct gh_buf *out, const struct gh_player *p)
{
    struct writer w = {out, 0};
    size_t start_len = out->len;
    const char *title;

    if (p == NULL || !url_ok(p->src) || (p->m3u_href && !url_ok(p->m3u_href)) ||
        (p->download_href && !url_ok(p->download_href)) || (p->back_href && !url_ok(p->back_href)))
        return -1;
    title = p->title ? p->title : p->src;

    puts_w(&w, page_head);
    puts_w(&w, "<title>");
    put_clean(&w, title, 0);
    puts_w(&w, "</title>\n");
    if (p->kind == GH_PLAYER_HLS_VIDEO) {
        static const char *const scripts[] = {"hls.min.js", "player.js"};
        for (int i = p->have_hlsjs ? 0 : 1; i < 2; i++) {
            puts_w(&w, "<script src=\"" GH_ASSETS_PREFIX);
            puts_w(&w, scripts[i]);
            if (p->asset_version) {
                puts_w(&w, "?v=");
                put_clean(&w, p->asset_version, 0);
            }
            puts_w(&w, "\" defer></script>\n");
        }
    }
    puts_w(&w, "</head>\n<body>\n");
    if (p->back_href) {
        puts_w(&w, "<p><a rel=\"up\" href=\"");
        put_clean(&w, p->back_href, 0);
        puts_w(&w, "\">&larr; folder</a></p>\n");
    }
    puts_w(&w, "<h1>");
    put_clean(&w, title, 0);
    puts_w(&w, "</h1>\n");
    if (p->status) {
        puts_w(&w, "<p class=\"status\" id=\"status\">");
        put_clean(&w, p->status, 0);
        puts_w(&w, "</p>\n");
    }
    switch (p->kind) {
    case GH_PLAYER_HLS_VIDEO:
        /* No src: player.js picks native HLS or hls.js. */
        puts_w(&w, "<video id=\"player\" controls playsinline data-hls-src=\"");
        put_clean(&w, p->src, 0);
        puts_w(&w, p->have_hlsjs ? "\" data-hlsjs=\"yes\"" : "\" data-hlsjs=\"no\"");
        puts_w(&w, "></video>\n<p class=\"message\" id=\"player-message\" role=\"status\" "
                   "hidden></p>\n<noscript><p class=\"message\">This player needs JavaScript; "
                   "use the links below.</p></noscript>\n");
        break;
    case GH_PLAYER_AUDIO:
    case GH_PLAYER_VIDEO:
        puts_w(&w, p->kind == GH_PLAYER_AUDIO ? "<audio" : "<video");
        puts_w(&w, " id=\"player\" controls preload=\"metadata\" src=\"");
        put_clean(&w, p->src, 0);
        puts_w(&w, p->kind == GH_PLAYER_AUDIO ? "\"></audio>\n" : "\"></video>\n");
        break;
    case GH_PLAYER_EXTERNAL:
        puts_w(&w, "<p class=\"message\" id=\"player-message\">Browsers cannot play this "
                   "format: open it in VLC or mpv, or download it.</p>\n");
        break;
    }
    puts_w(&w, "<p class=\"links\">");
    if (p->m3u_href) {
        puts_w(&w, "<a class=\"m3u\" type=\"audio/x-mpegurl\" href=\"");
        put_clean(&w, p->m3u_href, 0);
        puts_w(&w, "\">Open in VLC/mpv</a>");
    }
    if (p->download_href) {
        puts_w(&w, "<a class=\"download\" download href=\"");
        put_clean(&w, p->download_href, 0);
        puts_w(&w, "\">Download</a>");
    }
    puts_w(&w, "</p>\n</body>\n</html>\n");
    if (!w.err)
        return 0;
    gh_buf_truncate(out, start_len);
    return -1;
}

int gh_player_m3u(struct gh_buf *out, const char *title, const char *url)
{
    struct writer w = {out, 0};
    size_t start_len = out->len;

    if (url == NULL || url[0] == '/' || !url_ok(url))
        return -1;
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c == 0x7F)
            return -1;
    puts_w(&w, "#EXTM3U\n#EXTINF:-1,");
    put_clean(&w, title ? title : url, 1);
    puts_w(&w, "\n");
    puts_w(&w, url);
    puts_w(&w, "\n");
    if (!w.err)
        return 0;
    gh_buf_truncate(out, start_len);
    return -1;
}
