/* The PAM credential store (see pam.h). */
#include "plugins/stores/pam.h"

#include "plugins/basic/basic_pam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pam_store {
    struct pk_store base;
    char *service;
    unsigned timeout_ms;
};

static void pam_check_password(struct pk_store *base, const char *user, const char *password,
                               size_t password_len, const char *rhost, struct pk_check_result *out)
{
    struct pam_store *s = (struct pam_store *)base;
    memset(out, 0, sizeof *out);
    struct basic_pam_result res;
    basic_pam_check(s->service, user, password, password_len, rhost, s->timeout_ms, &res);
    snprintf(out->detail, sizeof out->detail, "%s", res.detail);
    switch (res.status) {
    case BASIC_PAM_OK:
        out->verdict = PK_CHECK_OK;
        out->name = res.name;
        return;
    case BASIC_PAM_DENIED:
        out->verdict = PK_CHECK_DENIED;
        return;
    case BASIC_PAM_TIMEOUT:
        out->verdict = PK_CHECK_TIMEOUT;
        return;
    case BASIC_PAM_FAILED:
    case BASIC_PAM_BUSY:
        out->verdict = PK_CHECK_FAILED;
        return;
    }
    out->verdict = PK_CHECK_FAILED;
}

static void pam_free(struct pk_store *base)
{
    struct pam_store *s = (struct pam_store *)base;
    if (!s)
        return;
    free(s->service);
    free(s);
}

static const struct pk_store_ops pam_ops = {
    .kind = "pam",
    .blocking = true,
    .refresh = NULL,
    .check_password = pam_check_password,
    .find_ha1 = NULL,
    .free = pam_free,
};

guise_result pk_pam_store_new(const char *service, unsigned timeout_ms, struct pk_store **out,
                              char *err, size_t err_size)
{
    char looked[4096];
    if (!basic_pam_service_file(service, looked, sizeof looked)) {
        snprintf(err, err_size, "service '%s' has no file (%s): libpam would fall back to 'other'",
                 service, looked);
        return GUISE_E_NOT_FOUND;
    }
    struct pam_store *s = calloc(1, sizeof *s);
    if (!s || !(s->service = strdup(service))) {
        free(s);
        snprintf(err, err_size, "out of memory");
        return GUISE_E_OUTOFMEMORY;
    }
    s->base.ops = &pam_ops;
    s->timeout_ms = timeout_ms;
    *out = &s->base;
    return GUISE_S_OK;
}
