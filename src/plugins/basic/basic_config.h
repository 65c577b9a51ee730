/* Basic plug-in: its properties, parsed and validated at init. */
#ifndef GUISE_BASIC_CONFIG_H
#define GUISE_BASIC_CONFIG_H

#include <guise/plugin.h>

#include <stdbool.h>

#define BASIC_REALM_MAX 256

enum basic_backend {
    BASIC_BACKEND_PAM,
    BASIC_BACKEND_HTPASSWD,
    BASIC_BACKEND_HTDIGEST,
};

struct basic_config {
    char *realm;
    char *challenge; /* realm="...", charset="UTF-8" */
    enum basic_backend backend;
    char *pam_service;
    unsigned long pam_timeout; /* seconds */
    char *user_file;           /* htpasswd and htdigest */
    char *account_map;         /* NULL: none */
    char *account;             /* NULL: none */
    unsigned long cache_ttl;   /* seconds, 0: no cache */
    unsigned long cache_size;
    bool allow_plaintext;
};

/* The property declarations of the descriptor, terminated by {NULL}. */
extern const struct guise_property_spec basic_properties[];

/* Parses and validates every property. Returns GUISE_E_INVALIDARG after
 * guise_props_fail naming the key, or GUISE_E_OUTOFMEMORY. */
guise_result basic_config_parse(const struct guise_host_services *host, const guise_props *props,
                                struct basic_config *cfg);
void basic_config_free(struct basic_config *cfg);

#endif
