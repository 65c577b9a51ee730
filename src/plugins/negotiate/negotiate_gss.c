/* Negotiate / NTLM plug-ins: keytab checks and acceptor credentials. */
#include "plugins/negotiate/negotiate_gss.h"

#include <errno.h>
#include <fcntl.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static gss_OID_desc oid_ntlmssp = {10, (void *)"\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"};
static gss_OID_desc oid_spnego = {6, (void *)"\x2b\x06\x01\x05\x05\x02"};
const gss_OID negotiate_oid_ntlmssp = &oid_ntlmssp;

void negotiate_gss_error(OM_uint32 major, OM_uint32 minor, gss_OID mech, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    /* Major codes first, then the mechanism's minor code: the latter is the
     * useful one ("Key table file ... not found"). */
    for (int pass = 0; pass < 2; pass++) {
        OM_uint32 code = pass == 0 ? major : minor;
        int type = pass == 0 ? GSS_C_GSS_CODE : GSS_C_MECH_CODE;
        if (pass == 1 && minor == 0)
            break;
        OM_uint32 ctx = 0, min;
        do {
            gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
            if (GSS_ERROR(gss_display_status(&min, code, type, mech, &ctx, &msg)))
                break;
            if (pos < size)
                pos += (size_t)snprintf(buf + pos, size - pos, "%s%.*s", pos ? ": " : "",
                                        (int)msg.length, (const char *)msg.value);
            gss_release_buffer(&min, &msg);
        } while (ctx != 0);
    }
}

/* ---- keytab ---- */

/* The file behind a keytab name ("FILE:/x", "WRFILE:/x", "/x"), or NULL for
 * other kinds (MEMORY:, ...), which have no file to check. */
static const char *keytab_path(const char *name)
{
    if (strncmp(name, "FILE:", 5) == 0)
        return name + 5;
    if (strncmp(name, "WRFILE:", 7) == 0)
        return name + 7;
    return name[0] == '/' ? name : NULL;
}

static guise_result krb5_failed(krb5_context kc, krb5_error_code code, const char *what,
                                const char *keytab, char *err, size_t err_size)
{
    const char *msg = krb5_get_error_message(kc, code);
    snprintf(err, err_size, "keytab %s: %s: %s", keytab, what, msg);
    krb5_free_error_message(kc, msg);
    return GUISE_E_FAIL;
}

/* Counts the keytab's entries and those of HTTP/ principals, and looks for
 * the configured principal. */
static guise_result scan_keytab(krb5_context kc, const char *name, const char *principal,
                                struct negotiate_acceptor_info *info, char *err, size_t err_size)
{
    krb5_keytab kt = NULL;
    krb5_principal want = NULL;
    krb5_kt_cursor cursor;
    krb5_keytab_entry entry;
    bool found = false;
    krb5_error_code code;
    guise_result r = GUISE_S_OK;

    if (principal && (code = krb5_parse_name(kc, principal, &want)) != 0)
        return krb5_failed(kc, code, "cannot parse the principal", name, err, err_size);
    if ((code = krb5_kt_resolve(kc, name, &kt)) != 0) {
        r = krb5_failed(kc, code, "cannot open", name, err, err_size);
        goto out;
    }
    if ((code = krb5_kt_start_seq_get(kc, kt, &cursor)) != 0) {
        r = krb5_failed(kc, code, "cannot read", name, err, err_size);
        goto out;
    }
    while ((code = krb5_kt_next_entry(kc, kt, &entry, &cursor)) == 0) {
        info->keys++;
        const krb5_data *service = krb5_princ_component(kc, entry.principal, 0);
        if (krb5_princ_size(kc, entry.principal) >= 2 && service && service->length == 4 &&
            memcmp(service->data, "HTTP", 4) == 0)
            info->http_keys++;
        if (want && krb5_principal_compare(kc, want, entry.principal))
            found = true;
        krb5_free_keytab_entry_contents(kc, &entry);
    }
    krb5_kt_end_seq_get(kc, kt, &cursor);
    if (code != KRB5_KT_END) {
        r = krb5_failed(kc, code, "cannot read", name, err, err_size);
        goto out;
    }
    if (info->keys == 0) {
        snprintf(err, err_size, "keytab %s holds no keys", name);
        r = GUISE_E_NOT_FOUND;
    } else if (want && !found) {
        char *text = NULL;
        krb5_unparse_name(kc, want, &text);
        snprintf(err, err_size, "keytab %s holds no key for principal %s", name,
                 text ? text : principal);
        krb5_free_unparsed_name(kc, text);
        r = GUISE_E_NOT_FOUND;
    } else if (!want && info->http_keys == 0) {
        snprintf(err, err_size, "keytab %s holds no key of an HTTP/ service principal", name);
        r = GUISE_E_NOT_FOUND;
    }
out:
    if (kt)
        krb5_kt_close(kc, kt);
    krb5_free_principal(kc, want);
    return r;
}

