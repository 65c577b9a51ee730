/* Helpers of the Digest unit tests: a fake host, a fake request, a Digest
 * client, temporary directories. */
#ifndef GUISE_TEST_DIGEST_UTIL_H
#define GUISE_TEST_DIGEST_UTIL_H

#include "plugins/digest/digest_algo.h"

#include <guise/plugin.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- fake host ---- */

struct fake_event {
    enum guise_event_level level;
    uint32_t id;
    guise_result code;
    char msg[512];
};

#define FAKE_MAX_EVENTS 128

/* Accounts: "ghost" does not exist (NOT_FOUND), "root" is refused
 * (ACCESSDENIED), names starting with "slow" are not cached (PENDING, then
 * resolved on a worker thread); any other resolves to `token` (may be NULL). */
struct fake_host {
    struct guise_host_services svc;
    pthread_mutex_t lock;
    struct fake_event events[FAKE_MAX_EVENTS];
    size_t nevents;
    const char *realm;
    char state_dir[256];
    guise_token *token;
    int works_submitted;
    bool refuse_work;
};

void fake_host_init(struct fake_host *h, const char *state_dir, const char *realm);
/* Number of events of level with id (id 0: any id). */
size_t fake_host_events(struct fake_host *h, enum guise_event_level level, uint32_t id);
/* The last event's message, "" when none. */
const char *fake_host_last_message(struct fake_host *h);

/* ---- fake request ---- */

struct fake_req {
    struct guise_request_info info;
    const char *user_agent; /* the User-Agent header, NULL: none */
    char resp_name[64];
    char resp_value[4096];
    int resp_headers;
};

void fake_req_init(struct fake_req *r, const char *method, const char *uri);

/* ---- completion capture ---- */

struct auth_capture {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    enum guise_auth_status status;
    guise_result code;
    bool has_blob;
    char blob[2048];
};

void capture_init(struct auth_capture *c);
void capture_done(enum guise_auth_status status, guise_result code,
                  const struct guise_blob *challenge, void *cookie);
/* Waits up to 5 s for the completion; false on timeout. */
bool capture_wait(struct auth_capture *c);

/* ---- a Digest client ---- */

struct digest_client {
    enum digest_alg alg;
    const char *user, *realm, *password;
    const char *method, *uri;
    const char *qop; /* "auth" or "auth-int" */
    const char *nonce, *opaque;
    uint32_t nc;
    const char *cnonce;
    bool userhash;
    bool username_star; /* send username* (UTF-8'') instead of username */
    const void *body;
    size_t body_len;
    bool omit_algorithm;
};

/* Writes the credentials (what follows "Digest ") into out. */
void digest_client_header(const struct digest_client *c, char *out, size_t size);
/* The response the client computes. */
void digest_client_response(const struct digest_client *c, char *hex);

/* Copies parameter name of a challenge or Authentication-Info value into
 * out; false when absent. */
bool auth_param(const char *params, const char *name, char *out, size_t size);

/* ---- files ---- */

/* Makes a fresh directory under /tmp (path into dir, 256 bytes). */
void test_mkdtemp(char *dir);
/* rm -r dir. */
void test_rmtree(const char *dir);
/* Writes contents to dir/name with mode; returns the path (static buffer
 * rotation: valid for a few calls). */
const char *test_write_file(const char *dir, const char *name, const char *contents, int mode);

#endif
