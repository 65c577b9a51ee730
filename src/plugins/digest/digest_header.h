/* Digest access authentication: the strict, bounded parser of the
 * credentials a client sends (what follows "Digest " in Authorization).
 *
 * Two layers, both pure (no I/O, no allocation, no globals), so that they can
 * be fuzzed on their own:
 *  - digest_params_parse: the generic auth-param list of RFC 9110 section
 *    11.2 (token "=" ( token / quoted-string ), comma separated, optional
 *    white space, empty list elements tolerated), with hard limits;
 *  - digest_credentials_parse: the Digest parameters of RFC 7616 section 3.4
 *    on top of it (required parameters, nc, username* of RFC 8187, ...).
 * Unknown but well-formed parameters are allowed, as RFC 7616 requires.
 */
#ifndef GUISE_DIGEST_HEADER_H
#define GUISE_DIGEST_HEADER_H

#include "plugins/digest/digest_algo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIGEST_HDR_MAX_INPUT  8192 /* bytes of the whole credentials */
#define DIGEST_HDR_MAX_PARAMS 32
#define DIGEST_HDR_MAX_NAME   64   /* bytes of a parameter name */
#define DIGEST_HDR_MAX_VALUE  1024 /* bytes of a value, after unescaping */

struct digest_param {
    const char *name;  /* NUL-terminated, as sent */
    const char *value; /* NUL-terminated, quoted-pairs unescaped */
    size_t value_len;
    bool quoted;
    uint32_t key; /* length and folded first/last characters of the name */
};

struct digest_params {
    size_t count;
    struct digest_param params[DIGEST_HDR_MAX_PARAMS];
    /* Names and values, each followed by a NUL: never longer than the input
     * plus two NULs per parameter. */
    char buf[DIGEST_HDR_MAX_INPUT + 2 * DIGEST_HDR_MAX_PARAMS];
};

/* Parses an auth-param list. Returns NULL on success, else a static English
 * reason ("duplicated parameter", ...). Rejects syntax errors, duplicated
 * names (case-insensitive), an empty list, control characters and anything
 * over the limits above. */
const char *digest_params_parse(const char *in, size_t len, struct digest_params *out);
/* The parameter called name (case-insensitive), or NULL. */
const struct digest_param *digest_params_find(const struct digest_params *p, const char *name);

enum digest_qop {
    DIGEST_QOP_AUTH = 0,
    DIGEST_QOP_AUTH_INT = 1,
    DIGEST_QOP_UNKNOWN = 2, /* a well-formed token nobody offered */
};

/* The Digest credentials, pointing into a struct digest_params (which must
 * outlive them) or into username_buf. */
struct digest_credentials {
    const char *username; /* decoded username* when that was sent */
    bool username_ext;    /* came from username* */
    bool userhash;        /* username is H(user:realm) in hex */
    const char *realm;
    const char *nonce;
    const char *uri;
    const char *response;
    const char *cnonce;
    const char *opaque;  /* NULL when absent */
    const char *nc_text; /* the 8 hex digits as sent */
    uint32_t nc;
    const char *qop_text;
    enum digest_qop qop;
    const char *alg_text; /* NULL when absent: MD5 by RFC 7616 */
    bool alg_known;
    enum digest_alg alg;
    char username_buf[DIGEST_HDR_MAX_VALUE + 1];
};

/* Parses the credentials. Returns NULL on success, else a static reason: the
 * header is malformed (400). Values that are well formed but that the server
 * did not offer (unknown algorithm or qop) succeed here, with alg_known false
 * or qop DIGEST_QOP_UNKNOWN, for the caller to deny with a fresh challenge. */
const char *digest_credentials_parse(const char *in, size_t len, struct digest_params *scratch,
                                     struct digest_credentials *out);

/* Decodes an RFC 8187 ext-value in charset UTF-8 ("UTF-8'lang'pct-chars")
 * into out (NUL-terminated). Returns false when malformed, not UTF-8, holding
 * control characters, or longer than out_size - 1. */
bool digest_ext_value_decode(const char *in, size_t len, char *out, size_t out_size);

/* Appends s as the content of a quoted-string (escaping '"' and '\') to
 * out[*pos..size). Returns false when it does not fit (out is then cut). */
bool digest_quote_append(char *out, size_t size, size_t *pos, const char *s);

#endif
