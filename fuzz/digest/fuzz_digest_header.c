/* Fuzzes the Digest credentials parser (Authorization: Digest ...). */
#include "plugins/digest/digest_header.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_params(const struct digest_params *p)
{
    if (p->count == 0 || p->count > DIGEST_HDR_MAX_PARAMS)
        abort();
    for (size_t i = 0; i < p->count; i++) {
        const struct digest_param *q = &p->params[i];
        /* Values are C strings of the recorded length, within the limits. */
        if (strlen(q->value) != q->value_len || q->value_len > DIGEST_HDR_MAX_VALUE)
            abort();
        if (strlen(q->name) == 0 || strlen(q->name) > DIGEST_HDR_MAX_NAME)
            abort();
        if (digest_params_find(p, q->name) != q)
            abort(); /* no duplicates */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct digest_params params;
    static struct digest_credentials cred;
    const char *in = (const char *)data;

    if (!digest_params_parse(in, size, &params))
        check_params(&params);
    if (!digest_credentials_parse(in, size, &params, &cred)) {
        check_params(&params);
        if (!cred.username || !cred.realm || !cred.nonce || !cred.uri || !cred.response ||
            !cred.cnonce || !cred.nc_text || !cred.qop_text || cred.nc == 0)
            abort();
        if (cred.username_ext && cred.userhash)
            abort();
        if (strlen(cred.nc_text) != 8)
            abort();
        if (cred.alg_known &&
            strlen(cred.response) != digest_hash_hex_len(digest_alg_hash(cred.alg)))
            abort();
    }
    /* The ext-value decoder on its own, with a small output. */
    char out[16];
    if (digest_ext_value_decode(in, size, out, sizeof out) && strlen(out) >= sizeof out)
        abort();
    return 0;
}
