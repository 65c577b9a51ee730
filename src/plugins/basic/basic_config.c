/* Basic plug-in: properties. */
#include "plugins/basic/basic_config.h"
#include <guise/props.h>

#include "plugins/common/account_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct guise_property_spec basic_properties[] = {
    {"realm", 0, "realm of the challenge (default: the server realm)"},
    {"backend", 0,
     "who checks passwords: pam (default), htpasswd, or htdigest (the user file of Digest, "
     "users of `realm`)"},
    {"pam-service", 0, "PAM service name, /etc/pam.d/<name> (default guise)"},
    {"pam-timeout", 0, "seconds a PAM check may take before it is denied (default 10)"},
    {"user-file", 0, "Apache htpasswd file (backend htpasswd; re-read when it changes)"},
    {"account-map", 0, "file of 'user account' lines; '*' for everyone else"},
    {"account", 0, "account impersonated by users the account map does not name"},
    {"cache-ttl", 0, "seconds a successful check is remembered, 0 to disable (default 60)"},
    {"cache-size", 0, "successful checks remembered at most (default 1024)"},
    {"allow-plaintext", 0,
     "offer and accept Basic over plain HTTP, where anyone on the path reads the "
     "password (default false)"},
    {NULL, 0, NULL},
};

static guise_result dup_into(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? GUISE_E_OUTOFMEMORY : GUISE_S_OK;
}

/* An absolute path: the daemon's working directory means nothing to admins. */
static guise_result parse_path(const guise_props *props, const char *key, char **out)
{
    const char *v = guise_props_get(props, key);
    if (v && v[0] != '/')
        return guise_props_fail(props, key, "'%s' is not an absolute path", v);
    return dup_into(out, v);
}

/* realm="..." with '"' and '\' escaped (RFC 7230 quoted-string). */
static guise_result build_challenge(struct basic_config *cfg)
{
    size_t n = strlen(cfg->realm);
    char *out = malloc(2 * n + 64);
    if (!out)
        return GUISE_E_OUTOFMEMORY;
    char *p = out;
    p += sprintf(p, "realm=\"");
    for (const char *s = cfg->realm; *s; s++) {
        if (*s == '"' || *s == '\\')
            *p++ = '\\';
        *p++ = *s;
    }
    strcpy(p, "\", charset=\"UTF-8\"");
    cfg->challenge = out;
    return GUISE_S_OK;
}

static guise_result parse_realm(const struct guise_host_services *host, const guise_props *props,
                                struct basic_config *cfg)
{
    const char *v = guise_props_get(props, "realm");
    if (!v && host && host->realm)
        v = host->realm(host->host);
    if (!v || !*v)
        return guise_props_fail(props, "realm", "empty realm");
    if (strlen(v) > BASIC_REALM_MAX)
        return guise_props_fail(props, "realm", "longer than %d bytes", BASIC_REALM_MAX);
    for (const unsigned char *s = (const unsigned char *)v; *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            return guise_props_fail(props, "realm", "control character in the realm");
    guise_result r = dup_into(&cfg->realm, v);
    return r == GUISE_S_OK ? build_challenge(cfg) : r;
}

static guise_result parse_backend(const guise_props *props, struct basic_config *cfg)
{
    const char *v = guise_props_get(props, "backend");
    if (!v || strcmp(v, "pam") == 0)
        cfg->backend = BASIC_BACKEND_PAM;
    else if (strcmp(v, "htpasswd") == 0)
        cfg->backend = BASIC_BACKEND_HTPASSWD;
    else if (strcmp(v, "htdigest") == 0)
        cfg->backend = BASIC_BACKEND_HTDIGEST;
    else
        return guise_props_fail(props, "backend", "unknown backend '%s' (pam, htpasswd, htdigest)",
                                v);

    /* htpasswd and htdigest: a user file (the htdigest users of `realm`). */
    bool htpasswd = cfg->backend != BASIC_BACKEND_PAM;
    if (htpasswd && !guise_props_get(props, "user-file"))
        return guise_props_fail(props, "user-file", "required by backend %s", v);
    if (!htpasswd && guise_props_get(props, "user-file"))
        return guise_props_fail(props, "user-file", "only used by backends htpasswd and htdigest");
    if (htpasswd && guise_props_get(props, "pam-service"))
        return guise_props_fail(props, "pam-service", "only used by backend pam");
    if (htpasswd && guise_props_get(props, "pam-timeout"))
        return guise_props_fail(props, "pam-timeout", "only used by backend pam");

    const char *service = guise_props_get(props, "pam-service");
    if (!service)
        service = "guise";
    if (!*service || strchr(service, '/') || strcmp(service, ".") == 0 ||
        strcmp(service, "..") == 0)
        return guise_props_fail(props, "pam-service", "'%s' is not a PAM service name", service);
    return dup_into(&cfg->pam_service, service);
}

guise_result basic_config_parse(const struct guise_host_services *host, const guise_props *props,
                                struct basic_config *cfg)
{
    guise_result r;
    memset(cfg, 0, sizeof *cfg);
    if ((r = parse_realm(host, props, cfg)) != GUISE_S_OK ||
        (r = parse_backend(props, cfg)) != GUISE_S_OK ||
        (r = parse_path(props, "user-file", &cfg->user_file)) != GUISE_S_OK ||
        (r = parse_path(props, "account-map", &cfg->account_map)) != GUISE_S_OK)
        goto out;

    const char *account = guise_props_get(props, "account");
    if (account && !pk_account_name_ok(account)) {
        r = guise_props_fail(props, "account", "'%s' is not a valid account name", account);
        goto out;
    }
    if ((r = dup_into(&cfg->account, account)) != GUISE_S_OK)
        goto out;

    if ((r = guise_props_uint(props, "pam-timeout", 10, 1, 300, &cfg->pam_timeout)) != GUISE_S_OK ||
        (r = guise_props_uint(props, "cache-ttl", 60, 0, 86400, &cfg->cache_ttl)) != GUISE_S_OK ||
        (r = guise_props_uint(props, "cache-size", 1024, 1, 1ul << 20, &cfg->cache_size)) !=
            GUISE_S_OK ||
        (r = guise_props_bool(props, "allow-plaintext", false, &cfg->allow_plaintext)) !=
            GUISE_S_OK)
        goto out;
    return GUISE_S_OK;
out:
    basic_config_free(cfg);
    return r;
}

void basic_config_free(struct basic_config *cfg)
{
    free(cfg->realm);
    free(cfg->challenge);
    free(cfg->pam_service);
    free(cfg->user_file);
    free(cfg->account_map);
    free(cfg->account);
    memset(cfg, 0, sizeof *cfg);
}
