/* Negotiate / NTLM plug-ins: the GSSAPI side of enable (checking the keytab,
 * acquiring the acceptor credential) and GSSAPI error texts. */
#ifndef GUISE_NEGOTIATE_GSS_H
#define GUISE_NEGOTIATE_GSS_H

#include "plugins/negotiate/negotiate_config.h"

#include <guise/result.h>

#include <gssapi/gssapi.h>
#include <stddef.h>

/* gss-ntlmssp's mechanism, 1.3.6.1.4.1.311.2.2.10 (the OID Windows uses for
 * NTLMSSP inside SPNEGO; MIT's mechglue routes raw NTLMSSP tokens to it). */
extern const gss_OID negotiate_oid_ntlmssp;

/* What enable learnt, for the INFORMATION event. */
struct negotiate_acceptor_info {
    char keytab[1024];   /* the keytab as named to the library, "" for NTLM */
    unsigned keys;       /* keytab entries */
    unsigned http_keys;  /* of which for HTTP/ principals */
    char ntlm_file[512]; /* NTLM_USER_FILE when NTLM is on, else "" */
};

/* Checks everything the acceptor of cfg needs and acquires its credential:
 * the keytab exists, is readable and holds a key for the configured
 * principal (or for some HTTP/ principal); for NTLM the gss-ntlmssp
 * mechanism is installed and NTLM_USER_FILE names a readable file. On
 * failure err says what and why, naming the file. */
guise_result negotiate_acquire(const struct negotiate_config *cfg, gss_cred_id_t *cred,
                               struct negotiate_acceptor_info *info, char *err, size_t err_size);

/* "major: minor" texts of a GSSAPI failure. */
void negotiate_gss_error(OM_uint32 major, OM_uint32 minor, gss_OID mech, char *buf, size_t size);

#endif
