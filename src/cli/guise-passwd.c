/* guise-passwd: manages the user file of the Digest plug-in, like Apache's
 * htdigest, with a choice of hash. See docs/DIGEST.md for the file format. */
#include "plugins/digest/digest_algo.h"
#include "plugins/digest/digest_userfile.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

enum {
    EXIT_USAGE = 1,
    EXIT_FILE = 2,
    EXIT_PASSWORD = 3,
    EXIT_NO_USER = 4,
    EXIT_MALFORMED = 5,
};

#define PASSWORD_MAX 1024

static void usage(FILE *out)
{
    fprintf(out, "Usage: guise-passwd [-c] [-a ALGORITHM] [-D] [--stdin] FILE REALM USER\n"
                 "Adds, changes or deletes USER of REALM in FILE, the user file of guise's\n"
                 "Digest plug-in (htdigest format: \"user:realm:HA1\").\n"
                 "\n"
                 "  -c, --create          create FILE, replacing an existing one (mode 0600)\n"
                 "  -a, --algorithm=ALG   write only this hash of the stored HA1; without -a,\n"
                 "                        one line for each of the three (what the Digest\n"
                 "                        plug-in offers by default):\n"
                 "                          MD5          (the line Apache htdigest writes)\n"
                 "                          SHA-256      (the line lighttpd reads)\n"
                 "                          SHA-512-256  (written as user:realm:SHA-512-256:HA1)\n"
                 "                        each line serves the plain and the -sess algorithm\n"
                 "                        of its hash\n"
                 "  -D, --delete          delete USER's lines in REALM (only ALG's with -a)\n"
                 "      --stdin           read the password from the first line of standard\n"
                 "                        input instead of prompting twice on the terminal;\n"
                 "                        this is also what happens when standard input is\n"
                 "                        not a terminal (as with chpasswd or htpasswd -i)\n"
                 "  -h, --help            show this help\n"
                 "  -V, --version         show the version\n"
                 "\n"
                 "FILE is rewritten atomically (a temporary file renamed over it); its other\n"
                 "lines are kept as they are.\n"
                 "\n"
                 "Exit status:\n"
                 "  0  success\n"
                 "  1  usage error (bad option, bad user or realm name)\n"
                 "  2  FILE cannot be read or written\n"
                 "  3  no password (mismatch, empty, too long, no terminal)\n"
                 "  4  -D: no such user in REALM\n"
                 "  5  FILE holds a malformed line (fix it by hand first)\n");
}

/* ---- password input ---- */

static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_echo_off;

static void restore_tty(void)
{
    if (tty_echo_off) {
        tcsetattr(tty_fd, TCSANOW, &tty_saved);
        tty_echo_off = 0;
    }
}

static void on_signal(int sig)
{
    restore_tty();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one line (without its end) into buf; false on EOF, error or a line
 * longer than the buffer. */
static bool read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return n > 0 && n < size;
        if (c == '\n')
            break;
        if (n + 1 >= size)
            return false;
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return true;
}

static bool prompt(const char *text, char *buf, size_t size)
{
    struct termios t = tty_saved;
    t.c_lflag &= ~(tcflag_t)ECHO;
    t.c_lflag |= ECHONL;
    /* Echo off (dropping type-ahead) before the prompt, so that nothing
     * typed after the prompt is lost or shown. */
    tty_echo_off = 1;
    if (tcsetattr(tty_fd, TCSAFLUSH, &t) != 0) {
        tty_echo_off = 0;
        return false;
    }
    if (write(tty_fd, text, strlen(text)) < 0) {
        restore_tty();
        return false;
    }
    bool ok = read_line(tty_fd, buf, size);
    restore_tty();
    return ok;
}

