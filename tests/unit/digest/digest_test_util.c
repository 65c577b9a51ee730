/* Helpers of the Digest unit tests. */
#include "digest_test_util.h"

#include "plugins/digest/digest_header.h"

#include <stdio.h>
#include <string.h>

/* ---- client ---- */

void digest_client_response(const struct digest_client *c, char *hex)
{
    enum digest_hash hash = digest_alg_hash(c->alg);
    char ha1[DIGEST_MAX_HEX + 1];
    char nc[9];
    digest_ha1(hash, c->user, c->realm, c->password, strlen(c->password), ha1);
    snprintf(nc, sizeof nc, "%08x", c->nc);
    struct digest_response_input in = {
        .alg = c->alg,
        .ha1_hex = ha1,
        .nonce = c->nonce,
        .nc = nc,
        .cnonce = c->cnonce,
        .qop = c->qop,
        .method = c->method,
        .uri = c->uri,
        .body = c->body,
        .body_len = c->body_len,
    };
    digest_response(&in, hex);
}

static void pct_encode(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s && n + 4 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, size - n, "%%%02X", ch);
    }
    out[n] = '\0';
}

void digest_client_header(const struct digest_client *c, char *out, size_t size)
{
    char response[DIGEST_MAX_HEX + 1];
    char user[1024];
    char qrealm[600];
    size_t qpos = 0;
    digest_client_response(c, response);
    digest_quote_append(qrealm, sizeof qrealm, &qpos, c->realm);
    if (c->userhash) {
        char hex[DIGEST_MAX_HEX + 1];
        digest_userhash(digest_alg_hash(c->alg), c->user, c->realm, hex);
        snprintf(user, sizeof user, "username=\"%s\"", hex);
    } else if (c->username_star) {
        char enc[900];
        pct_encode(c->user, enc, sizeof enc);
        snprintf(user, sizeof user, "username*=UTF-8''%s", enc);
    } else {
        char q[900];
        size_t pos = 0;
        digest_quote_append(q, sizeof q, &pos, c->user);
        snprintf(user, sizeof user, "username=\"%s\"", q);
    }
    int n = snprintf(out, size,
                     "%s, realm=\"%s\", uri=\"%s\", %s%s%salgorithm=%s, nonce=\"%s\", "
                     "nc=%08x, cnonce=\"%s\", qop=%s, response=\"%s\"%s",
                     user, qrealm, c->uri, c->opaque ? "opaque=\"" : "", c->opaque ? c->opaque : "",
                     c->opaque ? "\", " : "", digest_alg_name(c->alg), c->nonce, c->nc, c->cnonce,
                     c->qop, response, c->userhash ? ", userhash=true" : "");
    if (c->omit_algorithm && n > 0) {
        /* Drop "algorithm=...," for the RFC's MD5 default. */
        char *a = strstr(out, "algorithm=");
        char *e = a ? strchr(a, ',') : NULL;
        if (a && e)
            memmove(a, e + 2, strlen(e + 2) + 1);
    }
}

bool auth_param(const char *params, const char *name, char *out, size_t size)
{
    static _Thread_local struct digest_params p; /* large; one per thread */
    if (digest_params_parse(params, strlen(params), &p) != NULL)
        return false;
    const struct digest_param *q = digest_params_find(&p, name);
    if (!q)
        return false;
    snprintf(out, size, "%s", q->value);
    return true;
}
