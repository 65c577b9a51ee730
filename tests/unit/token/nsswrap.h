/* Test helper: run a test binary over nss_wrapper databases.
 *
 * The token store resolves accounts through NSS; the tests need accounts
 * that exist on no real system (and a root that is refused), so they
 * re-execute themselves with libnss_wrapper preloaded over passwd and group
 * files written at start.
 */
#ifndef GUISE_TEST_NSSWRAP_H
#define GUISE_TEST_NSSWRAP_H

/* The passwd and group databases every token test sees. */
extern const char nsswrap_passwd[];
extern const char nsswrap_group[];

/* If not yet done, writes the databases to a fresh directory and
 * re-executes the program with nss_wrapper; returns once running wrapped
 * (exits on failure). The files go when the program exits. */
void nsswrap_init(char **argv);
/* Replaces the group database (atomically, with a new mtime so that
 * nss_wrapper reloads it). */
void nsswrap_write_group(const char *content);
/* Removes the databases; nsswrap_init() registers it with atexit(). */
void nsswrap_cleanup(void);

#endif
