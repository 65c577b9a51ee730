/* The identity an authentication context stands for, shared by the
 * authentication plug-ins (Basic, Digest, Negotiate / NTLM): who the client
 * is, which account it impersonates and that account's token, plus the
 * three getters of struct guise_authn_ops that answer them.
 *
 * The getters take the plug-in's context as it is handed to the ops table: a
 * context that is a struct pk_auth_identity, or that starts with one
 * (its first member; check it with _Static_assert and offsetof). A plug-in
 * whose context is nothing but the identity uses
 * pk_auth_identity_create_context and _destroy_context as well.
 *
 * Ownership. The identity owns user and account (malloc'd strings, freed by
 * pk_auth_identity_reset) and one reference to token. The getters hand
 * out strings that live until the next reset (the next authenticate, or the
 * end of the context), and a new token reference the caller releases.
 *
 * Semantics, the same for every plug-in:
 *   - logical_user_id answers user whenever it is set, whether or not
 *     authentication succeeded: after a denial a plug-in may leave there the
 *     name the client claimed, for the host's per-user throttling (what it
 *     leaves, and when, is each plug-in's own choice). No user:
 *     GUISE_E_UNEXPECTED.
 *   - impersonation_account_name and impersonation_token answer only after
 *     a success (ok), else GUISE_E_UNEXPECTED. The token may be NULL when
 *     the host runs without impersonation.
 */
#ifndef GUISE_PLUGINS_AUTH_IDENTITY_H
#define GUISE_PLUGINS_AUTH_IDENTITY_H

#include <guise/result.h>
#include <guise/token.h>

#include <stdbool.h>

struct pk_auth_identity {
    bool ok;            /* authentication succeeded: account and token are set */
    char *user;         /* logical user; after a denial, maybe the name claimed */
    char *account;      /* impersonated account (ok only) */
    guise_token *token; /* its token (ok only; may be NULL) */
};

/* Forgets everything: frees the strings, drops the token, clears ok. */
void pk_auth_identity_reset(struct pk_auth_identity *id);

/* Success: takes *account (and sets it to NULL) and the token reference,
 * and sets ok. user must already be set by the plug-in. */
void pk_auth_identity_grant(struct pk_auth_identity *id, char **account, guise_token *token);

/* create_context / destroy_context for a context that is only an identity
 * (a zeroed struct pk_auth_identity). */
guise_result pk_auth_identity_create_context(void *plugin, void **ctx);
void pk_auth_identity_destroy_context(void *plugin, void *ctx);

/* logical_user_id, impersonation_account_name, impersonation_token: ctx is
 * (or starts with) a struct pk_auth_identity. */
guise_result pk_auth_identity_logical_user_id(void *ctx, const char **out);
guise_result pk_auth_identity_account_name(void *ctx, const char **out);
guise_result pk_auth_identity_token(void *ctx, guise_token **out);

#endif
