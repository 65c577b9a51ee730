/* Helpers of the Basic unit tests. */
#include "basic_test_util.h"

#include <guise/host_props.h>
#include "plugins/basic/basic.h"

#include <nettle/base64.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void bt_req_init(struct fake_req *r, bool secure)
{
    fake_req_init(r, "GET", "/video/a.mp4");
    r->info.path = "a.mp4";
    r->info.client_ip = "192.0.2.9";
    r->info.secure = secure;
}

const char *bt_command_line(const char *cmd)
{
    static char line[1024];
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    bool got = fgets(line, sizeof line, p) != NULL;
    if (pclose(p) != 0 || !got)
        return NULL;
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

const char *bt_blob(const char *user, const char *password)
{
    static char out[2048];
    char raw[1024];
    int n = snprintf(raw, sizeof raw, "%s:%s", user, password);
    assert_true(n > 0 && (size_t)n < sizeof raw);
    base64_encode_raw(out, (size_t)n, (const uint8_t *)raw);
    out[BASE64_ENCODE_RAW_LENGTH((size_t)n)] = '\0';
    return out;
}

/* ---- a plug-in instance ---- */

guise_result bt_plugin_init(struct bt_plugin *bt, const char *const *kv)
{
    if (!bt->dir[0])
        test_mkdtemp(bt->dir);
    fake_host_init(&bt->host, BT_HOST_STATE_DIR, BT_HOST_REALM);
    bt->props = guise_props_new("test.conf");
    int line = 1;
    for (; kv && kv[0]; kv += 2)
        guise_props_add(bt->props, kv[0], kv[1], line++);
    bt->ops = guise_basic_plugin.authn;
    return guise_basic_plugin.init(&bt->host.svc, bt->props, &bt->plugin);
}

void bt_plugin_start(struct bt_plugin *bt, const char *const *kv)
{
    assert_int_equal(bt_plugin_init(bt, kv), GUISE_S_OK);
    guise_result r = guise_basic_plugin.enable(bt->plugin);
    if (r != GUISE_S_OK)
        fail_msg("enable: %s", fake_host_last_message(&bt->host));
    assert_int_equal(bt->ops->create_context(bt->plugin, &bt->ctx), GUISE_S_OK);
}

void bt_plugin_stop(struct bt_plugin *bt)
{
    if (bt->ctx)
        bt->ops->destroy_context(bt->plugin, bt->ctx);
    if (bt->plugin) {
        guise_basic_plugin.disable(bt->plugin);
        guise_basic_plugin.shutdown(bt->plugin);
    }
    guise_props_free(bt->props);
    test_rmtree(bt->dir);
    memset(bt, 0, sizeof *bt);
}

void bt_auth(struct bt_plugin *bt, const char *blob, bool secure, struct auth_capture *cap,
             int wait)
{
    struct fake_req req;
    bt_req_init(&req, secure);
    struct guise_blob b = {blob ? blob : "", blob ? strlen(blob) : 0};
    auth_capture_init(cap);
    assert_int_equal(
        bt->ops->authenticate(bt->plugin, bt->ctx, &b, &req.info, auth_capture_done, cap),
        GUISE_S_OK);
    assert_true(auth_capture_wait(cap, wait));
    assert_int_equal(cap->calls, 1);
}

const char *bt_logical_user(struct bt_plugin *bt)
{
    const char *u = NULL;
    return bt->ops->logical_user_id(bt->ctx, &u) == GUISE_S_OK ? u : NULL;
}

const char *bt_account(struct bt_plugin *bt)
{
    const char *a = NULL;
    return bt->ops->impersonation_account_name(bt->ctx, &a) == GUISE_S_OK ? a : NULL;
}
