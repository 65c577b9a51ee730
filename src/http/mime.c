/* guise HTTP helpers: Content-Type by file name extension (see mime.h).
 *
 * An open-addressing hash table keyed by the lower-cased extension. It is
 * built completely off to the side and only then swapped in, so a failed
 * load never leaves a half-filled table behind.
 */
#include "http/mime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Media types browsers need to see to play files inline; these win over
 * mime.types. opus: audio/ogg, because an .opus file is Ogg-encapsulated
 * Opus, whose registered file media type is audio/ogg (RFC 7845 section 9);
 * audio/opus (RFC 7587) names the bare RTP payload. Chromium plays Ogg Opus
 * through its Ogg demuxer and answers canPlayType("audio/ogg;
 * codecs=opus") with "probably". */
static const struct {
    const char *ext;
    const char *type;
} overrides[] = {
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"m4a", "audio/mp4"},
    {"webm", "video/webm"},
    {"mkv", "video/x-matroska"},
    {"ts", "video/mp2t"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"mpd", "application/dash+xml"},
    {"mp3", "audio/mpeg"},
    {"aac", "audio/aac"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"},
    {"flac", "audio/flac"},
    {"wav", "audio/wav"},
    {"html", "text/html; charset=utf-8"},
    /* Active types known even without /etc/mime.types, so that a point's
     * active-content always applies to them. */
    {"htm", "text/html; charset=utf-8"},
    {"xhtml", "application/xhtml+xml"},
    {"svg", "image/svg+xml"},
    {"xml", "application/xml"},
    {"txt", "text/plain; charset=utf-8"},
    {"m3u", "audio/x-mpegurl"},
    {"vtt", "text/vtt"},
    {"json", "application/json"},
};
#define N_OVERRIDES (sizeof(overrides) / sizeof(overrides[0]))

/* The biggest mime.types we accept; Debian's is about 60 KiB. */
#define MAX_FILE_SIZE (16u << 20)

struct entry {
    char *ext; /* lower case; NULL: free slot */
    char *type;
};

struct table {
    struct entry *slots;
    size_t cap; /* power of two */
    size_t used;
};

static struct table *current;

static uint32_t hash_ext(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void table_free(struct table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].ext);
        free(t->slots[i].type);
    }
    free(t->slots);
    free(t);
}

static struct table *table_new(size_t cap)
{
    struct table *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->slots = calloc(cap, sizeof(*t->slots));
    if (t->slots == NULL) {
        free(t);
        return NULL;
    }
    t->cap = cap;
    return t;
}

/* Slot holding ext (lower case, n bytes), or the free slot where it goes. */
static struct entry *table_slot(const struct table *t, const char *ext, size_t n)
{
    size_t i = hash_ext(ext, n) & (t->cap - 1);

    while (t->slots[i].ext != NULL &&
           !(strlen(t->slots[i].ext) == n && memcmp(t->slots[i].ext, ext, n) == 0))
        i = (i + 1) & (t->cap - 1);
    return &t->slots[i];
}

static int table_grow(struct table *t)
{
    struct table *bigger = table_new(t->cap * 2);

    if (bigger == NULL)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].ext != NULL)
            *table_slot(bigger, t->slots[i].ext, strlen(t->slots[i].ext)) = t->slots[i];
    }
    free(t->slots);
    t->slots = bigger->slots;
    t->cap = bigger->cap;
    free(bigger);
    return 0;
}

/* Adds ext -> type (ext already lower case). An existing entry is kept
 * unless replace is set. Returns 1 if added, 0 if kept, -1 on ENOMEM. */
static int table_put(struct table *t, const char *ext, size_t ext_len, const char *type,
                     size_t type_len, int replace)
{
    struct entry *e;
    char *type_copy;

    /* Keep the load factor at or below one half so probes stay short. */
    if ((t->used + 1) * 2 > t->cap && table_grow(t) < 0)
        return -1;
    e = table_slot(t, ext, ext_len);
    if (e->ext != NULL && !replace)
        return 0;
    type_copy = strndup(type, type_len);
    if (type_copy == NULL)
        return -1;
    if (e->ext == NULL) {
        e->ext = strndup(ext, ext_len);
        if (e->ext == NULL) {
            free(type_copy);
            return -1;
        }
        t->used++;
    }
    free(e->type);
    e->type = type_copy;
    return 1;
}

/* tchar of RFC 9110 section 5.6.2. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* type "/" subtype, each a non-empty token: anything else could inject
 * into the Content-Type header line. */
static int valid_type(const char *s, size_t n)
{
    size_t slash = 0;
    int seen = 0;

    if (n > 127)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/' && !seen) {
            seen = 1;
            slash = i;
        } else if (!is_tchar((unsigned char)s[i])) {
            return 0;
        }
    }
    return seen && slash > 0 && slash + 1 < n;
}