static guise_result check_keytab(const struct negotiate_config *cfg,
                                 struct negotiate_acceptor_info *info, char *err, size_t err_size)
{
    krb5_context kc;
    krb5_error_code code = krb5_init_context(&kc);
    if (code != 0) {
        snprintf(err, err_size, "cannot initialise Kerberos (krb5.conf?): %s", strerror(code));
        return GUISE_E_FAIL;
    }
    guise_result r = GUISE_S_OK;
    if (cfg->keytab)
        snprintf(info->keytab, sizeof info->keytab, "FILE:%s", cfg->keytab);
    else if ((code = krb5_kt_default_name(kc, info->keytab, sizeof info->keytab)) != 0)
        r = krb5_failed(kc, code, "no default keytab", "(default)", err, err_size);
    const char *path = r == GUISE_S_OK ? keytab_path(info->keytab) : NULL;
    if (path) {
        /* krb5's own messages for a missing or unreadable file are vague
         * ("No such file or directory" without the file, or "Key table
         * entry not found"): the administrator needs errno and the path. */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, err_size, "keytab %s: %s", path, strerror(errno));
            r = GUISE_RESULT_FROM_ERRNO(errno);
        } else {
            close(fd);
        }
    }
    if (r == GUISE_S_OK)
        r = scan_keytab(kc, info->keytab, cfg->principal, info, err, err_size);
    krb5_free_context(kc);
    return r;
}

/* ---- NTLM ---- */

static bool ntlmssp_installed(void)
{
    OM_uint32 min;
    gss_OID_set mechs = GSS_C_NO_OID_SET;
    int present = 0;
    if (GSS_ERROR(gss_indicate_mechs(&min, &mechs)))
        return false;
    gss_test_oid_set_member(&min, negotiate_oid_ntlmssp, mechs, &present);
    gss_release_oid_set(&min, &mechs);
    return present != 0;
}

/* gss-ntlmssp's acceptor reads its users from the file NTLM_USER_FILE names
 * (lines DOMAIN:user:password), re-opened at every authentication. */
static guise_result check_ntlm(struct negotiate_acceptor_info *info, char *err, size_t err_size)
{
    if (!ntlmssp_installed()) {
        snprintf(err, err_size,
                 "the GSSAPI NTLMSSP mechanism (gss-ntlmssp, OID 1.3.6.1.4.1.311.2.2.10) is not "
                 "installed: see /etc/gss/mech.d/");
        return GUISE_E_NOT_SUPPORTED;
    }
    const char *file = getenv("NTLM_USER_FILE");
    if (!file || !*file) {
        snprintf(err, err_size,
                 "NTLM_USER_FILE is not set in the server's environment (gss-ntlmssp reads "
                 "its DOMAIN:user:password lines from that file)");
        return GUISE_E_NOT_FOUND;
    }
    snprintf(info->ntlm_file, sizeof info->ntlm_file, "%s", file);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_size, "NTLM user file %s (NTLM_USER_FILE): %s", file, strerror(errno));
        return GUISE_RESULT_FROM_ERRNO(errno);
    }
    close(fd);
    return GUISE_S_OK;
}

/* ---- credentials ---- */

static guise_result gss_failed(const char *what, OM_uint32 major, OM_uint32 minor, gss_OID mech,
                               char *err, size_t err_size)
{
    char msg[512];
    negotiate_gss_error(major, minor, mech, msg, sizeof msg);
    snprintf(err, err_size, "%s: %s", what, msg);
    return GUISE_E_FAIL;
}

/* SPNEGO acceptor. gss_set_neg_mechs limits what SPNEGO offers and
 * accepts. The keytab should go to the cred store of this credential only
 * (gss_acquire_cred_from), but a cred store reaches every mechanism, and
 * gss-ntlmssp then builds a credential that is not a server credential: its
 * acceptor answers "Not a server credential type" (what the mod_auth_gssapi
 * try met). With ntlmssp among the mechanisms the keytab is therefore named
 * through krb5_gss_register_acceptor_identity, process-wide but read when
 * the credential is acquired, and no cred store is given. */
