/* The Negotiate (RFC 4559: SPNEGO with Kerberos, optionally NTLM) and NTLM
 * authentication plug-ins, both accepted through GSSAPI (MIT krb5, and the
 * gss-ntlmssp mechanism for NTLM). One implementation, two descriptors: the
 * HTTP scheme decides which one a client talks to. negotiate.c describes
 * the exchange and how the impersonated account is chosen.
 */
#ifndef GUISE_PLUGIN_NEGOTIATE_H
#define GUISE_PLUGIN_NEGOTIATE_H

#include <guise/plugin.h>

extern const struct guise_plugin_descriptor guise_negotiate_plugin;
extern const struct guise_plugin_descriptor guise_ntlm_plugin;

/* Event ids of these plug-ins (guise_host_services.log_event). */
enum {
    NEGOTIATE_EVENT_ENABLE_FAILED = 1,   /* ERROR: keytab/credentials unusable */
    NEGOTIATE_EVENT_BAD_TOKEN = 2,       /* WARNING: a client token GSSAPI refused */
    NEGOTIATE_EVENT_ACCOUNT_REFUSED = 3, /* WARNING: no account, or account refused */
    NEGOTIATE_EVENT_ACCOUNT_MAP = 4,     /* WARNING/INFO: account map reload */
    NEGOTIATE_EVENT_ENABLED = 5,         /* INFORMATION: what the acceptor uses */
};

#endif
