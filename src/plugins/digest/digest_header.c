/* Digest access authentication: parser of the client's credentials. */
#include "plugins/digest/digest_header.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

/* Character classes as one table lookup each: the parser runs on every
 * Digest request, and strchr()/range chains per byte were a tenth of the
 * plug-in's CPU. Bits of char_class[c]: */
enum {
    C_TCHAR = 1,    /* RFC 9110 5.6.2 tchar */
    C_QDTEXT = 2,   /* RFC 9110 5.6.4 qdtext */
    C_QUOTABLE = 4, /* may follow a backslash: HTAB / SP / VCHAR / obs-text */
    C_ATTR_CHAR = 8 /* RFC 8187 attr-char */
};

static unsigned char char_class[256];

static void char_class_fill(void)
{
    for (int c = 0; c < 256; c++) {
        unsigned char k = 0;
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alnum || (c != 0 && strchr("!#$%&'*+-.^_`|~", c)))
            k |= C_TCHAR;
        if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
            (c >= 0x5D && c <= 0x7E) || c >= 0x80)
            k |= C_QDTEXT;
        if (c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80)
            k |= C_QUOTABLE;
        if (alnum || (c != 0 && strchr("!#$&+-.^_`|~", c)))
            k |= C_ATTR_CHAR;
        char_class[c] = k;
    }
}

/* Filled once, before the first parse, by whichever thread parses first. */
static pthread_once_t char_class_once = PTHREAD_ONCE_INIT;

