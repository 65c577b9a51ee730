/* Helpers of the Digest unit tests, around the shared fake host: a Digest
 * client and the parameters of a challenge. */
#ifndef GUISE_TEST_DIGEST_UTIL_H
#define GUISE_TEST_DIGEST_UTIL_H

#include "fake_host.h"
#include "plugins/digest/digest_algo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- a Digest client ---- */

struct digest_client {
    enum digest_alg alg;
    const char *user, *realm, *password;
    const char *method, *uri;
    const char *qop; /* "auth" or "auth-int" */
    const char *nonce, *opaque;
    uint32_t nc;
    const char *cnonce;
    bool userhash;
    bool username_star; /* send username* (UTF-8'') instead of username */
    const void *body;
    size_t body_len;
    bool omit_algorithm;
};

/* Writes the credentials (what follows "Digest ") into out. */
void digest_client_header(const struct digest_client *c, char *out, size_t size);
/* The response the client computes. */
void digest_client_response(const struct digest_client *c, char *hex);

/* Copies parameter name of a challenge or Authentication-Info value into
 * out; false when absent. */
bool auth_param(const char *params, const char *name, char *out, size_t size);

#endif
