/* guise HTTP helpers: the player page, one media item in one HTML page.
 *
 * Used for an on-demand file or HLS playlist (the directory index links to
 * "NAME?view=player") and for a live point's playlist (the broadcast code
 * calls it with "/POINT/index.m3u8" and a status line such as "live since
 * ..."). The page has no inline script: GH_PLAYER_HLS loads
 * ASSETS/hls.min.js (when the server has it) and ASSETS/player.js, which
 * plays the source natively where video.canPlayType says the browser has
 * HLS, with hls.js otherwise, and shows a clear message when neither works.
 *
 * Every string is escaped for HTML. URLs (src, m3u_href, download_href) are
 * given already percent-encoded and must be absolute paths ("/...") or
 * http(s) URLs: anything else (a "javascript:" URL, say) is refused.
 */
#ifndef GUISE_HTTP_PLAYER_H
#define GUISE_HTTP_PLAYER_H

#include "http/buf.h"

/* The public prefix the assets are served under (src/server/assets.c). */
#define GH_ASSETS_PREFIX "/.guise/"

enum gh_player_kind {
    GH_PLAYER_HLS_VIDEO, /* an HLS playlist (.m3u8) in <video> */
    GH_PLAYER_AUDIO,     /* a progressive audio file or stream in <audio> */
    GH_PLAYER_VIDEO,     /* a progressive video file the browser plays */
    GH_PLAYER_EXTERNAL,  /* no browser player: links only (MPEG-TS, Matroska) */
};

struct gh_player {
    const char *title; /* <title> and <h1>; NULL: src */
    const char *src;   /* the media URL (required) */
    enum gh_player_kind kind;
    const char *m3u_href;      /* "open in VLC/mpv" link; NULL: none */
    const char *download_href; /* download link; NULL: none */
    const char *status;        /* a state line under the title; NULL: none */
    const char *back_href;     /* link to the folder; NULL: none */
    int have_hlsjs;            /* the server has hls.min.js to offer */
    /* Appended as "?v=..." to the script URLs, so that browsers holding the
     * immutable copy of an older install fetch the new one; NULL: none. */
    const char *asset_version;
};

/* How a file of Content-Type type is played: GH_PLAYER_HLS_VIDEO for an HLS
 * playlist (application/vnd.apple.mpegurl, application/x-mpegurl),
 * GH_PLAYER_EXTERNAL for media browsers do not play (MPEG-TS, Matroska,
 * AVI, WMV, FLV, MPEG-PS, WMA, AIFF), GH_PLAYER_AUDIO/VIDEO for other
 * audio/video types (gh_mime_is_media), -1 for anything else. */
int gh_player_kind_of(const char *type);

/* Appends the page to out; 0, or -1 when memory ran out or a URL is not an
 * absolute path or http(s) URL (out is then cut back to its old length). */
int gh_player_html(struct gh_buf *out, const struct gh_player *p);

/* Appends an extended M3U of one entry: "#EXTM3U\n#EXTINF:-1,TITLE\nURL\n"
 * (title with controls replaced by U+FFFD; url must be an http(s) URL with
 * no control characters or spaces). 0, or -1 (out unchanged). */
int gh_player_m3u(struct gh_buf *out, const char *title, const char *url);

#endif
