/* libFuzzer target: the Basic credentials decoder. Every input must either
 * decode to a user and password that RFC 7617 allows, which encode back to
 * the same bytes, or be refused with a reason; none may crash or leak. */
#include "plugins/basic/basic_credentials.h"

#include <nettle/base64.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct basic_credentials c;
    const char *why = basic_credentials_decode((const char *)data, size, &c);
    if (why) {
        if (c.user || c.password)
            abort();
        return 0;
    }
    size_t ulen = strlen(c.user);
    if (ulen == 0 || strlen(c.password) != c.password_len || size > BASIC_CREDENTIALS_MAX + 64)
        abort();
    check_text(c.user, ulen);
    check_text(c.password, c.password_len);
    /* The decoded pair, encoded again, is the base64 text that was sent
     * (blanks around it aside, and up to non-canonical trailing bits). */
    size_t n = ulen + 1 + c.password_len;
    uint8_t *raw = malloc(n);
    char *text = malloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
    if (!raw || !text)
        abort();
    memcpy(raw, c.user, ulen);
    raw[ulen] = ':';
    memcpy(raw + ulen + 1, c.password, c.password_len);
    base64_encode_raw(text, n, raw);
    size_t tlen = BASE64_ENCODE_RAW_LENGTH(n);
    const char *in = (const char *)data;
    while (*in == ' ' || *in == '\t')
        in++;
    if (tlen < 4 || memcmp(text, in, tlen - 4) != 0)
        abort();
    free(raw);
    free(text);
    basic_credentials_clear(&c);
    return 0;
}