static inline bool has_class(unsigned char c, unsigned char k)
{
    return (char_class[c] & k) != 0;
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* A parameter name's key: its length and its first and last characters,
 * folded to lower case. Names with different keys differ (ignoring case),
 * so strcasecmp runs only on a likely match. */
static uint32_t name_key(const char *name, size_t len)
{
    if (len == 0)
        return 0;
    return (uint32_t)len << 16 | (uint32_t)(tolower((unsigned char)name[0]) & 0xFF) << 8 |
           (uint32_t)(tolower((unsigned char)name[len - 1]) & 0xFF);
}

struct cursor {
    const unsigned char *s;
    size_t len, i;
};

static void skip_ows(struct cursor *c)
{
    while (c->i < c->len && is_ows(c->s[c->i]))
        c->i++;
}

/* Reads a token into buf at *pos; returns its length, 0 when none. */
static size_t read_token(struct cursor *c, char *buf, size_t *pos, size_t max)
{
    size_t start = c->i;
    while (c->i < c->len && has_class(c->s[c->i], C_TCHAR))
        c->i++;
    size_t n = c->i - start;
    if (n > max)
        return (size_t)-1;
    memcpy(buf + *pos, c->s + start, n);
    *pos += n;
    buf[(*pos)++] = '\0';
    return n;
}

/* Reads a quoted-string (the opening quote is at c->i) unescaped into buf.
 * Runs of plain qdtext (the whole value, for every client seen) are copied
 * with one memcpy; quoted-pairs are taken one at a time. */
static const char *read_quoted(struct cursor *c, char *buf, size_t *pos, size_t *out_len)
{
    size_t n = 0;
    c->i++; /* opening DQUOTE */
    for (;;) {
        size_t start = c->i;
        while (c->i < c->len && has_class(c->s[c->i], C_QDTEXT))
            c->i++;
        size_t run = c->i - start;
        if (run > DIGEST_HDR_MAX_VALUE - n)
            return "parameter value too long";
        memcpy(buf + *pos + n, c->s + start, run);
        n += run;
        if (c->i >= c->len)
            return "unterminated quoted-string";
        unsigned char ch = c->s[c->i];
        if (ch == '"') {
            c->i++;
            break;
        }
        if (ch != '\\')
            return "control character in quoted-string";
        if (c->i + 1 >= c->len)
            return "unterminated quoted-string";
        ch = c->s[c->i + 1];
        if (!has_class(ch, C_QUOTABLE))
            return "invalid character after backslash";
        c->i += 2;
        if (n == DIGEST_HDR_MAX_VALUE)
            return "parameter value too long";
        buf[*pos + n++] = (char)ch;
    }
    buf[*pos + n] = '\0';
    *pos += n + 1;
    *out_len = n;
    return NULL;
}

const char *digest_params_parse(const char *in, size_t len, struct digest_params *out)
{
    struct cursor c = {(const unsigned char *)in, len, 0};
    size_t pos = 0;

    pthread_once(&char_class_once, char_class_fill);
    out->count = 0;
    if (len > DIGEST_HDR_MAX_INPUT)
        return "credentials too long";

    for (;;) {
        /* Empty list elements ("a=b, , c=d") are tolerated (RFC 9110 5.6.1). */
        while (c.i < c.len && (is_ows(c.s[c.i]) || c.s[c.i] == ','))
            c.i++;
        if (c.i >= c.len)
            break;
        if (out->count == DIGEST_HDR_MAX_PARAMS)
            return "too many parameters";

        struct digest_param *p = &out->params[out->count];
        p->name = out->buf + pos;
        size_t n = read_token(&c, out->buf, &pos, DIGEST_HDR_MAX_NAME);
        if (n == 0)
            return "expected a parameter name";
        if (n == (size_t)-1)
            return "parameter name too long";
        p->key = name_key(p->name, n);
        skip_ows(&c);
        if (c.i >= c.len || c.s[c.i] != '=')
            return "expected '=' after a parameter name";
        c.i++;
        skip_ows(&c);
        if (c.i >= c.len)
            return "missing parameter value";

        p->value = out->buf + pos;
        if (c.s[c.i] == '"') {
            const char *why = read_quoted(&c, out->buf, &pos, &p->value_len);
            if (why)
                return why;
            p->quoted = true;
        } else {
            n = read_token(&c, out->buf, &pos, DIGEST_HDR_MAX_VALUE);
            if (n == 0)
                return "expected a token or a quoted-string";
            if (n == (size_t)-1)
                return "parameter value too long";
            p->value_len = n;
            p->quoted = false;
        }

        for (size_t k = 0; k < out->count; k++) {
            if (out->params[k].key == p->key && strcasecmp(out->params[k].name, p->name) == 0)
                return "duplicated parameter";
        }
        out->count++;

        skip_ows(&c);
        if (c.i < c.len && c.s[c.i] != ',')
            return "expected ',' between parameters";
    }
    if (out->count == 0)
        return "no parameters";
    return NULL;
}

const struct digest_param *digest_params_find(const struct digest_params *p, const char *name)
{
    uint32_t key = name_key(name, strlen(name));
    for (size_t i = 0; i < p->count; i++) {
        if (p->params[i].key == key && strcasecmp(p->params[i].name, name) == 0)
            return &p->params[i];
    }
    return NULL;
}

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

/* Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF)
 * without C0 controls or DEL. */
static bool is_clean_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F)
                return false;
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            unsigned char d = s[i + k];
            unsigned min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
            if (d < min || d > max)
                return false;
        }
        i += n + 1;
    }
    return true;
}

