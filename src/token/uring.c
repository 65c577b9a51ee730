/* guise: impersonated opens through io_uring personalities.
 *
 * A personality is a set of credentials registered with a ring; a request
 * carrying its id runs with those credentials while the submitting thread
 * keeps its own throughout. Each thread owns a small ring (so no lock is
 * ever taken on the hot path) and remembers which personality it registered
 * for which token, keyed by the token's never-reused serial number. The
 * credentials are only switched, briefly, the first time a thread meets a
 * token.
 */
#include "token/imp_internal.h"
#include "token/token_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* One request is in flight at a time per thread. */
#define RING_ENTRIES 4
/* Personalities kept per thread before the least recently used one is
 * unregistered. */
#define PERSONALITY_CACHE 128
/* How often a transient failure (EAGAIN from RESOLVE_BENEATH's rename-race
 * check, or from a short allocation in io_uring_enter) is retried. */
#define RETRIES 16

struct personality {
    uint64_t serial;
    uint64_t last_use;
    int id;
};

struct thread_ring {
    struct io_uring ring;
    unsigned fork_gen;
    uint64_t clock; /* LRU time: one tick per lookup */
    uint64_t seq;   /* user_data of the next request */
    size_t npers;
    size_t mru;
    struct personality pers[PERSONALITY_CACHE];
};

static _Thread_local struct thread_ring *tls_ring;
static pthread_once_t ring_once = PTHREAD_ONCE_INIT;
static pthread_key_t ring_key; /* only for its destructor, at thread exit */
static bool ring_key_ok;
/* A forked child must not use its parent's rings: they are shared memory
 * with the parent's kernel context. */
static atomic_uint fork_gen;

static void ring_after_fork_child(void)
{
    atomic_fetch_add(&fork_gen, 1);
}

static void ring_thread_exit(void *p)
{
    struct thread_ring *tr = p;
    if (tls_ring == tr)
        tls_ring = NULL;
    io_uring_queue_exit(&tr->ring);
    free(tr);
}

static void ring_once_init(void)
{
    ring_key_ok = pthread_key_create(&ring_key, ring_thread_exit) == 0;
    pthread_atfork(NULL, NULL, ring_after_fork_child);
}

static int ring_setup(struct io_uring *ring)
{
    /* The ring only ever has one submitter, its thread: tell the kernel so
     * it can skip synchronisation and run completion work on our next wait
     * instead of interrupting us. Older kernels reject the newer flags. */
    static const unsigned flag_sets[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int ret = -EINVAL;
    for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]) && ret == -EINVAL; i++) {
        struct io_uring_params p = {.flags = flag_sets[i]};
        ret = io_uring_queue_init_params(RING_ENTRIES, ring, &p);
    }
    if (ret == 0)
        io_uring_register_ring_fd(ring); /* saves a file lookup per call; optional */
    return ret;
}

static void ring_discard(struct thread_ring *tr)
{
    tls_ring = NULL;
    if (ring_key_ok)
        pthread_setspecific(ring_key, NULL);
    io_uring_queue_exit(&tr->ring);
    free(tr);
}

static struct thread_ring *ring_get(void)
{
    unsigned gen = atomic_load_explicit(&fork_gen, memory_order_relaxed);
    struct thread_ring *tr = tls_ring;
    if (tr && tr->fork_gen == gen)
        return tr;
    pthread_once(&ring_once, ring_once_init);
    if (!ring_key_ok)
        return NULL;
    if (tr)
        ring_discard(tr);
    tr = calloc(1, sizeof(*tr));
    if (!tr)
        return NULL;
    if (ring_setup(&tr->ring) < 0) {
        free(tr);
        return NULL;
    }
    tr->fork_gen = gen;
    if (pthread_setspecific(ring_key, tr) != 0) {
        io_uring_queue_exit(&tr->ring);
        free(tr);
        return NULL;
    }
    tls_ring = tr;
    return tr;
}

/* Submits what is queued on ring and returns the result of the request
 * tagged tag. Sets *broken when the ring can no longer be trusted to be in
 * step with us (the caller then throws it away). */
