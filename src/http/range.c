/* guise HTTP helpers: the Range request header (see range.h). */
#include "http/range.h"

#include <stddef.h>
#include <strings.h>

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads 1*DIGIT at *p, saturating at UINT64_MAX; 0 if there is no digit. */
static int read_pos(const char **p, uint64_t *v)
{
    const char *s = *p;

    if (!is_digit(*s))
        return 0;
    *v = 0;
    for (; is_digit(*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (*v > (UINT64_MAX - d) / 10)
            *v = UINT64_MAX;
        else
            *v = *v * 10 + d;
    }
    *p = s;
    return 1;
}

/* One range-spec between s and end (OWS already trimmed). */
static enum gh_range_result one_spec(const char *s, const char *end, uint64_t size, uint64_t *start,
                                     uint64_t *len)
{
    uint64_t first, last;

    if (*s == '-') { /* suffix-range: the last n bytes */
        s++;
        if (!read_pos(&s, &last) || s != end)
            return GH_RANGE_IGNORE;
        if (last == 0)
            return GH_RANGE_UNSATISFIABLE;
        if (size == 0)
            return GH_RANGE_IGNORE; /* see range.h: zero bytes, no 206 */
        if (last > size)
            last = size;
        *start = size - last;
        *len = last;
        return GH_RANGE_OK;
    }
    if (!read_pos(&s, &first) || *s != '-')
        return GH_RANGE_IGNORE;
    s++;
    if (s == end) {
        last = UINT64_MAX;
    } else {
        if (!read_pos(&s, &last) || s != end || last < first)
            return GH_RANGE_IGNORE;
    }
    if (first >= size)
        return GH_RANGE_UNSATISFIABLE;
    if (last > size - 1)
        last = size - 1;
    *start = first;
    *len = last - first + 1;
    return GH_RANGE_OK;
}

enum gh_range_result gh_range_parse(const char *header, uint64_t size, uint64_t *start,
                                    uint64_t *len)
{
    const char *p = header, *spec = NULL, *spec_end = NULL;
    enum gh_range_result r;

    *start = 0;
    *len = 0;
    if (p == NULL)
        return GH_RANGE_NONE;
    while (is_ows(*p))
        p++;
    if (*p == '\0')
        return GH_RANGE_NONE;
    if (strncasecmp(p, "bytes=", 6) != 0)
        return GH_RANGE_IGNORE;
    p += 6;

    /* range-set = 1#range-spec: find the single non-empty element. */
    for (;;) {
        const char *e;

        while (is_ows(*p))
            p++;
        e = p;
        while (*e != '\0' && *e != ',')
            e++;
        const char *t = e;
        while (t > p && is_ows(t[-1]))
            t--;
        if (t > p) {
            if (spec != NULL)
                return GH_RANGE_IGNORE; /* several ranges: no multipart */
            spec = p;
            spec_end = t;
        }
        if (*e == '\0')
            break;
        p = e + 1;
    }
    if (spec == NULL)
        return GH_RANGE_IGNORE;
    r = one_spec(spec, spec_end, size, start, len);
    if (r != GH_RANGE_OK) {
        *start = 0;
        *len = 0;
    }
    return r;
}
