/* Building the answer of a request: headers it collects on the way, the
 * plain status answers every phase can end with, refusals mapped from a
 * result code, 401s with the scope's challenges. The bottom of the request
 * lifecycle: http.c, pipeline.c and serve.c call it; it calls none of them.
 * Every finish_* sets the request's lifecycle phase to LC_ANSWER. */
#ifndef GUISE_SERVER_ANSWER_H
#define GUISE_SERVER_ANSWER_H

#include <guise/host.h>
#include <microhttpd.h>

struct request;

/* Adds a header (copied) to the eventual response. */
void request_add_header(struct request *r, const char *name, const char *value);
/* Every header of r's answer onto resp: the plug-ins' and the pipeline's,
 * the content's borrowed ones, and the server's own. */
void answer_add_headers(struct request *r, struct MHD_Response *resp);
/* Whether r's answer must say Cache-Control: private (someone logged in). */
bool answer_is_private(const struct request *r);
/* Finishes r with resp (NULL: out of memory, a 500 without body); forgets
 * the borrowed headers (they live on the caller's stack). */
void finish_response(struct request *r, unsigned status, struct MHD_Response *resp);
/* Builds a plain answer (HTML body) for status and finishes the request. */
void finish_status(struct request *r, unsigned status, const char *detail);
/* Maps a refusal with an errno result to 401/403/404/500 and finishes. */
void finish_refusal(struct request *r, guise_result code);
/* Finishes with a 401 carrying every challenge of the scope (replace_for's
 * from replacement), or 403 when no plug-in can challenge. */
void finish_challenge(struct request *r, guise_plugin *replace_for, const char *replacement);
/* 429 with Retry-After for a client address or user name locked out. */
void finish_locked(struct request *r, unsigned seconds);
/* 503 with Retry-After: a temporary refusal of this one request (a full
 * worker queue, too many jobs of one client in flight). */
void finish_busy(struct request *r, unsigned retry_after);

#endif
