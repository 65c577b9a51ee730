/* libFuzzer target: Range header parsing. The first 8 bytes give the
 * representation size, the rest is the header value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t rep = 0, start = 1, len = 1;
    enum gh_range_result r;
    char *hdr;

    if (size < 8 || size > 4096)
        return 0;
    memcpy(&rep, data, 8);
    /* Half the time use a small size so that offsets in the text hit it. */
    if (rep & 1)
        rep = (rep >> 1) % 1000;
    hdr = malloc(size - 8 + 1);
    if (hdr == NULL)
        return 0;
    memcpy(hdr, data + 8, size - 8);
    hdr[size - 8] = '\0';

    r = gh_range_parse(hdr, rep, &start, &len);
    switch (r) {
    case GH_RANGE_OK:
        CHECK(len >= 1 && start < rep && len <= rep - start); /* start + len <= size */
        break;
    case GH_RANGE_NONE:
    case GH_RANGE_UNSATISFIABLE:
    case GH_RANGE_IGNORE:
        CHECK(start == 0 && len == 0);
        break;
    default:
        abort();
    }
    if (rep == 0)
        CHECK(r != GH_RANGE_OK);
    free(hdr);
    return 0;
}
