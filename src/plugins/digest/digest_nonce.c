/* Digest access authentication: stateless nonces under a server key. */
#include "plugins/digest/digest_nonce.h"

#include "plugins/digest/digest_algo.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RANDOM_SIZE 16
#define MAC_SIZE    24
#define RAW_SIZE    (8 + RANDOM_SIZE + MAC_SIZE)

/* Domain separation: the key also derives the opaque value. */
static const char nonce_label[] = "guise digest nonce v1";
static const char opaque_label[] = "guise digest opaque v1";

/* "path: [doing: ]strerror(e)" into err; returns e as a result. */
static guise_result fail(char *err, size_t err_size, int e, const char *path, const char *doing)
{
    snprintf(err, err_size, "%s: %s%s%s", path, doing ? doing : "", doing ? ": " : "", strerror(e));
    return GUISE_RESULT_FROM_ERRNO(e);
}

/* Reads exactly n bytes, refusing a file of another size. */
static guise_result read_key(int fd, const char *path, uint8_t *key, bool *too_open, char *err,
                             size_t err_size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(err, err_size, errno, path, NULL);
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "%s: not a regular file", path);
        return GUISE_E_BAD_FORMAT;
    }
    if (st.st_size != DIGEST_NONCE_KEY_SIZE) {
        snprintf(err, err_size, "%s: holds %lld bytes, a nonce key has exactly %d", path,
                 (long long)st.st_size, DIGEST_NONCE_KEY_SIZE);
        return GUISE_E_BAD_FORMAT;
    }
    size_t got = 0;
    while (got < DIGEST_NONCE_KEY_SIZE) {
        ssize_t n = read(fd, key + got, DIGEST_NONCE_KEY_SIZE - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(err, err_size, errno, path, NULL);
        if (n == 0) {
            snprintf(err, err_size, "%s: shorter than %d bytes", path, DIGEST_NONCE_KEY_SIZE);
            return GUISE_E_BAD_FORMAT;
        }
        got += (size_t)n;
    }
    *too_open = (st.st_mode & 077) != 0;
    return GUISE_S_OK;
}

static guise_result write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return GUISE_RESULT_FROM_ERRNO(errno);
        p += w;
        n -= (size_t)w;
    }
    return GUISE_S_OK;
}

/* Creates the key file: a temporary file beside it, fully written and synced,
 * then link()ed into place. link fails with EEXIST when another process
 * created the key first; its key is then the one to use. Returns GUISE_S_OK
 * when the file now exists (made by us or by the other). */
static guise_result create_key(const char *path, bool *created, char *err, size_t err_size)
{
    uint8_t key[DIGEST_NONCE_KEY_SIZE];
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp)
        return GUISE_E_OUTOFMEMORY;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", 8);

    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) {
        guise_result r = fail(err, err_size, errno, path, "cannot create");
        free(tmp);
        return r;
    }
    guise_result r = GUISE_S_OK;
    if (gnutls_rnd(GNUTLS_RND_KEY, key, sizeof key) != 0) {
        snprintf(err, err_size, "%s: no random bytes for a new key", path);
        r = GUISE_E_FAIL;
    }
    if (r == GUISE_S_OK && fchmod(fd, 0600) != 0)
        r = fail(err, err_size, errno, tmp, NULL);
    if (r == GUISE_S_OK && (r = write_all(fd, key, sizeof key)) != GUISE_S_OK)
        snprintf(err, err_size, "%s: write failed", tmp);
    if (r == GUISE_S_OK && fsync(fd) != 0)
        r = fail(err, err_size, errno, tmp, NULL);
    explicit_bzero(key, sizeof key);
    close(fd);
    if (r == GUISE_S_OK) {
        if (link(tmp, path) == 0) {
            *created = true;
            /* Make the new name durable too. */
            char *dir = strdup(path);
            if (dir) {
                int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0) {
                    (void)fsync(dfd);
                    close(dfd);
                }
                free(dir);
            }
        } else if (errno != EEXIST) {
            r = fail(err, err_size, errno, path, "cannot create");
        }
    }
    unlink(tmp);
    free(tmp);
    return r;
}

guise_result digest_nonce_key_load(const char *path, uint8_t key[DIGEST_NONCE_KEY_SIZE],
                                   bool *created, bool *too_open, char *err, size_t err_size)
{
    *created = false;
    *too_open = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        guise_result r = create_key(path, created, err, err_size);
        if (r != GUISE_S_OK)
            return r;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return fail(err, err_size, errno, path, NULL);
    guise_result r = read_key(fd, path, key, too_open, err, err_size);
    close(fd);
    return r;
}

guise_result digest_nonce_key_check(const char *path, uint8_t key[DIGEST_NONCE_KEY_SIZE],
                                    bool *too_open, char *err, size_t err_size)
{
    *too_open = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        guise_result r = read_key(fd, path, key, too_open, err, err_size);
        close(fd);
        return r;
    }
    if (errno != ENOENT)
        return fail(err, err_size, errno, path, NULL);
    char *copy = strdup(path);
    if (!copy)
        return GUISE_E_OUTOFMEMORY;
    const char *dir = dirname(copy);
    struct stat st;
    guise_result r = GUISE_S_OK;
    if (stat(dir, &st) != 0)
        r = fail(err, err_size, errno, path, "cannot create");
    else if (!S_ISDIR(st.st_mode))
        r = fail(err, err_size, ENOTDIR, path, "cannot create");
    /* AT_EACCESS: the effective ids, which create_key would use. */
    else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
        r = fail(err, err_size, errno, path, "cannot create");
    free(copy);
    if (r == GUISE_S_OK && gnutls_rnd(GNUTLS_RND_KEY, key, DIGEST_NONCE_KEY_SIZE) != 0) {
        snprintf(err, err_size, "%s: no random bytes for a new key", path);
        r = GUISE_E_FAIL;
    }
    return r;
}

