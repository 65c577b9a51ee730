/* guise HTTP helpers: request path decoding and normalisation (see path.h).
 *
 * One pass over the raw path. Decoded bytes are written straight to out as
 * long as they fit (the needed length is still counted so that a valid but
 * too long path gives GH_PATH_TOO_LONG, not a silent cut). Per segment we
 * only need to know its length and whether it is all dots to refuse "." and
 * "..", and a few pending bytes to check UTF-8 across escapes.
 */
#include "http/path.h"
#include "http/utf8.h"

#include <string.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

struct norm_state {
    char *out;
    size_t outsz;
    size_t len;            /* bytes of output so far (may exceed outsz) */
    size_t seg_len;        /* decoded bytes in the current segment */
    int seg_dots;          /* the current segment is only '.' so far */
    unsigned char pend[4]; /* bytes of an unfinished UTF-8 sequence */
    size_t npend;
};

static void emit(struct norm_state *st, char c)
{
    if (st->len < st->outsz)
        st->out[st->len] = c;
    st->len++;
}

/* Adds one decoded byte of a segment; -1 if it may not appear in a path. */
static int add_byte(struct norm_state *st, unsigned char c)
{
    int r;

    if (c < 0x20 || c == 0x7F || c == '\\' || c == '/')
        return -1;
    if (c >= 0x80 || st->npend > 0) { /* ASCII needs no UTF-8 check */
        st->pend[st->npend++] = c;
        r = gh_utf8_check(st->pend, st->npend);
        if (r < 0)
            return -1;
        if (r > 0)
            st->npend = 0;
    }
    if (st->seg_len == 0)
        emit(st, '/');
    emit(st, (char)c);
    st->seg_len++;
    if (c != '.')
        st->seg_dots = 0;
    return 0;
}

/* Closes the current segment; -1 if it was "." or ".." or ended inside a
 * UTF-8 sequence. An empty segment (from "//" or a trailing '/') is fine. */
static int end_segment(struct norm_state *st)
{
    if (st->npend != 0)
        return -1;
    if (st->seg_len > 0 && st->seg_len <= 2 && st->seg_dots)
        return -1;
    st->seg_len = 0;
    st->seg_dots = 1;
    return 0;
}

int gh_path_normalize(const char *raw_url_path, char *out, size_t outsz)
{
    struct norm_state st = {.out = out, .outsz = outsz, .seg_dots = 1};
    const unsigned char *p = (const unsigned char *)raw_url_path;
    int trailing_slash = 0;

    if (p == NULL || *p != '/')
        return GH_PATH_INVALID;
    while (*p != '\0') {
        if (*p == '/') {
            if (end_segment(&st) < 0)
                return GH_PATH_INVALID;
            trailing_slash = 1;
            p++;
            continue;
        }
        trailing_slash = 0;
        if (*p == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (hi < 0 || lo < 0)
                return GH_PATH_INVALID;
            /* add_byte refuses a decoded '/' or '\\': an encoded separator
             * would otherwise mean one thing here and another to a proxy
             * or to the file system. */
            if (add_byte(&st, (unsigned char)(hi << 4 | lo)) < 0)
                return GH_PATH_INVALID;
            p += 3;
            continue;
        }
        if (add_byte(&st, *p) < 0)
            return GH_PATH_INVALID;
        p++;
    }
    if (end_segment(&st) < 0)
        return GH_PATH_INVALID;
    if (st.len == 0 || trailing_slash)
        emit(&st, '/');
    if (st.len >= outsz)
        return GH_PATH_TOO_LONG;
    out[st.len] = '\0';
    return GH_PATH_OK;
}

int gh_path_split_point(const char *norm, char *point, size_t pointsz, const char **rest)
{
    const char *start, *slash;
    size_t n;

    if (norm == NULL || norm[0] != '/' || norm[1] == '\0' || norm[1] == '/')
        return GH_PATH_INVALID;
    start = norm + 1;
    slash = strchr(start, '/');
    n = slash ? (size_t)(slash - start) : strlen(start);
    if (n + 1 > pointsz)
        return GH_PATH_TOO_LONG;
    memcpy(point, start, n);
    point[n] = '\0';
    if (rest != NULL)
        *rest = slash ? slash + 1 : start + n;
    return GH_PATH_OK;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static size_t escape(const char *in, char *out, size_t outsz, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t need = 0, w = 0;
    int full = outsz > 0;

    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        size_t unit = (is_unreserved(*p) || (keep_slash && *p == '/')) ? 1 : 3;

        /* Stop writing at the first unit that does not fit, so the output
         * is always a clean prefix without a cut escape. */
        if (full && w + unit < outsz) {
            if (unit == 1) {
                out[w] = (char)*p;
            } else {
                out[w] = '%';
                out[w + 1] = hex[*p >> 4];
                out[w + 2] = hex[*p & 0xF];
            }
            w += unit;
        } else {
            full = 0;
        }
        need += unit;
    }
    if (outsz > 0)
        out[w] = '\0';
    return need;
}

size_t gh_url_escape_path(const char *in, char *out, size_t outsz)
{
    return escape(in, out, outsz, 1);
}

size_t gh_url_escape_segment(const char *in, char *out, size_t outsz)
{
    return escape(in, out, outsz, 0);
}

int gh_path_encode(const char *path, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    if (path == NULL || path[0] != '/' || outsz == 0)
        return GH_PATH_INVALID;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        /* RFC 3986 unreserved, '/' and the sub-delims that are safe in a
         * path; everything else (also '%', '?', '#', ';') is escaped. */
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~/!$&'()*+,=:@", *p) != NULL;
        if (plain) {
            if (o + 1 >= outsz)
                return GH_PATH_TOO_LONG;
            out[o++] = (char)*p;
        } else {
            if (o + 3 >= outsz)
                return GH_PATH_TOO_LONG;
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return GH_PATH_OK;
}
