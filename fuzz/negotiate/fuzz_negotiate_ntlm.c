/* Fuzz target: negotiate_token_is_initial, negotiate_name_dup,
 * negotiate_ntlm_claimed_user and negotiate_ntlm_layout on arbitrary client
 * bytes. The layout must never grow a message by more than
 * NEGOTIATE_NTLM_GROWTH, and applying it twice must change nothing (a
 * rewritten message is already in the layout). */
#include "plugins/negotiate/negotiate_token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)negotiate_token_is_initial(data, size);
    free(negotiate_name_dup(data, size));
    free(negotiate_ntlm_claimed_user(data, size));

    uint8_t *out = malloc(size + NEGOTIATE_NTLM_GROWTH);
    uint8_t *again = malloc(size + 2 * NEGOTIATE_NTLM_GROWTH);
    if (!out || !again)
        abort();
    size_t n = negotiate_ntlm_layout(data, size, out);
    if (n < size || n > size + NEGOTIATE_NTLM_GROWTH)
        abort();
    if (n == size && memcmp(out, data, size) != 0)
        abort();
    size_t m = negotiate_ntlm_layout(out, n, again);
    if (m != n || memcmp(again, out, n) != 0)
        abort();
    free(out);
    free(again);
    return 0;
}
