/* Digest access authentication (RFC 7616): algorithms and the hash
 * computations of HA1, userhash, response and rspauth.
 *
 * Pure functions over nettle's hashes, shared by the plug-in and by the
 * guise-passwd tool. Every digest is handled as lowercase hex, the form in
 * which RFC 7616 feeds it to the next hash.
 */
#ifndef GUISE_DIGEST_ALGO_H
#define GUISE_DIGEST_ALGO_H

#include <nettle/md5.h>
#include <nettle/sha2.h>

#include <stdbool.h>
#include <stddef.h>

/* The hash functions behind the algorithms. An HA1 on file belongs to one of
 * them and serves both the plain and the -sess algorithm of that hash. */
enum digest_hash {
    DIGEST_HASH_MD5 = 0,
    DIGEST_HASH_SHA256 = 1,
    DIGEST_HASH_SHA512_256 = 2,
    DIGEST_HASH_COUNT = 3,
};

enum digest_alg {
    DIGEST_ALG_MD5 = 0,
    DIGEST_ALG_MD5_SESS = 1,
    DIGEST_ALG_SHA256 = 2,
    DIGEST_ALG_SHA256_SESS = 3,
    DIGEST_ALG_SHA512_256 = 4,
    DIGEST_ALG_SHA512_256_SESS = 5,
    DIGEST_ALG_COUNT = 6,
};

/* Longest digest: 32 bytes, 64 hex digits. */
#define DIGEST_MAX_BYTES 32
#define DIGEST_MAX_HEX   64

/* "MD5", "SHA-256-sess", ... as written in challenges. */
const char *digest_alg_name(enum digest_alg alg);
/* Parses an algorithm name, case-insensitively (the parameter is a token). */
bool digest_alg_parse(const char *s, size_t len, enum digest_alg *out);
enum digest_hash digest_alg_hash(enum digest_alg alg);
bool digest_alg_is_sess(enum digest_alg alg);

/* "MD5", "SHA-256", "SHA-512-256". */
const char *digest_hash_name(enum digest_hash h);
bool digest_hash_parse(const char *s, size_t len, enum digest_hash *out);
/* Digest size in bytes (16 or 32); hex length is twice that. */
size_t digest_hash_size(enum digest_hash h);
size_t digest_hash_hex_len(enum digest_hash h);

/* An incremental hash: update with pieces, then finish as hex. */
struct digest_hasher {
    enum digest_hash hash;
    union {
        struct md5_ctx md5;
        struct sha256_ctx sha256;
        struct sha512_ctx sha512;
    } ctx;
};
void digest_hasher_init(struct digest_hasher *h, enum digest_hash hash);
void digest_hasher_update(struct digest_hasher *h, const void *data, size_t len);
void digest_hasher_update_str(struct digest_hasher *h, const char *s);
/* Writes digest_hash_hex_len() lowercase hex digits and a NUL to hex, which
 * must hold DIGEST_MAX_HEX + 1 bytes. */
void digest_hasher_final_hex(struct digest_hasher *h, char *hex);

/* H(data) in hex. */
void digest_hash_hex(enum digest_hash hash, const void *data, size_t len, char *hex);
/* HA1 as stored in a user file: H(user ":" realm ":" password). */
void digest_ha1(enum digest_hash hash, const char *user, const char *realm, const char *password,
                size_t password_len, char *hex);
/* The userhash form of a username: H(user ":" realm). */
void digest_userhash(enum digest_hash hash, const char *user, const char *realm, char *hex);

/* What a response (or rspauth) is computed from. method NULL stands for the
 * empty method of rspauth (RFC 7616 section 3.5). body is hashed for
 * qop=auth-int only; NULL means an empty body. */
struct digest_response_input {
    enum digest_alg alg;
    const char *ha1_hex; /* H(user:realm:password) for the algorithm's hash */
    const char *nonce;
    const char *nc; /* 8 hex digits as the client sent them */
    const char *cnonce;
    const char *qop; /* "auth" or "auth-int" */
    const char *method;
    const char *uri;
    const void *body;
    size_t body_len;
};
/* Computes KD(H(A1), nonce:nc:cnonce:qop:H(A2)) in hex. */
void digest_response(const struct digest_response_input *in, char *hex);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void digest_hex_encode(const unsigned char *in, size_t len, char *out);
/* Decodes exactly 2 * out_len hex digits (either case); false otherwise. */
bool digest_hex_decode(const char *hex, size_t hex_len, unsigned char *out, size_t out_len);
/* True when s[0..len) are all hex digits. */
bool digest_is_hex(const char *s, size_t len);

#endif
