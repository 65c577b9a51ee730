/* Request framing checks: the headers that decide where a request's body
 * ends (Content-Length, Transfer-Encoding) must say it in exactly one way.
 * libmicrohttpd 0.9.75 (Debian 12) takes the first of two Content-Lengths,
 * processes Content-Length with chunked, keeps "Content-Length : 42" as a
 * header of another name and waits for an unknown coding's body; a front
 * proxy may read any of these differently (request smuggling). guised
 * refuses them all before the body is read. Pure function, fuzzed. */
#ifndef GUISE_HTTP_FRAMING_H
#define GUISE_HTTP_FRAMING_H

#include <stddef.h>

struct gh_header_view {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

enum gh_framing {
    GH_FRAMING_OK = 0,
    GH_FRAMING_BAD_NAME,          /* a field name that is not a token (space before ':') */
    GH_FRAMING_DUPLICATE_LENGTH,  /* Content-Length more than once */
    GH_FRAMING_BAD_LENGTH,        /* Content-Length that is not 1*DIGIT */
    GH_FRAMING_LENGTH_AND_CODING, /* Content-Length together with Transfer-Encoding */
    GH_FRAMING_BAD_CODING,        /* Transfer-Encoding other than exactly one "chunked" */
    GH_FRAMING_TOO_LARGE,         /* request line and fields above the limit */
};

/* Checks n header fields as received; line_len is the request line's length
 * (without CRLF), limit the most bytes the request line and the fields
 * (each "name: value\r\n") may take. Returns the first problem found. */
enum gh_framing gh_framing_check(const struct gh_header_view *h, size_t n, size_t line_len,
                                 size_t limit);
/* A short English reason for a result, for the 400 page and the event. */
const char *gh_framing_reason(enum gh_framing f);

#endif
