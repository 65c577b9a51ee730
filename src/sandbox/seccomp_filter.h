/* guise: the seccomp filter - the kernel forbids guised to become root.
 *
 * guised keeps CAP_SETUID and CAP_SETGID to impersonate, and with them the
 * kernel would let it set any id, 0 included. The filter, built with
 * libseccomp and installed before any thread exists (so every thread,
 * libmicrohttpd's and the worker pool's included, inherits it), makes
 * every call that could give a thread root's ids kill the process:
 * setuid, setgid, setreuid, setregid, setresuid, setresgid, setfsuid and
 * setfsgid with an id argument of 0 (-1, "unchanged", stays allowed).
 * Everything else is allowed: the filter is a wall around root's ids, not
 * a list of the server's system calls (systemd's SystemCallFilter= does
 * that part in the unit).
 */
#ifndef GUISE_SANDBOX_SECCOMP_FILTER_H
#define GUISE_SANDBOX_SECCOMP_FILTER_H

#include <stddef.h>

/* Builds and loads the filter on the calling thread (and, with TSYNC, any
 * other; there should be none). Sets no_new_privs, so that no exec of a
 * set-user-ID program can hand a child root's ids either. Returns 0, or -1
 * with a sentence in why. */
int guise_seccomp_install(char *why, size_t whysz);

/* The value of "Seccomp:" in /proc/self/status: 2 once the filter is in,
 * -1 when unreadable. */
int guise_seccomp_mode(void);

#endif
