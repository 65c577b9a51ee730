/* libFuzzer target: a publisher's Content-Type through the broadcast
 * point's format table (src/live/format.c). Every answer is a format, or a
 * refusal, never a read outside the input; a format found by type is also
 * found by its demuxer name. */
#include "live/format.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int probe = 0;
    const struct live_format *f = live_format_for_type(s, &probe);
    if (f && (probe || live_format_for_demuxer(f->demuxer) != f))
        abort();
    live_format_for_demuxer(s);
    free(s);
    return 0;
}
