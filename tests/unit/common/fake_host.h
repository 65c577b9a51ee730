/* The fake plug-in host of the authentication plug-in unit tests (Basic,
 * Digest): the guise_host_services table a test hands to a plug-in, which
 * records the events it is sent and runs its work on threads, with the
 * request, the completion capture and the temporary files those tests use
 * around it. */
#ifndef GUISE_TEST_FAKE_HOST_H
#define GUISE_TEST_FAKE_HOST_H

#include <guise/plugin.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- fake host ---- */

struct fake_host_event {
    enum guise_event_level level;
    uint32_t id;
    guise_result code;
    char msg[512];
};

#define FAKE_HOST_MAX_EVENTS 128

/* Accounts: "ghost" does not exist (NOT_FOUND), "root" is refused
 * (ACCESSDENIED), names starting with "slow" are not cached (PENDING, then
 * resolved on a worker thread); any other resolves to `token` (may be NULL:
 * no impersonation). Each work item runs on a thread of its own, a little
 * later than its submission, as on a real pool. */
struct fake_host {
    struct guise_host_services svc;
    pthread_mutex_t lock;
    struct fake_host_event events[FAKE_HOST_MAX_EVENTS];
    size_t nevents;
    const char *realm;
    char state_dir[256];
    guise_token *token;
    int works_submitted;
    bool refuse_work; /* submit_work fails (GUISE_E_BUSY), as a full queue */
};

void fake_host_init(struct fake_host *h, const char *state_dir, const char *realm);
/* Number of events of level with id (id 0: any id). */
size_t fake_host_events(struct fake_host *h, enum guise_event_level level, uint32_t id);
/* The last event's message, "" when none. */
const char *fake_host_last_message(struct fake_host *h);
/* Number of work items submitted so far. */
int fake_host_works(struct fake_host *h);

/* ---- fake request ---- */

/* A request with one header, User-Agent, that keeps the last response
 * header the plug-in adds. */
struct fake_req {
    struct guise_request_info info;
    const char *user_agent; /* the User-Agent header, NULL: none */
    char resp_name[64];
    char resp_value[4096];
    int resp_headers;
};

/* method, uri (also the path), from 192.0.2.7, not secure. */
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

void auth_capture_init(struct auth_capture *c);
/* The authenticate completion; cookie is the capture. */
void auth_capture_done(enum guise_auth_status status, guise_result code,
                       const struct guise_blob *challenge, void *cookie);
/* Waits up to seconds for the completion; false on timeout. */
bool auth_capture_wait(struct auth_capture *c, int seconds);

/* ---- files ---- */

/* Makes a fresh directory under /tmp (path into dir, 256 bytes). */
void test_mkdtemp(char *dir);
/* rm -r dir; nothing when dir is "". */
void test_rmtree(const char *dir);
/* Writes contents to dir/name with mode, replacing any file there by a
 * rename (a new inode, as editors do); returns the path (static buffer
 * rotation: valid for a few calls). */
const char *test_write_file(const char *dir, const char *name, const char *contents, int mode);

#endif
