/* Tokens for accounts, from the host's cache or from a worker. */
#include "plugins/common/account_token.h"

#include "plugins/common/host_work.h"

#include <stdlib.h>
#include <string.h>

struct lookup {
    const struct guise_host_services *host;
    pk_account_token_done_fn done;
    void *arg;
    char account[]; /* copied: the caller's string may not outlive the call */
};

static void lookup_on_worker(void *p)
{
    struct lookup *l = p;
    guise_token *token = NULL;
    /* Nobody waits (the client went away): no NSS look-up. */
    guise_result r = pk_work_cancelled(l->host)
                         ? GUISE_E_ABORTED
                         : l->host->token_for_account(l->host->host, l->account, &token);
    pk_account_token_done_fn done = l->done;
    void *arg = l->arg;
    free(l);
    done(r, r == GUISE_S_OK ? token : NULL, arg);
}

void pk_account_token_get(const struct guise_host_services *host, const char *account,
                          pk_account_token_done_fn done, void *arg)
{
    guise_token *token = NULL;
    guise_result r = GUISE_E_PENDING;
    if (host->try_token_for_account)
        r = host->try_token_for_account(host->host, account, &token);
    if (r != GUISE_E_PENDING) {
        done(r, r == GUISE_S_OK ? token : NULL, arg);
        return;
    }
    size_t n = strlen(account) + 1;
    struct lookup *l = malloc(sizeof *l + n);
    if (!l) {
        done(GUISE_E_OUTOFMEMORY, NULL, arg);
        return;
    }
    l->host = host;
    l->done = done;
    l->arg = arg;
    memcpy(l->account, account, n);
    /* The quick lane: a look-up must not wait behind password checks. */
    r = pk_submit_quick(host, lookup_on_worker, l);
    if (r != GUISE_S_OK) {
        free(l);
        done(r, NULL, arg);
    }
}
