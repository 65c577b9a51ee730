/* Helpers of the Basic unit tests. */
#include "basic_test_util.h"

#include "core/props_internal.h"
#include "plugins/basic/basic.h"

#include <guise/token.h>

#include <nettle/base64.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- fake host ---- */

static void bt_log(void *host, enum guise_event_level level, uint32_t id, guise_result code,
                   const char *fmt, ...)
{
    struct bt_host *h = host;
    pthread_mutex_lock(&h->lock);
    if (h->nevents < BT_MAX_EVENTS) {
        struct bt_event *e = &h->events[h->nevents++];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->level = level;
        e->id = id;
        e->code = code;
    }
    pthread_mutex_unlock(&h->lock);
}

struct work {
    guise_work_fn fn;
    void *arg;
};

static void *work_thread(void *p)
{
    struct work w = *(struct work *)p;
    free(p);
    w.fn(w.arg);
    return NULL;
}

static guise_result bt_submit(void *host, guise_work_fn fn, void *arg)
{
    struct bt_host *h = host;
    if (h->refuse_work)
        return GUISE_E_OUTOFMEMORY;
    struct work *w = malloc(sizeof *w);
    pthread_t t;
    if (!w)
        return GUISE_E_OUTOFMEMORY;
    *w = (struct work){fn, arg};
    pthread_mutex_lock(&h->lock);
    h->works_submitted++;
    pthread_mutex_unlock(&h->lock);
    if (pthread_create(&t, NULL, work_thread, w) != 0) {
        free(w);
        return GUISE_E_OUTOFMEMORY;
    }
    pthread_detach(t);
    return GUISE_S_OK;
}

static guise_result bt_token(void *host, const char *account, guise_token **out)
{
    *out = NULL;
    if (strcmp(account, "ghost") == 0)
        return GUISE_E_NOT_FOUND;
    if (strcmp(account, "root") == 0)
        return GUISE_E_ACCESSDENIED;
    return GUISE_S_OK;
}

static const char *bt_realm(void *host)
{
    return "media@example.org";
}

static const char *bt_state_dir(void *host)
{
    return "/nonexistent";
}

void bt_host_init(struct bt_host *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    h->svc.abi_major = GUISE_ABI_MAJOR;
    h->svc.abi_minor = GUISE_ABI_MINOR;
    h->svc.host = h;
    h->svc.log_event = bt_log;
    h->svc.submit_work = bt_submit;
    h->svc.token_for_account = bt_token;
    h->svc.try_token_for_account = bt_token;
    h->svc.realm = bt_realm;
    h->svc.state_dir = bt_state_dir;
}

size_t bt_host_events(struct bt_host *h, enum guise_event_level level, uint32_t id)
{
    size_t n = 0;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->nevents; i++)
        n += h->events[i].level == level && (id == 0 || h->events[i].id == id);
    pthread_mutex_unlock(&h->lock);
    return n;
}

const char *bt_host_last_message(struct bt_host *h)
{
    return h->nevents ? h->events[h->nevents - 1].msg : "";
}

int bt_host_works(struct bt_host *h)
{
    pthread_mutex_lock(&h->lock);
    int n = h->works_submitted;
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* ---- fake request ---- */

static const char *no_header(const struct guise_request_info *req, const char *name)
{
    return NULL;
}

static void ignore_header(const struct guise_request_info *req, const char *name, const char *value)
{
}

void bt_req_init(struct bt_req *r, bool secure)
{
    memset(r, 0, sizeof *r);
    r->info.method = "GET";
    r->info.uri = "/video/a.mp4";
    r->info.path = "a.mp4";
    r->info.client_ip = "192.0.2.9";
    r->info.secure = secure;
    r->info.header = no_header;
    r->info.add_response_header = ignore_header;
    r->info.host_data = r;
}

/* ---- completion capture ---- */

void bt_capture_init(struct bt_capture *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
}

void bt_capture_done(enum guise_auth_status status, guise_result code,
                     const struct guise_blob *challenge, void *cookie)
{
    struct bt_capture *c = cookie;
    pthread_mutex_lock(&c->lock);
    c->calls++;
    c->status = status;
    c->code = code;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

bool bt_capture_wait(struct bt_capture *c, int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&c->lock);
    while (c->calls == 0)
        if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) != 0)
            break;
    bool ok = c->calls > 0;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* ---- files ---- */

void bt_mkdtemp(char *dir)
{
    snprintf(dir, 256, "/tmp/guise-basic-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

void bt_rmtree(const char *dir)
{
    char cmd[512];
    if (!dir[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

const char *bt_write_file(const char *dir, const char *name, const char *contents)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    char tmp[600];
    snprintf(path, 512, "%s/%s", dir, name);
    /* Replaced by rename, as editors and htpasswd do: a new inode. */
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(contents, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
    return path;
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
        bt_mkdtemp(bt->dir);
    bt_host_init(&bt->host);
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
        fail_msg("enable: %s", bt_host_last_message(&bt->host));
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
    bt_rmtree(bt->dir);
    memset(bt, 0, sizeof *bt);
}

void bt_auth(struct bt_plugin *bt, const char *blob, bool secure, struct bt_capture *cap, int wait)
{
    struct bt_req req;
    bt_req_init(&req, secure);
    struct guise_blob b = {blob ? blob : "", blob ? strlen(blob) : 0};
    bt_capture_init(cap);
    assert_int_equal(
        bt->ops->authenticate(bt->plugin, bt->ctx, &b, &req.info, bt_capture_done, cap),
        GUISE_S_OK);
    assert_true(bt_capture_wait(cap, wait));
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
