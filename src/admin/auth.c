/* Who may administer: root, or a member of admin-group. Over the Unix socket
 * the kernel tells us the peer (SO_PEERCRED); over TCP the server scope's
 * authentication plug-ins establish an identity whose account is checked. */
#include "admin/admin_internal.h"

#include <grp.h>
#include <netinet/in.h>
#include <nettle/base64.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* The admin group of the configuration now current: admin-group takes
 * effect on reload. false when there is none (then only root may). */
static bool admin_gid(const struct admin *a, gid_t *gid)
{
    struct gen *g = server_current_gen(a->srv);
    bool valid = g && g->cfg->admin_gid_valid;
    if (valid)
        *gid = g->cfg->admin_gid;
    gen_unref(g);
    return valid;
}

bool auth_account_is_admin(const struct admin *a, const char *name)
{
    struct passwd pw, *pwp = NULL;
    char buf[16384];
    if (getpwnam_r(name, &pw, buf, sizeof buf, &pwp) != 0 || !pwp)
        return false;
    if (pw.pw_uid == 0)
        return true;
    gid_t gid;
    if (!admin_gid(a, &gid))
        return false;
    if (pw.pw_gid == gid)
        return true;
    gid_t groups[1024];
    int n = 1024;
    if (getgrouplist(name, pw.pw_gid, groups, &n) < 0)
        return false;
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return true;
    return false;
}

static void refused(struct areq *q, const char *why)
{
    guise_eventlog_write(q->a->srv->log, GUISE_EVENT_WARNING, "admin", ADMIN_EV_REFUSED,
                         GUISE_E_ACCESSDENIED, "admin request %s %s from %s refused: %s", q->method,
                         q->url, q->who[0] ? q->who : q->client_ip, why);
}

bool auth_unix_peer(struct areq *q)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(q->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        refused(q, "cannot read the peer's credentials");
        return false;
    }
    struct passwd pw, *pwp = NULL;
    char buf[16384];
    if (getpwuid_r(cred.uid, &pw, buf, sizeof buf, &pwp) == 0 && pwp)
        snprintf(q->who, sizeof q->who, "uid %u (%s)", (unsigned)cred.uid, pw.pw_name);
    else
        snprintf(q->who, sizeof q->who, "uid %u", (unsigned)cred.uid);
    if (cred.uid == 0 || (pwp && auth_account_is_admin(q->a, pw.pw_name)))
        return true;
    refused(q, "not root and not a member of the admin group");
    return false;
}

/* ---- TCP: authentication through the server scope's plug-ins ---- */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    enum guise_auth_status status;
    guise_result code;
    unsigned char *challenge; /* the plug-in's blob (next leg, mutual auth) */
    size_t challenge_len;
};

static void auth_done(enum guise_auth_status status, guise_result code,
                      const struct guise_blob *challenge, void *cookie)
{
    struct waiter *w = cookie;
    pthread_mutex_lock(&w->mu);
    w->status = status;
    w->code = code;
    if (challenge && challenge->data && challenge->len &&
        (w->challenge = malloc(challenge->len + 1)) != NULL) {
        memcpy(w->challenge, challenge->data, challenge->len);
        w->challenge[challenge->len] = '\0';
        w->challenge_len = challenge->len;
    }
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static const char *info_header(const struct guise_request_info *info, const char *name)
{
    struct areq *q = info->host_data;
    return MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, name);
}

static void info_add_header(const struct guise_request_info *info, const char *name,
                            const char *value)
{
    areq_add_header(info->host_data, name, value);
}

static guise_result info_open_content(const struct guise_request_info *info,
                                      const guise_token *token)
{
    return GUISE_E_NOT_SUPPORTED; /* the admin interface serves no content */
}

struct sink {
    struct guise_challenge_sink sink;
    struct areq *q;
    const char *protocol;
    int count;
};

static void sink_add(struct guise_challenge_sink *s, const char *params)
{
    struct sink *cs = (struct sink *)s;
    char value[2048];
    if (params && *params)
        snprintf(value, sizeof value, "%s %s", cs->protocol, params);
    else
        snprintf(value, sizeof value, "%s", cs->protocol);
    areq_add_header(cs->q, MHD_HTTP_HEADER_WWW_AUTHENTICATE, value);
    cs->count++;
}

static bool usable(guise_plugin *p)
{
    return guise_plugin_state_of(p) == GUISE_PLUGIN_ENABLED &&
           !(guise_plugin_descriptor_of(p)->authn->flags & GUISE_AUTH_ANONYMOUS);
}

