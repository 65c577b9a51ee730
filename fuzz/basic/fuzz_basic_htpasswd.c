/* libFuzzer target: the htpasswd parser. Every input must parse or be
 * refused with "line N: reason"; the user of a parsed first line must be
 * found again; apr1 and {SHA} hashes from the input are verified (the crypt(3)
 * ones are not: a fuzzed bcrypt cost could take hours). */
#include "plugins/basic/basic_apr1.h"
#include "plugins/basic/basic_hash.h"
#include "plugins/basic/basic_htpasswd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct basic_userdb *db = NULL;
    char err[256] = "";
    guise_result r = basic_userdb_parse(buf, size, &db, err, sizeof err);
    if (r != GUISE_S_OK) {
        if (db || strncmp(err, "line ", 5) != 0)
            abort();
        return 0;
    }
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += buf[i] == '\n';
    if (basic_userdb_count(db) > lines)
        abort();

    /* The first line, when it is an entry, is found under its name. */
    const char *nl = memchr(buf, '\n', size);
    size_t l = nl ? (size_t)(nl - buf) : size;
    const char *s = buf;
    while (l && (*s == ' ' || *s == '\t' || *s == '\r')) {
        s++;
        l--;
    }
    const char *colon = memchr(s, ':', l);
    if (colon && colon > s && s[0] != '#') {
        char *name = strndup(s, (size_t)(colon - s));
        enum basic_hash_kind kind;
        const char *hash = name ? basic_userdb_find(db, name, &kind) : NULL;
        if (name && !hash)
            abort();
        if (hash && (kind == BASIC_HASH_APR1 || kind == BASIC_HASH_SHA1))
            basic_hash_verify(hash, "password", 8);
        if (hash && kind == BASIC_HASH_APR1) {
            char out[BASIC_APR1_SIZE];
            if (!basic_apr1_hash("pw", 2, hash, out) || strlen(out) >= BASIC_APR1_SIZE)
                abort();
        }
        free(name);
    }
    char names[128];
    basic_userdb_unusable(db, names, sizeof names);
    basic_userdb_unref(db);
    return 0;
}
