/* Negotiate / NTLM plug-ins: properties. */
#include "plugins/negotiate/negotiate_config.h"
#include <guise/props.h>

#include "plugins/common/account_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct guise_property_spec negotiate_properties[] = {
    {"keytab", 0,
     "keytab holding the HTTP/ service keys (default: KRB5_KTNAME, else the system "
     "keytab); the server needs read access"},
    {"principal", 0,
     "service principal to accept for, e.g. HTTP/media.example.org (default: any HTTP/ "
     "principal of the keytab)"},
    {"mechanisms", 0,
     "mechanisms SPNEGO may negotiate: krb5, ntlmssp (default \"krb5\"; ntlmssp needs "
     "gss-ntlmssp and NTLM_USER_FILE)"},
    {"account-map", 0, "file of 'principal account' lines; '*' for everyone else"},
    {"account", 0, "account impersonated by principals the account map does not name"},
    {NULL, 0, NULL},
};

const struct guise_property_spec ntlm_properties[] = {
    {"account-map", 0, "file of 'DOMAIN\\user account' lines; '*' for everyone else"},
    {"account", 0, "account impersonated by users the account map does not name"},
    {NULL, 0, NULL},
};

static bool is_sep(char c)
{
    return c == ' ' || c == '\t' || c == ',';
}

const char *negotiate_mechs_parse(const char *list, unsigned *out, const char **bad,
                                  size_t *bad_len)
{
    *out = 0;
    *bad = NULL;
    *bad_len = 0;
    for (const char *p = list; *p;) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !is_sep(*p))
            p++;
        size_t len = (size_t)(p - start);
        unsigned m = 0;
        if (len == 4 && strncmp(start, "krb5", 4) == 0)
            m = NEGOTIATE_MECH_KRB5;
        else if (len == 7 && strncmp(start, "ntlmssp", 7) == 0)
            m = NEGOTIATE_MECH_NTLMSSP;
        *bad = start;
        *bad_len = len;
        if (!m)
            return "unknown mechanism (krb5, ntlmssp)";
        if (*out & m)
            return "listed twice";
        *out |= m;
        *bad = NULL;
        *bad_len = 0;
    }
    if (!*out)
        return "no mechanism";
    return NULL;
}

const char *negotiate_principal_check(const char *s)
{
    size_t len = strlen(s);
    if (len == 0)
        return "empty principal";
    if (len > NEGOTIATE_PRINCIPAL_MAX)
        return "principal too long";
    const char *at = strchr(s, '@');
    if (at && strchr(at + 1, '@'))
        return "more than one '@'";
    if (at && at[1] == '\0')
        return "empty realm after '@'";
    size_t name_len = at ? (size_t)(at - s) : len;
    size_t components = 1;
    size_t component_len = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f)
            return "blank or control character";
        if (c == '\\')
            return "escaped characters are not supported";
        if (i < name_len && c == '/') {
            if (component_len == 0)
                return "empty component";
            components++;
            component_len = 0;
        } else if (i < name_len) {
            component_len++;
        }
    }
    if (component_len == 0)
        return "empty component";
    if (components < 2)
        return "not a service principal (service/host)";
    return NULL;
}

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

static guise_result parse_kerberos(const guise_props *props, struct negotiate_config *cfg)
{
    guise_result r = parse_path(props, "keytab", &cfg->keytab);
    if (r != GUISE_S_OK)
        return r;
    const char *v = guise_props_get(props, "principal");
    if (v) {
        const char *why = negotiate_principal_check(v);
        if (why)
            return guise_props_fail(props, "principal", "'%s': %s", v, why);
        if ((r = dup_into(&cfg->principal, v)) != GUISE_S_OK)
            return r;
    }
    v = guise_props_get(props, "mechanisms");
    const char *bad;
    size_t bad_len;
    const char *why = negotiate_mechs_parse(v ? v : "krb5", &cfg->mechs, &bad, &bad_len);
    if (why && bad_len)
        return guise_props_fail(props, "mechanisms", "'%.*s': %s", (int)bad_len, bad, why);
    if (why)
        return guise_props_fail(props, "mechanisms", "%s", why);
    /* gss-ntlmssp cannot take a Kerberos principal name: SPNEGO would be
     * left without NTLM, silently. */
    if (cfg->principal && (cfg->mechs & NEGOTIATE_MECH_NTLMSSP))
        return guise_props_fail(props, "principal",
                                "cannot be combined with mechanism ntlmssp (gss-ntlmssp takes no "
                                "Kerberos principal): leave it unset to accept for any HTTP/ "
                                "principal of the keytab");
    return GUISE_S_OK;
}

guise_result negotiate_config_parse(enum negotiate_mode mode, const guise_props *props,
                                    struct negotiate_config *cfg)
{
    guise_result r;
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = mode;
    if (mode == NEGOTIATE_MODE_SPNEGO) {
        if ((r = parse_kerberos(props, cfg)) != GUISE_S_OK)
            goto out;
    } else {
        cfg->mechs = NEGOTIATE_MECH_NTLMSSP;
    }
    if ((r = parse_path(props, "account-map", &cfg->account_map)) != GUISE_S_OK)
        goto out;
    const char *account = guise_props_get(props, "account");
    if (account && !pk_account_name_ok(account)) {
        r = guise_props_fail(props, "account", "'%s' is not a valid account name", account);
        goto out;
    }
    r = dup_into(&cfg->account, account);
out:
    if (r != GUISE_S_OK)
        negotiate_config_free(cfg);
    return r;
}

void negotiate_config_free(struct negotiate_config *cfg)
{
    free(cfg->keytab);
    free(cfg->principal);
    free(cfg->account_map);
    free(cfg->account);
    cfg->keytab = cfg->principal = cfg->account_map = cfg->account = NULL;
}
