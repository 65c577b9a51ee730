/* Digest access authentication: the user file (htdigest format).
 *
 * One entry per line, "user:realm:HA1" where HA1 = H(user:realm:password) in
 * hex:
 *   alice:media:5f4dcc3b5aa765d61d8327deb882cf99          32 digits: MD5 (Apache htdigest)
 *   alice:media:<64 hex digits>                          64 digits: SHA-256 (lighttpd)
 *   alice:media:SHA-512-256:<64 hex digits>              explicit hash marker
 * The marker form "user:realm:HASH:HA1" names the hash (MD5, SHA-256 or
 * SHA-512-256, case-insensitive) and is required for SHA-512-256, whose HA1
 * has the same length as SHA-256's. A user may have one line per hash; each
 * serves the plain and the -sess algorithm of that hash. Blank lines and lines
 * starting with '#' are ignored, as Apache does. User names and realms cannot
 * hold ':' or control characters.
 */
#ifndef GUISE_DIGEST_USERFILE_H
#define GUISE_DIGEST_USERFILE_H

#include "plugins/digest/digest_algo.h"

#include <guise/result.h>

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_USERFILE_MAX_SIZE (64u << 20) /* bytes */
#define DIGEST_USERFILE_MAX_LINE 4096

enum digest_line_kind {
    DIGEST_LINE_ENTRY = 0,
    DIGEST_LINE_EMPTY = 1, /* blank or comment */
    DIGEST_LINE_BAD = 2,
};

/* One parsed line; pointers into the line. */
struct digest_line {
    const char *user;
    size_t user_len;
    const char *realm;
    size_t realm_len;
    enum digest_hash hash;
    bool marked; /* written with an explicit hash marker */
    const char *ha1;
    size_t ha1_len;
};

/* Parses one line (without its '\n'; a trailing '\r' is allowed). For
 * DIGEST_LINE_BAD, *why is a static reason. */
enum digest_line_kind digest_line_parse(const char *line, size_t len, struct digest_line *out,
                                        const char **why);

/* Formats the line for (user, realm, hash, ha1) the way guise-passwd writes
 * it: no marker for MD5 and SHA-256 (readable by Apache and lighttpd), a
 * marker for SHA-512-256. Returns the length written (without NUL), or 0
 * when it does not fit. */
size_t digest_line_format(char *out, size_t size, const char *user, const char *realm,
                          enum digest_hash hash, const char *ha1_hex);

/* True when s may be a user name or realm in the file. */
bool digest_userfile_name_ok(const char *s, size_t len);

/* ---- the loaded users of one realm ---- */

struct digest_userdb;
struct digest_user;

/* Builds the users of realm from a whole file's contents. Lines of other
 * realms are syntax-checked and ignored. Any bad line, or two lines for the
 * same user, realm and hash, fail the whole file with a line-numbered
 * message in err ("line 3: ..."). The userhash index of every hash is built
 * here. On success *out has one reference. */
guise_result digest_userdb_parse(const char *buf, size_t len, const char *realm,
                                 struct digest_userdb **out, char *err, size_t err_size);
struct digest_userdb *digest_userdb_ref(struct digest_userdb *db);
void digest_userdb_unref(struct digest_userdb *db);

size_t digest_userdb_count(const struct digest_userdb *db);
/* The user called name, or NULL. */
const struct digest_user *digest_userdb_find(const struct digest_userdb *db, const char *name);
/* The user whose H(name:realm) under hash is hex (either case), or NULL. Only
 * users with an HA1 for hash are indexed. */
const struct digest_user *digest_userdb_find_hashed(const struct digest_userdb *db,
                                                    enum digest_hash hash, const char *hex);
const char *digest_user_name(const struct digest_user *u);
/* Lowercase hex HA1 for hash, or NULL when the file has none. */
const char *digest_user_ha1(const struct digest_user *u, enum digest_hash hash);

#endif