/* Lower-cases a candidate extension into buf; 0 if it cannot be one. */
static int make_ext(const char *s, size_t n, char *buf)
{
    if (n == 0 || n > GH_MIME_EXT_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F || c == '/')
            return 0;
        buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
    }
    buf[n] = '\0';
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Parses mime.types text into t; returns extensions added or -1. */
static int parse_into(struct table *t, const char *buf, size_t len)
{
    size_t i = 0;
    int added = 0;

    while (i < len) {
        const char *type = NULL;
        size_t type_len = 0;
        int type_ok = 0;

        /* One line: tokens up to '\n'; '#' comments out the rest. */
        while (i < len && buf[i] != '\n') {
            size_t start;

            if (is_space(buf[i])) {
                i++;
                continue;
            }
            if (buf[i] == '#') {
                while (i < len && buf[i] != '\n')
                    i++;
                break;
            }
            start = i;
            while (i < len && buf[i] != '\n' && buf[i] != '#' && !is_space(buf[i]))
                i++;
            if (type == NULL) {
                type = buf + start;
                type_len = i - start;
                type_ok = valid_type(type, type_len);
            } else if (type_ok) {
                char ext[GH_MIME_EXT_MAX + 1];
                int r;

                if (!make_ext(buf + start, i - start, ext))
                    continue;
                r = table_put(t, ext, i - start, type, type_len, 0);
                if (r < 0)
                    return -1;
                added += r;
            }
        }
        i++; /* the '\n' */
    }
    return added;
}

static int add_overrides(struct table *t)
{
    for (size_t i = 0; i < N_OVERRIDES; i++) {
        if (table_put(t, overrides[i].ext, strlen(overrides[i].ext), overrides[i].type,
                      strlen(overrides[i].type), 1) < 0)
            return -1;
    }
    return 0;
}

static void install(struct table *t)
{
    table_free(current);
    current = t;
}

int gh_mime_load_buffer(const char *buf, size_t len)
{
    struct table *t = table_new(64);
    int added;

    if (t == NULL)
        goto nomem;
    added = parse_into(t, buf, len);
    if (added < 0 || add_overrides(t) < 0)
        goto nomem;
    install(t);
    return added;
nomem:
    table_free(t);
    errno = ENOMEM;
    return -1;
}

/* Reads the whole file; NULL with errno on failure. */
static char *read_file(const char *path, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0)
        goto fail;
    if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > MAX_FILE_SIZE) {
        errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        goto fail;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break; /* shrank while reading: use what is there */
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return buf;
fail:
    free(buf);
    {
        int e = errno;
        close(fd);
        errno = e;
    }
    return NULL;
}

int gh_mime_load(const char *mime_types_path)
{
    size_t len = 0;
    char *buf = read_file(mime_types_path, &len);
    int r, saved;

    if (buf != NULL) {
        r = gh_mime_load_buffer(buf, len);
        free(buf);
        return r;
    }
    saved = errno;
    if (gh_mime_load_buffer("", 0) < 0)
        return -1;
    if (saved == ENOENT)
        return 0;
    errno = saved;
    return -1;
}

void gh_mime_free(void)
{
    install(NULL);
}

/* Lower-cased extension of filename into buf; 0 if it has none usable. */
static int file_ext(const char *filename, char *buf, size_t *n)
{
    const char *base, *dot;

    if (filename == NULL)
        return 0;
    base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    dot = strrchr(base, '.');
    if (dot == NULL || dot == base)
        return 0;
    *n = strlen(dot + 1);
    return make_ext(dot + 1, *n, buf);
}

const char *gh_mime_type(const char *filename)
{
    char ext[GH_MIME_EXT_MAX + 1];
    size_t n;

    if (!file_ext(filename, ext, &n))
        return GH_MIME_DEFAULT;
    if (current != NULL) {
        const struct entry *e = table_slot(current, ext, n);
        return e->ext != NULL ? e->type : GH_MIME_DEFAULT;
    }
    for (size_t i = 0; i < N_OVERRIDES; i++) {
        if (strcmp(overrides[i].ext, ext) == 0)
            return overrides[i].type;
    }
    return GH_MIME_DEFAULT;
}

/* Compares the essence of type (before any ';', trailing OWS trimmed). */
static int essence_is(const char *type, const char *want)
{
    size_t n = strcspn(type, ";");

    while (n > 0 && (type[n - 1] == ' ' || type[n - 1] == '\t'))
        n--;
    return strlen(want) == n && strncasecmp(type, want, n) == 0;
}

int gh_mime_is_media(const char *type)
{
    static const char *const playlists[] = {
        "audio/x-mpegurl", "audio/mpegurl",  "audio/x-scpls",     "audio/x-ms-wax",
        "video/x-ms-wvx",  "video/x-ms-asx", "video/vnd.mpegurl",
    };

    if (type == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(playlists) / sizeof(playlists[0]); i++) {
        if (essence_is(type, playlists[i]))
            return 0;
    }
    if (strncasecmp(type, "audio/", 6) == 0)
        return 1;
    if (strncasecmp(type, "video/", 6) == 0)
        return 2;
    return 0;
}

int gh_mime_is_active(const char *type)
{
    static const char *const active[] = {
        "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
        "text/xsl",  "application/xslt+xml"};

    if (type == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(active) / sizeof(active[0]); i++) {
        if (essence_is(type, active[i]))
            return 1;
    }
    /* Any other XML dialect may carry XSLT or XHTML namespaces. */
    size_t n = strcspn(type, ";");
    while (n > 0 && (type[n - 1] == ' ' || type[n - 1] == '\t'))
        n--;
    return n > 4 && strncasecmp(type + n - 4, "+xml", 4) == 0;
}
