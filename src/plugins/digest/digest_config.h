/* Digest plug-in: its properties, parsed and validated at init. */
#ifndef GUISE_DIGEST_CONFIG_H
#define GUISE_DIGEST_CONFIG_H

#include "plugins/digest/digest_algo.h"

#include <guise/plugin.h>

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_REALM_MAX 256
/* md5-first-agents: at most this many prefixes of this many bytes each. */
#define DIGEST_AGENTS_MAX       32
#define DIGEST_AGENT_PREFIX_MAX 128

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
    /* User-Agent prefixes of clients that read only the first challenge and
     * know only MD5 (Python's urllib): they get the MD5 challenges first. */
    char *md5_first_agents[DIGEST_AGENTS_MAX];
    size_t n_md5_first_agents;
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
/* The order of the challenges for a client: the configured order, except
 * that a client whose User-Agent starts with one of md5-first-agents gets MD5
 * then MD5-sess first (when MD5 is offered), the others after in configured
 * order. user_agent may be NULL. Writes cfg->nalgs algorithms to out. */
void digest_config_challenge_order(const struct digest_config *cfg, const char *user_agent,
                                   enum digest_alg out[DIGEST_ALG_COUNT]);

#endif
