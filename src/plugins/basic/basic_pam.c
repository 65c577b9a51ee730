/* Basic plug-in: PAM checks in their own threads, awaited with a deadline. */
#include "plugins/basic/basic_pam.h"

#include <security/pam_appl.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A module that keeps prompting is broken or hostile: stop answering. */
#define MAX_PROMPTS 8

static atomic_int running;

struct attempt {
    atomic_int refs; /* the waiting worker and the PAM thread */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool finished;
    enum basic_pam_status status;
    char *name;
    char detail[160];
    int prompts;
    char *service, *user, *password, *rhost;
    size_t password_len;
};

static void attempt_unref(struct attempt *a)
{
    if (atomic_fetch_sub(&a->refs, 1) != 1)
        return;
    if (a->password) {
        explicit_bzero(a->password, a->password_len);
        free(a->password);
    }
    free(a->service);
    free(a->user);
    free(a->rhost);
    free(a->name);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    free(a);
}

static void free_replies(struct pam_response *r, int n)
{
    for (int i = 0; i < n; i++)
        if (r[i].resp) {
            explicit_bzero(r[i].resp, strlen(r[i].resp));
            free(r[i].resp);
        }
    free(r);
}

/* Answers password prompts with the password and visible prompts (a module
 * asking for the login name) with the user; messages need no answer. */
static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    struct attempt *a = data;
    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const char *answer = NULL;
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            answer = a->password;
            break;
        case PAM_PROMPT_ECHO_ON:
            answer = a->user;
            break;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            continue;
        default:
            free_replies(r, n);
            return PAM_CONV_ERR;
        }
        if (++a->prompts > MAX_PROMPTS || !(r[i].resp = strdup(answer))) {
            free_replies(r, n);
            return a->prompts > MAX_PROMPTS ? PAM_CONV_ERR : PAM_BUF_ERR;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

/* Answers that mean "this user may not log in with this password now". */
static bool is_denial(int rc)
{
    switch (rc) {
    case PAM_AUTH_ERR:
    case PAM_USER_UNKNOWN:
    case PAM_CRED_INSUFFICIENT:
    case PAM_MAXTRIES:
    case PAM_PERM_DENIED:
    case PAM_ACCT_EXPIRED:
    case PAM_NEW_AUTHTOK_REQD: /* expired password: it cannot be changed over HTTP */
    case PAM_AUTHTOK_EXPIRED:
        return true;
    default:
        return false;
    }
}

static void run_pam(struct attempt *a)
{
    struct pam_conv conv = {converse, a};
    pam_handle_t *h = NULL;
    int rc = pam_start(a->service, a->user, &conv, &h);
    if (rc != PAM_SUCCESS) {
        a->status = BASIC_PAM_FAILED;
        snprintf(a->detail, sizeof a->detail, "pam_start: %s", pam_strerror(h, rc));
        if (h)
            pam_end(h, rc);
        return;
    }
    if (a->rhost)
        pam_set_item(h, PAM_RHOST, a->rhost);
    /* DISALLOW_NULL_AUTHTOK: an account without a password is not open. */
    const char *step = "pam_authenticate";
    rc = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS) {
        step = "pam_acct_mgmt";
        rc = pam_acct_mgmt(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    }
    if (rc == PAM_SUCCESS) {
        const void *item = NULL;
        step = "PAM_USER";
        rc = pam_get_item(h, PAM_USER, &item);
        if (rc == PAM_SUCCESS && (!item || !*(const char *)item))
            rc = PAM_SYSTEM_ERR;
        if (rc == PAM_SUCCESS && !(a->name = strdup(item)))
            rc = PAM_BUF_ERR;
    }
    if (rc == PAM_SUCCESS)
        a->status = BASIC_PAM_OK;
    else
        a->status = is_denial(rc) ? BASIC_PAM_DENIED : BASIC_PAM_FAILED;
    snprintf(a->detail, sizeof a->detail, "%s: %s", step, pam_strerror(h, rc));
    pam_end(h, rc);
}

static void *pam_thread(void *arg)
{
    struct attempt *a = arg;
    run_pam(a);
    /* The password is no longer needed, whoever frees the attempt. */
    explicit_bzero(a->password, a->password_len);
    pthread_mutex_lock(&a->lock);
    a->finished = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    attempt_unref(a);
    atomic_fetch_sub(&running, 1);
    return NULL;
}

static struct attempt *attempt_new(const char *service, const char *user, const char *password,
                                   size_t password_len, const char *rhost)
{
    struct attempt *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    atomic_init(&a->refs, 1);
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cond, &ca);
    pthread_condattr_destroy(&ca);
    a->service = strdup(service);
    a->user = strdup(user);
    a->rhost = rhost ? strdup(rhost) : NULL;
    a->password = malloc(password_len + 1);
    if (a->password) {
        memcpy(a->password, password, password_len);
        a->password[password_len] = '\0';
        a->password_len = password_len;
    }
    if (!a->service || !a->user || !a->password || (rhost && !a->rhost)) {
        attempt_unref(a);
        return NULL;
    }
    return a;
}

