/* Digest access authentication: algorithms and hash computations. */
#include "plugins/digest/digest_algo.h"

#include <nettle/base16.h>
#include <nettle/nettle-meta.h>

#include <string.h>
#include <strings.h>

struct alg_info {
    const char *name;
    enum digest_hash hash;
    bool sess;
};

static const struct alg_info algs[DIGEST_ALG_COUNT] = {
    [DIGEST_ALG_MD5] = {"MD5", DIGEST_HASH_MD5, false},
    [DIGEST_ALG_MD5_SESS] = {"MD5-sess", DIGEST_HASH_MD5, true},
    [DIGEST_ALG_SHA256] = {"SHA-256", DIGEST_HASH_SHA256, false},
    [DIGEST_ALG_SHA256_SESS] = {"SHA-256-sess", DIGEST_HASH_SHA256, true},
    [DIGEST_ALG_SHA512_256] = {"SHA-512-256", DIGEST_HASH_SHA512_256, false},
    [DIGEST_ALG_SHA512_256_SESS] = {"SHA-512-256-sess", DIGEST_HASH_SHA512_256, true},
};

static const char *const hash_names[DIGEST_HASH_COUNT] = {
    [DIGEST_HASH_MD5] = "MD5",
    [DIGEST_HASH_SHA256] = "SHA-256",
    [DIGEST_HASH_SHA512_256] = "SHA-512-256",
};

static const struct nettle_hash *nettle_of(enum digest_hash h)
{
    switch (h) {
    case DIGEST_HASH_MD5:
        return &nettle_md5;
    case DIGEST_HASH_SHA256:
        return &nettle_sha256;
    case DIGEST_HASH_SHA512_256:
    default:
        return &nettle_sha512_256;
    }
}

const char *digest_alg_name(enum digest_alg alg)
{
    return algs[alg].name;
}

static bool name_eq(const char *name, const char *s, size_t len)
{
    return strlen(name) == len && strncasecmp(name, s, len) == 0;
}

bool digest_alg_parse(const char *s, size_t len, enum digest_alg *out)
{
    for (int i = 0; i < DIGEST_ALG_COUNT; i++) {
        if (name_eq(algs[i].name, s, len)) {
            *out = (enum digest_alg)i;
            return true;
        }
    }
    return false;
}

enum digest_hash digest_alg_hash(enum digest_alg alg)
{
    return algs[alg].hash;
}

bool digest_alg_is_sess(enum digest_alg alg)
{
    return algs[alg].sess;
}

const char *digest_hash_name(enum digest_hash h)
{
    return hash_names[h];
}

bool digest_hash_parse(const char *s, size_t len, enum digest_hash *out)
{
    for (int i = 0; i < DIGEST_HASH_COUNT; i++) {
        if (name_eq(hash_names[i], s, len)) {
            *out = (enum digest_hash)i;
            return true;
        }
    }
    return false;
}

size_t digest_hash_size(enum digest_hash h)
{
    return nettle_of(h)->digest_size;
}

size_t digest_hash_hex_len(enum digest_hash h)
{
    return 2 * digest_hash_size(h);
}

void digest_hasher_init(struct digest_hasher *h, enum digest_hash hash)
{
    h->hash = hash;
    nettle_of(hash)->init(&h->ctx);
}

void digest_hasher_update(struct digest_hasher *h, const void *data, size_t len)
{
    if (len > 0)
        nettle_of(h->hash)->update(&h->ctx, len, data);
}

void digest_hasher_update_str(struct digest_hasher *h, const char *s)
{
    digest_hasher_update(h, s, strlen(s));
}

void digest_hasher_final_hex(struct digest_hasher *h, char *hex)
{
    unsigned char raw[DIGEST_MAX_BYTES];
    size_t n = digest_hash_size(h->hash);
    nettle_of(h->hash)->digest(&h->ctx, n, raw);
    digest_hex_encode(raw, n, hex);
}

void digest_hash_hex(enum digest_hash hash, const void *data, size_t len, char *hex)
{
    struct digest_hasher h;
    digest_hasher_init(&h, hash);
    digest_hasher_update(&h, data, len);
    digest_hasher_final_hex(&h, hex);
}

