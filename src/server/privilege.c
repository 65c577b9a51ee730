/* guised: entering the sandbox and checking the server's own files. */
#include "server/privilege.h"

#include "sandbox/privilege.h"
#include "sandbox/seccomp_filter.h"
#include "server/statedir.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* A state directory root creates for the service account: only a missing
 * one is given away, never an existing directory (which may be anything a
 * configuration names, a publishing point's parent included). */
static int make_state_dir(const char *dir, const struct guise_service_account *a, char *err,
                          size_t errsz)
{
    struct stat st;
    if (!dir || lstat(dir, &st) == 0 || errno != ENOENT)
        return 0;
    if (statedir_ensure(dir, err, errsz) != 0)
        return -1;
    return statedir_give_to(dir, a->uid, a->gid, err, errsz);
}

int server_privilege_enter(const char *config_path, const struct guise_config *cfg,
                           const char *state_dir, bool test_only, bool *state_checked, char *err,
                           size_t errsz)
{
    *state_checked = false;
    char why[768];
    bool must_switch = guise_privilege_must_switch();
    struct guise_service_account acct;
    /* Resolved before the filter and the switch: NSS may need files only
     * root reads, and must never run while impersonating. */
    if (must_switch && guise_privilege_resolve(cfg->server_account, &acct, why, sizeof why) != 0) {
        if (cfg->server_account_line)
            snprintf(err, errsz, "%s:%d: key 'server-account': %s", config_path,
                     cfg->server_account_line, why);
        else
            snprintf(err, errsz, "%s: key 'server-account' (default %s): %s", config_path,
                     GUISE_SERVER_ACCOUNT_DEFAULT, why);
        return -1;
    }
    /* The filter first, while still root: the switch below is its first
     * test (no id in it is 0), and it is in force before any thread. */
    if (guise_seccomp_install(why, sizeof why) != 0) {
        snprintf(err, errsz, "%s", why);
        return -1;
    }
    if (must_switch && !test_only && make_state_dir(state_dir, &acct, err, errsz) != 0)
        return -1;
    struct stat st;
    if (must_switch && test_only && state_dir && lstat(state_dir, &st) != 0 && errno == ENOENT) {
        if (statedir_check(state_dir, why, sizeof why) != 0) {
            snprintf(err, errsz, "%s: %s", config_path, why);
            return -1;
        }
        *state_checked = true;
    }
    if (must_switch &&
        guise_privilege_switch(&acct, cfg->impersonation != GUISE_IMP_OFF, why, sizeof why) != 0) {
        snprintf(err, errsz, "key 'server-account': %s", why);
        return -1;
    }
    return 0;
}

static int check(FILE *report, const char *what, const char *path, bool want_write, bool fatal)
{
    if (!path)
        return 0;
    int e = guise_privilege_check_access(path, want_write);
    if (e == 0)
        return 0;
    fprintf(report, "guised: %s%s %s cannot be %s by the server's account: %s\n",
            fatal ? "" : "warning: ", what, path, want_write ? "written" : "read", strerror(e));
    return fatal ? 1 : 0;
}

int server_privilege_check_files(const char *config_path, const struct guise_config *cfg,
                                 FILE *report)
{
    int bad = 0;
    /* A reload (SIGHUP) reads it again, as the service account. */
    bad += check(report, "configuration file", config_path, false, true);
    bad += check(report, "key 'tls-certificate':", cfg->tls_cert, false, true);
    bad += check(report, "key 'tls-key':", cfg->tls_key, false, true);
    bad += check(report, "key 'access-log':", cfg->access_log, true, true);
    /* A missing one is statedir_check()'s (server/statedir.h): created at
     * start, as root, before the switch. An existing one must take the
     * Digest nonce key and the admin state from the account. */
    struct stat st;
    if (cfg->state_dir && stat(cfg->state_dir, &st) == 0)
        bad += check(report, "key 'state-directory':", cfg->state_dir, true, true);
    char state[PATH_MAX];
    if (cfg->admin_state)
        snprintf(state, sizeof state, "%s", cfg->admin_state);
    else
        snprintf(state, sizeof state, "%s.state", config_path);
    bool admin_on = !cfg->admin_listen || strcmp(cfg->admin_listen, "none") != 0;
    if (admin_on)
        bad += check(report, "key 'admin-state':", state, true, false);
    if (admin_on && !cfg->admin_tcp) {
        char sock[PATH_MAX];
        snprintf(sock, sizeof sock, "%s",
                 cfg->admin_listen ? cfg->admin_listen : "/run/guise/admin.sock");
        bad += check(report, "directory of key 'admin-listen':", dirname(sock), true, false);
    }
    return bad;
}
