/* guised's side of broadcast points (see broadcast.h). */
#include "server/broadcast.h"

#include "live/live.h"
#include "server/broadcast_config.h"
#include "server/request.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void broadcast_serve(struct request *r);
static void broadcast_body_in(struct request *r, const char *data, size_t *len);
static enum live_cache cache_of(const char *rest);

bool broadcast_ingest_method(const char *m)
{
    return !strcmp(m, "PUT") || !strcmp(m, "POST") || !strcmp(m, "SOURCE");
}

static const struct broadcast_config *point_cfg(const struct request *r)
{
    return r->point ? broadcast_config_of(guise_config_point(r->gen->cfg, r->point->name)) : NULL;
}

bool broadcast_route(struct request *r)
{
    const struct broadcast_config *pc = point_cfg(r);
    bool ingest = broadcast_ingest_method(r->method);
    if (!pc) {
        if (ingest) {
            request_add_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
            finish_status(r, MHD_HTTP_METHOD_NOT_ALLOWED,
                          "Only broadcast publishing points take a stream.");
            return false;
        }
        return true;
    }
    if (r->point->file_name) {
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                      "A broadcast point's path must be a directory.");
        return false;
    }
    if (ingest) {
        if (*r->rest && strcmp(r->rest, BROADCAST_LIVE_NAME) != 0) {
            finish_status(r, MHD_HTTP_NOT_FOUND,
                          "Publish to the point itself (/POINT/), not to a file below it.");
            return false;
        }
        r->live = LIVE_INGEST;
        r->authz_event = GUISE_AUTHZ_WRITE;
        r->content_phase = broadcast_serve;
        r->body_in = broadcast_body_in;
    } else if (!strcmp(r->rest, BROADCAST_LIVE_NAME)) {
        /* Who may listen is who may read the live playlist: fs-acl (and the
         * content phase) open it as the listener, so the directory's
         * permissions decide for both ways of watching. */
        r->live = LIVE_LISTEN;
        r->rest = BROADCAST_PLAYLIST;
        r->content_phase = broadcast_serve;
    } else {
        r->live_cache = cache_of(r->rest);
    }
    return true;
}

bool broadcast_is_ingest(const struct request *r)
{
    return r->live == LIVE_INGEST;
}

/* ---- files created as the publisher ---- */

struct publisher_fs {
    guise_imp *imp;
    guise_token *token;
    int root_fd; /* the point's directory (O_PATH), our own duplicate */
};

static int fs_create(void *cls, const char *name)
{
    struct publisher_fs *f = cls;
    int fd = -1;
    guise_result rc = guise_create_as(f->imp, f->token, f->root_fd, name,
                                      O_WRONLY | O_CREAT | O_TRUNC, 0666, &fd);
    return rc == GUISE_S_OK ? fd : -guise_result_errno(rc);
}

static int fs_rename(void *cls, const char *from, const char *to)
{
    struct publisher_fs *f = cls;
    guise_result rc = guise_rename_as(f->imp, f->token, f->root_fd, from, to, 0);
    return rc == GUISE_S_OK ? 0 : -guise_result_errno(rc);
}

static int fs_unlink(void *cls, const char *name)
{
    struct publisher_fs *f = cls;
    guise_result rc = guise_unlink_as(f->imp, f->token, f->root_fd, name, 0);
    return rc == GUISE_S_OK ? 0 : -guise_result_errno(rc);
}

static void fs_free(void *cls)
{
    struct publisher_fs *f = cls;
    if (!f)
        return;
    guise_token_unref(f->token);
    if (f->root_fd >= 0)
        close(f->root_fd);
    free(f);
}

/* ---- the content phase ---- */

