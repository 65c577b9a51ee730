/* guise: switching the server to its unprivileged service account. */
#include "sandbox/privilege.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Everything the server may still do that an ordinary account cannot. */
static const cap_value_t kept_setid[] = {CAP_SETUID, CAP_SETGID, CAP_NET_BIND_SERVICE};
static const cap_value_t kept_bind[] = {CAP_NET_BIND_SERVICE};

bool guise_privilege_must_switch(void)
{
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0)
        return true; /* cannot tell: treat as root, the switch then checks */
    return r == 0 || e == 0 || s == 0;
}

int guise_privilege_resolve(const char *name, struct guise_service_account *out, char *why,
                            size_t whysz)
{
    memset(out, 0, sizeof(*out));
    if (!name)
        name = GUISE_SERVER_ACCOUNT_DEFAULT;
    struct passwd pw, *found = NULL;
    char buf[16384];
    int err = getpwnam_r(name, &pw, buf, sizeof buf, &found);
    if (!found) {
        snprintf(why, whysz,
                 "account '%s' does not exist%s%s; create it as a system account with its own "
                 "group (make install does: useradd --system --user-group --no-create-home "
                 "--shell /usr/sbin/nologin %s)",
                 name, err ? ": " : "", err ? strerror(err) : "", name);
        return -1;
    }
    if (pw.pw_uid == 0 || pw.pw_gid == 0) {
        snprintf(why, whysz, "account '%s' has uid or gid 0: the server never runs as root", name);
        return -1;
    }
    if (strlen(pw.pw_name) >= sizeof(out->name)) {
        snprintf(why, whysz, "account name '%s' is too long", name);
        return -1;
    }
    int n = GUISE_SERVICE_MAX_GROUPS;
    if (getgrouplist(pw.pw_name, pw.pw_gid, out->groups, &n) < 0) {
        snprintf(why, whysz, "account '%s' is in more than %d groups", name,
                 GUISE_SERVICE_MAX_GROUPS);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (out->groups[i] == 0) {
            snprintf(why, whysz,
                     "account '%s' is a member of group 0 (root): remove it from that group", name);
            return -1;
        }
    }
    snprintf(out->name, sizeof out->name, "%s", pw.pw_name);
    out->uid = pw.pw_uid;
    out->gid = pw.pw_gid;
    out->ngroups = (size_t)n;
    return 0;
}

/* Credentials and capabilities are per thread: a thread that exists before
 * the switch would go on with root's. */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* setgroups(2) with the check the seccomp filter cannot make: it sees only
 * the pointer to the list, never gid 0 in it. */
static int setgroups_checked(size_t n, const gid_t *groups)
{
    for (size_t i = 0; i < n; i++) {
        if (groups[i] == 0) {
            errno = EPERM;
            return -1;
        }
    }
    return setgroups(n, groups);
}

static bool has_effective(cap_value_t cap)
{
    cap_t c = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    if (c) {
        cap_get_flag(c, cap, CAP_EFFECTIVE, &v);
        cap_free(c);
    }
    return v == CAP_SET;
}

/* Cuts the bounding set to keep: no later exec or bug can bring any other
 * capability back. Needs CAP_SETPCAP (root outside systemd has it; the
 * unit already bounds the set itself). */
static void cut_bounding_set(const cap_value_t *keep, size_t nkeep)
{
    if (!has_effective(CAP_SETPCAP))
        return;
    for (cap_value_t cap = 0; cap <= CAP_LAST_CAP; cap++) {
        bool kept = false;
        for (size_t i = 0; i < nkeep; i++)
            kept = kept || keep[i] == cap;
        if (!kept && CAP_IS_SUPPORTED(cap))
            cap_drop_bound(cap);
    }
}

/* Exactly keep, permitted and effective; nothing inheritable. */
static int set_caps(const cap_value_t *keep, size_t nkeep)
{
    cap_t c = cap_init();
    if (!c)
        return -1;
    int rc = cap_set_flag(c, CAP_PERMITTED, (int)nkeep, keep, CAP_SET);
    if (rc == 0)
        rc = cap_set_flag(c, CAP_EFFECTIVE, (int)nkeep, keep, CAP_SET);
    if (rc == 0)
        rc = cap_set_proc(c);
    cap_free(c);
    return rc;
}

/* True when the process's sets are exactly keep (permitted and effective)
 * and nothing is inheritable. */
static bool caps_are(const cap_value_t *keep, size_t nkeep)
{
    cap_t want = cap_init(), have = cap_get_proc();
    bool same = false;
    if (want && have && cap_set_flag(want, CAP_PERMITTED, (int)nkeep, keep, CAP_SET) == 0 &&
        cap_set_flag(want, CAP_EFFECTIVE, (int)nkeep, keep, CAP_SET) == 0)
        same = cap_compare(want, have) == 0;
    cap_free(want);
    cap_free(have);
    return same;
}

int guise_privilege_switch(const struct guise_service_account *a, bool keep_setid, char *why,
                           size_t whysz)
{
    const cap_value_t *keep = keep_setid ? kept_setid : kept_bind;
    size_t nkeep = keep_setid ? 3 : 1;
    if (a->uid == 0 || a->gid == 0) {
        snprintf(why, whysz, "refusing to switch to uid or gid 0");
        return -1;
    }
    int threads = thread_count();
    if (threads != 1) {
        snprintf(why, whysz, "the switch to '%s' must happen before any thread starts (%d threads)",
                 a->name, threads);
        return -1;
    }
    cut_bounding_set(keep, nkeep);
    /* Keep the permitted set across the uid change; the effective set is
     * cleared by the kernel and set again below. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || setgroups_checked(a->ngroups, a->groups) != 0 ||
        setresgid(a->gid, a->gid, a->gid) != 0 || setresuid(a->uid, a->uid, a->uid) != 0) {
        snprintf(why, whysz, "cannot switch to account '%s' (uid %u): %s", a->name,
                 (unsigned)a->uid, strerror(errno));
        return -1;
    }
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (set_caps(keep, nkeep) != 0 || cap_reset_ambient() != 0) {
        snprintf(why, whysz, "cannot set the capabilities of account '%s': %s", a->name,
                 strerror(errno));
        return -1;
    }
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != a->uid ||
        eu != a->uid || su != a->uid || rg != a->gid || eg != a->gid || sg != a->gid ||
        !caps_are(keep, nkeep)) {
        snprintf(why, whysz, "the kernel did not confirm the switch to account '%s'", a->name);
        return -1;
    }
    return 0;
}

int guise_privilege_check_access(const char *path, bool want_write)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || !want_write)
            return errno;
        /* a file to be created: its directory must take it */
        char copy[PATH_MAX];
        snprintf(copy, sizeof copy, "%s", path);
        return access(dirname(copy), W_OK | X_OK) == 0 ? 0 : errno;
    }
    if (S_ISDIR(st.st_mode))
        return access(path, want_write ? (W_OK | X_OK) : (R_OK | X_OK)) == 0 ? 0 : errno;
    int fd = open(path, (want_write ? O_WRONLY | O_APPEND : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}