/* 401 with every challenge of the server scope's non-anonymous plug-ins
 * (an anonymous guest is never an administrator). */
static bool challenge(struct areq *q, guise_scope *s, const struct guise_request_info *info,
                      struct areply *out)
{
    guise_plugin *const *list;
    size_t n = guise_scope_authn(s, &list);
    struct sink cs = {.sink.add = sink_add, .q = q};
    for (size_t i = 0; i < n; i++)
        if (usable(list[i])) {
            cs.protocol = guise_plugin_descriptor_of(list[i])->authn->protocol;
            guise_plugin_challenge(list[i], info, &cs.sink);
        }
    if (!cs.count) {
        reply_error(out, MHD_HTTP_FORBIDDEN, "no_authentication",
                    "no enabled authentication plug-in of the server scope can identify an "
                    "administrator");
        return false;
    }
    reply_error(out, MHD_HTTP_UNAUTHORIZED, "unauthorized", "authentication is required");
    return false;
}

/* WWW-Authenticate "<scheme> <blob>" from a plug-in's answer: text blobs as
 * they are, binary ones in base64 (nettle). */
static void add_scheme_blob(struct areq *q, const struct guise_authn_ops *ops,
                            const unsigned char *blob, size_t len)
{
    size_t plen = strlen(ops->protocol);
    size_t enc = ops->flags & GUISE_AUTH_TEXT_CHALLENGE ? len : BASE64_ENCODE_RAW_LENGTH(len);
    char *v = malloc(plen + 1 + enc + 1);
    if (!v)
        return;
    memcpy(v, ops->protocol, plen);
    v[plen] = ' ';
    if (ops->flags & GUISE_AUTH_TEXT_CHALLENGE)
        memcpy(v + plen + 1, blob, len);
    else
        base64_encode_raw(v + plen + 1, len, blob);
    v[plen + 1 + enc] = '\0';
    areq_add_header(q, MHD_HTTP_HEADER_WWW_AUTHENTICATE, v);
    free(v);
}

static bool authenticate(struct areq *q, guise_plugin *p, const char *blob_text,
                         const struct guise_request_info *info, struct areply *out, struct gen *g)
{
    const struct guise_authn_ops *ops = guise_plugin_descriptor_of(p)->authn;
    bool multi_leg = (ops->flags & GUISE_AUTH_CONNECTION_ORIENTED) && q->conn;
    size_t tlen = strlen(blob_text);
    /* Text blobs are copied as they are, binary ones base64-decoded. */
    unsigned char *blob = malloc(
        tlen + 1 > BASE64_DECODE_LENGTH(tlen) + 1 ? tlen + 1 : BASE64_DECODE_LENGTH(tlen) + 1);
    size_t blen = tlen;
    if (!blob) {
        reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
        return false;
    }
    if (ops->flags & GUISE_AUTH_TEXT_CHALLENGE) {
        memcpy(blob, blob_text, tlen + 1);
    } else {
        struct base64_decode_ctx bctx;
        base64_decode_init(&bctx);
        if (!base64_decode_update(&bctx, &blen, blob, tlen, blob_text) ||
            !base64_decode_final(&bctx)) {
            free(blob);
            reply_error(out, MHD_HTTP_BAD_REQUEST, "bad_credentials", "malformed credentials");
            return false;
        }
    }
    guise_auth_ctx *ctx = NULL;
    /* The next leg of an exchange this connection started with the same
     * plug-in of the same generation continues its context; anything else
     * starts over. */
    if (multi_leg && q->conn->ctx && q->conn->plugin == p && q->conn->gen == g) {
        ctx = q->conn->ctx;
        q->conn->ctx = NULL;
    } else if (q->conn) {
        aconn_reset(q->conn);
    }
    if (!ctx && guise_auth_ctx_new(p, &ctx) != GUISE_S_OK) {
        free(blob);
        reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "authentication failed");
        return false;
    }
    struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct guise_blob b = {blob, blen};
    bool ok = false;
    /* This connection has a thread of its own: waiting here for a plug-in
     * that completes on a worker blocks no one else. */
    if (guise_auth_ctx_authenticate(ctx, &b, info, auth_done, &w) == GUISE_S_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
    } else {
        w.status = GUISE_AUTH_ERROR;
        w.code = GUISE_E_PLUGIN_ERROR_REPORTED;
    }
    free(blob);
    const char *user = NULL, *account = NULL;
    guise_token *token = NULL;
    switch (w.status) {
    case GUISE_AUTH_SUCCESS:
        if (guise_auth_ctx_identity(ctx, &user, &account, &token) != GUISE_S_OK) {
            reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "authentication failed");
            break;
        }
        guise_token_unref(token);
        snprintf(q->who, sizeof q->who, "%s (account %s, %s)", user ? user : "-",
                 account ? account : "-", q->client_ip);
        if (account && auth_account_is_admin(q->a, account)) {
            ok = true;
            if (w.challenge)
                add_scheme_blob(q, ops, w.challenge, w.challenge_len); /* mutual auth */
            if (multi_leg) {
                /* Like the content server: a connection-oriented scheme's
                 * identity stays with the connection (NTLM clients do not
                 * authenticate again on it). */
                aconn_reset(q->conn);
                q->conn->gen = gen_ref(g);
                q->conn->plugin = p;
                q->conn->admin = true;
                snprintf(q->conn->who, sizeof q->conn->who, "%s", q->who);
            }
            break;
        }
        refused(q, "the account is not root and not a member of the admin group");
        reply_error(out, MHD_HTTP_FORBIDDEN, "forbidden",
                    "only root and members of the admin group may administer guised");
        break;
    case GUISE_AUTH_DENIED: {
        const char *claimed = guise_auth_ctx_claimed_user(ctx);
        snprintf(q->who, sizeof q->who, "%s (%s)", claimed ? claimed : "unknown user",
                 q->client_ip);
        refused(q, "authentication denied");
        reply_error(out, MHD_HTTP_UNAUTHORIZED, "unauthorized", "authentication denied");
        break;
    }
    case GUISE_AUTH_CONTINUE:
        if (!multi_leg || !w.challenge) {
            reply_error(out, MHD_HTTP_UNAUTHORIZED, "not_supported",
                        "this plug-in's multi-leg exchange needs a connection-oriented scheme");
            break;
        }
        /* 401 with the next leg's token; the context waits on the connection. */
        add_scheme_blob(q, ops, w.challenge, w.challenge_len);
        q->conn->ctx = ctx;
        q->conn->plugin = p;
        q->conn->gen = gen_ref(g);
        ctx = NULL;
        reply_error(out, MHD_HTTP_UNAUTHORIZED, "continue", "authentication continues");
        break;
    case GUISE_AUTH_ERROR:
    default:
        guise_plugin_report_failure(p, "authenticate", w.code);
        reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "authentication failed");
        break;
    }
    guise_auth_ctx_free(ctx);
    free(w.challenge);
    return ok;
}

