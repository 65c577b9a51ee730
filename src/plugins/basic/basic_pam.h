/* Basic plug-in: one PAM check (authenticate + account management) with a
 * deadline.
 *
 * PAM modules may block for as long as they like (a dead LDAP server, a
 * module waiting on a device). The check therefore runs in a short-lived
 * thread of its own, and the caller (a worker of the host's pool) waits for
 * it at most timeout_ms. A check that misses its deadline is abandoned, not
 * killed: its thread owns a reference-counted copy of everything it uses and
 * frees it whenever PAM returns, so nothing it touches can be freed under
 * it. At most BASIC_PAM_MAX_THREADS checks run at once, abandoned ones
 * included, so a hung PAM stack cannot pile up threads without bound.
 */
#ifndef GUISE_BASIC_PAM_H
#define GUISE_BASIC_PAM_H

#include <stdbool.h>
#include <stddef.h>

#define BASIC_PAM_MAX_THREADS 64

enum basic_pam_status {
    BASIC_PAM_OK,      /* authenticated, account valid */
    BASIC_PAM_DENIED,  /* wrong password, unknown user, expired or locked account */
    BASIC_PAM_TIMEOUT, /* no answer within timeout_ms */
    BASIC_PAM_FAILED,  /* PAM itself failed (configuration, module error) */
    BASIC_PAM_BUSY,    /* too many checks running (BASIC_PAM_MAX_THREADS) */
};

struct basic_pam_result {
    enum basic_pam_status status;
    char *name;       /* for BASIC_PAM_OK: PAM_USER after the check, malloc'd */
    char detail[160]; /* pam_strerror or the reason, for events */
};

/* Runs pam_start(service, user) with a conversation that answers password,
 * pam_authenticate, pam_acct_mgmt, and reads PAM_USER back. rhost (may be
 * NULL) becomes PAM_RHOST. Blocks up to timeout_ms: call from a worker. */
void basic_pam_check(const char *service, const char *user, const char *password,
                     size_t password_len, const char *rhost, unsigned timeout_ms,
                     struct basic_pam_result *res);
/* Whether service has a file where libpam looks (/etc/pam.d, then
 * /usr/lib/pam.d; under pam_wrapper, its PAM_WRAPPER_SERVICE_DIR). Without
 * one libpam silently uses the "other" service (on Debian: common-auth,
 * every local account), so enabling must fail closed. found gets the file,
 * or on false the paths looked at. */
bool basic_pam_service_file(const char *service, char *found, size_t found_size);
/* Checks started and not yet returned from PAM (for tests). */
int basic_pam_running(void);

#endif
