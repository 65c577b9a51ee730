/* Digest plug-in: its properties, parsed and validated at init. */
#ifndef GUISE_DIGEST_CONFIG_H
#define GUISE_DIGEST_CONFIG_H

#include "plugins/digest/digest_algo.h"

#include <guise/plugin.h>

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_REALM_MAX 256

struct digest_config {
    char *realm;
    enum digest_alg algs[DIGEST_ALG_COUNT]; /* in the order challenges are sent */
    size_t nalgs;
    bool qop_auth, qop_auth_int;
    char *user_file;
    char *account_map; /* NULL: none */
    char *account;     /* NULL: none */
    char *nonce_key_file;
    unsigned long nonce_lifetime; /* seconds */
    unsigned long nonce_cache_size;
    bool userhash;
};

/* The property declarations of the descriptor, terminated by {NULL}. */
extern const struct guise_property_spec digest_properties[];

/* Parses and validates every property. Returns GUISE_E_INVALIDARG after
 * guise_props_fail naming the key, or GUISE_E_OUTOFMEMORY. */
guise_result digest_config_parse(const struct guise_host_services *host, const guise_props *props,
                                 struct digest_config *cfg);
void digest_config_free(struct digest_config *cfg);
/* True when alg is among the configured algorithms. */
bool digest_config_offers(const struct digest_config *cfg, enum digest_alg alg);

#endif
