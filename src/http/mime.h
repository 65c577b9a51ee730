/* guise HTTP helpers: Content-Type by file name extension.
 *
 * The table comes from /etc/mime.types (Debian package media-types, lines
 * of "type ext1 ext2 ...", '#' starts a comment) plus guise's own media
 * overrides, which always win: they are what browsers need to play the
 * files inline (e.g. mime.types maps "ts" to a Qt linguist type).
 *
 * Threading: gh_mime_load, gh_mime_load_buffer and gh_mime_free replace the table and must not
 * run while another thread calls gh_mime_type; call them at start-up and
 * shut-down. After that, any number of threads may read concurrently.
 */
#ifndef GUISE_HTTP_MIME_H
#define GUISE_HTTP_MIME_H

#include <stddef.h>

#define GH_MIME_DEFAULT "application/octet-stream"

/* Replaces the table with the entries of the file at mime_types_path plus
 * the overrides. A missing file (ENOENT) is not an error: the table then
 * holds the overrides only. Returns the number of extensions taken from the
 * file (0 when missing), or -1 with errno set when the file could not be
 * read (the overrides-only table is installed) or memory ran out (the
 * previous table is kept). */
int gh_mime_load(const char *mime_types_path);

/* As gh_mime_load, from the len bytes at buf (need not be NUL-terminated;
 * may hold anything: malformed lines and tokens are skipped). Types must be
 * token "/" token (RFC 9110 5.6.2); extensions are printable ASCII without
 * '/', at most GH_MIME_EXT_MAX bytes, compared case-insensitively. When an
 * extension is listed twice, the first line wins. Returns the number of
 * extensions taken from buf, or -1 (errno ENOMEM; previous table kept). */
#define GH_MIME_EXT_MAX 32
int gh_mime_load_buffer(const char *buf, size_t len);

/* Frees the table; gh_mime_type then answers from the overrides alone. */
void gh_mime_free(void);

/* Content-Type for a file name, from the extension after its last '.'
 * (case-insensitive; a leading dot as in ".profile" is not an extension).
 * Works before any gh_mime_load (overrides only). Never NULL: unknown is
 * GH_MIME_DEFAULT. The string stays valid until the table is replaced. */
const char *gh_mime_type(const char *filename);

/* 1 for audio/..., 2 for video/..., 0 otherwise (also for NULL). Playlist
 * types that merely sit under audio/ or video/ (audio/x-mpegurl, m3u,
 * pls, wax, wvx, mxu) give 0: they are lists, not something a <video> or
 * <audio> element plays, and must not get inline players or M3U entries. */
int gh_mime_is_media(const char *type);

/* 1 when a browser runs content of this type as a document that can script
 * the origin it came from (HTML, XHTML, SVG, XML with XSLT), 0 otherwise
 * (also for NULL): what a point's active-content key governs. */
int gh_mime_is_active(const char *type);

#endif
