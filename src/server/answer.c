/* Answers: the headers a request collects, status pages, refusals mapped
 * from result codes, challenges. Nothing here calls back into the pipeline
 * or the content phase (see answer.h). */
#include "server/answer.h"

#include "server/authn.h"
#include "server/client_event.h"
#include "server/lifecycle.h"
#include "server/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void request_add_header(struct request *r, const char *name, const char *value)
{
    struct header_pair *v = realloc(r->headers, (r->nheaders + 1) * sizeof *v);
    if (!v)
        return;
    r->headers = v;
    v[r->nheaders].name = strdup(name);
    v[r->nheaders].value = strdup(value);
    if (v[r->nheaders].name && v[r->nheaders].value)
        r->nheaders++;
    else {
        free(v[r->nheaders].name);
        free(v[r->nheaders].value);
    }
}

bool answer_is_private(const struct request *r)
{
    return r->have_ident && !r->ident.anonymous;
}

void answer_add_headers(struct request *r, struct MHD_Response *resp)
{
    for (size_t i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    for (size_t i = 0; i < r->nborrowed; i++)
        MHD_add_response_header(resp, r->borrowed[i].name, r->borrowed[i].value);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "guise/" GUISE_VERSION);
    /* A broadcast point's HLS files (routing chose, server/broadcast.h):
     * the live playlist is fetched afresh, a segment never changes. */
    bool priv = answer_is_private(r);
    const char *cc = priv ? "private" : NULL;
    if (r->live_cache == LIVE_CACHE_PLAYLIST)
        cc = priv ? "private, no-cache" : "no-cache";
    else if (r->live_cache == LIVE_CACHE_SEGMENT)
        cc = priv ? "private, max-age=86400, immutable" : "public, max-age=86400, immutable";
    if (cc)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
}

void finish_response(struct request *r, unsigned status, struct MHD_Response *resp)
{
    if (resp)
        answer_add_headers(r, resp);
    r->borrowed = NULL; /* they live on the caller's stack */
    r->nborrowed = 0;
    r->response = resp;
    r->status = resp ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
    lc_answer(&r->lc);
}

static const char *reason(unsigned status)
{
    const char *s = MHD_get_reason_phrase_for(status);
    return s && *s ? s : "Error";
}

void finish_status(struct request *r, unsigned status, const char *detail)
{
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%u %s</title>"
                     "</head><body><h1>%u %s</h1><p>%s</p></body></html>\n",
                     status, reason(status), status, reason(status), detail ? detail : "");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    r->bytes = (uint64_t)n;
    finish_response(r, status, resp);
}

static void add_challenge_header(void *cookie, const char *value)
{
    request_add_header(cookie, MHD_HTTP_HEADER_WWW_AUTHENTICATE, value);
}

void finish_challenge(struct request *r, guise_plugin *replace_for, const char *replacement)
{
    if (authn_challenges(r->scope, &r->info, replace_for, replacement, false, add_challenge_header,
                         r) == 0) {
        finish_status(r, MHD_HTTP_FORBIDDEN, "No authentication method can grant access here.");
        return;
    }
    finish_status(r, MHD_HTTP_UNAUTHORIZED, "Authentication is required.");
}

void finish_locked(struct request *r, unsigned seconds)
{
    char v[32];
    snprintf(v, sizeof v, "%u", seconds);
    request_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    finish_status(r, MHD_HTTP_TOO_MANY_REQUESTS, "Too many failed attempts: try again later.");
}

void finish_busy(struct request *r, unsigned retry_after)
{
    char v[32];
    snprintf(v, sizeof v, "%u", retry_after ? retry_after : 1);
    request_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    finish_status(r, MHD_HTTP_SERVICE_UNAVAILABLE, "The server is busy: try again shortly.");
}

void finish_refusal(struct request *r, guise_result code)
{
    int e = guise_result_errno(code);
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        finish_status(r, MHD_HTTP_NOT_FOUND, "Not found.");
        return;
    case EXDEV:
    case ELOOP:
        client_event(r->srv, r->gen->log, GUISE_EVENT_WARNING, "server", GUISE_EV_REQUEST_REFUSED,
                     code, r->conn->client_ip,
                     "client %s: path %s leaves the publishing point; refused", r->conn->client_ip,
                     r->url);
        finish_status(r, MHD_HTTP_NOT_FOUND, "Not found.");
        return;
    case 0:
    case EACCES:
    case EPERM:
        if (e == 0 && code != GUISE_E_ACCESSDENIED && code != GUISE_S_OK) {
            finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Authorization failed.");
            return;
        }
        /* The model: a denied guest is offered the other plug-ins. */
        if (r->ident.anonymous && authn_scope_can_challenge(r->scope)) {
            finish_challenge(r, NULL, NULL);
            return;
        }
        finish_status(r, MHD_HTTP_FORBIDDEN, "Access denied.");
        return;
    default:
        client_event(r->srv, r->gen->log, GUISE_EVENT_WARNING, "server", GUISE_EV_IO_ERROR, code,
                     r->conn->client_ip, "client %s: cannot open %s", r->conn->client_ip, r->url);
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "The content cannot be read.");
        return;
    }
}
