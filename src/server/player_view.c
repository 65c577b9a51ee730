/* "?view=player" and "?view=m3u" of a file (see player_view.h). */
#include "server/player_view.h"
#include "server/answer.h"
#include "server/assets.h"
#include "server/request.h"

#include "http/mime.h"
#include "http/path.h"
#include "http/player.h"

#include <stdio.h>
#include <string.h>

/* No inline script or style source but our own files; media and the
 * playlist's segments from this origin (blob: for hls.js's MSE source). */
#define PLAYER_CSP                                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "           \
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; "       \
    "form-action 'none'; frame-ancestors 'self'"

/* A Host header is only echoed into a playlist when it looks like one (as
 * serve.c does for listings). */
static const char *safe_host(struct request *r)
{
    const char *h = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!h || !*h || strlen(h) > 255)
        return "localhost";
    for (const char *c = h; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-' || *c == ':' || *c == '[' || *c == ']'))
            return "localhost";
    return h;
}

static void send_body(struct request *r, struct gh_buf *out, const char *type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(out->len, out->data, MHD_RESPMEM_MUST_COPY);
    r->bytes = out->len;
    gh_buf_free(out);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        if (!answer_is_private(r))
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    }
    finish_response(r, MHD_HTTP_OK, resp);
}

bool serve_file_view(struct request *r)
{
    const char *view = MHD_lookup_connection_value(r->mc, MHD_GET_ARGUMENT_KIND, "view");
    if (!view)
        return false;
    char src[4200], back[4200];
    if (gh_path_encode(r->path, src, sizeof src) != GH_PATH_OK) {
        finish_status(r, MHD_HTTP_URI_TOO_LONG, "The request target is too long.");
        return true;
    }
    const char *slash = strrchr(r->path, '/');
    const char *name = r->point->file_name ? r->point->file_name : slash ? slash + 1 : r->path;
    const char *type = gh_mime_type(name);
    struct gh_buf out = {0};
    if (!strcmp(view, "player")) {
        int kind = gh_player_kind_of(type);
        snprintf(back, sizeof back, "%s", src);
        char *cut = strrchr(back, '/');
        if (cut)
            cut[1] = '\0';
        char m3u[4300];
        snprintf(m3u, sizeof m3u, "%s?view=m3u", src);
        struct gh_player p = {
            .title = name,
            .src = src,
            .kind = kind < 0 ? GH_PLAYER_EXTERNAL : (enum gh_player_kind)kind,
            /* VLC and mpv open an HLS playlist's URL as it is. */
            .m3u_href = kind == GH_PLAYER_HLS_VIDEO ? src : m3u,
            .download_href = kind == GH_PLAYER_HLS_VIDEO ? NULL : src,
            .back_href = back,
            .have_hlsjs = assets_have_hlsjs(),
            .asset_version = assets_version(),
        };
        if (gh_player_html(&out, &p) != 0) {
            finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
            return true;
        }
        request_add_header(r, "Content-Security-Policy", PLAYER_CSP);
        send_body(r, &out, "text/html; charset=utf-8");
        return true;
    }
    if (!strcmp(view, "m3u")) {
        char url[4800];
        const char *pub = r->gen->cfg->public_url;
        if (pub)
            snprintf(url, sizeof url, "%s%s", pub, src);
        else
            snprintf(url, sizeof url, "%s://%s%s", r->info.secure ? "https" : "http", safe_host(r),
                     src);
        if (!pub)
            request_add_header(r, "Vary", "Host");
        if (gh_player_m3u(&out, name, url) != 0) {
            finish_status(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "The playlist cannot be made.");
            return true;
        }
        send_body(r, &out, "audio/x-mpegurl");
        return true;
    }
    finish_status(r, MHD_HTTP_BAD_REQUEST, "view must be player or m3u.");
    return true;
}