uint64_t digest_nonce_now_us(void)
{
    static _Atomic uint64_t last;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    uint64_t prev = atomic_load(&last);
    uint64_t next;
    do {
        next = now > prev ? now : prev + 1;
    } while (!atomic_compare_exchange_weak(&last, &prev, next));
    return next;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* hmac_sha256_set_key hashes the padded key twice; every check used to pay
 * for it. Each thread keeps the keyed state of the last key it used (one
 * key per realm, so nearly always the same) and copies it. */
static _Thread_local struct {
    bool set;
    uint8_t key[DIGEST_NONCE_KEY_SIZE];
    struct hmac_sha256_ctx keyed;
} keyed_cache;

static void nonce_mac(const uint8_t *key, const char *realm, const uint8_t *id, uint8_t *mac)
{
    struct hmac_sha256_ctx h;
    if (!keyed_cache.set || memcmp(keyed_cache.key, key, DIGEST_NONCE_KEY_SIZE) != 0) {
        hmac_sha256_set_key(&keyed_cache.keyed, DIGEST_NONCE_KEY_SIZE, key);
        memcpy(keyed_cache.key, key, DIGEST_NONCE_KEY_SIZE);
        keyed_cache.set = true;
    }
    h = keyed_cache.keyed;
    hmac_sha256_update(&h, sizeof nonce_label, (const uint8_t *)nonce_label);
    /* The realm with its NUL, so that realm and id cannot be shifted. */
    hmac_sha256_update(&h, strlen(realm) + 1, (const uint8_t *)realm);
    hmac_sha256_update(&h, DIGEST_NONCE_ID_SIZE, id);
    hmac_sha256_digest(&h, MAC_SIZE, mac);
}

void digest_nonce_make(const uint8_t key[DIGEST_NONCE_KEY_SIZE], const char *realm,
                       uint64_t stamp_us, char *out)
{
    uint8_t raw[RAW_SIZE];
    struct base64_encode_ctx b;

    put_be64(raw, stamp_us);
    if (gnutls_rnd(GNUTLS_RND_NONCE, raw + 8, RANDOM_SIZE) != 0) {
        /* gnutls_rnd only fails when the library is in an error state; the
         * nonce then stays unique thanks to the strictly increasing stamp,
         * and its MAC still makes it unforgeable. */
        memset(raw + 8, 0, RANDOM_SIZE);
    }
    nonce_mac(key, realm, raw, raw + DIGEST_NONCE_ID_SIZE);
    base64url_encode_init(&b);
    size_t n = base64_encode_update(&b, out, RAW_SIZE, raw);
    n += base64_encode_final(&b, out + n);
    out[n] = '\0';
}

static bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

enum digest_nonce_state digest_nonce_check(const uint8_t key[DIGEST_NONCE_KEY_SIZE],
                                           const char *realm, const char *nonce, uint64_t now_us,
                                           uint64_t lifetime_us, struct digest_nonce_info *info)
{
    uint8_t raw[RAW_SIZE];
    uint8_t mac[MAC_SIZE];
    struct base64_decode_ctx b;
    size_t n = sizeof raw;

    for (size_t i = 0; i < DIGEST_NONCE_TEXT_LEN; i++) {
        if (!is_b64url(nonce[i]))
            return DIGEST_NONCE_INVALID;
    }
    if (nonce[DIGEST_NONCE_TEXT_LEN] != '\0')
        return DIGEST_NONCE_INVALID;
    base64url_decode_init(&b);
    if (!base64_decode_update(&b, &n, raw, DIGEST_NONCE_TEXT_LEN, nonce) || n != RAW_SIZE ||
        !base64_decode_final(&b))
        return DIGEST_NONCE_INVALID;

    nonce_mac(key, realm, raw, mac);
    if (!memeql_sec(mac, raw + DIGEST_NONCE_ID_SIZE, MAC_SIZE))
        return DIGEST_NONCE_INVALID;

    info->stamp_us = get_be64(raw);
    memcpy(info->id, raw, DIGEST_NONCE_ID_SIZE);
    info->age_us = now_us > info->stamp_us ? now_us - info->stamp_us : 0;
    /* A stamp from the future comes from a node whose clock runs ahead:
     * tolerated up to one lifetime, then treated like an old one. */
    if (info->age_us > lifetime_us || info->stamp_us > now_us + lifetime_us)
        return DIGEST_NONCE_EXPIRED;
    return DIGEST_NONCE_VALID;
}

void digest_opaque_make(const uint8_t key[DIGEST_NONCE_KEY_SIZE], const char *realm, char *out)
{
    struct hmac_sha256_ctx h;
    uint8_t mac[16];
    hmac_sha256_set_key(&h, DIGEST_NONCE_KEY_SIZE, key);
    hmac_sha256_update(&h, sizeof opaque_label, (const uint8_t *)opaque_label);
    hmac_sha256_update(&h, strlen(realm), (const uint8_t *)realm);
    hmac_sha256_digest(&h, sizeof mac, mac);
    digest_hex_encode(mac, sizeof mac, out);
}
