/* Negotiate / NTLM plug-ins: properties, parsed and validated at init. The
 * parsing helpers are pure (no GSSAPI) so that unit tests can reach them. */
#ifndef GUISE_NEGOTIATE_CONFIG_H
#define GUISE_NEGOTIATE_CONFIG_H

#include <guise/plugin.h>

#include <stdbool.h>
#include <stddef.h>

/* Mechanisms SPNEGO may negotiate (the `mechanisms` property). */
#define NEGOTIATE_MECH_KRB5    0x1u
#define NEGOTIATE_MECH_NTLMSSP 0x2u

#define NEGOTIATE_PRINCIPAL_MAX 512

enum negotiate_mode {
    NEGOTIATE_MODE_SPNEGO, /* scheme Negotiate */
    NEGOTIATE_MODE_NTLM,   /* scheme NTLM: raw NTLMSSP tokens */
};

struct negotiate_config {
    enum negotiate_mode mode;
    char *keytab;      /* NULL: the library's default keytab (KRB5_KTNAME) */
    char *principal;   /* NULL: any HTTP/ principal of the keytab */
    unsigned mechs;    /* NEGOTIATE_MECH_* */
    char *account_map; /* NULL: none */
    char *account;     /* NULL: none */
};

extern const struct guise_property_spec negotiate_properties[];
extern const struct guise_property_spec ntlm_properties[];

/* Parses "krb5 ntlmssp" (blanks or commas between names) into a mask of
 * NEGOTIATE_MECH_*. Returns NULL, or why the list is wrong (a static string
 * when *bad_len is 0, else "unknown"/"listed twice" about the bad_len bytes
 * at *bad). */
const char *negotiate_mechs_parse(const char *list, unsigned *out, const char **bad,
                                  size_t *bad_len);

/* Checks a Kerberos service principal "service/host[@REALM]" (the
 * `principal` property). Returns NULL when acceptable, else why not. */
const char *negotiate_principal_check(const char *s);

/* Parses every property of the plug-in of this mode. Returns
 * GUISE_E_INVALIDARG after guise_props_fail naming the key, or
 * GUISE_E_OUTOFMEMORY. */
guise_result negotiate_config_parse(enum negotiate_mode mode, const guise_props *props,
                                    struct negotiate_config *cfg);
void negotiate_config_free(struct negotiate_config *cfg);

#endif