bool digest_ext_value_decode(const char *in, size_t len, char *out, size_t out_size)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, n = 0;

    pthread_once(&char_class_once, char_class_fill);
    /* charset: only UTF-8 (RFC 7616 3.4.4 uses no other). */
    if (len < 6 || strncasecmp(in, "UTF-8'", 6) != 0)
        return false;
    i = 6;
    /* language: an optional RFC 5646 tag (letters, digits, '-'), ignored. */
    while (i < len && s[i] != '\'') {
        unsigned char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-'))
            return false;
        i++;
    }
    if (i >= len)
        return false;
    i++;
    while (i < len) {
        unsigned char c = s[i];
        if (c == '%') {
            if (len - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return false;
            c = (unsigned char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
            i += 3;
        } else if (has_class(c, C_ATTR_CHAR)) {
            i++;
        } else {
            return false;
        }
        if (n + 1 >= out_size)
            return false;
        out[n++] = (char)c;
    }
    if (n == 0 || n >= out_size)
        return false;
    out[n] = '\0';
    return is_clean_utf8((const unsigned char *)out, n);
}

static const char *value_of(const struct digest_params *p, const char *name)
{
    const struct digest_param *q = digest_params_find(p, name);
    return q ? q->value : NULL;
}

const char *digest_credentials_parse(const char *in, size_t len, struct digest_params *scratch,
                                     struct digest_credentials *out)
{
    const char *why = digest_params_parse(in, len, scratch);
    if (why)
        return why;

    memset(out, 0, sizeof *out);

    const struct digest_param *uh = digest_params_find(scratch, "userhash");
    if (uh) {
        if (strcasecmp(uh->value, "true") == 0)
            out->userhash = true;
        else if (strcasecmp(uh->value, "false") != 0)
            return "userhash is neither true nor false";
    }

    const struct digest_param *user = digest_params_find(scratch, "username");
    const struct digest_param *ext = digest_params_find(scratch, "username*");
    if (user && ext)
        return "both username and username*";
    if (ext) {
        /* An ext-value is never a quoted-string (RFC 8187 3.2), and a hashed
         * username is hex, which never needs it (RFC 7616 3.4.4). */
        if (ext->quoted)
            return "username* is quoted";
        if (out->userhash)
            return "username* with userhash";
        if (!digest_ext_value_decode(ext->value, ext->value_len, out->username_buf,
                                     sizeof out->username_buf))
            return "malformed username*";
        out->username = out->username_buf;
        out->username_ext = true;
    } else if (user) {
        if (user->value_len == 0)
            return "empty username";
        out->username = user->value;
    } else {
        return "missing username";
    }

    out->realm = value_of(scratch, "realm");
    out->nonce = value_of(scratch, "nonce");
    out->uri = value_of(scratch, "uri");
    out->response = value_of(scratch, "response");
    out->cnonce = value_of(scratch, "cnonce");
    out->opaque = value_of(scratch, "opaque");
    out->nc_text = value_of(scratch, "nc");
    out->qop_text = value_of(scratch, "qop");
    out->alg_text = value_of(scratch, "algorithm");
    if (!out->realm)
        return "missing realm";
    if (!out->nonce || !*out->nonce)
        return "missing nonce";
    if (!out->uri || !*out->uri)
        return "missing uri";
    if (!out->response)
        return "missing response";
    /* RFC 7616 3.4: qop, cnonce and nc "MUST be used by all implementations";
     * the RFC 2069 form without them has no replay protection. */
    if (!out->qop_text)
        return "missing qop";
    if (!out->cnonce || !*out->cnonce)
        return "missing cnonce";
    if (!out->nc_text)
        return "missing nc";

    if (strlen(out->nc_text) != 8 || !digest_is_hex(out->nc_text, 8))
        return "nc is not 8 hex digits";
    out->nc = 0;
    for (int i = 0; i < 8; i++)
        out->nc = out->nc << 4 | (uint32_t)hexval((unsigned char)out->nc_text[i]);
    if (out->nc == 0)
        return "nc is zero";

    if (strcmp(out->qop_text, "auth") == 0)
        out->qop = DIGEST_QOP_AUTH;
    else if (strcmp(out->qop_text, "auth-int") == 0)
        out->qop = DIGEST_QOP_AUTH_INT;
    else
        out->qop = DIGEST_QOP_UNKNOWN;

    out->alg = DIGEST_ALG_MD5;
    out->alg_known = true;
    if (out->alg_text)
        out->alg_known = digest_alg_parse(out->alg_text, strlen(out->alg_text), &out->alg);

    size_t rlen = strlen(out->response);
    if (!digest_is_hex(out->response, rlen))
        return "response is not hex";
    if (out->alg_known && rlen != digest_hash_hex_len(digest_alg_hash(out->alg)))
        return "response length does not match the algorithm";
    return NULL;
}

bool digest_quote_append(char *out, size_t size, size_t *pos, const char *s)
{
    for (; *s; s++) {
        size_t need = (*s == '"' || *s == '\\') ? 2 : 1;
        if (*pos + need >= size) {
            if (size > 0)
                out[*pos < size ? *pos : size - 1] = '\0';
            return false;
        }
        if (need == 2)
            out[(*pos)++] = '\\';
        out[(*pos)++] = *s;
    }
    if (*pos >= size)
        return false;
    out[*pos] = '\0';
    return true;
}