static guise_result acquire_spnego(const struct negotiate_config *cfg,
                                   const struct negotiate_acceptor_info *info, gss_cred_id_t *cred,
                                   char *err, size_t err_size)
{
    OM_uint32 maj, min;
    gss_name_t name = GSS_C_NO_NAME;
    guise_result r = GUISE_S_OK;
    if (cfg->principal) {
        gss_buffer_desc b = {strlen(cfg->principal), cfg->principal};
        maj = gss_import_name(&min, &b, GSS_KRB5_NT_PRINCIPAL_NAME, &name);
        if (GSS_ERROR(maj))
            return gss_failed("principal", maj, min, GSS_C_NO_OID, err, err_size);
    }
    gss_key_value_element_desc el = {"keytab", info->keytab};
    gss_key_value_set_desc store = {1, &el};
    gss_const_key_value_set_t use_store = &store;
    if (cfg->mechs & NEGOTIATE_MECH_NTLMSSP) {
        use_store = GSS_C_NO_CRED_STORE;
        if (cfg->mechs & NEGOTIATE_MECH_KRB5) {
            maj = krb5_gss_register_acceptor_identity(info->keytab);
            if (GSS_ERROR(maj)) {
                r = gss_failed("cannot register the keytab", maj, 0, GSS_C_NO_OID, err, err_size);
                goto out;
            }
        }
    }
    gss_OID_set_desc want = {1, &oid_spnego};
    maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, &want, GSS_C_ACCEPT, use_store, cred,
                                NULL, NULL);
    if (GSS_ERROR(maj)) {
        char what[1100];
        snprintf(what, sizeof what, "no acceptor credential from keytab %s", info->keytab);
        r = gss_failed(what, maj, min, GSS_C_NO_OID, err, err_size);
        goto out;
    }
    gss_OID_desc mechs[2];
    gss_OID_set_desc neg = {0, mechs};
    if (cfg->mechs & NEGOTIATE_MECH_KRB5)
        mechs[neg.count++] = *gss_mech_krb5;
    if (cfg->mechs & NEGOTIATE_MECH_NTLMSSP)
        mechs[neg.count++] = oid_ntlmssp;
    maj = gss_set_neg_mechs(&min, *cred, &neg);
    if (GSS_ERROR(maj)) {
        r = gss_failed("cannot limit SPNEGO to the configured mechanisms", maj, min, GSS_C_NO_OID,
                       err, err_size);
        gss_release_cred(&min, cred);
    }
out:
    gss_release_name(&min, &name);
    return r;
}

/* NTLM acceptor: a server credential of gss-ntlmssp alone, without a cred
 * store (given one, gss-ntlmssp builds no server credential: the "Not a
 * server credential type" of the mod_auth_gssapi try). Raw NTLMSSP tokens
 * reach the mechanism through the mechglue, which recognises their
 * signature; the other failure of that try, "Failed to decode data", was
 * curl's message layout, which negotiate_ntlm_layout rewrites. */
static guise_result acquire_ntlm(gss_cred_id_t *cred, char *err, size_t err_size)
{
    OM_uint32 min;
    gss_OID_set_desc want = {1, &oid_ntlmssp};
    OM_uint32 maj = gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &want, GSS_C_ACCEPT,
                                     cred, NULL, NULL);
    if (GSS_ERROR(maj))
        return gss_failed("no NTLMSSP acceptor credential", maj, min, &oid_ntlmssp, err, err_size);
    return GUISE_S_OK;
}

guise_result negotiate_acquire(const struct negotiate_config *cfg, gss_cred_id_t *cred,
                               struct negotiate_acceptor_info *info, char *err, size_t err_size)
{
    guise_result r;
    memset(info, 0, sizeof *info);
    *cred = GSS_C_NO_CREDENTIAL;
    if (cfg->mechs & NEGOTIATE_MECH_NTLMSSP) {
        if ((r = check_ntlm(info, err, err_size)) != GUISE_S_OK)
            return r;
    }
    if (cfg->mode == NEGOTIATE_MODE_NTLM)
        return acquire_ntlm(cred, err, err_size);
    if ((cfg->mechs & NEGOTIATE_MECH_KRB5) &&
        (r = check_keytab(cfg, info, err, err_size)) != GUISE_S_OK)
        return r;
    return acquire_spnego(cfg, info, cred, err, err_size);
}
