/* guised's state directory (state-directory, default /var/lib/guise): where
 * plug-ins keep state such as the Digest nonce key. Created on first start
 * rather than refused; `guised -t` only checks that it could be, and runs
 * the plug-ins against a scratch copy so that a test writes nothing. */
#ifndef GUISE_SERVER_STATEDIR_H
#define GUISE_SERVER_STATEDIR_H

#include <stddef.h>
#include <sys/types.h>

/* Creates path when missing: missing parents with mode 0755, the directory
 * itself with 0700. An existing directory is left as it is. 0, or -1 with
 * why in err ("state-directory": a non-directory in the way, EACCES ...). */
int statedir_ensure(const char *path, char *err, size_t errsz);

/* For `guised -t`: 0 when path is a directory, or when its nearest existing
 * ancestor is a directory this process may create entries in; -1 with why.
 * Creates nothing. */
int statedir_check(const char *path, char *err, size_t errsz);

/* Gives the state directory to the account the server runs as after
 * dropping privileges (uid, gid), so that it can keep writing its state:
 * for the privilege drop to call once it knows that account. 0, or -1 with
 * why. Refuses a path that is a symbolic link. */
int statedir_give_to(const char *path, uid_t uid, gid_t gid, char *err, size_t errsz);

/* For `guised -t`: a fresh private directory (mode 0700, under $TMPDIR or
 * /tmp) holding copies of the regular files of path (when it exists), so
 * plug-ins read the real keys and write only there. malloc'ed path, or
 * NULL with why. statedir_scratch_remove deletes it and its files. */
char *statedir_scratch(const char *path, char *err, size_t errsz);
void statedir_scratch_remove(char *scratch);

#endif
