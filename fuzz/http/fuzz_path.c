/* libFuzzer target: request path normalisation and splitting.
 * Checks the security invariants of gh_path_normalize on any input, that a
 * small buffer changes nothing but the GH_PATH_TOO_LONG answer, that an
 * accepted path survives escape + normalise unchanged, and that splitting
 * gives back the path. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/path.h"
#include "http/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_invariants(const char *p)
{
    size_t n = strlen(p);

    CHECK(p[0] == '/');
    CHECK(strstr(p, "//") == NULL);
    CHECK(strstr(p, "/./") == NULL && strstr(p, "/../") == NULL);
    CHECK(!(n >= 2 && strcmp(p + n - 2, "/.") == 0));
    CHECK(!(n >= 3 && strcmp(p + n - 3, "/..") == 0));
    CHECK(strchr(p, '\\') == NULL);
    for (size_t i = 0; i < n;) {
        int r;
        CHECK((unsigned char)p[i] >= 0x20 && p[i] != 0x7F);
        r = gh_utf8_check((const unsigned char *)p + i, n - i);
        CHECK(r > 0);
        i += (size_t)r;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[8192], small[64], esc[3 * 8192 + 1], back[8192], point[256];
    char *raw;
    size_t small_sz;
    int rc, rc_small;
    const char *rest;

    if (size > 4096)
        return 0;
    raw = malloc(size + 1);
    if (raw == NULL)
        return 0;
    memcpy(raw, data, size);
    raw[size] = '\0'; /* an embedded NUL simply ends the path */
    small_sz = size > 0 ? data[0] % sizeof(small) : 0;

    rc = gh_path_normalize(raw, out, sizeof(out));
    rc_small = gh_path_normalize(raw, small, small_sz);
    CHECK(rc == GH_PATH_OK || rc == GH_PATH_INVALID);
    if (rc == GH_PATH_INVALID) {
        CHECK(rc_small == GH_PATH_INVALID);
        free(raw);
        return 0;
    }
    check_invariants(out);
    CHECK(strlen(out) <= strlen(raw));
    if (strlen(out) < small_sz) {
        CHECK(rc_small == GH_PATH_OK && strcmp(out, small) == 0);
    } else {
        CHECK(rc_small == GH_PATH_TOO_LONG);
    }

    /* escape + normalise is the identity on accepted paths */
    CHECK(gh_url_escape_path(out, esc, sizeof(esc)) < sizeof(esc));
    CHECK(gh_path_normalize(esc, back, sizeof(back)) == GH_PATH_OK);
    CHECK(strcmp(back, out) == 0);

    rc = gh_path_split_point(out, point, sizeof(point), &rest);
    if (strcmp(out, "/") == 0) {
        CHECK(rc == GH_PATH_INVALID);
    } else if (rc == GH_PATH_OK) {
        size_t pl = strlen(point);
        CHECK(pl > 0 && strchr(point, '/') == NULL);
        CHECK(strncmp(out + 1, point, pl) == 0);
        CHECK(rest >= out + 1 + pl && rest <= out + strlen(out));
        CHECK(rest[0] != '/');
        if (rest[0] != '\0')
            CHECK(out[1 + pl] == '/' && rest == out + 2 + pl);
    } else {
        CHECK(rc == GH_PATH_TOO_LONG);
    }
    free(raw);
    return 0;
}
