/* Basic plug-in: Apache's "$apr1$" MD5 password hash, the default of
 * htpasswd -m (and of htpasswd before 2.4).
 *
 * Why here and not crypt(3): apr1 is the md5-crypt algorithm with the magic
 * "$apr1$" instead of "$1$", and no library in Debian outside Apache's own
 * libaprutil implements it (libxcrypt knows only "$1$"; linking APR into the
 * server for one function is not worth it). It is built on nettle's MD5.
 */
#ifndef GUISE_BASIC_APR1_H
#define GUISE_BASIC_APR1_H

#include <stdbool.h>
#include <stddef.h>

#define BASIC_APR1_PREFIX   "$apr1$"
#define BASIC_APR1_SALT_MAX 8
/* "$apr1$" + salt + "$" + 22 characters + NUL */
#define BASIC_APR1_SIZE (6 + BASIC_APR1_SALT_MAX + 1 + 22 + 1)

/* Hashes password with the salt of setting ("$apr1$salt" or a whole
 * "$apr1$salt$hash"; the salt ends at '$', NUL or after 8 characters) into
 * out. False when setting does not start with "$apr1$". */
bool basic_apr1_hash(const char *password, size_t password_len, const char *setting,
                     char out[BASIC_APR1_SIZE]);

#endif