static int get_password(bool from_stdin, char *pw, size_t size)
{
    if (from_stdin) {
        if (!read_line(STDIN_FILENO, pw, size)) {
            fprintf(stderr,
                    "guise-passwd: no password line on standard input (or longer "
                    "than %d bytes)\n",
                    PASSWORD_MAX - 1);
            return EXIT_PASSWORD;
        }
    } else {
        tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty_fd < 0 || tcgetattr(tty_fd, &tty_saved) != 0) {
            fprintf(stderr, "guise-passwd: no terminal to ask the password on; use --stdin\n");
            return EXIT_PASSWORD;
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
        char again[PASSWORD_MAX];
        bool ok = prompt("New password: ", pw, size) &&
                  prompt("Re-type new password: ", again, sizeof again);
        bool same = ok && strcmp(pw, again) == 0;
        explicit_bzero(again, sizeof again);
        close(tty_fd);
        if (!ok) {
            fprintf(stderr, "guise-passwd: could not read the password\n");
            return EXIT_PASSWORD;
        }
        if (!same) {
            fprintf(stderr, "guise-passwd: the passwords do not match\n");
            return EXIT_PASSWORD;
        }
    }
    if (pw[0] == '\0') {
        fprintf(stderr, "guise-passwd: empty password refused\n");
        return EXIT_PASSWORD;
    }
    return 0;
}

/* ---- the file ---- */

struct lines {
    char **v;
    size_t n, cap;
};

static bool lines_push(struct lines *l, char *s, size_t at)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof *l->v);
    l->v[at] = s;
    l->n++;
    return true;
}

/* Reads FILE into lines (without their '\n'). */
static int read_file(const char *path, struct lines *out, struct stat *st, bool *exists)
{
    FILE *f = fopen(path, "re");
    *exists = false;
    if (!f) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "guise-passwd: %s: %s\n", path, strerror(errno));
        return EXIT_FILE;
    }
    *exists = true;
    if (fstat(fileno(f), st) != 0) {
        fprintf(stderr, "guise-passwd: %s: %s\n", path, strerror(errno));
        fclose(f);
        return EXIT_FILE;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        char *copy = strndup(line, (size_t)n);
        if (!copy || !lines_push(out, copy, out->n)) {
            free(copy);
            free(line);
            fclose(f);
            fprintf(stderr, "guise-passwd: out of memory\n");
            return EXIT_FILE;
        }
    }
    bool err = ferror(f);
    free(line);
    fclose(f);
    if (err) {
        fprintf(stderr, "guise-passwd: %s: read error\n", path);
        return EXIT_FILE;
    }
    return 0;
}

static int write_file(const char *path, const struct lines *l, const struct stat *old)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp)
        return EXIT_FILE;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", 8);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "guise-passwd: %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return EXIT_FILE;
    }
    bool ok = true;
    /* Keep the owner and mode of the file being replaced; a new one is 0600. */
    if (old) {
        ok = fchmod(fd, old->st_mode & 07777) == 0;
        if (ok && fchown(fd, old->st_uid, old->st_gid) != 0 && geteuid() == 0)
            ok = false;
    } else {
        ok = fchmod(fd, 0600) == 0;
    }
    FILE *f = ok ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "guise-passwd: %s: %s\n", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return EXIT_FILE;
    }
    for (size_t i = 0; i < l->n && ok; i++)
        ok = fputs(l->v[i], f) >= 0 && fputc('\n', f) != EOF;
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "guise-passwd: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return EXIT_FILE;
    }
    free(tmp);
    char *dir = strdup(path);
    if (dir) {
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    return 0;
}

static bool name_valid(const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || !digest_userfile_name_ok(s, n) || s[0] == ' ' || s[0] == '\t' ||
        s[0] == '#') {
        fprintf(stderr,
                "guise-passwd: invalid %s '%s': 1 to 255 bytes, no ':' or control "
                "characters, not starting with a blank or '#'\n",
                what, s);
        return false;
    }
    return true;
}

