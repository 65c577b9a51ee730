/* libFuzzer target: mime.types parsing (gh_mime_load_buffer) and lookups.
 * Whatever the file holds, the overrides stay in force and every answer is
 * a well-formed media type that cannot break a header line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_type(const char *t)
{
    CHECK(t != NULL && strchr(t, '/') != NULL);
    for (const char *p = t; *p; p++)
        CHECK((unsigned char)*p > 0x20 ? (unsigned char)*p < 0x7F : *p == ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[64];

    if (size > 65536)
        return 0;
    CHECK(gh_mime_load_buffer((const char *)data, size) >= 0);
    CHECK(strcmp(gh_mime_type("x.mp4"), "video/mp4") == 0);
    CHECK(strcmp(gh_mime_type("x.TS"), "video/mp2t") == 0);
    CHECK(strcmp(gh_mime_type("x.txt"), "text/plain; charset=utf-8") == 0);

    /* look up each whitespace-separated word of the input as an extension */
    for (size_t i = 0; i < size;) {
        size_t j = i, n;
        while (j < size && data[j] > ' ')
            j++;
        n = j - i;
        if (n > 0 && n < sizeof(name) - 3) {
            const char *t;
            name[0] = 'f';
            name[1] = '.';
            memcpy(name + 2, data + i, n);
            name[n + 2] = '\0';
            t = gh_mime_type(name);
            check_type(t);
            CHECK(gh_mime_is_media(t) >= 0 && gh_mime_is_media(t) <= 2);
        }
        i = j + 1;
    }
    gh_mime_free();
    return 0;
}
