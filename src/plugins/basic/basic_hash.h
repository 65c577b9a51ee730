/* Basic plug-in: the password hashes of an Apache htpasswd file and their
 * verification. Slow by design (yescrypt, bcrypt): call from a worker. */
#ifndef GUISE_BASIC_HASH_H
#define GUISE_BASIC_HASH_H

#include <stdbool.h>
#include <stddef.h>

enum basic_hash_kind {
    BASIC_HASH_YESCRYPT,    /* $y$ (crypt(3)) */
    BASIC_HASH_BCRYPT,      /* $2y$, $2b$, $2a$ (crypt(3), htpasswd -B) */
    BASIC_HASH_SHA512CRYPT, /* $6$ (crypt(3), htpasswd -5) */
    BASIC_HASH_SHA256CRYPT, /* $5$ (crypt(3), htpasswd -2) */
    BASIC_HASH_APR1,        /* $apr1$ (htpasswd -m, the default) */
    BASIC_HASH_SHA1,        /* {SHA} base64 of unsalted SHA-1 (htpasswd -s) */
    BASIC_HASH_UNSUPPORTED, /* plain text (htpasswd -p), DES crypt (-d), anything else */
};

/* The kind of a stored hash, by its prefix. */
enum basic_hash_kind basic_hash_classify(const char *hash);
/* "yescrypt", "bcrypt", ..., "plain text or unknown". */
const char *basic_hash_kind_name(enum basic_hash_kind kind);
/* True when password matches hash. password is a C string (crypt(3) takes
 * no length) and password_len its strlen. Unsupported kinds and
 * hashes crypt(3) rejects never match. The final comparison is constant
 * time. */
bool basic_hash_verify(const char *hash, const char *password, size_t password_len);

#endif
