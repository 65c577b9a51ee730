/* Digest access authentication: stateless, unforgeable nonces.
 *
 * A nonce is base64url(stamp || random || mac), 48 bytes as 64 characters:
 *  - stamp: issue time, microseconds since the Unix epoch, big endian (8);
 *  - random: 16 bytes from gnutls_rnd;
 *  - mac: the first 24 bytes of HMAC-SHA256 under the server key of a domain
 *    label, the realm, the stamp and the random part.
 * Any node holding the same key file accepts the nonces of the others; no
 * state is needed to tell an authentic nonce from a forged one. The stamp and
 * random part together (DIGEST_NONCE_ID_SIZE bytes) identify the nonce in the
 * replay cache.
 */
#ifndef GUISE_DIGEST_NONCE_H
#define GUISE_DIGEST_NONCE_H

#include <guise/result.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIGEST_NONCE_KEY_SIZE 32
#define DIGEST_NONCE_ID_SIZE  24
#define DIGEST_NONCE_TEXT_LEN 64

/* Reads the 32-byte key from path. When the file does not exist it is created
 * atomically (written to a temporary file, then linked into place so that a
 * concurrent creator's key wins and is read back) with mode 0600. A file of
 * any other size is refused. *created tells whether this call made it,
 * *too_open whether group or others may access it. On failure err holds an
 * English message. */
guise_result digest_nonce_key_load(const char *path, uint8_t key[DIGEST_NONCE_KEY_SIZE],
                                   bool *created, bool *too_open, char *err, size_t err_size);

/* The same for a check of the configuration (`guised -t`), which must write
 * nothing: an existing file is read and checked as above; a missing one is
 * not created, but its directory must exist and be writable and searchable
 * by this process (what creating it needs); key then holds random bytes
 * so that the caller can go on as after a load. */
guise_result digest_nonce_key_check(const char *path, uint8_t key[DIGEST_NONCE_KEY_SIZE],
                                    bool *too_open, char *err, size_t err_size);

/* Current time in microseconds (CLOCK_REALTIME, so that nodes agree), made
 * strictly increasing within the process so that nonce stamps are unique and
 * ordered (the replay cache relies on that). */
uint64_t digest_nonce_now_us(void);

/* Writes a new nonce stamped stamp_us into out (DIGEST_NONCE_TEXT_LEN + 1). */
void digest_nonce_make(const uint8_t key[DIGEST_NONCE_KEY_SIZE], const char *realm,
                       uint64_t stamp_us, char *out);

enum digest_nonce_state {
    DIGEST_NONCE_VALID = 0,
    DIGEST_NONCE_EXPIRED = 1, /* authentic but too old (or from a clock far ahead) */
    DIGEST_NONCE_INVALID = 2, /* malformed or not made with this key and realm */
};

struct digest_nonce_info {
    uint64_t stamp_us;
    uint64_t age_us; /* 0 for a stamp in the future */
    uint8_t id[DIGEST_NONCE_ID_SIZE];
};

/* Checks a nonce: authentic under key and realm, and younger than
 * lifetime_us at now_us. info is filled for VALID and EXPIRED. */
enum digest_nonce_state digest_nonce_check(const uint8_t key[DIGEST_NONCE_KEY_SIZE],
                                           const char *realm, const char *nonce, uint64_t now_us,
                                           uint64_t lifetime_us, struct digest_nonce_info *info);

/* The opaque value of the challenges: derived from the key and realm, so that
 * every node gives the same (hex, 32 digits + NUL). */
void digest_opaque_make(const uint8_t key[DIGEST_NONCE_KEY_SIZE], const char *realm, char *out);

#endif
