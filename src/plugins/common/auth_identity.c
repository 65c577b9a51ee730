/* The identity of an authentication context and its getters. */
#include "plugins/common/auth_identity.h"
#include <guise/token.h>

#include <stdlib.h>

void pk_auth_identity_reset(struct pk_auth_identity *id)
{
    id->ok = false;
    free(id->user);
    free(id->account);
    guise_token_unref(id->token);
    id->user = id->account = NULL;
    id->token = NULL;
}

void pk_auth_identity_grant(struct pk_auth_identity *id, char **account, guise_token *token)
{
    id->account = *account;
    *account = NULL;
    id->token = token;
    id->ok = true;
}

guise_result pk_auth_identity_create_context(void *plugin, void **ctx)
{
    struct pk_auth_identity *id = calloc(1, sizeof *id);
    if (!id)
        return GUISE_E_OUTOFMEMORY;
    *ctx = id;
    return GUISE_S_OK;
}

void pk_auth_identity_destroy_context(void *plugin, void *ctx)
{
    if (!ctx)
        return;
    pk_auth_identity_reset(ctx);
    free(ctx);
}

guise_result pk_auth_identity_logical_user_id(void *ctx, const char **out)
{
    const struct pk_auth_identity *id = ctx;
    if (!id->user)
        return GUISE_E_UNEXPECTED;
    *out = id->user;
    return GUISE_S_OK;
}

guise_result pk_auth_identity_account_name(void *ctx, const char **out)
{
    const struct pk_auth_identity *id = ctx;
    if (!id->ok)
        return GUISE_E_UNEXPECTED;
    *out = id->account;
    return GUISE_S_OK;
}

guise_result pk_auth_identity_token(void *ctx, guise_token **out)
{
    const struct pk_auth_identity *id = ctx;
    if (!id->ok)
        return GUISE_E_UNEXPECTED;
    *out = guise_token_ref(id->token);
    return GUISE_S_OK;
}