bool auth_tcp(struct areq *q, struct areply *out)
{
    struct gen *g = server_current_gen(q->a->srv);
    if (!g) {
        reply_error(out, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the server is stopping");
        return false;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(q->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct guise_request_info info = {
        .method = q->method,
        .uri = q->target,
        .path = "",
        .point = NULL,
        .client_ip = q->client_ip,
        .client_addr = ci ? ci->client_addr : NULL,
        .client_addrlen = ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6
                              ? sizeof(struct sockaddr_in6)
                              : sizeof(struct sockaddr_in),
        .body = q->body,
        .body_len = q->len,
        .header = info_header,
        .add_response_header = info_add_header,
        .open_content = info_open_content,
        .host_data = q,
    };
    guise_scope *s = g->root_scope;
    bool ok = false;
    const char *hdr =
        MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!hdr && q->conn && q->conn->admin && q->conn->gen == g &&
        guise_plugin_state_of(q->conn->plugin) == GUISE_PLUGIN_ENABLED) {
        /* Identified earlier on this connection by NTLM or Negotiate. */
        snprintf(q->who, sizeof q->who, "%s", q->conn->who);
        ok = true;
        goto done;
    }
    if (!hdr) {
        challenge(q, s, &info, out);
        goto done;
    }
    size_t slen = strcspn(hdr, " ");
    const char *blob = hdr + slen + strspn(hdr + slen, " ");
    guise_plugin *const *list;
    size_t n = guise_scope_authn(s, &list);
    guise_plugin *p = NULL;
    for (size_t i = 0; i < n && !p; i++) {
        const char *proto = guise_plugin_descriptor_of(list[i])->authn->protocol;
        if (usable(list[i]) && strlen(proto) == slen && !strncasecmp(proto, hdr, slen))
            p = list[i];
    }
    if (!p) {
        challenge(q, s, &info, out);
        goto done;
    }
    ok = authenticate(q, p, blob, &info, out, g);
    if (!ok && out->status == MHD_HTTP_UNAUTHORIZED && !(q->conn && q->conn->ctx)) {
        /* A fresh challenge for the next attempt. */
        free(out->body);
        challenge(q, s, &info, out);
    }
done:
    gen_unref(g);
    return ok;
}
