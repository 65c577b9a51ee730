/* Credential stores: where the secrets live, apart from the schemes that
 * speak the protocol (as lighttpd's mod_auth back-ends are apart from its
 * schemes). A scheme asks a store either to check a password (Basic) or for
 * the stored hash H(user:realm:password) of a user (Digest's HA1); one store
 * serves every scheme that can use it (an htdigest file serves Basic and
 * Digest), and a new store (LDAP bind, SQL, an HTTP callback) is one file
 * implementing these operations.
 *
 * The async rule stays: a store whose checks block (PAM, crypt with a costly
 * hash, anything on the network) sets `blocking`, and the scheme runs its
 * checks on the host's worker pool, never on the calling thread.
 *
 * Threads: every operation may be called from any thread, concurrently; a
 * store locks what it needs. A store lives between the scheme's enable and
 * disable (the host drains calls before disable, plugin.h), so a check on a
 * worker may use it without a reference. */
#ifndef GUISE_PLUGINS_STORES_STORE_H
#define GUISE_PLUGINS_STORES_STORE_H

#include <guise/plugin.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pk_check_verdict {
    PK_CHECK_OK,      /* the password is right; name is who it authenticated */
    PK_CHECK_DENIED,  /* wrong password or unknown user (indistinguishable in time) */
    PK_CHECK_TIMEOUT, /* the back-end did not answer in time: not the user's fault */
    PK_CHECK_FAILED,  /* the back-end failed (configuration, outage): not the user's fault */
};

struct pk_check_result {
    enum pk_check_verdict verdict;
    char *name;       /* PK_CHECK_OK: the authenticated name (malloc'd), may differ from user */
    char detail[160]; /* TIMEOUT, FAILED: why, for the event log */
};

/* The hash families of stored HA1 values (Digest's algorithms). */
enum pk_ha1_hash {
    PK_HA1_MD5 = 0,
    PK_HA1_SHA256 = 1,
    PK_HA1_SHA512_256 = 2,
};

#define PK_HA1_HEX_MAX 64 /* SHA-256 and SHA-512-256 in hex */
/* Longest user name find_ha1 answers; a longer one is not found (never
 * truncated: a cut name could be another user). */
#define PK_STORE_NAME_MAX 511

struct pk_store;

struct pk_store_ops {
    const char *kind; /* "htpasswd", "htdigest", "pam": for messages */
    bool blocking;    /* check_password blocks: call it from a worker */
    /* Re-reads the backing data when it changed (at most cheaply: a file
     * store stats its file at most once a second) and returns a generation
     * that changes whenever it did, so that a scheme drops what it cached.
     * Never blocks. May be NULL (nothing to re-read). */
    uint64_t (*refresh)(struct pk_store *s);
    /* Checks user's password. Unknown users cost what known ones cost, so
     * that response times do not list the users. rhost (may be NULL) is the
     * client's address, for back-ends that log it (PAM_RHOST). */
    void (*check_password)(struct pk_store *s, const char *user, const char *password,
                           size_t password_len, const char *rhost, struct pk_check_result *out);
    /* The stored H(user:realm:password) of a user for hash, in lowercase
     * hex, into ha1 (PK_HA1_HEX_MAX + 1 bytes); with userhash, `user` is H(user:realm) as
     * RFC 7616 userhash sends it. name gets the user's name (name_size
     * bytes). False when the user or that hash is unknown. NULL when the
     * store keeps no such hashes (PAM, htpasswd). */
    bool (*find_ha1)(struct pk_store *s, const char *user, bool userhash, enum pk_ha1_hash hash,
                     char *name, size_t name_size, char *ha1);
    void (*free)(struct pk_store *s);
};

/* Every store starts with this. */
struct pk_store {
    const struct pk_store_ops *ops;
};

static inline uint64_t pk_store_refresh(struct pk_store *s)
{
    return s->ops->refresh ? s->ops->refresh(s) : 0;
}

static inline void pk_store_free(struct pk_store *s)
{
    if (s)
        s->ops->free(s);
}

#endif
