/* guise HTTP helpers: validators and conditional requests (RFC 9110
 * sections 8.8 and 13).
 */
#ifndef GUISE_HTTP_CONDITIONAL_H
#define GUISE_HTTP_CONDITIONAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room for any ETag from gh_etag_make and any date from gh_http_date. */
#define GH_ETAG_MAX      64
#define GH_HTTP_DATE_MAX 32

/* A strong ETag, quotes included: "\"<ino>-<size>-<mtime>\"" in lower-case
 * hex, mtime being mtime_sec * 10^9 + mtime_nsec (mod 2^64), so that any
 * change of file, length or nanosecond timestamp changes the tag. Always
 * NUL-terminated when outsz > 0 (cut short if outsz < GH_ETAG_MAX). */
void gh_etag_make(char *out, size_t outsz, uint64_t ino, uint64_t size, int64_t mtime_sec,
                  long mtime_nsec);

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), locale-independent. out
 * gets "" when t cannot be shown as a year 0000..9999 or outsz is too small
 * (GH_HTTP_DATE_MAX is enough). */
void gh_http_date(char *out, size_t outsz, time_t t);

/* Parses an HTTP-date (RFC 9110 5.6.7): IMF-fixdate, and the obsolete
 * rfc850-date ("Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than
 * 50 years ahead is taken as the past century) and asctime-date ("Sun Nov
 * 6 08:49:37 1994"). Exact syntax; the day name must be a valid one but is
 * not checked against the date. 0 and *t on success, -1 otherwise. */
int gh_http_date_parse(const char *s, time_t *t);

enum gh_cond {
    GH_COND_PROCEED,             /* serve normally (200/206) */
    GH_COND_NOT_MODIFIED,        /* 304 */
    GH_COND_PRECONDITION_FAILED, /* 412 */
};

/* Evaluates the preconditions of a request on an existing representation
 * with strong validator etag (quoted, as from gh_etag_make; may be NULL if
 * unknown) and Last-Modified mtime, in the order of RFC 9110 13.2.2:
 *  1. If-Match present: false (no strong match; "*" always matches) -> 412;
 *  2. else If-Unmodified-Since valid and mtime > date -> 412;
 *  3. If-None-Match present: false (a weak match, or "*") -> 304 for GET
 *     and HEAD, 412 for other methods;
 *  4. else, for GET and HEAD, If-Modified-Since valid and mtime <= date
 *     -> 304;
 *  5. proceed (If-Range is for gh_if_range_ok).
 * Header arguments are the field values or NULL when absent; a blank value
 * counts as absent. A malformed entity-tag list matches nothing (so a bad
 * If-Match fails and a bad If-None-Match lets the request through); an
 * invalid date is ignored, as 13.1.3 and 13.1.4 require. */
enum gh_cond gh_conditional_eval(const char *method, const char *if_match,
                                 const char *if_none_match, const char *if_modified_since,
                                 const char *if_unmodified_since, const char *etag, time_t mtime);

/* If-Range (RFC 9110 13.1.5): 1 when a Range may be honoured: if_range is
 * NULL (no If-Range), or an entity-tag strongly equal to etag, or an
 * HTTP-date exactly equal to mtime; 0 otherwise (weak tags never match, an
 * empty or blank If-Range matches nothing), and the full representation is
 * sent. The caller should only rely
 * on the date form if Last-Modified is strong (the file was not modified
 * within a second of being sent). */
int gh_if_range_ok(const char *if_range, const char *etag, time_t mtime);

#endif
