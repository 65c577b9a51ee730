/* Helpers of the Basic unit tests: a fake host that counts the work it is
 * given, a fake request, a completion capture, temporary files, and a Basic
 * plug-in instance built from key/value properties. */
#ifndef GUISE_TEST_BASIC_UTIL_H
#define GUISE_TEST_BASIC_UTIL_H

#include <guise/plugin.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- fake host ---- */

struct bt_event {
    enum guise_event_level level;
    uint32_t id;
    guise_result code;
    char msg[512];
};

#define BT_MAX_EVENTS 64

/* Accounts: "ghost" does not exist, "root" is refused by the min-uid policy;
 * any other resolves (to a NULL token: no impersonation in unit tests). */
struct bt_host {
    struct guise_host_services svc;
    pthread_mutex_t lock;
    struct bt_event events[BT_MAX_EVENTS];
    size_t nevents;
    int works_submitted; /* each password check is one */
    bool refuse_work;
};

void bt_host_init(struct bt_host *h);
/* Number of events of level with id (0: any id). */
size_t bt_host_events(struct bt_host *h, enum guise_event_level level, uint32_t id);
const char *bt_host_last_message(struct bt_host *h);
int bt_host_works(struct bt_host *h);

/* ---- fake request ---- */

struct bt_req {
    struct guise_request_info info;
};

void bt_req_init(struct bt_req *r, bool secure);

/* ---- completion capture ---- */

struct bt_capture {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    enum guise_auth_status status;
    guise_result code;
};

void bt_capture_init(struct bt_capture *c);
void bt_capture_done(enum guise_auth_status status, guise_result code,
                     const struct guise_blob *challenge, void *cookie);
/* Waits up to seconds for the completion; false on timeout. */
bool bt_capture_wait(struct bt_capture *c, int seconds);

/* ---- files ---- */

void bt_mkdtemp(char *dir); /* 256 bytes */
void bt_rmtree(const char *dir);
/* Writes contents to dir/name; returns the path (rotating static buffers). */
const char *bt_write_file(const char *dir, const char *name, const char *contents);
/* Runs a shell command and returns its first output line (static buffer),
 * without the newline; NULL when it fails. */
const char *bt_command_line(const char *cmd);
/* "Basic"-less blob: base64 of user ':' password (static buffer). */
const char *bt_blob(const char *user, const char *password);

/* ---- a plug-in instance ---- */

struct bt_plugin {
    char dir[256];
    struct bt_host host;
    guise_props *props;
    void *plugin;
    void *ctx;
    const struct guise_authn_ops *ops;
};

/* init with props kv (pairs, NULL-terminated) in a fresh temporary
 * directory (bt->dir exists before kv is read: use bt_plugin_dir first). */
guise_result bt_plugin_init(struct bt_plugin *bt, const char *const *kv);
/* init + enable + a context; fails the test on error. */
void bt_plugin_start(struct bt_plugin *bt, const char *const *kv);
void bt_plugin_stop(struct bt_plugin *bt);
/* Authenticates blob (NULL: an empty blob) and waits up to `wait` seconds. */
void bt_auth(struct bt_plugin *bt, const char *blob, bool secure, struct bt_capture *cap, int wait);
/* The context's logical user / account, NULL when it has none. */
const char *bt_logical_user(struct bt_plugin *bt);
const char *bt_account(struct bt_plugin *bt);

#endif
