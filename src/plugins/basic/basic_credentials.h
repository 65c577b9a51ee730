/* Basic plug-in: decoding the credentials of "Authorization: Basic <blob>"
 * (RFC 7617 2): base64 of user-id ':' password, UTF-8. */
#ifndef GUISE_BASIC_CREDENTIALS_H
#define GUISE_BASIC_CREDENTIALS_H

#include <stddef.h>

/* Longest blob accepted, in bytes of base64 text. */
#define BASIC_CREDENTIALS_MAX 4096

struct basic_credentials {
    char *user;     /* malloc'd, NUL-terminated, no NUL inside */
    char *password; /* malloc'd; wiped by basic_credentials_clear */
    size_t password_len;
};

/* Decodes blob (len bytes, as sent after "Basic "; surrounding blanks are
 * tolerated). Returns NULL and fills c on success, or a static reason
 * ("bad base64", "no colon", ...) when the credentials are malformed, with c
 * left empty. Out of memory also returns a reason ("out of memory"). */
const char *basic_credentials_decode(const char *blob, size_t len, struct basic_credentials *c);
/* Wipes the password and frees both strings. */
void basic_credentials_clear(struct basic_credentials *c);

#endif
