/* Basic plug-in: verification of htpasswd hashes with libxcrypt, the apr1
 * code and nettle. */
#include "plugins/basic/basic_hash.h"

#include "plugins/basic/basic_apr1.h"

#include <crypt.h>
#include <nettle/base64.h>
#include <nettle/memops.h>
#include <nettle/sha1.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SHA1_PREFIX "{SHA}"

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum basic_hash_kind basic_hash_classify(const char *hash)
{
    if (starts(hash, "$y$"))
        return BASIC_HASH_YESCRYPT;
    if (starts(hash, "$2y$") || starts(hash, "$2b$") || starts(hash, "$2a$"))
        return BASIC_HASH_BCRYPT;
    if (starts(hash, "$6$"))
        return BASIC_HASH_SHA512CRYPT;
    if (starts(hash, "$5$"))
        return BASIC_HASH_SHA256CRYPT;
    if (starts(hash, BASIC_APR1_PREFIX))
        return BASIC_HASH_APR1;
    if (starts(hash, SHA1_PREFIX))
        return BASIC_HASH_SHA1;
    return BASIC_HASH_UNSUPPORTED;
}

const char *basic_hash_kind_name(enum basic_hash_kind kind)
{
    switch (kind) {
    case BASIC_HASH_YESCRYPT:
        return "yescrypt";
    case BASIC_HASH_BCRYPT:
        return "bcrypt";
    case BASIC_HASH_SHA512CRYPT:
        return "sha512-crypt";
    case BASIC_HASH_SHA256CRYPT:
        return "sha256-crypt";
    case BASIC_HASH_APR1:
        return "apr1-md5";
    case BASIC_HASH_SHA1:
        return "SHA-1";
    case BASIC_HASH_UNSUPPORTED:
        break;
    }
    return "plain text or unknown";
}

static bool same(const char *computed, const char *hash)
{
    size_t n = strlen(hash);
    return strlen(computed) == n && memeql_sec(computed, hash, n);
}

static bool verify_crypt(const char *hash, const char *password)
{
    /* struct crypt_data is 32 KiB: too big for a worker's stack frame. */
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data)
        return false;
    const char *out = crypt_rn(password, hash, data, (int)sizeof *data);
    /* crypt_rn returns NULL, or a string starting with '*', on failure. */
    bool ok = out && out[0] != '*' && same(out, hash);
    explicit_bzero(data, sizeof *data);
    free(data);
    return ok;
}

static bool verify_apr1(const char *hash, const char *password, size_t password_len)
{
    char out[BASIC_APR1_SIZE];
    bool ok = basic_apr1_hash(password, password_len, hash, out) && same(out, hash);
    explicit_bzero(out, sizeof out);
    return ok;
}

static bool verify_sha1(const char *hash, const char *password, size_t password_len)
{
    uint8_t digest[SHA1_DIGEST_SIZE];
    char text[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
    struct sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, password_len, (const uint8_t *)password);
    sha1_digest(&ctx, sizeof digest, digest);
    base64_encode_raw(text, sizeof digest, digest);
    text[sizeof text - 1] = '\0';
    bool ok = same(text, hash + strlen(SHA1_PREFIX));
    explicit_bzero(digest, sizeof digest);
    return ok;
}

bool basic_hash_verify(const char *hash, const char *password, size_t password_len)
{
    switch (basic_hash_classify(hash)) {
    case BASIC_HASH_YESCRYPT:
    case BASIC_HASH_BCRYPT:
    case BASIC_HASH_SHA512CRYPT:
    case BASIC_HASH_SHA256CRYPT:
        return verify_crypt(hash, password);
    case BASIC_HASH_APR1:
        return verify_apr1(hash, password, password_len);
    case BASIC_HASH_SHA1:
        return verify_sha1(hash, password, password_len);
    case BASIC_HASH_UNSUPPORTED:
        break;
    }
    return false;
}
