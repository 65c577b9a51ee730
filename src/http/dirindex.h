/* guise HTTP helpers: directory listings as HTML, JSON and M3U.
 *
 * Names come from the file system and are untrusted: they are escaped for
 * every context (HTML text and attributes, URL paths, JSON strings, M3U
 * lines), and bytes that are not valid UTF-8, as well as control
 * characters, are shown as U+FFFD. A name is one URL segment: a '/' in it
 * (impossible from readdir) is encoded as %2F. Entries named "", "." or
 * ".." are skipped (the parent link is generated here).
 *
 * base_href and the path part of abs_base_url are the *decoded* directory
 * path, e.g. the output of gh_path_normalize ("/lectures/week 1/"); this
 * module percent-encodes them (gh_url_escape_path). A missing final '/' is
 * supplied; NULL means "/" (and a NULL title means base_href).
 *
 * All three append to out (start with struct gh_buf out = {0}) and return
 * 0, or -1 when memory ran out (out is then cut back to its old length).
 */
#ifndef GUISE_HTTP_DIRINDEX_H
#define GUISE_HTTP_DIRINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "http/buf.h"

struct gh_dirent {
    const char *name; /* file name (one segment) */
    int is_dir;
    uint64_t size;
    int64_t mtime;    /* seconds since the epoch */
    const char *mime; /* Content-Type; NULL: gh_mime_type(name) is used */
};

/* An HTML5 page in the order given: title (escaped) as <title> and <h1>; a
 * parent-directory link unless base_href is "/"; per entry a row with the
 * link (absolute, percent-encoded; directories end in '/'), the size in
 * binary units ("-" for directories) and the UTC modification time. How an
 * entry plays is gh_player_kind_of(its type) (http/player.h):
 *  - an HLS playlist (.m3u8) links to its player page, "NAME?view=player"
 *    (row class "file hls", with Play and Open in VLC/mpv links); when the
 *    folder holds one, its segments (*.ts, *.m4s, init.mp4) are not listed
 *    but counted in one "N HLS segment files" row (JSON and M3U list them);
 *  - a format browsers do not play (MPEG-TS, Matroska, ...) gets "Open in
 *    VLC/mpv" ("NAME?view=m3u") and a download link, no player;
 *  - other audio/video is followed by a row with a <video> or <audio>
 *    element (controls, preload="metadata", src = its link); the first one
 *    has id="player".
 * No script; one inline <style> element. */
int gh_index_html(struct gh_buf *out, const char *title, const char *base_href,
                  const struct gh_dirent *ents, size_t n);

/* {"path":"<base_href>","entries":[{"name":..,"type":"file"|"directory",
 *  "size":<int>,"mtime":<int>,"mime":"<type>"|null (directories),
 *  "href":"<absolute percent-encoded path>"}, ...]} (compact, via jansson).
 * Sizes above INT64_MAX are given as INT64_MAX. */
int gh_index_json(struct gh_buf *out, const char *base_href, const struct gh_dirent *ents,
                  size_t n);

/* Extended M3U of the playable files only (directories and playlists are
 * left out): "#EXTM3U\n" then per file "#EXTINF:-1,<name>\n<url>\n". url is
 * abs_base_url ("http://host:port/point/dir/", the origin as the client
 * sent it in Host, then the decoded path) with the path and name
 * percent-encoded. Bytes of the origin that cannot appear in a URL
 * authority are percent-encoded too, so no header value can break a line. */
int gh_index_m3u(struct gh_buf *out, const char *abs_base_url, const struct gh_dirent *ents,
                 size_t n);

#endif
