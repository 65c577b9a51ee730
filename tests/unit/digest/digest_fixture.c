/* A Digest plug-in instance on a fake host, for the unit tests. */
#include "digest_fixture.h"

#include "plugins/digest/digest.h"
#include "plugins/digest/digest_nonce.h"

#include <guise/host_props.h>

#include <guise/token.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void append_line(char *buf, size_t size, const char *user, enum digest_hash h,
                        const char *pw)
{
    char ha1[DIGEST_MAX_HEX + 1];
    size_t n = strlen(buf);
    digest_ha1(h, user, REALM, pw, strlen(pw), ha1);
    if (h == DIGEST_HASH_SHA512_256)
        snprintf(buf + n, size - n, "%s:%s:SHA-512-256:%s\n", user, REALM, ha1);
    else
        snprintf(buf + n, size - n, "%s:%s:%s\n", user, REALM, ha1);
}

/* The users of most tests. */
void write_users(struct fx *f, const char *mufasa_pw, int mode)
{
    char buf[4096] = "# test users\n";
    for (int h = 0; h < DIGEST_HASH_COUNT; h++)
        append_line(buf, sizeof buf, "Mufasa", (enum digest_hash)h, mufasa_pw);
    append_line(buf, sizeof buf, "md5only", DIGEST_HASH_MD5, "pw1");
    append_line(buf, sizeof buf, JASON, DIGEST_HASH_SHA256, "Secret, or not?");
    append_line(buf, sizeof buf, JASON, DIGEST_HASH_MD5, "Secret, or not?");
    static const char *mapped[] = {"alice", "eve", "mallory", "bob"};
    for (size_t i = 0; i < 4; i++)
        append_line(buf, sizeof buf, mapped[i], DIGEST_HASH_SHA256, "pw");
    /* Another realm's line: ignored. */
    strcat(buf, "other:elsewhere:3d78807defe7de2157e2b0b6573a855f\n");
    test_write_file(f->dir, "users", buf, mode);
}

/* Sets up props: pairs of key, value, NULL-terminated. The user file and the
 * state directory are in a fresh temporary directory. */
guise_result fx_init(struct fx *f, const char *const *kv)
{
    memset(f, 0, sizeof *f);
    test_mkdtemp(f->dir);
    snprintf(f->user_file, sizeof f->user_file, "%s/users", f->dir);
    snprintf(f->key_file, sizeof f->key_file, "%s/digest-nonce.key", f->dir);
    fake_host_init(&f->host, f->dir, REALM);
    f->props = guise_props_new("test.conf");
    int line = 1;
    bool has_users = false;
    for (; kv && kv[0]; kv += 2) {
        has_users |= strcmp(kv[0], "user-file") == 0;
        guise_props_add(f->props, kv[0], kv[1], line++);
    }
    if (!has_users)
        guise_props_add(f->props, "user-file", f->user_file, line++);
    f->ops = guise_digest_plugin.authn;
    return guise_digest_plugin.init(&f->host.svc, f->props, &f->plugin);
}

void fx_start(struct fx *f, const char *const *kv)
{
    assert_int_equal(fx_init(f, kv), GUISE_S_OK);
    if (access(f->user_file, F_OK) != 0)
        write_users(f, "Circle of Life", 0600);
    guise_result r = guise_digest_plugin.enable(f->plugin);
    if (r != GUISE_S_OK)
        fail_msg("enable: %s", fake_host_last_message(&f->host));
    assert_int_equal(f->ops->create_context(f->plugin, &f->ctx), GUISE_S_OK);
}

void fx_stop(struct fx *f)
{
    if (f->ctx)
        f->ops->destroy_context(f->plugin, f->ctx);
    if (f->plugin) {
        guise_digest_plugin.disable(f->plugin);
        guise_digest_plugin.shutdown(f->plugin);
    }
    guise_props_free(f->props);
    guise_token_unref(f->host.token);
    test_rmtree(f->dir);
}

static void sink_add(struct guise_challenge_sink *s, const char *params)
{
    struct sink *k = (struct sink *)s;
    if (k->n < 8)
        snprintf(k->v[k->n++], sizeof k->v[0], "%s", params);
}

void get_challenges(struct fx *f, struct sink *s)
{
    get_challenges_for(f, NULL, s);
}

void get_challenges_for(struct fx *f, const char *user_agent, struct sink *s)
{
    struct fake_req req;
    fake_req_init(&req, "GET", URI);
    req.user_agent = user_agent;
    memset(s, 0, sizeof *s);
    s->base.add = sink_add;
    assert_int_equal(f->ops->challenge(f->plugin, &req.info, &s->base), GUISE_S_OK);
}

/* A fresh nonce (and the opaque) from a challenge. */
void fresh_nonce(struct fx *f, char *nonce)
{
    struct sink s;
    get_challenges(f, &s);
    assert_true(s.n > 0);
    assert_true(auth_param(s.v[0], "nonce", nonce, DIGEST_NONCE_TEXT_LEN + 1));
    assert_true(auth_param(s.v[0], "opaque", f->opaque, sizeof f->opaque));
}

void client_init(struct fx *f, struct digest_client *c, enum digest_alg alg, const char *nonce)
{
    memset(c, 0, sizeof *c);
    c->alg = alg;
    c->user = "Mufasa";
    c->realm = REALM;
    c->password = "Circle of Life";
    c->method = "GET";
    c->uri = URI;
    c->qop = "auth";
    c->nonce = nonce;
    c->opaque = f->opaque;
    c->nc = 1;
    c->cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
}

/* Authenticates with a header over req; waits for the completion. */
void auth_raw(struct fx *f, const char *header, struct fake_req *req, struct auth_capture *cap)
{
    struct guise_blob blob = {header, strlen(header)};
    auth_capture_init(cap);
    assert_int_equal(
        f->ops->authenticate(f->plugin, f->ctx, &blob, &req->info, auth_capture_done, cap),
        GUISE_S_OK);
    assert_true(auth_capture_wait(cap, 5));
    assert_int_equal(cap->calls, 1);
}

void auth_client(struct fx *f, const struct digest_client *c, struct fake_req *req,
                 struct auth_capture *cap)
{
    char header[4096];
    digest_client_header(c, header, sizeof header);
    fake_req_init(req, c->method, c->uri);
    req->info.body = c->body;
    req->info.body_len = c->body_len;
    auth_raw(f, header, req, cap);
}

const char *logical_user(struct fx *f)
{
    const char *u = NULL;
    if (f->ops->logical_user_id(f->ctx, &u) != GUISE_S_OK)
        return NULL;
    return u;
}

const char *account_name(struct fx *f)
{
    const char *a = NULL;
    if (f->ops->impersonation_account_name(f->ctx, &a) != GUISE_S_OK)
        return NULL;
    return a;
}