static int ring_run(struct io_uring *ring, uint64_t tag, bool *broken)
{
    int ret = 0;
    /* Submit without asking to wait: an open of a cached path completes
     * inline, during the submission, and its completion is then already
     * there to be peeked at, which spares the kernel's wait path. Only a
     * request punted to a worker thread needs the wait below. */
    for (int tries = 0;; tries++) {
        ret = io_uring_submit(ring);
        /* One request is queued at a time: once the kernel took one, or
         * nothing is left to take, it is in. */
        if (ret > 0 || (ret == 0 && io_uring_sq_ready(ring) == 0))
            break;
        if ((ret != 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) || tries >= RETRIES) {
            *broken = true;
            return ret < 0 ? ret : -EIO;
        }
    }
    for (;;) {
        struct io_uring_cqe *cqe;
        ret = io_uring_peek_cqe(ring, &cqe);
        if (ret == -EAGAIN)
            ret = io_uring_wait_cqe(ring, &cqe);
        if (ret == -EINTR || ret == -EAGAIN)
            continue;
        if (ret < 0) {
            *broken = true;
            return ret;
        }
        uint64_t data = io_uring_cqe_get_data64(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(ring, cqe);
        if (data == tag)
            return res;
    }
}

static int ring_op(struct io_uring *ring, uint64_t tag, int personality, const struct imp_op *op,
                   bool *broken)
{
    for (int tries = 0;; tries++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
        if (!sqe) {
            *broken = true;
            return -EBUSY;
        }
        switch (op->kind) {
        case IMP_OP_OPENAT2:
            io_uring_prep_openat2(sqe, op->dirfd, op->path, (struct open_how *)&op->how);
            break;
        case IMP_OP_MKDIRAT:
            io_uring_prep_mkdirat(sqe, op->dirfd, op->path, op->mode);
            break;
        case IMP_OP_UNLINKAT:
            io_uring_prep_unlinkat(sqe, op->dirfd, op->path, (int)op->flags);
            break;
        case IMP_OP_RENAMEAT:
            io_uring_prep_renameat(sqe, op->dirfd, op->path, op->dirfd2, op->path2, op->flags);
            break;
        }
        sqe->personality = (uint16_t)personality;
        io_uring_sqe_set_data64(sqe, tag);
        int res = ring_run(ring, tag, broken);
        if (res != -EAGAIN || *broken || tries >= RETRIES)
            return res;
    }
}

/* Registers the token's credentials with ring: the only moment the thread's
 * own credentials change in this mechanism. */
static int register_personality(struct io_uring *ring, const struct imp_creds *server,
                                const guise_token *t, guise_result *r)
{
    sigset_t mask;
    *r = imp_creds_enter(server, t, &mask);
    if (*r != GUISE_S_OK)
        return -1;
    int id = io_uring_register_personality(ring);
    imp_creds_leave(server, &mask);
    if (id < 0)
        *r = GUISE_RESULT_FROM_ERRNO(-id);
    return id;
}

static guise_result personality_for(struct thread_ring *tr, const struct imp_creds *server,
                                    const guise_token *t, int *id)
{
    uint64_t serial = guise_token_serial(t);
    uint64_t now = ++tr->clock;
    /* A worker usually serves one client at a time: check the last one first. */
    if (tr->npers && tr->pers[tr->mru].serial == serial) {
        tr->pers[tr->mru].last_use = now;
        *id = tr->pers[tr->mru].id;
        return GUISE_S_OK;
    }
    size_t victim = 0;
    for (size_t i = 0; i < tr->npers; i++) {
        if (tr->pers[i].serial == serial) {
            tr->pers[i].last_use = now;
            tr->mru = i;
            *id = tr->pers[i].id;
            return GUISE_S_OK;
        }
        if (tr->pers[i].last_use < tr->pers[victim].last_use)
            victim = i;
    }
    guise_result r;
    int new_id = register_personality(&tr->ring, server, t, &r);
    if (new_id < 0)
        return r;
    size_t slot = victim;
    if (tr->npers < PERSONALITY_CACHE)
        slot = tr->npers++;
    else
        io_uring_unregister_personality(&tr->ring, tr->pers[victim].id);
    tr->pers[slot] = (struct personality){.serial = serial, .last_use = now, .id = new_id};
    tr->mru = slot;
    *id = new_id;
    return GUISE_S_OK;
}

guise_result imp_uring_run(const struct imp_creds *server, const guise_token *t,
                           const struct imp_op *op, int *res_out)
{
    struct thread_ring *tr = ring_get();
    if (!tr)
        return GUISE_E_NOT_SUPPORTED;
    int id;
    guise_result r = personality_for(tr, server, t, &id);
    if (r != GUISE_S_OK)
        return r;
    bool broken = false;
    int res = ring_op(&tr->ring, ++tr->seq, id, op, &broken);
    if (broken)
        ring_discard(tr);
    if (res < 0)
        return GUISE_RESULT_FROM_ERRNO(-res);
    *res_out = res;
    return GUISE_S_OK;
}

/* Reopens the memfd through /proc/self/fd with the personality: a file the
 * personality may or may not read depending on its mode, without touching
 * any file system. */
static int probe_open(struct io_uring *ring, int personality, int memfd, mode_t mode)
{
    if (fchmod(memfd, mode) != 0)
        return -errno;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    struct imp_op op = {
        .kind = IMP_OP_OPENAT2,
        .dirfd = AT_FDCWD,
        .path = path,
        .how = {.flags = O_RDONLY | O_CLOEXEC},
    };
    bool broken = false;
    int res = ring_op(ring, 1, personality, &op, &broken);
    if (res >= 0)
        close(res);
    return broken && res >= 0 ? -EIO : res;
}

guise_result imp_uring_probe(const struct imp_creds *server, const char **why)
{
    struct io_uring ring;
    if (ring_setup(&ring) < 0) {
        *why = "io_uring: cannot create a ring (kernel too old, kernel.io_uring_disabled, "
               "or blocked by seccomp)";
        return GUISE_E_NOT_SUPPORTED;
    }
    guise_result r = GUISE_E_NOT_SUPPORTED;
    int memfd = -1;
    guise_token *nobody =
        guise_token_make("nobody", GUISE_NOBODY_UID, GUISE_NOBODY_UID, NULL, 0, false);
    if (!nobody) {
        r = GUISE_E_OUTOFMEMORY;
        goto out;
    }
    guise_result reg;
    int id = register_personality(&ring, server, nobody, &reg);
    if (id < 0) {
        *why = "io_uring: cannot register a personality";
        goto out;
    }
    memfd = memfd_create("guise-io_uring-probe", MFD_CLOEXEC);
    if (memfd < 0) {
        *why = "io_uring probe: memfd_create failed";
        goto out;
    }
    int allowed = probe_open(&ring, id, memfd, 0644);
    int refused = probe_open(&ring, id, memfd, 0600);
    if (allowed == -ENOENT) {
        *why = "io_uring probe: /proc/self/fd is not available";
    } else if (allowed < 0) {
        *why = "io_uring: IORING_OP_OPENAT2 with a personality failed";
    } else if (refused != -EACCES) {
        *why = "io_uring: the kernel did not apply the personality's credentials";
    } else {
        r = GUISE_S_OK;
    }
out:
    if (memfd >= 0)
        close(memfd);
    guise_token_unref(nobody);
    io_uring_queue_exit(&ring);
    return r;
}
