/* bench-open-as: what opening a file as a client costs.
 *
 * Opens and closes one small file N times in each of four ways: a plain
 * openat2(RESOLVE_BENEATH) with the server's own credentials (the floor),
 * guise_open_as without impersonation (the API's own cost), and
 * guise_open_as impersonating through io_uring personalities and through
 * per-thread credential syscalls. Prints ns per open+close and the ratio to
 * the plain open. Needs root.
 *
 * usage: bench-open-as [-n iterations] [-r rounds] [-u account] [-m method]
 * (-m runs one method alone: plain, off, io_uring or syscalls - for profiling)
 */
#include <guise/token.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 1000

struct method {
    const char *name;
    enum guise_imp_mode mode; /* GUISE_IMP_AUTO here means the plain syscall */
    guise_imp *imp;
    double ns[MAX_ROUNDS]; /* per batch, sorted at the end */
    double median, min, ratio;
};

static int root_fd = -1;
static guise_token *token;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench-open-as: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static void open_close(struct method *m)
{
    int fd;
    if (!m->imp) {
        struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        fd = (int)syscall(SYS_openat2, root_fd, "f", &how, sizeof(how));
        if (fd < 0)
            die("openat2", strerror(errno));
    } else {
        guise_result r = guise_open_as(m->imp, token, root_fd, "f", O_RDONLY, &fd);
        if (r != GUISE_S_OK)
            die("guise_open_as", guise_result_name(r));
    }
    close(fd);
}

static double run(struct method *m, long n)
{
    double start = now_ns();
    for (long i = 0; i < n; i++)
        open_close(m);
    return (now_ns() - start) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long n = 200000;
    int rounds = 100;
    const char *account = "nobody";
    const char *only = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:r:u:m:")) != -1) {
        switch (opt) {
        case 'n':
            n = atol(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        case 'u':
            account = optarg;
            break;
        case 'm':
            only = optarg;
            break;
        default:
            fprintf(stderr, "usage: %s [-n iterations] [-r rounds] [-u account] [-m method]\n",
                    argv[0]);
            return 2;
        }
    }
    if (n <= 0 || rounds <= 0 || rounds > MAX_ROUNDS || n < rounds)
        die("bad -n or -r", NULL);
    long batch = n / rounds;
    if (geteuid() != 0)
        die("needs root (CAP_SETUID/CAP_SETGID) to impersonate", NULL);

    char dir[] = "/tmp/guise-bench-XXXXXX";
    if (!mkdtemp(dir) || chmod(dir, 0755) != 0)
        die("mkdtemp", strerror(errno));
    char path[64];
    snprintf(path, sizeof(path), "%s/f", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "hello\n", 6) != 6)
        die("create test file", strerror(errno));
    close(fd);
    root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        die("open root", strerror(errno));

    guise_token_store *store = NULL;
    if (guise_token_store_new(NULL, &store) != GUISE_S_OK)
        die("token store", NULL);
    guise_result r = guise_token_for_account(store, account, &token);
    if (r != GUISE_S_OK)
        die(account, guise_result_name(r));

    struct method methods[] = {
        {.name = "plain openat2", .mode = GUISE_IMP_AUTO},
        {.name = "guise_open_as off", .mode = GUISE_IMP_OFF},
        {.name = "guise_open_as io_uring", .mode = GUISE_IMP_IO_URING},
        {.name = "guise_open_as syscalls", .mode = GUISE_IMP_SYSCALLS},
    };
    size_t nm = sizeof(methods) / sizeof(methods[0]);
    for (size_t i = 0; only && i < nm; i++) {
        bool wanted = i == 0 ? strcmp(only, "plain") == 0
                             : strcmp(only, guise_imp_mode_name(methods[i].mode)) == 0;
        if (!wanted)
            methods[i].name = NULL;
    }
    for (size_t i = 1; i < nm; i++) {
        if (!methods[i].name)
            continue;
        const char *why = NULL;
        r = guise_imp_new(methods[i].mode, &methods[i].imp, &why);
        if (r != GUISE_S_OK) {
            fprintf(stderr, "%s unavailable: %s (%s)\n", methods[i].name, guise_result_name(r),
                    why ? why : "");
            methods[i].imp = NULL;
            methods[i].name = NULL;
        }
    }

    /* The iterations are split into batches, and the methods take turns
     * batch by batch, in a new random order each round, so that changes in
     * the machine's state (frequency, other load, the RCU work a credential
     * switch leaves behind) hit them alike. The median batch is the typical
     * cost; the fastest one is the cost with the least interference. */
    for (size_t i = 0; i < nm; i++) {
        if (methods[i].name)
            run(&methods[i], n / 10 + 1); /* warm-up: rings, personalities, dcache */
    }
    unsigned seed = 1;
    size_t order[sizeof(methods) / sizeof(methods[0])];
    for (size_t i = 0; i < nm; i++)
        order[i] = i;
    for (int k = 0; k < rounds; k++) {
        for (size_t i = nm - 1; i > 0; i--) {
            size_t j = (size_t)rand_r(&seed) % (i + 1), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (size_t i = 0; i < nm; i++) {
            struct method *m = &methods[order[i]];
            if (m->name)
                m->ns[k] = run(m, batch);
        }
    }
    printf("open+close of a small file as %s (uid %u): %d batches of %ld per method\n", account,
           (unsigned)guise_token_uid(token), rounds, batch);
    printf("  %-24s %12s %12s %15s\n", "method", "median ns/op", "min ns/op", "ratio to plain");
    /* The ratio is the median over rounds of the ratio within a round:
     * batches that ran next to each other are compared, which cancels the
     * slow drift of a shared machine. */
    double ratio[MAX_ROUNDS];
    for (size_t i = nm; i-- > 0;) {
        if (!methods[i].name || i == 0 || !methods[0].name)
            continue;
        for (int k = 0; k < rounds; k++)
            ratio[k] = methods[i].ns[k] / methods[0].ns[k];
        qsort(ratio, (size_t)rounds, sizeof(double), cmp_double);
        methods[i].ratio = ratio[rounds / 2];
    }
    for (size_t i = 0; i < nm; i++) {
        if (!methods[i].name)
            continue;
        qsort(methods[i].ns, (size_t)rounds, sizeof(double), cmp_double);
        methods[i].median = methods[i].ns[rounds / 2];
        methods[i].min = methods[i].ns[0];
        printf("  %-24s %12.0f %12.0f", methods[i].name, methods[i].median, methods[i].min);
        if (i > 0 && methods[0].name)
            printf(" %15.3f", methods[i].ratio);
        printf("\n");
    }

    for (size_t i = 1; i < nm; i++)
        guise_imp_free(methods[i].imp);
    guise_token_unref(token);
    guise_token_store_free(store);
    close(root_fd);
    unlink(path);
    rmdir(dir);
    return 0;
}
