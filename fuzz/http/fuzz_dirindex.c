/* libFuzzer target: directory listings. Lines of the input are entry names
 * (a leading 'd' byte-flag in the first line's bytes picks directories).
 * HTML must never contain a name's markup, JSON must parse back with the
 * same number of entries, and the M3U must have exactly two lines per
 * playable file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http/dirindex.h"
#include "http/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define MAX_ENTS 64

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_dirent ents[MAX_ENTS];
    size_t n = 0, listed = 0, media = 0;
    char *buf, *p;
    struct gh_buf out = {0};
    json_t *root;

    if (size > 8192)
        return 0;
    buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (p = buf; p != NULL && n < MAX_ENTS;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        ents[n].name = p;
        ents[n].is_dir = (p[0] & 1) && strlen(p) > 3 && p[strlen(p) - 1] == '/';
        ents[n].size = (uint64_t)strlen(p) << (p[0] & 63);
        ents[n].mtime = (int64_t)strlen(p) * 1000003 - 500000;
        ents[n].mime = NULL;
        if (strcmp(p, "") && strcmp(p, ".") && strcmp(p, "..")) {
            listed++;
            if (!ents[n].is_dir && gh_mime_is_media(gh_mime_type(p)))
                media++;
        }
        n++;
        p = nl ? nl + 1 : NULL;
    }

    /* HTML: one row per listed entry, no name's markup */
    CHECK(gh_index_html(&out, ents[0].name, n > 1 ? ents[1].name : "/", ents, n) == 0);
    CHECK(strlen(out.data) == out.len);
    /* At most one row per listed entry: an HLS playlist's segments share
     * one counted row; players only for media the browser can play. */
    CHECK(count(out.data, "<tr class=\"file\">") + count(out.data, "<tr class=\"dir\">") <= listed);
    CHECK(count(out.data, "<video ") + count(out.data, "<audio ") <= media);
    CHECK(count(out.data, "<a ") >=
          count(out.data, "<tr class=\"file\">") + count(out.data, "<tr class=\"dir\">"));
    CHECK(count(out.data, "<") == count(out.data, ">"));
    gh_buf_free(&out);

    /* JSON: parses, same entries */
    CHECK(gh_index_json(&out, n > 1 ? ents[1].name : "/", ents, n) == 0);
    root = json_loads(out.data, 0, NULL);
    CHECK(root != NULL);
    CHECK(json_array_size(json_object_get(root, "entries")) == listed);
    json_decref(root);
    gh_buf_free(&out);

    /* M3U: header + two lines per playable file */
    CHECK(gh_index_m3u(&out, n > 1 ? ents[1].name : "http://h", ents, n) == 0);
    CHECK(count(out.data, "\n") == 1 + 2 * media);
    CHECK(strchr(out.data, '\r') == NULL);
    gh_buf_free(&out);
    free(buf);
    return 0;
}
