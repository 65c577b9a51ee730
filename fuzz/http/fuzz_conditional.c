/* libFuzzer target: conditional requests, If-Range and HTTP dates. The
 * input is split at '\n' into method, If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since, ETag and If-Range ("\x01" as a
 * whole field means absent); the first 8 bytes also give the mtime. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/conditional.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

enum { F_METHOD, F_IM, F_INM, F_IMS, F_IUS, F_ETAG, F_IR, N_FIELDS };

static void check_date_roundtrip(const char *s)
{
    time_t t;
    char again[GH_HTTP_DATE_MAX];
    time_t back;

    if (gh_http_date_parse(s, &t) != 0)
        return;
    gh_http_date(again, sizeof(again), t);
    CHECK(again[0] != '\0');
    CHECK(gh_http_date_parse(again, &back) == 0 && back == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *f[N_FIELDS] = {0}, *p;
    int64_t raw_mtime = 0;
    time_t mtime;
    enum gh_cond c;
    char tag[GH_ETAG_MAX];

    if (size > 4096)
        return 0;
    if (size >= 8)
        memcpy(&raw_mtime, data, 8);
    /* keep dates in years 0..9999 half the time so they can match */
    mtime = (raw_mtime & 1) ? (time_t)((raw_mtime >> 1) % 253402300800) : (time_t)raw_mtime;
    buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    p = buf;
    for (int i = 0; i < N_FIELDS && p != NULL; i++) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        f[i] = strcmp(p, "\x01") == 0 ? NULL : p;
        p = nl ? nl + 1 : NULL;
    }

    c = gh_conditional_eval(f[F_METHOD], f[F_IM], f[F_INM], f[F_IMS], f[F_IUS], f[F_ETAG], mtime);
    CHECK(c == GH_COND_PROCEED || c == GH_COND_NOT_MODIFIED || c == GH_COND_PRECONDITION_FAILED);
    /* 304 is only for GET and HEAD */
    if (c == GH_COND_NOT_MODIFIED)
        CHECK(f[F_METHOD] && (!strcmp(f[F_METHOD], "GET") || !strcmp(f[F_METHOD], "HEAD")));
    /* without conditions nothing but PROCEED */
    CHECK(gh_conditional_eval(f[F_METHOD], NULL, NULL, NULL, NULL, f[F_ETAG], mtime) ==
          GH_COND_PROCEED);
    /* "*" in If-Match always holds on an existing representation */
    CHECK(gh_conditional_eval("GET", "*", NULL, NULL, NULL, f[F_ETAG], mtime) == GH_COND_PROCEED);

    CHECK(gh_if_range_ok(f[F_IR], f[F_ETAG], mtime) <= 1);
    for (int i = 0; i < N_FIELDS; i++) {
        if (f[i] != NULL)
            check_date_roundtrip(f[i]);
    }

    /* our own validators always validate themselves */
    {
        uint64_t a = (uint64_t)raw_mtime, b = a * 31 + size;
        char d[GH_HTTP_DATE_MAX];
        gh_etag_make(tag, sizeof(tag), a, b, raw_mtime, (long)(a % 1000000000));
        CHECK(gh_if_range_ok(tag, tag, mtime) == 1);
        CHECK(gh_conditional_eval("GET", tag, tag, NULL, NULL, tag, mtime) == GH_COND_NOT_MODIFIED);
        gh_http_date(d, sizeof(d), mtime);
        if (d[0] != '\0')
            CHECK(gh_if_range_ok(d, tag, mtime) == 1);
    }
    free(buf);
    return 0;
}
