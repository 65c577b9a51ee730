/* Digest plug-in: properties. */
#include "plugins/digest/digest_config.h"
#include <guise/props.h>

#include "plugins/common/account_map.h"
#include "plugins/digest/digest_userfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct guise_property_spec digest_properties[] = {
    {"realm", 0, "realm of the challenges and of the user file (default: the server realm)"},
    {"algorithms", 0,
     "algorithms offered, one challenge each, in this order: MD5, MD5-sess, SHA-256, "
     "SHA-256-sess, SHA-512-256, SHA-512-256-sess (default \"SHA-256 MD5\")"},
    {"qop", 0,
     "qualities of protection offered: auth, auth-int (default \"auth\": wget 1.21 "
     "gives up qop when the challenge lists more)"},
    {"user-file", 0, "htdigest-format user file (required; re-read when it changes)"},
    {"account-map", 0, "file of 'user account' lines; '*' for everyone else"},
    {"account", 0, "account impersonated by users the account map does not name"},
    {"nonce-key-file", 0,
     "32-byte key that signs nonces, created when missing; share it between nodes "
     "(default <state_dir>/digest-nonce.key)"},
    {"nonce-lifetime", 0, "seconds a nonce stays valid (default 300)"},
    {"nonce-cache-size", 0, "nonces tracked for replay protection (default 16384)"},
    {"userhash", 0, "offer userhash=true (default true)"},
    {"md5-first-agents", 0,
     "User-Agent prefixes, separated by blanks, of clients that get the MD5 challenges first "
     "because they read only the first one and know only MD5 (default \"Python-urllib "
     "GStreamer\"; empty: none)"},
    {NULL, 0, NULL},
};

static bool is_sep(char c)
{
    return c == ' ' || c == '\t' || c == ',';
}

static guise_result parse_algorithms(const guise_props *props, struct digest_config *cfg)
{
    const char *v = guise_props_get(props, "algorithms");
    if (!v)
        v = "SHA-256 MD5";
    cfg->nalgs = 0;
    for (const char *p = v; *p;) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !is_sep(*p))
            p++;
        size_t len = (size_t)(p - start);
        enum digest_alg alg;
        if (!digest_alg_parse(start, len, &alg))
            return guise_props_fail(props, "algorithms",
                                    "unknown algorithm '%.*s' (MD5, MD5-sess, SHA-256, "
                                    "SHA-256-sess, SHA-512-256, SHA-512-256-sess)",
                                    (int)len, start);
        if (digest_config_offers(cfg, alg))
            return guise_props_fail(props, "algorithms", "'%s' listed twice", digest_alg_name(alg));
        cfg->algs[cfg->nalgs++] = alg;
    }
    if (cfg->nalgs == 0)
        return guise_props_fail(props, "algorithms", "no algorithm");
    return GUISE_S_OK;
}

static guise_result parse_qop(const guise_props *props, struct digest_config *cfg)
{
    const char *v = guise_props_get(props, "qop");
    /* auth only by default: wget 1.21 drops qop (and so nc and cnonce, the
     * replay protection) unless the challenge offers exactly "auth", and
     * the RFC 2069 form it then sends is refused. auth-int is opt-in. */
    if (!v)
        v = "auth";
    cfg->qop_auth = cfg->qop_auth_int = false;
    for (const char *p = v; *p;) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !is_sep(*p))
            p++;
        size_t len = (size_t)(p - start);
        bool *flag = NULL;
        if (len == 4 && memcmp(start, "auth", 4) == 0)
            flag = &cfg->qop_auth;
        else if (len == 8 && memcmp(start, "auth-int", 8) == 0)
            flag = &cfg->qop_auth_int;
        else
            return guise_props_fail(props, "qop", "unknown qop '%.*s' (auth, auth-int)", (int)len,
                                    start);
        if (*flag)
            return guise_props_fail(props, "qop", "'%.*s' listed twice", (int)len, start);
        *flag = true;
    }
    if (!cfg->qop_auth && !cfg->qop_auth_int)
        return guise_props_fail(props, "qop", "no qop");
    return GUISE_S_OK;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Prefixes are compared with the User-Agent byte for byte: visible ASCII
 * only, so that nothing invisible makes a prefix silently never match. */
static guise_result parse_agents(const guise_props *props, struct digest_config *cfg)
{
    const char *v = guise_props_get(props, "md5-first-agents");
    if (!v)
        v = "Python-urllib GStreamer";
    for (const char *p = v; *p;) {
        while (*p && is_blank(*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !is_blank(*p))
            p++;
        size_t len = (size_t)(p - start);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)start[i];
            if (c < 0x21 || c > 0x7e)
                return guise_props_fail(props, "md5-first-agents",
                                        "prefix %zu holds byte 0x%02x, not visible ASCII",
                                        cfg->n_md5_first_agents + 1, c);
        }
        if (len > DIGEST_AGENT_PREFIX_MAX)
            return guise_props_fail(props, "md5-first-agents", "a prefix longer than %d bytes",
                                    DIGEST_AGENT_PREFIX_MAX);
        if (cfg->n_md5_first_agents == DIGEST_AGENTS_MAX)
            return guise_props_fail(props, "md5-first-agents", "more than %d prefixes",
                                    DIGEST_AGENTS_MAX);
        char *copy = strndup(start, len);
        if (!copy)
            return GUISE_E_OUTOFMEMORY;
        cfg->md5_first_agents[cfg->n_md5_first_agents++] = copy;
    }
    return GUISE_S_OK;
}

static guise_result dup_into(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? GUISE_E_OUTOFMEMORY : GUISE_S_OK;
}

