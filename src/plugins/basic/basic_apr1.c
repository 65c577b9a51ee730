/* Basic plug-in: the apr1 (md5-crypt) password hash on nettle's MD5. The
 * steps are those of Poul-Henning Kamp's md5-crypt as Apache uses it; the
 * strange rounds are the algorithm's, kept bit for bit. */
#include "plugins/basic/basic_apr1.h"

#include <nettle/md5.h>

#include <stdint.h>
#include <string.h>

static const char itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static char *to64(char *out, uint32_t v, int n)
{
    while (n-- > 0) {
        *out++ = itoa64[v & 0x3f];
        v >>= 6;
    }
    return out;
}

bool basic_apr1_hash(const char *password, size_t password_len, const char *setting,
                     char out[BASIC_APR1_SIZE])
{
    static const char magic[] = BASIC_APR1_PREFIX;
    const size_t magic_len = sizeof magic - 1;
    if (strncmp(setting, magic, magic_len) != 0)
        return false;
    const char *salt = setting + magic_len;
    size_t salt_len = 0;
    while (salt_len < BASIC_APR1_SALT_MAX && salt[salt_len] && salt[salt_len] != '$')
        salt_len++;

    const uint8_t *pw = (const uint8_t *)password;
    uint8_t final[MD5_DIGEST_SIZE];
    struct md5_ctx ctx, alt;

    /* The "alternate sum": password, salt, password. */
    md5_init(&alt);
    md5_update(&alt, password_len, pw);
    md5_update(&alt, salt_len, (const uint8_t *)salt);
    md5_update(&alt, password_len, pw);
    md5_digest(&alt, MD5_DIGEST_SIZE, final);

    md5_init(&ctx);
    md5_update(&ctx, password_len, pw);
    md5_update(&ctx, magic_len, (const uint8_t *)magic);
    md5_update(&ctx, salt_len, (const uint8_t *)salt);
    for (size_t left = password_len; left > 0; left -= left > 16 ? 16 : left)
        md5_update(&ctx, left > 16 ? 16 : left, final);
    memset(final, 0, sizeof final);
    /* One byte per bit of the length: a zero byte for a 1 bit, the first
     * character of the password for a 0 bit. */
    for (size_t i = password_len; i; i >>= 1)
        md5_update(&ctx, 1, (i & 1) ? final : pw);
    md5_digest(&ctx, MD5_DIGEST_SIZE, final);

    /* 1000 rounds meant to slow down guessing (in 1994). */
    for (int i = 0; i < 1000; i++) {
        md5_init(&ctx);
        if (i & 1)
            md5_update(&ctx, password_len, pw);
        else
            md5_update(&ctx, MD5_DIGEST_SIZE, final);
        if (i % 3)
            md5_update(&ctx, salt_len, (const uint8_t *)salt);
        if (i % 7)
            md5_update(&ctx, password_len, pw);
        if (i & 1)
            md5_update(&ctx, MD5_DIGEST_SIZE, final);
        else
            md5_update(&ctx, password_len, pw);
        md5_digest(&ctx, MD5_DIGEST_SIZE, final);
    }

    char *p = out;
    memcpy(p, magic, magic_len);
    p += magic_len;
    memcpy(p, salt, salt_len);
    p += salt_len;
    *p++ = '$';
    p = to64(p, (uint32_t) final[0] << 16 | (uint32_t) final[6] << 8 | final[12], 4);
    p = to64(p, (uint32_t) final[1] << 16 | (uint32_t) final[7] << 8 | final[13], 4);
    p = to64(p, (uint32_t) final[2] << 16 | (uint32_t) final[8] << 8 | final[14], 4);
    p = to64(p, (uint32_t) final[3] << 16 | (uint32_t) final[9] << 8 | final[15], 4);
    p = to64(p, (uint32_t) final[4] << 16 | (uint32_t) final[10] << 8 | final[5], 4);
    p = to64(p, final[11], 2);
    *p = '\0';
    explicit_bzero(final, sizeof final);
    explicit_bzero(&ctx, sizeof ctx);
    explicit_bzero(&alt, sizeof alt);
    return true;
}
