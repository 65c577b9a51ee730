/* Progressive fan-out listeners for bench/fanout.sh: N HTTP/1.0 connections
 * to one stream, each read as fast as the bytes come (one epoll thread), then
 * a measured window in which every listener must receive at least the
 * stream's rate. Prints one line:
 *   listeners=N connected=C keeping_up=K bytes=B min_rate=R median_rate=M
 * rates in bytes per second over the window.
 *
 *   fanout_client HOST PORT PATH N WARMUP_S MEASURE_S BYTES_PER_S [AUTH]
 * AUTH, when given, is sent as the Authorization header. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct listener {
    int fd;
    int connected, closed;
    uint64_t bytes, at_start;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: %s HOST PORT PATH N WARMUP_S MEASURE_S BYTES_PER_S [AUTH]\n",
                argv[0]);
        return 2;
    }
    const char *host = argv[1], *path = argv[3], *auth = argc > 8 ? argv[8] : NULL;
    int port = atoi(argv[2]), n = atoi(argv[4]);
    double warm = atof(argv[5]), measure = atof(argv[6]), rate = atof(argv[7]);
    char req[1024];
    int rl =
        snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: fanout\r\n%s%s%s\r\n",
                 path, host, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    struct listener *l = calloc((size_t)n, sizeof *l);
    int ep = epoll_create1(0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    for (int i = 0; i < n; i++) {
        l[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (l[i].fd < 0 || connect(l[i].fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
            write(l[i].fd, req, (size_t)rl) != rl) {
            l[i].closed = 1;
            continue;
        }
        l[i].connected = 1;
        fcntl(l[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, l[i].fd, &ev);
    }
    static char buf[65536];
    struct epoll_event evs[256];
    double t0 = now(), start = t0 + warm, end = start + measure;
    int started = 0;
    for (;;) {
        double t = now();
        if (!started && t >= start) {
            for (int i = 0; i < n; i++)
                l[i].at_start = l[i].bytes;
            started = 1;
        }
        if (t >= end)
            break;
        int k = epoll_wait(ep, evs, 256, 100);
        for (int j = 0; j < k; j++) {
            struct listener *x = &l[evs[j].data.u32];
            for (;;) {
                ssize_t r = read(x->fd, buf, sizeof buf);
                if (r > 0) {
                    x->bytes += (uint64_t)r;
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    x->closed = 1;
                    epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
                }
                break;
            }
        }
    }
    int connected = 0, keeping = 0;
    uint64_t total = 0;
    double *rates = calloc((size_t)n, sizeof *rates);
    for (int i = 0; i < n; i++) {
        connected += l[i].connected;
        double r = (double)(l[i].bytes - l[i].at_start) / measure;
        rates[i] = r;
        total += l[i].bytes;
        if (!l[i].closed && r >= 0.95 * rate)
            keeping++;
        close(l[i].fd);
    }
    qsort(rates, (size_t)n, sizeof *rates, cmp);
    printf("listeners=%d connected=%d keeping_up=%d bytes=%llu min_rate=%.0f median_rate=%.0f\n", n,
           connected, keeping, (unsigned long long)total, n ? rates[0] : 0, n ? rates[n / 2] : 0);
    return 0;
}
