/* The state directory (server/statedir.h). */
#include "server/statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int statedir_ensure(const char *path, char *err, size_t errsz)
{
    char buf[PATH_MAX];
    if (!path || path[0] != '/' || strlen(path) >= sizeof buf) {
        snprintf(err, errsz, "key 'state-directory': '%s' is not an absolute path",
                 path ? path : "");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", path);
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    /* Every prefix in turn: "/var", "/var/lib", "/var/lib/guise". */
    for (char *p = buf + 1;; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last)
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, last ? 0700 : 0755) != 0 && errno != EEXIST) {
            snprintf(err, errsz, "key 'state-directory': cannot create %s: %s", buf,
                     strerror(errno));
            return -1;
        }
        struct stat sb;
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errsz, "key 'state-directory': %s is not a directory", buf);
            return -1;
        }
        *p = saved;
        if (last)
            return 0;
    }
}

int statedir_check(const char *path, char *err, size_t errsz)
{
    char buf[PATH_MAX];
    if (!path || path[0] != '/' || strlen(path) >= sizeof buf) {
        snprintf(err, errsz, "key 'state-directory': '%s' is not an absolute path",
                 path ? path : "");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", path);
    for (;;) {
        struct stat sb;
        if (stat(buf, &sb) == 0) {
            if (!S_ISDIR(sb.st_mode)) {
                snprintf(err, errsz, "key 'state-directory': %s is not a directory", buf);
                return -1;
            }
            /* The directory itself exists: plug-ins check what they need. */
            if (!strcmp(buf, path))
                return 0;
            if (access(buf, W_OK | X_OK) != 0) {
                snprintf(err, errsz, "key 'state-directory': cannot create %s in %s: %s", path, buf,
                         strerror(errno));
                return -1;
            }
            return 0;
        }
        if (errno != ENOENT) {
            snprintf(err, errsz, "key 'state-directory': %s: %s", buf, strerror(errno));
            return -1;
        }
        char *slash = strrchr(buf, '/');
        if (!slash)
            return -1;
        if (slash == buf)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

int statedir_give_to(const char *path, uid_t uid, gid_t gid, char *err, size_t errsz)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fchown(fd, uid, gid) != 0 || fchmod(fd, 0700) != 0) {
        snprintf(err, errsz, "key 'state-directory': cannot give %s to uid %ld: %s", path,
                 (long)uid, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Copies one small regular file; files that cannot be read are left out
 * (the plug-in then reports what a real start would). */
static void copy_file(int from_dir, int to_dir, const char *name)
{
    int in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0)
        return;
    struct stat sb;
    if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (1 << 20)) {
        close(in);
        return;
    }
    int out = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     sb.st_mode & 0777);
    if (out >= 0) {
        char chunk[8192];
        ssize_t n;
        while ((n = read(in, chunk, sizeof chunk)) > 0)
            if (write(out, chunk, (size_t)n) != n)
                break;
        (void)fchmod(out, sb.st_mode & 0777);
        close(out);
    }
    close(in);
}

char *statedir_scratch(const char *path, char *err, size_t errsz)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL;
    if (asprintf(&dir, "%s/guised-test.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp") < 0) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    if (!mkdtemp(dir)) {
        snprintf(err, errsz, "cannot make a scratch state directory %s: %s", dir, strerror(errno));
        free(dir);
        return NULL;
    }
    int from = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int to = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = from >= 0 ? fdopendir(dup(from)) : NULL;
    if (d && to >= 0) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.')
                copy_file(from, to, de->d_name);
    }
    if (d)
        closedir(d);
    if (from >= 0)
        close(from);
    if (to >= 0)
        close(to);
    return dir;
}

void statedir_scratch_remove(char *scratch)
{
    if (!scratch)
        return;
    DIR *d = opendir(scratch);
    if (d) {
        int fd = dirfd(d);
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                unlinkat(fd, de->d_name, 0);
        closedir(d);
    }
    rmdir(scratch);
    free(scratch);
}
