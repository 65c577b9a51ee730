/* The htdigest credential store (see htdigest.h). */
#include "plugins/stores/htdigest.h"

#include "plugins/common/watched_file.h"
#include "plugins/digest/digest_algo.h"
#include "plugins/digest/digest_userfile.h"

#include <gnutls/crypto.h>
#include <nettle/memops.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct htdigest_store {
    struct pk_store base;
    const struct guise_host_services *host;
    uint32_t event_id;
    char *path, *realm;
    pthread_mutex_t lock;
    struct digest_userdb *users; /* NULL: the file is unusable, nobody logs in */
    struct pk_file_watch watch;
    atomic_uint_fast64_t generation;
    /* HA1 of no user: unknown users cost what known ones cost. */
    char dummy_ha1[DIGEST_HASH_COUNT][DIGEST_MAX_HEX + 1];
};

static guise_result load(struct htdigest_store *s, struct digest_userdb **out, char *err,
                         size_t err_size)
{
    char *data;
    size_t len;
    struct stat st;
    guise_result r =
        pk_file_read(s->path, DIGEST_USERFILE_MAX_SIZE, &data, &len, &st, err, err_size);
    if (r != GUISE_S_OK) {
        pk_file_watch_stat(&s->watch, s->path);
        return r;
    }
    pk_file_watch_seen(&s->watch, &st);
    char why[256];
    r = digest_userdb_parse(data, len, s->realm, out, why, sizeof why);
    explicit_bzero(data, len);
    free(data);
    if (r != GUISE_S_OK) {
        snprintf(err, err_size, "%s: %s", s->path, why);
        return r;
    }
    if (st.st_mode & S_IROTH)
        s->host->log_event(s->host->host, GUISE_EVENT_WARNING, s->event_id, GUISE_S_OK,
                           "user file %s is world-readable: its HA1 values are password "
                           "equivalents (chmod o-r)",
                           s->path);
    return GUISE_S_OK;
}

/* The current users (a reference), re-read first when the file changed. */
static struct digest_userdb *current(struct htdigest_store *s)
{
    pthread_mutex_lock(&s->lock);
    if (pk_file_watch_poll(&s->watch, s->path, 1000)) {
        char err[512];
        struct digest_userdb *fresh = NULL;
        guise_result r = load(s, &fresh, err, sizeof err);
        digest_userdb_unref(s->users);
        s->users = fresh;
        atomic_fetch_add(&s->generation, 1);
        if (r == GUISE_S_OK)
            s->host->log_event(s->host->host, GUISE_EVENT_INFORMATION, s->event_id, GUISE_S_OK,
                               "user file %s reloaded (%zu users in realm '%s')", s->path,
                               digest_userdb_count(fresh), s->realm);
        else
            /* Keeping the old users would keep accounts the administrator
             * just removed; fail closed until the file is fixed. WARNING and
             * not ERROR, which would disable the plug-in. */
            s->host->log_event(s->host->host, GUISE_EVENT_WARNING, s->event_id, r,
                               "user file not reloaded, denying every user until it is "
                               "fixed: %s",
                               err);
    }
    struct digest_userdb *db = digest_userdb_ref(s->users);
    pthread_mutex_unlock(&s->lock);
    return db;
}

static uint64_t htdigest_refresh(struct pk_store *base)
{
    struct htdigest_store *s = (struct htdigest_store *)base;
    digest_userdb_unref(current(s));
    return atomic_load(&s->generation);
}

static bool htdigest_find_ha1(struct pk_store *base, const char *user, bool userhash,
                              enum pk_ha1_hash hash, char *name, size_t name_size, char *ha1)
{
    struct htdigest_store *s = (struct htdigest_store *)base;
    struct digest_userdb *db = current(s);
    enum digest_hash h = (enum digest_hash)hash;
    const struct digest_user *u = NULL;
    if (db)
        u = userhash ? digest_userdb_find_hashed(db, h, user) : digest_userdb_find(db, user);
    const char *stored = u ? digest_user_ha1(u, h) : NULL;
    if (stored && strlen(digest_user_name(u)) >= name_size)
        stored = NULL; /* never a truncated name */
    if (stored) {
        snprintf(ha1, DIGEST_MAX_HEX + 1, "%s", stored);
        snprintf(name, name_size, "%s", digest_user_name(u));
    }
    digest_userdb_unref(db);
    return stored != NULL;
}

