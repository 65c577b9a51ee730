/* Digest access authentication: replay protection.
 *
 * Per nonce, the cache remembers which nonce-counts (nc) were accepted in a
 * sliding window of 64 counts: a bitmap above a base. Counts may arrive out of
 * order (pipelined or parallel requests) as long as they are inside the
 * window; a count seen before, or one below the window, is refused.
 *
 * Memory is bounded: at most `capacity` nonces, the least recently used one
 * evicted first. Forgetting a nonce must not make its old counts acceptable
 * again, so the cache keeps a watermark, the highest issue stamp of any
 * evicted nonce: a nonce that is not in the cache and was issued at or before
 * the watermark may have been evicted, and is refused as forgotten (the
 * caller answers stale=true, so the client retries with a new nonce without
 * asking the user). Nonce stamps are strictly increasing per node, so a nonce
 * issued after the last eviction is never refused for it.
 *
 * Thread-safe (one mutex); every operation is O(1).
 */
#ifndef GUISE_DIGEST_REPLAY_H
#define GUISE_DIGEST_REPLAY_H

#include "plugins/digest/digest_nonce.h"

#include <stddef.h>
#include <stdint.h>

#define DIGEST_REPLAY_WINDOW 64

struct digest_replay;

enum digest_replay_verdict {
    DIGEST_REPLAY_FRESH = 0,     /* accepted and recorded */
    DIGEST_REPLAY_SEEN = 1,      /* this count was accepted before: a replay */
    DIGEST_REPLAY_TOO_OLD = 2,   /* below the window */
    DIGEST_REPLAY_FORGOTTEN = 3, /* the nonce may have been evicted */
};

/* capacity: maximum number of nonces tracked (at least 1). NULL on ENOMEM. */
struct digest_replay *digest_replay_new(size_t capacity);
void digest_replay_free(struct digest_replay *r);

/* Records count nc of the nonce (id, stamp_us as decoded by
 * digest_nonce_check) unless that would accept it twice. */
enum digest_replay_verdict digest_replay_check(struct digest_replay *r,
                                               const uint8_t id[DIGEST_NONCE_ID_SIZE],
                                               uint64_t stamp_us, uint32_t nc);

/* Treats every nonce issued at or before stamp_us that the cache does not
 * hold as forgotten: for a cache that starts while such nonces may have been
 * used elsewhere (a restart, a reload). */
void digest_replay_forget_until(struct digest_replay *r, uint64_t stamp_us);

/* Number of nonces tracked now (tests, diagnostics). */
size_t digest_replay_size(struct digest_replay *r);

#endif
