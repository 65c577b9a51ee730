/* The fake plug-in host of the authentication plug-in unit tests. */
#include "fake_host.h"

#include <guise/token.h>

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- fake host ---- */

static void fake_log(void *host, enum guise_event_level level, uint32_t id, guise_result code,
                     const char *fmt, ...)
{
    struct fake_host *h = host;
    pthread_mutex_lock(&h->lock);
    if (h->nevents < FAKE_HOST_MAX_EVENTS) {
        struct fake_host_event *e = &h->events[h->nevents++];
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
    /* Later than the submitter, as a real pool would be. */
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    w.fn(w.arg);
    return NULL;
}

static guise_result fake_submit(void *host, guise_work_fn fn, void *arg)
{
    struct fake_host *h = host;
    if (h->refuse_work)
        return GUISE_E_BUSY;
    struct work *w = malloc(sizeof *w);
    pthread_t t;
    if (!w)
        return GUISE_E_OUTOFMEMORY;
    w->fn = fn;
    w->arg = arg;
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

static guise_result resolve(struct fake_host *h, const char *account, guise_token **out)
{
    *out = NULL;
    if (strcmp(account, "ghost") == 0)
        return GUISE_E_NOT_FOUND;
    if (strcmp(account, "root") == 0)
        return GUISE_E_ACCESSDENIED;
    *out = guise_token_ref(h->token);
    return GUISE_S_OK;
}

static guise_result fake_token(void *host, const char *account, guise_token **out)
{
    return resolve(host, account, out);
}

static guise_result fake_try_token(void *host, const char *account, guise_token **out)
{
    if (strncmp(account, "slow", 4) == 0) {
        *out = NULL;
        return GUISE_E_PENDING;
    }
    return resolve(host, account, out);
}

static const char *fake_realm(void *host)
{
    return ((struct fake_host *)host)->realm;
}

static const char *fake_state_dir(void *host)
{
    return ((struct fake_host *)host)->state_dir;
}

void fake_host_init(struct fake_host *h, const char *state_dir, const char *realm)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    snprintf(h->state_dir, sizeof h->state_dir, "%s", state_dir);
    h->realm = realm;
    h->svc.abi_major = GUISE_ABI_MAJOR;
    h->svc.abi_minor = GUISE_ABI_MINOR;
    h->svc.host = h;
    h->svc.log_event = fake_log;
    h->svc.submit_work = fake_submit;
    h->svc.token_for_account = fake_token;
    h->svc.try_token_for_account = fake_try_token;
    h->svc.realm = fake_realm;
    h->svc.state_dir = fake_state_dir;
}

size_t fake_host_events(struct fake_host *h, enum guise_event_level level, uint32_t id)
{
    size_t n = 0;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->nevents; i++)
        n += h->events[i].level == level && (id == 0 || h->events[i].id == id);
    pthread_mutex_unlock(&h->lock);
    return n;
}

const char *fake_host_last_message(struct fake_host *h)
{
    return h->nevents ? h->events[h->nevents - 1].msg : "";
}

int fake_host_works(struct fake_host *h)
{
    pthread_mutex_lock(&h->lock);
    int n = h->works_submitted;
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* ---- fake request ---- */

static const char *get_header(const struct guise_request_info *req, const char *name)
{
    const struct fake_req *r = req->host_data;
    return strcasecmp(name, "User-Agent") == 0 ? r->user_agent : NULL;
}

static void add_header(const struct guise_request_info *req, const char *name, const char *value)
{
    struct fake_req *r = req->host_data;
    snprintf(r->resp_name, sizeof r->resp_name, "%s", name);
    snprintf(r->resp_value, sizeof r->resp_value, "%s", value);
    r->resp_headers++;
}

void fake_req_init(struct fake_req *r, const char *method, const char *uri)
{
    memset(r, 0, sizeof *r);
    r->info.method = method;
    r->info.uri = uri;
    r->info.path = uri;
    r->info.client_ip = "192.0.2.7";
    r->info.header = get_header;
    r->info.add_response_header = add_header;
    r->info.host_data = r;
}

/* ---- completion capture ---- */

void auth_capture_init(struct auth_capture *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
}

void auth_capture_done(enum guise_auth_status status, guise_result code,
                       const struct guise_blob *challenge, void *cookie)
{
    struct auth_capture *c = cookie;
    pthread_mutex_lock(&c->lock);
    c->calls++;
    c->status = status;
    c->code = code;
    c->has_blob = challenge != NULL;
    c->blob[0] = '\0';
    if (challenge)
        snprintf(c->blob, sizeof c->blob, "%.*s", (int)challenge->len,
                 (const char *)challenge->data);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

bool auth_capture_wait(struct auth_capture *c, int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&c->lock);
    while (c->calls == 0) {
        if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) != 0)
            break;
    }
    bool ok = c->calls > 0;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* ---- files ---- */

void test_mkdtemp(char *dir)
{
    snprintf(dir, 256, "/tmp/guise-unit-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void test_rmtree(const char *dir)
{
    if (!dir[0])
        return;
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    assert_int_not_equal(access(dir, F_OK), 0); /* gone */
}

const char *test_write_file(const char *dir, const char *name, const char *contents, int mode)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    char tmp[600];
    snprintf(path, 512, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    size_t len = strlen(contents);
    assert_true(write(fd, contents, len) == (ssize_t)len);
    assert_int_equal(fchmod(fd, (mode_t)mode), 0);
    assert_int_equal(close(fd), 0);
    /* Replaced by rename, as editors, htpasswd and guise-passwd do. */
    assert_int_equal(rename(tmp, path), 0);
    return path;
}
