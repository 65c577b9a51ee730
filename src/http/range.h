/* guise HTTP helpers: the Range request header (RFC 9110 section 14).
 *
 * guise serves one byte range per response (206 with Content-Range) and
 * never multipart/byteranges; the server may ignore a Range header
 * (RFC 9110 section 14.2), so anything it cannot serve as a single range is
 * answered with the full representation.
 */
#ifndef GUISE_HTTP_RANGE_H
#define GUISE_HTTP_RANGE_H

#include <stdint.h>

enum gh_range_result {
    GH_RANGE_NONE,          /* no Range header (NULL or blank): 200, full */
    GH_RANGE_OK,            /* one satisfiable range in *start, *len: 206 */
    GH_RANGE_UNSATISFIABLE, /* 416 with "Content-Range: bytes * /size" */
    GH_RANGE_IGNORE,        /* invalid, other unit, or several ranges: 200 */
};

/* Parses the value of a Range header for a representation of size bytes.
 * Accepts exactly one range-spec of unit "bytes" (case-insensitive):
 * "bytes=a-b" (b clamped to size-1), "bytes=a-", "bytes=-n" (the last n
 * bytes, the whole file when n >= size). Empty list elements and OWS around
 * commas are allowed ("bytes=, 0-1"). Numbers of any length are accepted
 * without overflow (they saturate at UINT64_MAX, which is beyond any file).
 *  - a-b with b < a, non-digits, a missing '=', ... : GH_RANGE_IGNORE
 *    (RFC 9110 14.2: an invalid Range is ignored);
 *  - more than one range-spec: GH_RANGE_IGNORE (no multipart);
 *  - a >= size, or a suffix of 0: GH_RANGE_UNSATISFIABLE (14.1.1: an
 *    int-range is satisfiable iff first-pos < length, a suffix-range iff
 *    its length is non-zero).
 * Size 0: every int-range is unsatisfiable (416), as is "-0"; a non-zero
 * suffix is satisfiable by the rule above but selects zero bytes, which a
 * 206 Content-Range ("bytes first-last/len") cannot express, so it gives
 * GH_RANGE_IGNORE: a 200 with the (empty) full representation.
 * *start and *len are set on GH_RANGE_OK (len >= 1 and start + len <= size)
 * and set to 0 otherwise. */
enum gh_range_result gh_range_parse(const char *header, uint64_t size, uint64_t *start,
                                    uint64_t *len);

#endif
