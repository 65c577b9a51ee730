/* Helpers of the Basic unit tests, around the shared fake host: a Basic
 * request, credentials, shell commands, and a Basic plug-in instance built
 * from key/value properties. */
#ifndef GUISE_TEST_BASIC_UTIL_H
#define GUISE_TEST_BASIC_UTIL_H

#include "fake_host.h"

#include <guise/plugin.h>

#include <stdbool.h>

/* The realm and the state directory of the Basic tests' host. */
#define BT_HOST_REALM     "media@example.org"
#define BT_HOST_STATE_DIR "/nonexistent"

/* GET /video/a.mp4 from 192.0.2.9, over HTTPS when secure. */
void bt_req_init(struct fake_req *r, bool secure);

/* Runs a shell command and returns its first output line (static buffer),
 * without the newline; NULL when it fails. */
const char *bt_command_line(const char *cmd);
/* "Basic"-less blob: base64 of user ':' password (static buffer). */
const char *bt_blob(const char *user, const char *password);

/* ---- a plug-in instance ---- */

/* A Basic plug-in on a fake host whose accounts resolve to NULL tokens (no
 * impersonation in unit tests). */
struct bt_plugin {
    char dir[256];
    struct fake_host host;
    guise_props *props;
    void *plugin;
    void *ctx;
    const struct guise_authn_ops *ops;
};

/* init with props kv (pairs, NULL-terminated) in a fresh temporary
 * directory (bt->dir exists before kv is read: use test_mkdtemp first). */
guise_result bt_plugin_init(struct bt_plugin *bt, const char *const *kv);
/* init + enable + a context; fails the test on error. */
void bt_plugin_start(struct bt_plugin *bt, const char *const *kv);
void bt_plugin_stop(struct bt_plugin *bt);
/* Authenticates blob (NULL: an empty blob) and waits up to `wait` seconds. */
void bt_auth(struct bt_plugin *bt, const char *blob, bool secure, struct auth_capture *cap,
             int wait);
/* The context's logical user / account, NULL when it has none. */
const char *bt_logical_user(struct bt_plugin *bt);
const char *bt_account(struct bt_plugin *bt);

#endif