static void serve_ingest(struct request *r, const struct broadcast_config *pc)
{
    /* Publishing needs a plug-in that says yes to WRITE: with none in the
     * scope (no pp-acl), nobody publishes. */
    if (!r->authz_decided) {
        guise_eventlog_write(r->srv->log, GUISE_EVENT_WARNING, "live", LIVE_EV_PUBLISHER_REFUSED,
                             GUISE_E_ACCESSDENIED,
                             "point %s: publisher %s from %s refused: no authorization plug-in "
                             "of the point decides publishing (add pp-acl with write =)",
                             r->point->name, r->ident.logical_user ? r->ident.logical_user : "-",
                             r->conn->client_ip);
        finish_status(r, MHD_HTTP_FORBIDDEN, "Nobody may publish to this point.");
        return;
    }
    struct publisher_fs *f = calloc(1, sizeof *f);
    if (!f || (f->root_fd = fcntl(r->point->root_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
        free(f);
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of descriptors.");
        return;
    }
    f->imp = r->srv->imp;
    f->token = guise_token_ref(r->ident.token);
    const char *agent = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "ice-name");
    if (!agent)
        agent = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    struct live_publish_request rq = {
        .point = r->point->name,
        .opt = &pc->live,
        .content_type =
            MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .fs = {f, fs_create, fs_rename, fs_unlink},
        .fs_free = fs_free,
        .user = r->ident.logical_user,
        .account = r->ident.account,
        .client_ip = r->conn->client_ip,
        .agent = agent,
        .conn_fd = r->conn->fd,
        .mc = r->mc,
    };
    char why[512];
    struct live_publisher *pub = NULL;
    switch (live_publish(r->srv->live, &rq, &pub, why, sizeof why)) {
    case LIVE_ADMIT_OK:
        r->live_pub = pub;
        /* the body follows (broadcast_body_in); answered when it ends */
        lc_set(&r->lc, LC_BODY_IN);
        return;
    case LIVE_ADMIT_BUSY:
        finish_status(r, MHD_HTTP_CONFLICT, why);
        return;
    case LIVE_ADMIT_UNSUPPORTED:
        finish_status(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, why);
        return;
    case LIVE_ADMIT_REFUSED:
        finish_status(r, MHD_HTTP_FORBIDDEN, why);
        return;
    case LIVE_ADMIT_STOPPING:
        finish_status(r, MHD_HTTP_SERVICE_UNAVAILABLE, why);
        return;
    case LIVE_ADMIT_ERROR:
    default:
        finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, why);
        return;
    }
}

static void serve_listener(struct request *r, const struct broadcast_config *pc)
{
    /* The playlist opened as the listener (by fs-acl, or here) is the
     * kernel's word on whether this account may watch. */
    guise_result res = request_open_content(r, r->ident.token);
    if (res != GUISE_S_OK) {
        finish_refusal(r, res);
        return;
    }
    unsigned status = 0;
    char why[256];
    struct MHD_Response *resp =
        live_listen(r->srv->live, r->point->name, &pc->live, r->mc, r->ident.logical_user,
                    r->conn->client_ip, &status, why, sizeof why);
    if (!resp) {
        finish_status(r, status, why);
        return;
    }
    finish_response(r, MHD_HTTP_OK, resp);
}

static void broadcast_serve(struct request *r)
{
    const struct broadcast_config *pc = point_cfg(r);
    if (!pc) {
        finish_status(r, MHD_HTTP_NOT_FOUND, "Not a broadcast point.");
        return;
    }
    if (r->live == LIVE_INGEST)
        serve_ingest(r, pc);
    else
        serve_listener(r, pc);
}

/* ---- the publisher's body ---- */

/* The stream ended (or the body did): the answer says how. */
static void answer_publisher(struct request *r)
{
    char why[400], body[600];
    unsigned status = live_publisher_answer(r->live_pub, why, sizeof why);
    int n = snprintf(body, sizeof body, "%s\n", why);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    finish_response(r, status, resp);
    r->bytes = (uint64_t)n;
}

static void broadcast_body_in(struct request *r, const char *data, size_t *len)
{
    if (*len) {
        r->live_body = true;
        if (!live_publisher_upload(r->live_pub, data, len)) {
            *len = 0;            /* what a cut-off publisher still sends is dropped */
            answer_publisher(r); /* the stream ended under the publisher */
        }
        return;
    }
    /* A call without data before any body is not the body's end (the
     * call after the pipeline resumed the connection), unless the body is
     * empty. */
    const char *cl =
        MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!r->live_body && !(cl && !strcmp(cl, "0")))
        return;
    if (!live_publisher_finish(r->live_pub))
        return; /* resumed once the stream has ended: called again */
    answer_publisher(r);
}

void broadcast_request_done(struct request *r)
{
    live_publisher_release(r->live_pub);
    r->live_pub = NULL;
}

/* ---- caching of the HLS files ---- */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static enum live_cache cache_of(const char *rest)
{
    if (has_suffix(rest, ".m3u8"))
        return LIVE_CACHE_PLAYLIST;
    /* a segment's name is never reused (seg-START-N, init-START) */
    if (!strncmp(rest, "seg-", 4) || !strncmp(rest, "init-", 5))
        return LIVE_CACHE_SEGMENT;
    return LIVE_CACHE_NONE;
}