/* An absolute path: the daemon's working directory means nothing to admins. */
static guise_result parse_path(const guise_props *props, const char *key, const char *dflt,
                               char **out)
{
    const char *v = guise_props_get(props, key);
    if (!v)
        v = dflt;
    if (v && v[0] != '/')
        return guise_props_fail(props, key, "'%s' is not an absolute path", v);
    return dup_into(out, v);
}

static guise_result parse_realm(const struct guise_host_services *host, const guise_props *props,
                                struct digest_config *cfg)
{
    const char *v = guise_props_get(props, "realm");
    if (!v && host && host->realm)
        v = host->realm(host->host);
    if (!v || !*v)
        return guise_props_fail(props, "realm", "empty realm");
    if (strlen(v) > DIGEST_REALM_MAX)
        return guise_props_fail(props, "realm", "longer than %d bytes", DIGEST_REALM_MAX);
    /* The user file separates fields with ':' and cannot hold this realm. */
    if (!digest_userfile_name_ok(v, strlen(v)))
        return guise_props_fail(props, "realm",
                                "'%s' holds ':' or a control character, which the "
                                "htdigest user file cannot store",
                                v);
    return dup_into(&cfg->realm, v);
}

guise_result digest_config_parse(const struct guise_host_services *host, const guise_props *props,
                                 struct digest_config *cfg)
{
    guise_result r;
    memset(cfg, 0, sizeof *cfg);

    if ((r = parse_realm(host, props, cfg)) != GUISE_S_OK ||
        (r = parse_algorithms(props, cfg)) != GUISE_S_OK ||
        (r = parse_qop(props, cfg)) != GUISE_S_OK)
        goto out;

    if (!guise_props_get(props, "user-file")) {
        r = guise_props_fail(props, "user-file", "required: the htdigest file of the users");
        goto out;
    }
    if ((r = parse_path(props, "user-file", NULL, &cfg->user_file)) != GUISE_S_OK ||
        (r = parse_path(props, "account-map", NULL, &cfg->account_map)) != GUISE_S_OK)
        goto out;

    const char *account = guise_props_get(props, "account");
    if (account && !pk_account_name_ok(account)) {
        r = guise_props_fail(props, "account", "'%s' is not a valid account name", account);
        goto out;
    }
    if ((r = dup_into(&cfg->account, account)) != GUISE_S_OK)
        goto out;

    const char *state = host && host->state_dir ? host->state_dir(host->host) : NULL;
    char *dflt_key = NULL;
    if (state && asprintf(&dflt_key, "%s/digest-nonce.key", state) < 0) {
        r = GUISE_E_OUTOFMEMORY;
        goto out;
    }
    if (!guise_props_get(props, "nonce-key-file") && !dflt_key) {
        r = guise_props_fail(props, "nonce-key-file", "required: the host has no state directory");
        goto out;
    }
    r = parse_path(props, "nonce-key-file", dflt_key, &cfg->nonce_key_file);
    free(dflt_key);
    if (r != GUISE_S_OK)
        goto out;

    if ((r = guise_props_uint(props, "nonce-lifetime", 300, 10, 86400, &cfg->nonce_lifetime)) !=
            GUISE_S_OK ||
        (r = guise_props_uint(props, "nonce-cache-size", 16384, 64, 1ul << 22,
                              &cfg->nonce_cache_size)) != GUISE_S_OK ||
        (r = guise_props_bool(props, "userhash", true, &cfg->userhash)) != GUISE_S_OK ||
        (r = parse_agents(props, cfg)) != GUISE_S_OK)
        goto out;
    return GUISE_S_OK;
out:
    digest_config_free(cfg);
    return r;
}

void digest_config_free(struct digest_config *cfg)
{
    free(cfg->realm);
    free(cfg->user_file);
    free(cfg->account_map);
    free(cfg->account);
    free(cfg->nonce_key_file);
    for (size_t i = 0; i < cfg->n_md5_first_agents; i++)
        free(cfg->md5_first_agents[i]);
    memset(cfg, 0, sizeof *cfg);
}

bool digest_config_offers(const struct digest_config *cfg, enum digest_alg alg)
{
    for (size_t i = 0; i < cfg->nalgs; i++) {
        if (cfg->algs[i] == alg)
            return true;
    }
    return false;
}

static bool wants_md5_first(const struct digest_config *cfg, const char *user_agent)
{
    if (!user_agent)
        return false;
    for (size_t i = 0; i < cfg->n_md5_first_agents; i++) {
        const char *prefix = cfg->md5_first_agents[i];
        if (strncmp(user_agent, prefix, strlen(prefix)) == 0)
            return true;
    }
    return false;
}

void digest_config_challenge_order(const struct digest_config *cfg, const char *user_agent,
                                   enum digest_alg out[DIGEST_ALG_COUNT])
{
    size_t n = 0;
    /* Python's urllib answers the first challenge and supports plain MD5
     * only; MD5-sess follows for clients that prefer it. Without plain MD5
     * such a client cannot log in whatever the order: keep the configured
     * one. */
    bool md5_first = digest_config_offers(cfg, DIGEST_ALG_MD5) && wants_md5_first(cfg, user_agent);
    if (md5_first) {
        out[n++] = DIGEST_ALG_MD5;
        if (digest_config_offers(cfg, DIGEST_ALG_MD5_SESS))
            out[n++] = DIGEST_ALG_MD5_SESS;
    }
    for (size_t i = 0; i < cfg->nalgs; i++) {
        enum digest_alg a = cfg->algs[i];
        if (md5_first && (a == DIGEST_ALG_MD5 || a == DIGEST_ALG_MD5_SESS))
            continue;
        out[n++] = a;
    }
}
