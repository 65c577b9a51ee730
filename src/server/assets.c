/* Public browser assets under /.guise/ (see assets.h). */
#include "server/assets.h"
#include "server/answer.h"
#include "server/request.h"

#include "http/player.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef GUISE_ASSETS_DIR
#define GUISE_ASSETS_DIR "/usr/local/share/guise"
#endif

/* Versions change only with a new install, and the ETag says which one a
 * browser holds; a year is what "immutable" asks for. */
#define ASSET_CACHE_CONTROL "public, max-age=31536000, immutable"
#define ASSET_MAX_SIZE      (4u << 20)

struct asset {
    const char *name; /* below the prefix */
    const char *type;
    bool required; /* player.js is ours and always installed */
    char *body;
    size_t len;
    char etag[2 + 32 + 1];
};

static struct asset assets[] = {
    {"hls.min.js", "text/javascript; charset=utf-8", false, NULL, 0, ""},
    {"player.js", "text/javascript; charset=utf-8", true, NULL, 0, ""},
};
#define NASSETS (sizeof assets / sizeof assets[0])

static char version[17]; /* assets_version(): hex, set by assets_load */

static int read_all(int dfd, const char *name, char **body, size_t *len)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ASSET_MAX_SIZE) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *b = malloc(n ? n : 1);
    while (b && got < n) {
        ssize_t k = read(fd, b + got, n - got);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            free(b);
            b = NULL;
            errno = k == 0 ? EIO : errno;
        } else {
            got += (size_t)k;
        }
    }
    close(fd);
    if (!b)
        return -1;
    *body = b;
    *len = n;
    return 0;
}

static void make_etag(struct asset *a)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t d[SHA256_DIGEST_SIZE];
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, a->len, (const uint8_t *)a->body);
    sha256_digest(&c, sizeof d, d);
    a->etag[0] = '"';
    for (int i = 0; i < 16; i++) {
        a->etag[1 + 2 * i] = hex[d[i] >> 4];
        a->etag[2 + 2 * i] = hex[d[i] & 15];
    }
    a->etag[33] = '"';
    a->etag[34] = '\0';
}

int assets_load(const char *dir, FILE *warn)
{
    dir = dir ? dir : GUISE_ASSETS_DIR;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    for (size_t i = 0; i < NASSETS; i++) {
        struct asset *a = &assets[i];
        if (dfd >= 0 && read_all(dfd, a->name, &a->body, &a->len) == 0) {
            make_etag(a);
            continue;
        }
        int e = dfd >= 0 ? errno : ENOENT;
        if (e != ENOENT)
            rc = -1;
        if (warn && (a->required || e != ENOENT))
            fprintf(warn, "guised: warning: assets-dir %s: cannot read %s: %s\n", dir, a->name,
                    strerror(e));
        else if (warn)
            fprintf(warn,
                    "guised: warning: assets-dir %s has no %s (npm was missing at build time?): "
                    "player pages offer native HLS only\n",
                    dir, a->name);
    }
    if (dfd >= 0)
        close(dfd);
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&c);
    for (size_t i = 0; i < NASSETS; i++)
        sha256_update(&c, sizeof assets[i].etag, (const uint8_t *)assets[i].etag);
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < 8; i++)
        snprintf(version + 2 * i, 3, "%02x", d[i]);
    return rc;
}

const char *assets_version(void)
{
    return version;
}

bool assets_have_hlsjs(void)
{
    return assets[0].body != NULL;
}

/* Whether the If-None-Match list names etag (or is "*"). */
static bool etag_listed(const char *inm, const char *etag)
{
    size_t n = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!strncmp(p, "W/", 2))
            p += 2;
        if (*p == '*' || (!strncmp(p, etag, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' ')))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

bool assets_serve(struct request *r)
{
    size_t plen = strlen(GH_ASSETS_PREFIX);
    if (strncmp(r->path, GH_ASSETS_PREFIX, plen) != 0 && strcmp(r->path, "/.guise") != 0)
        return false;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        request_add_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        finish_status(r, MHD_HTTP_METHOD_NOT_ALLOWED, "The assets are read-only.");
        return true;
    }
    const char *name = r->path[7] == '/' ? r->path + plen : "";
    const struct asset *a = NULL;
    for (size_t i = 0; i < NASSETS; i++)
        if (assets[i].body && !strcmp(assets[i].name, name))
            a = &assets[i];
    if (!a) {
        finish_status(r, MHD_HTTP_NOT_FOUND, "No such asset.");
        return true;
    }
    const char *inm =
        MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool fresh = inm && etag_listed(inm, a->etag);
    struct MHD_Response *resp =
        fresh ? MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT)
              : MHD_create_response_from_buffer(a->len, a->body, MHD_RESPMEM_PERSISTENT);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, ASSET_CACHE_CONTROL);
        if (!fresh)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
    }
    r->bytes = fresh || !strcmp(r->method, "HEAD") ? 0 : a->len;
    finish_response(r, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
    return true;
}

void assets_free(void)
{
    for (size_t i = 0; i < NASSETS; i++) {
        free(assets[i].body);
        assets[i].body = NULL;
        assets[i].len = 0;
    }
}
