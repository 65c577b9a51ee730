/* A Digest plug-in instance on a fake host, for the unit tests. */
#ifndef GUISE_TEST_DIGEST_FIXTURE_H
#define GUISE_TEST_DIGEST_FIXTURE_H

#include "digest_test_util.h"

#include <guise/plugin.h>

#define REALM "http-auth@example.org"
#define URI   "/dir/index.html"
#define JASON "J\xc3\xa4s\xc3\xb8n Doe"

struct fx {
    char dir[256];
    char user_file[300];
    char key_file[300];
    struct fake_host host;
    guise_props *props;
    void *plugin;
    void *ctx;
    const struct guise_authn_ops *ops;
    char opaque[64];
};

struct sink {
    struct guise_challenge_sink base;
    int n;
    char v[8][1024];
};

/* Writes the users of most tests: Mufasa (every hash, password mufasa_pw),
 * md5only/pw1 (MD5), Jason Doe (SHA-256 and MD5), alice, eve, mallory, bob
 * (SHA-256, "pw"), and a line of another realm. */
void write_users(struct fx *f, const char *mufasa_pw, int mode);
/* Runs init with props kv (key, value pairs, NULL-terminated); user-file
 * defaults to f->user_file. */
guise_result fx_init(struct fx *f, const char *const *kv);
/* init, write the users unless the file exists, enable, create a context. */
void fx_start(struct fx *f, const char *const *kv);
void fx_stop(struct fx *f);
void get_challenges(struct fx *f, struct sink *s);
/* The same for a request with this User-Agent (NULL: none). */
void get_challenges_for(struct fx *f, const char *user_agent, struct sink *s);
/* A fresh nonce from a challenge; sets f->opaque. */
void fresh_nonce(struct fx *f, char *nonce);
/* Mufasa / Circle of Life, GET URI, qop auth, nc 1. */
void client_init(struct fx *f, struct digest_client *c, enum digest_alg alg, const char *nonce);
void auth_raw(struct fx *f, const char *header, struct fake_req *req, struct auth_capture *cap);
void auth_client(struct fx *f, const struct digest_client *c, struct fake_req *req,
                 struct auth_capture *cap);
/* The context's identity, NULL when it has none. */
const char *logical_user(struct fx *f);
const char *account_name(struct fx *f);

#endif
