/* Helpers of the Digest unit tests. */
#include "digest_test_util.h"

#include "plugins/digest/digest_header.h"

#include <guise/token.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- fake host ---- */

static void fake_log(void *host, enum guise_event_level level, uint32_t id, guise_result code,
                     const char *fmt, ...)
{
    struct fake_host *h = host;
    pthread_mutex_lock(&h->lock);
    if (h->nevents < FAKE_MAX_EVENTS) {
        struct fake_event *e = &h->events[h->nevents++];
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
        return GUISE_E_OUTOFMEMORY;
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

/* ---- fake request ---- */

/* The request carries one header, User-Agent, when the test sets it. */
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

void capture_init(struct auth_capture *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
}

void capture_done(enum guise_auth_status status, guise_result code,
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

bool capture_wait(struct auth_capture *c)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    pthread_mutex_lock(&c->lock);
    while (c->calls == 0) {
        if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) != 0)
            break;
    }
    bool ok = c->calls > 0;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* ---- client ---- */

void digest_client_response(const struct digest_client *c, char *hex)
{
    enum digest_hash hash = digest_alg_hash(c->alg);
    char ha1[DIGEST_MAX_HEX + 1];
    char nc[9];
    digest_ha1(hash, c->user, c->realm, c->password, strlen(c->password), ha1);
    snprintf(nc, sizeof nc, "%08x", c->nc);
    struct digest_response_input in = {
        .alg = c->alg,
        .ha1_hex = ha1,
        .nonce = c->nonce,
        .nc = nc,
        .cnonce = c->cnonce,
        .qop = c->qop,
        .method = c->method,
        .uri = c->uri,
        .body = c->body,
        .body_len = c->body_len,
    };
    digest_response(&in, hex);
}

static void pct_encode(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s && n + 4 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, size - n, "%%%02X", ch);
    }
    out[n] = '\0';
}

void digest_client_header(const struct digest_client *c, char *out, size_t size)
{
    char response[DIGEST_MAX_HEX + 1];
    char user[1024];
    char qrealm[600];
    size_t qpos = 0;
    digest_client_response(c, response);
    digest_quote_append(qrealm, sizeof qrealm, &qpos, c->realm);
    if (c->userhash) {
        char hex[DIGEST_MAX_HEX + 1];
        digest_userhash(digest_alg_hash(c->alg), c->user, c->realm, hex);
        snprintf(user, sizeof user, "username=\"%s\"", hex);
    } else if (c->username_star) {
        char enc[900];
        pct_encode(c->user, enc, sizeof enc);
        snprintf(user, sizeof user, "username*=UTF-8''%s", enc);
    } else {
        char q[900];
        size_t pos = 0;
        digest_quote_append(q, sizeof q, &pos, c->user);
        snprintf(user, sizeof user, "username=\"%s\"", q);
    }
    int n = snprintf(out, size,
                     "%s, realm=\"%s\", uri=\"%s\", %s%s%salgorithm=%s, nonce=\"%s\", "
                     "nc=%08x, cnonce=\"%s\", qop=%s, response=\"%s\"%s",
                     user, qrealm, c->uri, c->opaque ? "opaque=\"" : "", c->opaque ? c->opaque : "",
                     c->opaque ? "\", " : "", digest_alg_name(c->alg), c->nonce, c->nc, c->cnonce,
                     c->qop, response, c->userhash ? ", userhash=true" : "");
    if (c->omit_algorithm && n > 0) {
        /* Drop "algorithm=...," for the RFC's MD5 default. */
        char *a = strstr(out, "algorithm=");
        char *e = a ? strchr(a, ',') : NULL;
        if (a && e)
            memmove(a, e + 2, strlen(e + 2) + 1);
    }
}

bool auth_param(const char *params, const char *name, char *out, size_t size)
{
    static struct digest_params p;
    if (digest_params_parse(params, strlen(params), &p) != NULL)
        return false;
    const struct digest_param *q = digest_params_find(&p, name);
    if (!q)
        return false;
    snprintf(out, size, "%s", q->value);
    return true;
}

/* ---- files ---- */

void test_mkdtemp(char *dir)
{
    snprintf(dir, 256, "/tmp/guise-digest-test.XXXXXX");
    if (!mkdtemp(dir))
        abort();
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void test_rmtree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
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
    if (fd < 0)
        abort();
    size_t len = strlen(contents);
    if (write(fd, contents, len) != (ssize_t)len)
        abort();
    fchmod(fd, (mode_t)mode);
    close(fd);
    /* Replaced by rename, as editors and guise-passwd do. */
    if (rename(tmp, path) != 0)
        abort();
    return path;
}
