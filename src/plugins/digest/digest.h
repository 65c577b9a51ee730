/* The Digest authentication plug-in (RFC 7616): HTTP Digest with MD5,
 * SHA-256 and SHA-512-256 (plain and -sess), qop auth and auth-int, userhash,
 * username*, stateless nonces shared by every node holding the same key, and
 * nonce-count replay protection. Users come from an htdigest-format file; the
 * impersonated account from the shared account map. See docs/DIGEST.md.
 */
#ifndef GUISE_PLUGIN_DIGEST_H
#define GUISE_PLUGIN_DIGEST_H

#include <guise/plugin.h>

extern const struct guise_plugin_descriptor guise_digest_plugin;

/* Event ids of this plug-in (guise_host_services.log_event). */
enum {
    DIGEST_EVENT_MALFORMED = 1,       /* WARNING: malformed Authorization (400) */
    DIGEST_EVENT_USER_FILE = 2,       /* WARNING/INFO: user file reload, permissions */
    DIGEST_EVENT_ACCOUNT_REFUSED = 3, /* WARNING: mapped account missing or refused */
    DIGEST_EVENT_KEY_FILE = 4,        /* WARNING/INFO: nonce key created, permissions */
    DIGEST_EVENT_ACCOUNT_MAP = 5,     /* WARNING/INFO: account map reload */
    DIGEST_EVENT_ENABLE_FAILED = 6,   /* ERROR: enable could not load its files */
};

#endif
