/* guise: private constructor of tokens, shared by the token store and tests.
 *
 * Tokens are public only as opaque handles; this header is what the store
 * (and the unit tests) use to build one from resolved account data.
 */
#ifndef GUISE_TOKEN_INTERNAL_H
#define GUISE_TOKEN_INTERNAL_H

#include <guise/token.h>

/* Builds a token with one reference. groups need not contain gid nor be
 * sorted: the token stores them sorted, without duplicates, with gid added.
 * Refuses (returns NULL with errno EPERM) uid 0, gid 0 or a group 0 anywhere,
 * so that no token can ever carry root's rights; returns NULL with errno
 * ENOMEM or EINVAL otherwise. */
guise_token *guise_token_make(const char *name, uid_t uid, gid_t gid, const gid_t *groups,
                              size_t ngroups, bool is_group);
/* The current number of references, for tests and assertions. */
unsigned guise_token_refs(const guise_token *t);

#endif