void digest_ha1(enum digest_hash hash, const char *user, const char *realm, const char *password,
                size_t password_len, char *hex)
{
    struct digest_hasher h;
    digest_hasher_init(&h, hash);
    digest_hasher_update_str(&h, user);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update_str(&h, realm);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update(&h, password, password_len);
    digest_hasher_final_hex(&h, hex);
    /* The context saw the password: do not leave it on the stack. */
    explicit_bzero(&h, sizeof h);
}

void digest_userhash(enum digest_hash hash, const char *user, const char *realm, char *hex)
{
    struct digest_hasher h;
    digest_hasher_init(&h, hash);
    digest_hasher_update_str(&h, user);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update_str(&h, realm);
    digest_hasher_final_hex(&h, hex);
}

void digest_response(const struct digest_response_input *in, char *hex)
{
    enum digest_hash hash = digest_alg_hash(in->alg);
    char a1[DIGEST_MAX_HEX + 1];
    char a2[DIGEST_MAX_HEX + 1];
    struct digest_hasher h;

    /* RFC 7616 3.4.2: the -sess variants bind HA1 to this nonce and cnonce. */
    if (digest_alg_is_sess(in->alg)) {
        digest_hasher_init(&h, hash);
        digest_hasher_update_str(&h, in->ha1_hex);
        digest_hasher_update(&h, ":", 1);
        digest_hasher_update_str(&h, in->nonce);
        digest_hasher_update(&h, ":", 1);
        digest_hasher_update_str(&h, in->cnonce);
        digest_hasher_final_hex(&h, a1);
    } else {
        size_t n = strlen(in->ha1_hex);
        if (n > DIGEST_MAX_HEX)
            n = DIGEST_MAX_HEX;
        memcpy(a1, in->ha1_hex, n);
        a1[n] = '\0';
    }

    /* RFC 7616 3.4.3: A2 = method ":" uri [ ":" H(entity-body) ]. */
    digest_hasher_init(&h, hash);
    if (in->method)
        digest_hasher_update_str(&h, in->method);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update_str(&h, in->uri);
    if (strcmp(in->qop, "auth-int") == 0) {
        char body[DIGEST_MAX_HEX + 1];
        digest_hash_hex(hash, in->body ? in->body : "", in->body ? in->body_len : 0, body);
        digest_hasher_update(&h, ":", 1);
        digest_hasher_update_str(&h, body);
    }
    digest_hasher_final_hex(&h, a2);

    /* KD(secret, data) = H(secret ":" data). */
    digest_hasher_init(&h, hash);
    digest_hasher_update_str(&h, a1);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update_str(&h, in->nonce);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update_str(&h, in->nc);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update_str(&h, in->cnonce);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update_str(&h, in->qop);
    digest_hasher_update(&h, ":", 1);
    digest_hasher_update_str(&h, a2);
    digest_hasher_final_hex(&h, hex);
    explicit_bzero(a1, sizeof a1);
}

void digest_hex_encode(const unsigned char *in, size_t len, char *out)
{
    base16_encode_update(out, len, in);
    out[2 * len] = '\0';
}

bool digest_is_hex(const char *s, size_t len)
{
    /* Branch-free per character (runs on every response and nc): a digit,
     * or a letter a-f in either case ((c | 0x20) folds A-F onto a-f). */
    unsigned bad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];
        bad |= (c - '0' >= 10u) & ((c | 0x20u) - 'a' >= 6u);
    }
    return bad == 0;
}

bool digest_hex_decode(const char *hex, size_t hex_len, unsigned char *out, size_t out_len)
{
    struct base16_decode_ctx ctx;
    size_t n = out_len;

    /* nettle's decoder skips white space; a digest has none. */
    if (hex_len != 2 * out_len || !digest_is_hex(hex, hex_len))
        return false;
    base16_decode_init(&ctx);
    if (!base16_decode_update(&ctx, &n, out, hex_len, hex) || n != out_len)
        return false;
    return base16_decode_final(&ctx) != 0;
}
