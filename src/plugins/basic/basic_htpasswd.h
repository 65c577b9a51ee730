/* Basic plug-in: Apache htpasswd user files.
 *
 * One "user:hash" line per user, as written by Apache's htpasswd. As in
 * Apache, blanks (and CR) around a line are stripped, empty lines and lines
 * starting with '#' are comments, and anything after a second ':' is
 * ignored. A user listed
 * twice is an error (Apache would silently take the first line). Entries
 * whose hash this plug-in refuses (plain text, DES crypt) are kept, marked
 * unusable, so that the plug-in can warn about them; they never match.
 *
 * A parsed file is immutable and reference-counted: a request keeps the
 * version it looked up while a reload swaps in the next one.
 */
#ifndef GUISE_BASIC_HTPASSWD_H
#define GUISE_BASIC_HTPASSWD_H

#include "plugins/basic/basic_hash.h"

#include <guise/result.h>

#include <stddef.h>

#define BASIC_USERFILE_MAX_SIZE (16u << 20)

struct basic_userdb;

/* Parses buf (len bytes, need not be NUL-terminated). On a syntax error
 * returns GUISE_E_BAD_FORMAT with "line N: reason" in err. */
guise_result basic_userdb_parse(const char *buf, size_t len, struct basic_userdb **out, char *err,
                                size_t err_size);
struct basic_userdb *basic_userdb_ref(struct basic_userdb *db); /* NULL-safe */
void basic_userdb_unref(struct basic_userdb *db);               /* NULL-safe, wipes hashes */
size_t basic_userdb_count(const struct basic_userdb *db);
/* The stored hash of user, NULL when user is not listed. *kind gets its
 * kind (BASIC_HASH_UNSUPPORTED for an unusable entry). */
const char *basic_userdb_find(const struct basic_userdb *db, const char *user,
                              enum basic_hash_kind *kind);
/* The hash of some usable entry (always the same one for a db), NULL when
 * there is none: unknown users are checked against it, so that they cost
 * what the file's users cost. */
const char *basic_userdb_sample_hash(const struct basic_userdb *db);
/* How many entries are unusable; names gets the first of them,
 * comma-separated (truncated to size). */
size_t basic_userdb_unusable(const struct basic_userdb *db, char *names, size_t size);

#endif
