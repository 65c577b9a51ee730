/* Basic plug-in: decoding of the credentials blob. */
#include "plugins/basic/basic_credentials.h"

#include <nettle/base64.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 7617 2: user-id and password MUST NOT contain control characters. */
static bool has_control(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return true;
    return false;
}

const char *basic_credentials_decode(const char *blob, size_t len, struct basic_credentials *c)
{
    memset(c, 0, sizeof *c);
    while (len && is_blank(*blob)) {
        blob++;
        len--;
    }
    while (len && is_blank(blob[len - 1]))
        len--;
    if (len == 0)
        return "no credentials";
    if (len > BASIC_CREDENTIALS_MAX)
        return "credentials longer than 4 KiB";
    /* token68 allows only the base64 alphabet and trailing '=' padding;
     * nettle's decoder would skip blanks inside, which RFC 7617 does not. */
    for (size_t i = 0; i < len; i++) {
        char ch = blob[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/' || ch == '='))
            return "bad base64";
    }
    if (len % 4 != 0)
        return "bad base64";

    uint8_t *raw = malloc(BASE64_DECODE_LENGTH(len) + 1);
    if (!raw)
        return "out of memory";
    struct base64_decode_ctx ctx;
    size_t n = 0;
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &n, raw, len, blob) || !base64_decode_final(&ctx)) {
        free(raw);
        return "bad base64";
    }
    const char *why = NULL;
    uint8_t *colon = memchr(raw, ':', n);
    if (!colon)
        why = "no colon between user and password";
    else if (memchr(raw, '\0', n))
        why = "NUL byte in user or password";
    else if (has_control(raw, n))
        why = "control character in user or password";
    else if (colon == raw)
        why = "empty user";
    if (why) {
        explicit_bzero(raw, n);
        free(raw);
        return why;
    }
    size_t ulen = (size_t)(colon - raw);
    size_t plen = n - ulen - 1;
    c->user = strndup((const char *)raw, ulen);
    c->password = malloc(plen + 1);
    if (c->password) {
        memcpy(c->password, colon + 1, plen);
        c->password[plen] = '\0';
        c->password_len = plen;
    }
    explicit_bzero(raw, n);
    free(raw);
    if (!c->user || !c->password) {
        basic_credentials_clear(c);
        return "out of memory";
    }
    return NULL;
}

void basic_credentials_clear(struct basic_credentials *c)
{
    if (c->password) {
        explicit_bzero(c->password, c->password_len);
        free(c->password);
    }
    free(c->user);
    memset(c, 0, sizeof *c);
}
