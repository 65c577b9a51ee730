/* Who may administer: root, or a member of admin-group. Over the Unix socket
 * the kernel tells us the peer (SO_PEERCRED), once, at accept; over TCP the
 * authentication front (server/authn.h) - the content server's, with its
 * throttle and lockouts - establishes an identity whose token is checked. A
 * non-administrator over TCP gets exactly a wrong password's answer. */
#include "admin/admin_internal.h"
#include "server/client_event.h"
#include "server/server_query.h"

#include <grp.h>
#include <netinet/in.h>
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

static void refused(struct areq *q, const char *who, const char *why)
{
    client_event(q->a->srv, server_eventlog(q->a->srv), GUISE_EVENT_WARNING, "admin",
                 ADMIN_EV_REFUSED, GUISE_E_ACCESSDENIED, q->client_ip,
                 "admin request %s %s from %s refused: %s", q->method, q->url,
                 who && who[0] ? who : q->client_ip, why);
}

void auth_unix_peer(struct admin *a, int fd, struct aconn *c)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    c->peer = PEER_REFUSED;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        snprintf(c->who, sizeof c->who, "a peer whose credentials cannot be read");
        return;
    }
    struct passwd pw, *pwp = NULL;
    char buf[16384];
    if (getpwuid_r(cred.uid, &pw, buf, sizeof buf, &pwp) == 0 && pwp)
        snprintf(c->who, sizeof c->who, "uid %u (%s)", (unsigned)cred.uid, pw.pw_name);
    else
        snprintf(c->who, sizeof c->who, "uid %u", (unsigned)cred.uid);
    if (cred.uid == 0 || (pwp && auth_account_is_admin(a, pw.pw_name)))
        c->peer = PEER_ADMIN;
}

bool auth_unix_request(struct areq *q)
{
    if (q->conn && q->conn->peer == PEER_ADMIN) {
        snprintf(q->who, sizeof q->who, "%s", q->conn->who);
        return true;
    }
    refused(q, q->conn ? q->conn->who : NULL, "not root and not a member of the admin group");
    reply_error(&q->rep, MHD_HTTP_FORBIDDEN, "forbidden",
                "only root and members of the admin group may administer guised");
    return false;
}

/* ---- TCP: the authentication front ---- */

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

/* The front completed (on any thread): the listener's own thread goes on
 * once the connection is resumed. */
static void front_done(struct authn *au)
{
    struct areq *q = au->cookie;
    if (lc_completed(&q->lc, lc_phase(&q->lc) == LC_AUTHN ? LC_AUTHN_RESULT : LC_AUTHZ_RESULT))
        lc_drive_release(&q->lc);
}

bool auth_tcp_start(struct areq *q)
{
    struct gen *g = server_current_gen(q->a->srv);
    if (!g || !q->conn) {
        gen_unref(g);
        reply_error(&q->rep, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the server is stopping");
        q->authn.outcome = AUTHN_REFUSED;
        lc_set(&q->lc, LC_AUTHN_RESULT);
        return true;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(q->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    q->info = (struct guise_request_info){
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
    q->authn = (struct authn){
        .srv = q->a->srv,
        .gen = g, /* the reference is dropped in auth cleanup (listener.c) */
        .scope = g->root_scope,
        .conn = &q->conn->auth,
        .client_ip = q->client_ip,
        .credentials =
            MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .info = &q->info,
        .anonymous_allowed = false,
        .listener = "admin",
        .done = front_done,
        .cookie = q,
    };
    lc_call_begin(&q->lc);
    authn_start(&q->authn);
    return lc_await(&q->lc);
}

/* Whether the identity's token (its groups, as NSS said when it was made)
 * holds the admin group. Without a token (impersonation off) the account
 * is looked up. */
static bool identity_is_admin(struct admin *a, const struct identity *id)
{
    if (!id->token)
        return id->account && auth_account_is_admin(a, id->account);
    if (guise_token_uid(id->token) == 0)
        return true;
    gid_t gid;
    if (!admin_gid(a, &gid))
        return false;
    return guise_token_gid(id->token) == gid || guise_token_in_group(id->token, gid);
}

static void reply_refusal(struct areq *q, const struct authn *au)
{
    switch (au->status) {
    case MHD_HTTP_UNAUTHORIZED:
        if (au->outcome == AUTHN_REFUSED && au->auth_status == GUISE_AUTH_CONTINUE && au->plugin)
            reply_error(&q->rep, au->status, "continue", "authentication continues");
        else
            reply_error(&q->rep, au->status, "unauthorized", "authentication is required");
        break;
    case MHD_HTTP_BAD_REQUEST:
        reply_error(&q->rep, au->status, "bad_credentials", "malformed credentials");
        break;
    case MHD_HTTP_FORBIDDEN:
        reply_error(&q->rep, au->status, "no_authentication",
                    "no enabled authentication plug-in of the server scope can identify an "
                    "administrator");
        break;
    case MHD_HTTP_TOO_MANY_REQUESTS:
        reply_error(&q->rep, au->status, "too_many_attempts",
                    "too many failed attempts: try again later");
        break;
    case MHD_HTTP_SERVICE_UNAVAILABLE:
        reply_error(&q->rep, au->status, "unavailable", "busy: try again shortly");
        break;
    default:
        reply_error(&q->rep, au->status ? au->status : MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                    "authentication failed");
        break;
    }
}

enum admin_verdict auth_tcp_result(struct areq *q)
{
    struct authn *au = &q->authn;
    if (q->rep.status) /* answered before the front ran */
        return ADMIN_REFUSED;
    if (lc_phase(&q->lc) == LC_AUTHZ_RESULT || au->outcome != AUTHN_IDENTIFIED) {
        if (au->credentials) {
            const char *claimed = q->conn && q->conn->auth.ctx
                                      ? guise_auth_ctx_claimed_user(q->conn->auth.ctx)
                                      : NULL;
            char who[192];
            snprintf(who, sizeof who, "%s (%s)", claimed ? claimed : "unknown user", q->client_ip);
            if (lc_phase(&q->lc) == LC_AUTHZ_RESULT)
                snprintf(who, sizeof who, "%s", q->who);
            refused(q, who,
                    lc_phase(&q->lc) == LC_AUTHZ_RESULT
                        ? "the account is not root and not a member of the admin group"
                    : au->status == MHD_HTTP_TOO_MANY_REQUESTS ? "locked out"
                    : au->status == MHD_HTTP_BAD_REQUEST       ? "malformed credentials"
                                                               : "authentication denied");
        }
        reply_refusal(q, au);
        return ADMIN_REFUSED;
    }
    snprintf(q->who, sizeof q->who, "%s (account %s, %s)", au->ident.logical_user,
             au->ident.account, q->client_ip);
    if (identity_is_admin(q->a, &au->ident)) {
        authn_accept(au);
        return ADMIN_ALLOWED;
    }
    /* Not an administrator: the same answer as a wrong password, so the
     * listener never confirms that a password was right. */
    lc_set(&q->lc, LC_AUTHZ);
    lc_call_begin(&q->lc);
    authn_reject(au);
    if (!lc_await(&q->lc))
        return ADMIN_WAIT;
    return auth_tcp_result(q);
}
