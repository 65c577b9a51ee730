/* The Basic authentication plug-in (RFC 7617): user and password in the
 * clear (base64), checked by PAM or against an Apache htpasswd file, with a
 * short-lived cache of successful checks. Refused over plain HTTP unless the
 * administrator allows it. See docs/BASIC.md.
 */
#ifndef GUISE_PLUGIN_BASIC_H
#define GUISE_PLUGIN_BASIC_H

#include <guise/plugin.h>

extern const struct guise_plugin_descriptor guise_basic_plugin;

/* Event ids of this plug-in (guise_host_services.log_event). */
enum {
    BASIC_EVENT_MALFORMED = 1,       /* WARNING: malformed credentials (400) */
    BASIC_EVENT_USER_FILE = 2,       /* WARNING/INFO: user file reload, unusable entries */
    BASIC_EVENT_ACCOUNT_REFUSED = 3, /* WARNING: mapped account missing or refused */
    BASIC_EVENT_ACCOUNT_MAP = 4,     /* WARNING/INFO: account map reload */
    BASIC_EVENT_PLAINTEXT = 5,       /* INFORMATION: credentials refused over plain HTTP */
    BASIC_EVENT_PAM_TIMEOUT = 6,     /* WARNING: PAM did not answer within pam-timeout */
    BASIC_EVENT_PAM_FAILURE = 7,     /* WARNING: PAM itself failed (not a wrong password) */
    BASIC_EVENT_ENABLE_FAILED = 8,   /* ERROR: enable could not load its files */
};

#endif