/* Basic against an htdigest file: H(user:realm:password) with the
 * strongest hash the user has, compared in constant time. */
static void htdigest_check_password(struct pk_store *base, const char *user, const char *password,
                                    size_t password_len, const char *rhost,
                                    struct pk_check_result *out)
{
    struct htdigest_store *s = (struct htdigest_store *)base;
    memset(out, 0, sizeof *out);
    out->verdict = PK_CHECK_DENIED;
    static const enum digest_hash order[] = {DIGEST_HASH_SHA256, DIGEST_HASH_SHA512_256,
                                             DIGEST_HASH_MD5};
    struct digest_userdb *db = current(s);
    const struct digest_user *u = db ? digest_userdb_find(db, user) : NULL;
    enum digest_hash h = DIGEST_HASH_SHA256;
    const char *stored = NULL;
    for (size_t i = 0; u && !stored && i < sizeof order / sizeof order[0]; i++)
        if ((stored = digest_user_ha1(u, order[i])))
            h = order[i];
    bool known = stored != NULL;
    char want[DIGEST_MAX_HEX + 1], got[DIGEST_MAX_HEX + 1];
    snprintf(want, sizeof want, "%s", known ? stored : s->dummy_ha1[h]);
    digest_ha1(h, user, s->realm, password, password_len, got);
    size_t len = digest_hash_hex_len(h);
    bool match = strlen(want) == len && memeql_sec(want, got, len) != 0;
    if (match && known && (out->name = strdup(digest_user_name(u))))
        out->verdict = PK_CHECK_OK;
    explicit_bzero(got, sizeof got);
    digest_userdb_unref(db);
}

static void htdigest_free(struct pk_store *base)
{
    struct htdigest_store *s = (struct htdigest_store *)base;
    if (!s)
        return;
    digest_userdb_unref(s->users);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s->realm);
    free(s);
}

static const struct pk_store_ops htdigest_ops = {
    .kind = "htdigest",
    .blocking = false,
    .refresh = htdigest_refresh,
    .check_password = htdigest_check_password,
    .find_ha1 = htdigest_find_ha1,
    .free = htdigest_free,
};

guise_result pk_htdigest_store_new(const struct guise_host_services *host, uint32_t event_id,
                                   const char *path, const char *realm, struct pk_store **out,
                                   char *err, size_t err_size)
{
    struct htdigest_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path)) || !(s->realm = strdup(realm))) {
        if (s) {
            free(s->path);
            free(s);
        }
        snprintf(err, err_size, "out of memory");
        return GUISE_E_OUTOFMEMORY;
    }
    s->base.ops = &htdigest_ops;
    s->host = host;
    s->event_id = event_id;
    pthread_mutex_init(&s->lock, NULL);
    pk_file_watch_init(&s->watch);
    atomic_init(&s->generation, 0);
    for (int h = 0; h < DIGEST_HASH_COUNT; h++) {
        unsigned char raw[DIGEST_MAX_BYTES];
        size_t n = digest_hash_size((enum digest_hash)h);
        if (gnutls_rnd(GNUTLS_RND_NONCE, raw, n) != 0) {
            snprintf(err, err_size, "gnutls_rnd failed");
            htdigest_free(&s->base);
            return GUISE_E_FAIL;
        }
        digest_hex_encode(raw, n, s->dummy_ha1[h]);
    }
    guise_result r = load(s, &s->users, err, err_size);
    if (r != GUISE_S_OK) {
        htdigest_free(&s->base);
        return r;
    }
    *out = &s->base;
    return GUISE_S_OK;
}
