/* The impersonation token of a resolved account, without ever blocking the
 * calling thread (shared by the authentication plug-ins).
 *
 * The host answers from its token cache when it can (try_token_for_account);
 * when only an NSS lookup could answer, the lookup runs on the host's worker
 * pool's quick lane and the result arrives from there.
 */
#ifndef GUISE_PLUGINS_ACCOUNT_TOKEN_H
#define GUISE_PLUGINS_ACCOUNT_TOKEN_H

#include <guise/plugin.h>
#include <guise/result.h>
#include <guise/token.h>

/* Receives the result: GUISE_S_OK with token (a reference the callee owns;
 * may be NULL when the host runs without impersonation), or a failure
 * (GUISE_E_NOT_FOUND: no such account; GUISE_E_ACCESSDENIED: refused by the
 * min-uid policy; GUISE_E_BUSY: the worker queue is full; GUISE_E_ABORTED:
 * the requester went away before the look-up ran, ...). */
typedef void (*pk_account_token_done_fn)(guise_result r, guise_token *token, void *arg);

/* Calls done exactly once: before returning when the host had the token
 * cached (or failed at once), else later from a worker thread. */
void pk_account_token_get(const struct guise_host_services *host, const char *account,
                          pk_account_token_done_fn done, void *arg);

#endif
