/* libFuzzer target: request framing checks. The input is header lines
 * ("name:value", split at the first colon, one per line); the verdict
 * must agree with a second, independent reading of the same fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_header_view h[64];
    size_t n = 0, lengths = 0, codings = 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end && n < 64) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon) {
            h[n] = (struct gh_header_view){p, (size_t)(colon - p), colon + 1,
                                           (size_t)(le - colon - 1)};
            lengths += h[n].name_len == 14 && !strncasecmp(p, "Content-Length", 14);
            codings += h[n].name_len == 17 && !strncasecmp(p, "Transfer-Encoding", 17);
            n++;
        }
        p = nl ? nl + 1 : end;
    }
    enum gh_framing v = gh_framing_check(h, n, 20, size + 64 + 4 * n);
    CHECK(gh_framing_reason(v) != NULL);
    if (lengths > 1 || (lengths && codings) || codings > 1)
        CHECK(v != GH_FRAMING_OK);
    if (v == GH_FRAMING_OK)
        for (size_t i = 0; i < n; i++)
            CHECK(h[i].name_len > 0 && !memchr(h[i].name, ' ', h[i].name_len));
    /* A limit below the head's size always refuses. */
    if (v == GH_FRAMING_OK)
        CHECK(gh_framing_check(h, n, 20, 21) == GH_FRAMING_TOO_LARGE);
    return 0;
}
