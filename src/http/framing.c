/* Request framing checks (http/framing.h). */
#include "http/framing.h"

#include <stdbool.h>
#include <strings.h>

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

static bool name_is(const struct gh_header_view *h, const char *name, size_t len)
{
    return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

enum gh_framing gh_framing_check(const struct gh_header_view *h, size_t n, size_t line_len,
                                 size_t limit)
{
    size_t total = line_len + 2;
    size_t lengths = 0, codings = 0;
    for (size_t i = 0; i < n; i++) {
        total += h[i].name_len + 2 + h[i].value_len + 2;
        if (h[i].name_len == 0)
            return GH_FRAMING_BAD_NAME;
        for (size_t j = 0; j < h[i].name_len; j++)
            if (!is_tchar((unsigned char)h[i].name[j]))
                return GH_FRAMING_BAD_NAME;
        if (name_is(&h[i], "Content-Length", 14)) {
            if (++lengths > 1)
                return GH_FRAMING_DUPLICATE_LENGTH;
            if (h[i].value_len == 0 || h[i].value_len > 19)
                return GH_FRAMING_BAD_LENGTH;
            for (size_t j = 0; j < h[i].value_len; j++)
                if (h[i].value[j] < '0' || h[i].value[j] > '9')
                    return GH_FRAMING_BAD_LENGTH;
        } else if (name_is(&h[i], "Transfer-Encoding", 17)) {
            /* Exactly "chunked": no list, no other coding, nothing around. */
            if (++codings > 1 || h[i].value_len != 7 || strncasecmp(h[i].value, "chunked", 7) != 0)
                return GH_FRAMING_BAD_CODING;
        }
    }
    if (lengths && codings)
        return GH_FRAMING_LENGTH_AND_CODING;
    if (total > limit)
        return GH_FRAMING_TOO_LARGE;
    return GH_FRAMING_OK;
}

const char *gh_framing_reason(enum gh_framing f)
{
    switch (f) {
    case GH_FRAMING_OK:
        return "ok";
    case GH_FRAMING_BAD_NAME:
        return "a header field name is not a token (whitespace before the colon?)";
    case GH_FRAMING_DUPLICATE_LENGTH:
        return "Content-Length appears more than once";
    case GH_FRAMING_BAD_LENGTH:
        return "Content-Length is not a decimal number";
    case GH_FRAMING_LENGTH_AND_CODING:
        return "Content-Length together with Transfer-Encoding";
    case GH_FRAMING_BAD_CODING:
        return "Transfer-Encoding other than a single chunked";
    case GH_FRAMING_TOO_LARGE:
        return "the request header is larger than max-header-size";
    }
    return "bad framing";
}