static bool hash_listed(const enum digest_hash *hashes, size_t n, enum digest_hash h)
{
    for (size_t i = 0; i < n; i++)
        if (hashes[i] == h)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"create", no_argument, NULL, 'c'},
        {"algorithm", required_argument, NULL, 'a'},
        {"delete", no_argument, NULL, 'D'},
        {"stdin", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool create = false, del = false, from_stdin = false, alg_given = false;
    /* Without -a every hash the Digest plug-in offers by default gets its
     * line: a file with MD5 lines alone fails every SHA-256 client. */
    enum digest_hash hashes[] = {DIGEST_HASH_MD5, DIGEST_HASH_SHA256, DIGEST_HASH_SHA512_256};
    size_t nhashes = sizeof hashes / sizeof *hashes;
    enum digest_hash hash = DIGEST_HASH_MD5;
    int c;
    while ((c = getopt_long(argc, argv, "ca:DhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            create = true;
            break;
        case 'a':
            if (!digest_hash_parse(optarg, strlen(optarg), &hash)) {
                fprintf(stderr,
                        "guise-passwd: unknown algorithm '%s' (MD5, SHA-256, "
                        "SHA-512-256)\n",
                        optarg);
                return EXIT_USAGE;
            }
            alg_given = true;
            break;
        case 'D':
            del = true;
            break;
        case 's':
            from_stdin = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("guise-passwd %s\n", GUISE_VERSION);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (alg_given) {
        hashes[0] = hash;
        nhashes = 1;
    }
    /* A password piped in is read like --stdin: there is no one to prompt. */
    if (!isatty(STDIN_FILENO))
        from_stdin = true;
    if (argc - optind != 3 || (create && del)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind], *realm = argv[optind + 1], *user = argv[optind + 2];
    if (!name_valid("user name", user) || !name_valid("realm", realm))
        return EXIT_USAGE;

    struct lines l = {0};
    struct stat st;
    bool exists = false;
    int rc = 0;
    if (!create) {
        rc = read_file(path, &l, &st, &exists);
        if (rc == 0 && !exists) {
            fprintf(stderr, "guise-passwd: %s does not exist (use -c to create it)\n", path);
            rc = EXIT_FILE;
        }
    } else {
        /* -c replaces the file, but keeps its owner and mode when it exists. */
        exists = stat(path, &st) == 0;
    }

    /* Drop the lines being replaced or deleted; remember where the first was. */
    size_t at = (size_t)-1, removed = 0;
    for (size_t i = 0; rc == 0 && i < l.n;) {
        struct digest_line dl;
        const char *why = NULL;
        enum digest_line_kind k = digest_line_parse(l.v[i], strlen(l.v[i]), &dl, &why);
        if (k == DIGEST_LINE_BAD) {
            fprintf(stderr, "guise-passwd: %s: line %zu: %s\n", path, i + 1 + removed, why);
            rc = EXIT_MALFORMED;
            break;
        }
        bool match = k == DIGEST_LINE_ENTRY && dl.user_len == strlen(user) &&
                     memcmp(dl.user, user, dl.user_len) == 0 && dl.realm_len == strlen(realm) &&
                     memcmp(dl.realm, realm, dl.realm_len) == 0 &&
                     ((del && !alg_given) || hash_listed(hashes, nhashes, dl.hash));
        if (!match) {
            i++;
            continue;
        }
        if (at == (size_t)-1)
            at = i;
        free(l.v[i]);
        memmove(l.v + i, l.v + i + 1, (l.n - i - 1) * sizeof *l.v);
        l.n--;
        removed++;
    }

    if (rc == 0 && del && removed == 0) {
        fprintf(stderr, "guise-passwd: user '%s' not found in realm '%s'%s%s\n", user, realm,
                alg_given ? " with " : "", alg_given ? digest_hash_name(hash) : "");
        rc = EXIT_NO_USER;
    }
    if (rc == 0 && !del) {
        char pw[PASSWORD_MAX];
        rc = get_password(from_stdin, pw, sizeof pw);
        /* The new lines stand where the first replaced one stood. */
        size_t where = at == (size_t)-1 ? l.n : at;
        for (size_t h = 0; rc == 0 && h < nhashes; h++) {
            char ha1[DIGEST_MAX_HEX + 1];
            char line[DIGEST_USERFILE_MAX_LINE];
            digest_ha1(hashes[h], user, realm, pw, strlen(pw), ha1);
            size_t n = digest_line_format(line, sizeof line, user, realm, hashes[h], ha1);
            char *copy = n ? strdup(line) : NULL;
            if (!copy || !lines_push(&l, copy, where + h)) {
                free(copy);
                rc = EXIT_FILE;
            }
        }
        explicit_bzero(pw, sizeof pw);
    }
    if (rc == 0)
        rc = write_file(path, &l, exists ? &st : NULL);
    if (rc == 0 && !del && !exists)
        fprintf(stderr, "guise-passwd: created %s\n", path);

    for (size_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
    return rc;
}
