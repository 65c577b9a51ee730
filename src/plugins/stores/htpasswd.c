/* The htpasswd credential store (see htpasswd.h). */
#include "plugins/stores/htpasswd.h"

#include "plugins/basic/basic_hash.h"
#include "plugins/basic/basic_htpasswd.h"
#include "plugins/common/watched_file.h"

#include <gnutls/crypto.h>

#include <crypt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct htpasswd_store {
    struct pk_store base;
    const struct guise_host_services *host;
    uint32_t event_id;
    char *path;
    pthread_mutex_t lock;
    struct basic_userdb *users; /* NULL: the file is unusable, nobody logs in */
    struct pk_file_watch watch;
    atomic_uint_fast64_t generation;
    /* A yescrypt hash of a random password, for unknown users when the file
     * has no usable entry to stand in for them. */
    char dummy_hash[CRYPT_OUTPUT_SIZE];
};

static guise_result load(struct htpasswd_store *s, struct basic_userdb **out, char *err,
                         size_t err_size)
{
    char *data;
    size_t len;
    struct stat st;
    guise_result r =
        pk_file_read(s->path, BASIC_USERFILE_MAX_SIZE, &data, &len, &st, err, err_size);
    if (r != GUISE_S_OK) {
        pk_file_watch_stat(&s->watch, s->path);
        return r;
    }
    pk_file_watch_seen(&s->watch, &st);
    char why[256];
    r = basic_userdb_parse(data, len, out, why, sizeof why);
    explicit_bzero(data, len);
    free(data);
    if (r != GUISE_S_OK) {
        snprintf(err, err_size, "%s: %s", s->path, why);
        return r;
    }
    char names[256];
    size_t bad = basic_userdb_unusable(*out, names, sizeof names);
    if (bad)
        s->host->log_event(s->host->host, GUISE_EVENT_WARNING, s->event_id, GUISE_E_NOT_SUPPORTED,
                           "user file %s: %zu entries with a plain-text or unsupported hash "
                           "are refused (%s); use htpasswd -B or -5",
                           s->path, bad, names);
    return GUISE_S_OK;
}

/* The current users (a reference), re-read first when the file changed. */
static struct basic_userdb *current(struct htpasswd_store *s)
{
    pthread_mutex_lock(&s->lock);
    if (pk_file_watch_poll(&s->watch, s->path, 1000)) {
        char err[512];
        struct basic_userdb *fresh = NULL;
        guise_result r = load(s, &fresh, err, sizeof err);
        basic_userdb_unref(s->users);
        s->users = fresh;
        /* Passwords may have changed or users gone: schemes forget what they
         * cached against the old file. */
        atomic_fetch_add(&s->generation, 1);
        if (r == GUISE_S_OK)
            s->host->log_event(s->host->host, GUISE_EVENT_INFORMATION, s->event_id, GUISE_S_OK,
                               "user file %s reloaded (%zu users)", s->path,
                               basic_userdb_count(fresh));
        else
            /* Fail closed until the file is fixed; WARNING, not ERROR,
             * which would disable the plug-in. */
            s->host->log_event(s->host->host, GUISE_EVENT_WARNING, s->event_id, r,
                               "user file not reloaded, denying every user until it is fixed: %s",
                               err);
    }
    struct basic_userdb *db = basic_userdb_ref(s->users);
    pthread_mutex_unlock(&s->lock);
    return db;
}

static uint64_t htpasswd_refresh(struct pk_store *base)
{
    struct htpasswd_store *s = (struct htpasswd_store *)base;
    basic_userdb_unref(current(s));
    return atomic_load(&s->generation);
}

static void htpasswd_check_password(struct pk_store *base, const char *user, const char *password,
                                    size_t password_len, const char *rhost,
                                    struct pk_check_result *out)
{
    struct htpasswd_store *s = (struct htpasswd_store *)base;
    memset(out, 0, sizeof *out);
    out->verdict = PK_CHECK_DENIED;
    struct basic_userdb *db = current(s);
    enum basic_hash_kind kind = BASIC_HASH_UNSUPPORTED;
    const char *hash = basic_userdb_find(db, user, &kind);
    bool known = hash && kind != BASIC_HASH_UNSUPPORTED;
    /* Unknown users cost what a user of the file costs (bcrypt at 2 ms or
     * yescrypt at 40 ms): response times do not list the users. The check
     * cannot succeed (known is false). */
    const char *sample = basic_userdb_sample_hash(db);
    char *copy = strdup(known ? hash : sample ? sample : s->dummy_hash);
    basic_userdb_unref(db); /* the hash is copied: a reload may free the file */
    if (!copy) {
        out->verdict = PK_CHECK_FAILED;
        snprintf(out->detail, sizeof out->detail, "out of memory");
        return;
    }
    bool match = basic_hash_verify(copy, password, password_len);
    explicit_bzero(copy, strlen(copy));
    free(copy);
    if (match && known) {
        if ((out->name = strdup(user))) {
            out->verdict = PK_CHECK_OK;
        } else {
            out->verdict = PK_CHECK_FAILED;
            snprintf(out->detail, sizeof out->detail, "out of memory");
        }
    }
}

static void htpasswd_free(struct pk_store *base)
{
    struct htpasswd_store *s = (struct htpasswd_store *)base;
    if (!s)
        return;
    basic_userdb_unref(s->users);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}

/* The dummy hash: yescrypt, the default of Debian's passwd and a costly
 * one, of a random password nobody knows. */
static guise_result make_dummy_hash(struct htpasswd_store *s)
{
    uint8_t rnd[16];
    char pw[2 * sizeof rnd + 1];
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data)
        return GUISE_E_OUTOFMEMORY;
    guise_result r = GUISE_E_FAIL;
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) == 0 &&
        crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof setting)) {
        for (size_t i = 0; i < sizeof rnd; i++)
            snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
        const char *h = crypt_rn(pw, setting, data, (int)sizeof *data);
        if (h && h[0] != '*' && strlen(h) < sizeof s->dummy_hash) {
            strcpy(s->dummy_hash, h);
            r = GUISE_S_OK;
        }
    }
    explicit_bzero(data, sizeof *data);
    free(data);
    return r;
}

static const struct pk_store_ops htpasswd_ops = {
    .kind = "htpasswd",
    .blocking = true,
    .refresh = htpasswd_refresh,
    .check_password = htpasswd_check_password,
    .find_ha1 = NULL,
    .free = htpasswd_free,
};

guise_result pk_htpasswd_store_new(const struct guise_host_services *host, uint32_t event_id,
                                   const char *path, struct pk_store **out, char *err,
                                   size_t err_size)
{
    struct htpasswd_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, err_size, "out of memory");
        return GUISE_E_OUTOFMEMORY;
    }
    s->base.ops = &htpasswd_ops;
    s->host = host;
    s->event_id = event_id;
    pthread_mutex_init(&s->lock, NULL);
    pk_file_watch_init(&s->watch);
    atomic_init(&s->generation, 0);
    guise_result r = make_dummy_hash(s);
    if (r != GUISE_S_OK) {
        snprintf(err, err_size, "crypt: cannot make a yescrypt hash");
        htpasswd_free(&s->base);
        return r;
    }
    if ((r = load(s, &s->users, err, err_size)) != GUISE_S_OK) {
        htpasswd_free(&s->base);
        return r;
    }
    *out = &s->base;
    return GUISE_S_OK;
}
