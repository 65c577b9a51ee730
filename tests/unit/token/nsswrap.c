/* Test helper: run a test binary over nss_wrapper databases. */
#include "nsswrap.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIR_ENV "GUISE_TEST_NSSWRAP_DIR"

/* Accounts: root and an alias of uid 0, low (system) accounts, accounts
 * with a root or low primary group, eight ordinary users 2001-2008, users
 * named as sssd and winbind name them (capitals, dots, '@', '\\') with
 * primary group users (100) and low supplementary groups (29, 44), and a
 * low-uid guest account. */
const char nsswrap_passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                              "toor:x:0:0:alias of root:/root:/bin/sh\n"
                              "legacy:x:900:900:low, allow-listed:/:/bin/false\n"
                              "lowuser:x:500:500:low:/:/bin/false\n"
                              "rootgrp:x:2050:0:primary group root:/:/bin/false\n"
                              "lowgid:x:2051:100:primary group users:/:/bin/false\n"
                              "wheelie:x:2060:2060:member of root:/:/bin/false\n"
                              "alice:x:2001:2001::/:/bin/false\n"
                              "bob:x:2002:2002::/:/bin/false\n"
                              "carol:x:2003:2003::/:/bin/false\n"
                              "dave:x:2004:2004::/:/bin/false\n"
                              "erin:x:2005:2005::/:/bin/false\n"
                              "frank:x:2006:2006::/:/bin/false\n"
                              "grace:x:2007:2007::/:/bin/false\n"
                              "heidi:x:2008:2008::/:/bin/false\n"
                              "alice@example.org:x:2010:100:sssd name:/:/bin/false\n"
                              "EXAMPLE\\alice:x:2011:2011:winbind name:/:/bin/false\n"
                              "Mixed.Case:x:2012:100::/:/bin/false\n"
                              "guestlow:x:600:600:low guest:/:/bin/false\n"
                              "nobody:x:65534:65534:nobody:/:/bin/false\n";

const char nsswrap_group[] = "root:x:0:wheelie\n"
                             "lowgrp:x:29:alice@example.org,Mixed.Case\n"
                             "video:x:44:alice@example.org\n"
                             "users:x:100:\n"
                             "lowuser:x:500:\n"
                             "legacy:x:900:\n"
                             "alice:x:2001:\n"
                             "bob:x:2002:\n"
                             "carol:x:2003:\n"
                             "dave:x:2004:\n"
                             "erin:x:2005:\n"
                             "frank:x:2006:\n"
                             "grace:x:2007:\n"
                             "heidi:x:2008:\n"
                             "wheelie:x:2060:\n"
                             "media:x:2100:alice,carol,erin\n"
                             "staff:x:2101:carol,frank\n"
                             "EXAMPLE\\alice:x:2011:\n"
                             "shared:x:2200:alice@example.org,EXAMPLE\\alice,Mixed.Case\n"
                             "guestlow:x:600:\n"
                             "nogroup:x:65534:\n";

static void die(const char *what)
{
    fprintf(stderr, "nsswrap: %s: %s\n", what, strerror(errno));
    exit(99); /* meson: hard error */
}

static void write_file(const char *dir, const char *name, const char *content)
{
    static unsigned generation;
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(content, f) < 0 || fclose(f) != 0)
        die(tmp);
    /* nss_wrapper reloads a file only when its mtime (in seconds) changes:
     * give every version its own. */
    struct timespec times[2] = {{.tv_sec = time(NULL) + 100 + ++generation},
                                {.tv_sec = time(NULL) + 100 + generation}};
    if (utimensat(AT_FDCWD, tmp, times, 0) != 0 || rename(tmp, path) != 0)
        die(path);
}

void nsswrap_init(char **argv)
{
    const char *dir = getenv(DIR_ENV);
    if (dir) {
        /* Running wrapped: make sure the wrapper really answers. */
        if (!getpwnam("heidi")) {
            fprintf(stderr, "nsswrap: nss_wrapper is not active (libnss-wrapper installed?)\n");
            exit(99);
        }
        /* forked children leave with _exit() and so leave the files be */
        atexit(nsswrap_cleanup);
        return;
    }
    char tmpl[] = "/tmp/guise-nss-XXXXXX";
    if (!mkdtemp(tmpl))
        die("mkdtemp");
    chmod(tmpl, 0755);
    write_file(tmpl, "passwd", nsswrap_passwd);
    write_file(tmpl, "group", nsswrap_group);
    char path[4200];
    snprintf(path, sizeof(path), "%s/passwd", tmpl);
    setenv("NSS_WRAPPER_PASSWD", path, 1);
    snprintf(path, sizeof(path), "%s/group", tmpl);
    setenv("NSS_WRAPPER_GROUP", path, 1);
    setenv(DIR_ENV, tmpl, 1);
    const char *preload = getenv("LD_PRELOAD");
    char value[4200];
    snprintf(value, sizeof(value), "%s%slibnss_wrapper.so", preload ? preload : "",
             preload ? ":" : "");
    setenv("LD_PRELOAD", value, 1);
    /* The sanitizers want to come first in the library list. */
    const char *asan = getenv("ASAN_OPTIONS");
    snprintf(value, sizeof(value), "%s%sverify_asan_link_order=0", asan ? asan : "",
             asan ? ":" : "");
    setenv("ASAN_OPTIONS", value, 1);
    execv("/proc/self/exe", argv);
    die("execv");
}

void nsswrap_write_group(const char *content)
{
    const char *dir = getenv(DIR_ENV);
    if (!dir) {
        errno = EINVAL;
        die("nsswrap_write_group before nsswrap_init");
    }
    write_file(dir, "group", content);
}

void nsswrap_cleanup(void)
{
    const char *dir = getenv(DIR_ENV);
    if (!dir)
        return;
    char path[4200];
    snprintf(path, sizeof(path), "%s/passwd", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/group", dir);
    unlink(path);
    rmdir(dir);
}
