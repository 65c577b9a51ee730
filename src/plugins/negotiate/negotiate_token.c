/* Negotiate / NTLM plug-ins: token classification and GSS name copies. */
#include "plugins/negotiate/negotiate_token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NTLMSSP_SIGNATURE     "NTLMSSP"
#define NTLMSSP_SIGNATURE_LEN 8 /* with its NUL */
#define NTLMSSP_NEGOTIATE     1u

/* True for an NTLMSSP message of this type (MessageType is little-endian,
 * MS-NLMP 2.2.1). */
static bool is_ntlmssp(const unsigned char *t, size_t len, uint32_t type)
{
    if (len < NTLMSSP_SIGNATURE_LEN + 4 || memcmp(t, NTLMSSP_SIGNATURE, NTLMSSP_SIGNATURE_LEN) != 0)
        return false;
    uint32_t got =
        (uint32_t)t[8] | (uint32_t)t[9] << 8 | (uint32_t)t[10] << 16 | (uint32_t)t[11] << 24;
    return got == type;
}

bool negotiate_token_is_initial(const void *data, size_t len)
{
    const unsigned char *t = data;
    if (len == 0)
        return false;
    return t[0] == 0x60 || is_ntlmssp(t, len, NTLMSSP_NEGOTIATE);
}

#define NTLMSSP_AUTHENTICATE 3u

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Where the security buffers (len 2, max 2, offset 4) of a message sit. */
static const size_t negotiate_fields[] = {16, 24};
static const size_t authenticate_fields[] = {12, 20, 28, 36, 44, 52};

size_t negotiate_ntlm_layout(const void *in, size_t len, void *out)
{
    const unsigned char *t = in;
    unsigned char *o = out;
    const size_t *fields;
    size_t nfields, fixed, want;
    if (is_ntlmssp(t, len, NTLMSSP_NEGOTIATE)) {
        fields = negotiate_fields;
        nfields = 2;
        fixed = 32; /* then Version */
        want = 40;
    } else if (is_ntlmssp(t, len, NTLMSSP_AUTHENTICATE)) {
        fields = authenticate_fields;
        nfields = 6;
        fixed = 64; /* then Version and MIC */
        want = 88;
    } else {
        memcpy(o, t, len);
        return len;
    }
    /* The payload starts at the lowest offset of a non-empty buffer, or at
     * the end of a message without any. */
    size_t start = len;
    for (size_t i = 0; len >= fixed && i < nfields; i++) {
        size_t flen = (size_t)t[fields[i]] | (size_t)t[fields[i] + 1] << 8;
        uint32_t off = get_le32(t + fields[i] + 4);
        if (flen && off < start)
            start = off;
    }
    if (len < fixed || start < fixed || start >= want) {
        memcpy(o, t, len);
        return len;
    }
    size_t gap = want - start;
    memcpy(o, t, start);
    memset(o + start, 0, gap);
    memcpy(o + start + gap, t + start, len - start);
    for (size_t i = 0; i < nfields; i++) {
        uint32_t off = get_le32(t + fields[i] + 4);
        /* Offsets past the end move too (GSSAPI refuses them either way),
         * so that the result is itself in the layout. */
        if (off >= start && off <= UINT32_MAX - gap)
            put_le32(o + fields[i] + 4, off + (uint32_t)gap);
    }
    return len + gap;
}

char *negotiate_name_dup(const void *value, size_t length)
{
    const unsigned char *s = value;
    while (length > 0 && s[length - 1] == '\0')
        length--;
    if (length == 0 || length > NEGOTIATE_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < length; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return NULL;
    char *out = malloc(length + 1);
    if (!out)
        return NULL;
    memcpy(out, s, length);
    out[length] = '\0';
    return out;
}

/* ---- claimed NTLM user ---- */

#define NTLMSSP_NEGOTIATE_UNICODE 0x1u

/* Appends the security buffer at field of msg to out (UTF-8), converting
 * UTF-16LE when unicode. False when it lies outside the message or is not
 * valid text. */
static bool append_field(const unsigned char *msg, size_t len, size_t field, bool unicode,
                         char *out, size_t size, size_t *pos)
{
    size_t flen = (size_t)msg[field] | (size_t)msg[field + 1] << 8;
    size_t off = get_le32(msg + field + 4);
    if (off > len || flen > len - off)
        return false;
    const unsigned char *p = msg + off;
    if (!unicode) {
        if (*pos + flen >= size)
            return false;
        memcpy(out + *pos, p, flen);
        *pos += flen;
        return true;
    }
    if (flen % 2)
        return false;
    for (size_t i = 0; i < flen; i += 2) {
        uint32_t c = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
        if (c >= 0xd800 && c < 0xdc00) { /* high surrogate: needs a low one */
            if (i + 4 > flen)
                return false;
            uint32_t lo = (uint32_t)p[i + 2] | (uint32_t)p[i + 3] << 8;
            if (lo < 0xdc00 || lo >= 0xe000)
                return false;
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            i += 2;
        } else if (c >= 0xdc00 && c < 0xe000) {
            return false;
        }
        unsigned char u[4];
        size_t n;
        if (c < 0x80) {
            u[0] = (unsigned char)c;
            n = 1;
        } else if (c < 0x800) {
            u[0] = (unsigned char)(0xc0 | c >> 6);
            u[1] = (unsigned char)(0x80 | (c & 0x3f));
            n = 2;
        } else if (c < 0x10000) {
            u[0] = (unsigned char)(0xe0 | c >> 12);
            u[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
            u[2] = (unsigned char)(0x80 | (c & 0x3f));
            n = 3;
        } else {
            u[0] = (unsigned char)(0xf0 | c >> 18);
            u[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
            u[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
            u[3] = (unsigned char)(0x80 | (c & 0x3f));
            n = 4;
        }
        if (*pos + n >= size)
            return false;
        memcpy(out + *pos, u, n);
        *pos += n;
    }
    return true;
}

char *negotiate_ntlm_claimed_user(const void *msg, size_t len)
{
    const unsigned char *t = msg;
    if (!is_ntlmssp(t, len, NTLMSSP_AUTHENTICATE) || len < 64)
        return NULL;
    bool unicode = get_le32(t + 60) & NTLMSSP_NEGOTIATE_UNICODE;
    char name[NEGOTIATE_NAME_MAX + 1];
    size_t pos = 0;
    if (!append_field(t, len, 28, unicode, name, sizeof name, &pos)) /* DomainName */
        return NULL;
    if (pos > 0)
        name[pos++] = '\\';
    size_t user_at = pos;
    if (!append_field(t, len, 36, unicode, name, sizeof name, &pos) || pos == user_at)
        return NULL;
    return negotiate_name_dup(name, pos);
}