void basic_pam_check(const char *service, const char *user, const char *password,
                     size_t password_len, const char *rhost, unsigned timeout_ms,
                     struct basic_pam_result *res)
{
    memset(res, 0, sizeof *res);
    if (atomic_fetch_add(&running, 1) >= BASIC_PAM_MAX_THREADS) {
        atomic_fetch_sub(&running, 1);
        res->status = BASIC_PAM_BUSY;
        snprintf(res->detail, sizeof res->detail, "%d PAM checks already running",
                 BASIC_PAM_MAX_THREADS);
        return;
    }
    struct attempt *a = attempt_new(service, user, password, password_len, rhost);
    pthread_attr_t attr;
    pthread_t t;
    int err = ENOMEM;
    if (a) {
        atomic_fetch_add(&a->refs, 1); /* the thread's */
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&t, &attr, pam_thread, a);
        pthread_attr_destroy(&attr);
        if (err)
            atomic_fetch_sub(&a->refs, 1);
    }
    if (err) {
        atomic_fetch_sub(&running, 1);
        if (a)
            attempt_unref(a);
        res->status = BASIC_PAM_FAILED;
        snprintf(res->detail, sizeof res->detail, "cannot start a PAM thread: %s", strerror(err));
        return;
    }

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&a->lock);
    while (!a->finished)
        if (pthread_cond_timedwait(&a->cond, &a->lock, &deadline) == ETIMEDOUT)
            break;
    if (a->finished) {
        res->status = a->status;
        res->name = a->name;
        a->name = NULL;
        memcpy(res->detail, a->detail, sizeof res->detail);
    } else {
        res->status = BASIC_PAM_TIMEOUT;
        snprintf(res->detail, sizeof res->detail, "no answer from PAM within %u ms", timeout_ms);
    }
    pthread_mutex_unlock(&a->lock);
    attempt_unref(a);
}

int basic_pam_running(void)
{
    return atomic_load(&running);
}

bool basic_pam_service_file(const char *service, char *found, size_t found_size)
{
    /* Under pam_wrapper (the tests), libpam reads the wrapper's directory
     * instead: look where libpam will look. */
    const char *wrapped = getenv("PAM_WRAPPER");
    const char *wrapped_dir = getenv("PAM_WRAPPER_SERVICE_DIR");
    const char *dirs[2] = {"/etc/pam.d", "/usr/lib/pam.d"};
    size_t ndirs = 2;
    if (wrapped && strcmp(wrapped, "1") == 0 && wrapped_dir && *wrapped_dir) {
        dirs[0] = wrapped_dir;
        ndirs = 1;
    }
    for (size_t i = 0; i < ndirs; i++) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dirs[i], service);
        struct stat st;
        if (n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (found && found_size)
                snprintf(found, found_size, "%s", path);
            return true;
        }
    }
    if (found && found_size)
        snprintf(found, found_size, "%s/%s%s%s/%s", dirs[0], service, ndirs > 1 ? " or " : "",
                 ndirs > 1 ? dirs[1] : "", ndirs > 1 ? service : "");
    return false;
}
