/* Account mapping, shared by the authentication plug-ins (Digest, Basic,
 * Negotiate): which OS account an authenticated user impersonates.
 *
 * The map file has one "user account" pair per line, separated by blanks:
 *
 *     # logical user     account
 *     alice              alice
 *     bob@EXAMPLE.ORG    media
 *     *                  guests        <- everyone not listed above
 *
 * Blank lines and lines starting with '#' are comments, as is anything from a
 * '#' field after the pair. Names cannot hold blanks or control characters;
 * accounts cannot hold ':' or '/' either. A user listed twice is an error.
 *
 * Resolution of a logical user, in this order:
 *   1. the user's own line in the map;
 *   2. the '*' line of the map;
 *   3. the plug-in's fixed `account` property (every user impersonates one
 *      user or group account);
 *   4. the account with the user's own name.
 */
#ifndef GUISE_PLUGINS_ACCOUNT_MAP_H
#define GUISE_PLUGINS_ACCOUNT_MAP_H

#include <guise/plugin.h>
#include <guise/result.h>

#include <stddef.h>
#include <stdint.h>

#define GUISE_ACCOUNT_MAP_MAX_SIZE (16u << 20) /* bytes of a map file */
#define GUISE_ACCOUNT_MAP_MAX_LINE 4096

/* ---- the map itself (immutable once parsed) ---- */

typedef struct pk_account_map pk_account_map;

/* Parses a map from a buffer (need not be NUL-terminated). On a syntax error
 * returns GUISE_E_BAD_FORMAT and writes "line N: reason" to err. */
guise_result pk_account_map_parse(const char *buf, size_t len, pk_account_map **out, char *err,
                                  size_t err_size);
/* Reads and parses a map file; err gets "path: line N: reason". */
guise_result pk_account_map_load(const char *path, pk_account_map **out, char *err,
                                 size_t err_size);
void pk_account_map_free(pk_account_map *m);

/* Number of lines with a user (the '*' line included). */
size_t pk_account_map_count(const pk_account_map *m);
/* The account of user's own line (no fallback), or NULL. */
const char *pk_account_map_lookup(const pk_account_map *m, const char *user);
/* The account user impersonates, by the order above. m and fixed_account may
 * be NULL. Returns a string owned by m, by fixed_account or user itself. */
const char *pk_account_map_resolve(const pk_account_map *m, const char *user,
                                   const char *fixed_account);

/* True when s is acceptable as an account name (the `account` property). */
bool pk_account_name_ok(const char *s);

/* ---- a map file kept up to date ---- */

/* The map file of a plug-in plus its fixed account, re-read when the file
 * changes (checked at most once a second, on use). A map that fails to
 * re-read is not replaced by the old one: resolution then fails until the
 * file is fixed, because falling back could hand out a wrong account. */
typedef struct pk_account_mapper pk_account_mapper;

/* map_path and fixed_account may be NULL. The first read of map_path must
 * succeed (err says why not). Reload failures and successes are logged
 * through host with event_id (WARNING and INFORMATION). host may be NULL in
 * tests: nothing is logged then. */
guise_result pk_account_mapper_new(const struct guise_host_services *host, uint32_t event_id,
                                   const char *map_path, const char *fixed_account,
                                   pk_account_mapper **out, char *err, size_t err_size);
void pk_account_mapper_free(pk_account_mapper *m);
/* Resolves user to a malloc'd account name in *account. GUISE_E_BAD_FORMAT
 * when the map file is unusable right now. Thread-safe. */
guise_result pk_account_mapper_resolve(pk_account_mapper *m, const char *user, char **account);

#endif
