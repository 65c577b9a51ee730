/* guise HTTP helpers: request path decoding and normalisation.
 *
 * Security critical: the result is used to build file-system paths below a
 * publishing point, so anything that could name a file outside it, or that
 * means different things to different layers, is refused rather than
 * "repaired".
 */
#ifndef GUISE_HTTP_PATH_H
#define GUISE_HTTP_PATH_H

#include <stddef.h>

/* Return values of gh_path_normalize and gh_path_split_point. */
#define GH_PATH_OK       0
#define GH_PATH_INVALID  (-1) /* -> 400 Bad Request */
#define GH_PATH_TOO_LONG (-2) /* -> 414 URI Too Long */

/* Decodes the raw (still percent-encoded, query already removed) request
 * path raw_url_path and writes its normalised form to out (NUL-terminated):
 *   - it must start with '/';
 *   - runs of '/' collapse to one; one trailing '/' is kept when the request
 *     had one ("/a//b/" -> "/a/b/") so the server can tell a directory
 *     request; an all-slash path gives "/";
 *   - percent escapes are decoded exactly once ("%252e" stays "%2e").
 * Refused with GH_PATH_INVALID: NULL, no leading '/', a '%' not followed by
 * two hex digits, %00, %2F and %5C (encoded '/' and '\\': refused, never
 * decoded), any '\\', any byte < 0x20 or 0x7F (raw or decoded), a segment
 * that is "." or ".." after decoding (so also "%2e%2e", ".%2E", ...), and
 * decoded bytes that are not well-formed UTF-8 (overlong "%c0%ae" included).
 * Returns GH_PATH_TOO_LONG when the result plus its NUL does not fit in
 * outsz (an invalid path reports GH_PATH_INVALID even when also too long).
 * Invariants of a successful result: starts with '/', contains no "//", no
 * "." or ".." segment, no '\\', no control byte, valid UTF-8. */
int gh_path_normalize(const char *raw_url_path, char *out, size_t outsz);

/* Splits a normalised path into its publishing point (first segment) and
 * the rest: "/lectures/a/b.mp4" -> point "lectures", *rest "a/b.mp4";
 * "/lectures" and "/lectures/" -> *rest "" ("/lectures/a/" -> "a/").
 * *rest points into norm. Returns GH_PATH_OK, GH_PATH_INVALID when norm is
 * "/" (the root listing), empty or not absolute, GH_PATH_TOO_LONG when the
 * point name plus NUL does not fit in pointsz. */
int gh_path_split_point(const char *norm, char *point, size_t pointsz, const char **rest);

/* Percent-encodes in for use in an href or a playlist URL: keeps RFC 3986
 * unreserved characters (A-Z a-z 0-9 - . _ ~) and '/', writes every other
 * byte as %XX (upper-case hex). Writes at most outsz bytes including the
 * NUL (never a partial escape; out is always terminated when outsz > 0)
 * and returns the length the full result needs, without the NUL, like
 * snprintf: the output was complete iff the return value < outsz. */
size_t gh_url_escape_path(const char *in, char *out, size_t outsz);

/* As gh_url_escape_path for a single path segment such as a file name:
 * '/' is encoded too (%2F), so the result can never name another
 * directory (and gh_path_normalize refuses it if a client sends it back). */
size_t gh_url_escape_segment(const char *in, char *out, size_t outsz);

/* Percent-encodes a normalised path (from gh_path_normalize) for a
 * Location header: the result starts with exactly one '/', so it can never
 * be read as a network-path reference ("//host/..."). GH_PATH_OK,
 * GH_PATH_INVALID (not absolute) or GH_PATH_TOO_LONG. */
int gh_path_encode(const char *path, char *out, size_t outsz);

#endif
