/* Fuzzes the htdigest user-file parser of the Digest plug-in. */
#include "plugins/digest/digest_userfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const realms[] = {"media", "", "http-auth@example.org"};
    const char *buf = (const char *)data;
    char err[256];

    for (size_t r = 0; r < sizeof realms / sizeof realms[0]; r++) {
        struct digest_userdb *db = NULL;
        if (digest_userdb_parse(buf, size, realms[r], &db, err, sizeof err) != GUISE_S_OK) {
            if (db || strlen(err) == 0)
                abort();
            continue;
        }
        /* Every user found by name has an HA1 of the right length, and is
         * found again through its userhash. */
        static const char *const names[] = {"alice", "bob", "a", "Mufasa"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            const struct digest_user *u = digest_userdb_find(db, names[i]);
            if (!u)
                continue;
            if (strcmp(digest_user_name(u), names[i]) != 0)
                abort();
            for (int h = 0; h < DIGEST_HASH_COUNT; h++) {
                const char *ha1 = digest_user_ha1(u, (enum digest_hash)h);
                if (!ha1)
                    continue;
                if (strlen(ha1) != digest_hash_hex_len((enum digest_hash)h))
                    abort();
                char hex[DIGEST_MAX_HEX + 1];
                digest_userhash((enum digest_hash)h, names[i], realms[r], hex);
                if (digest_userdb_find_hashed(db, (enum digest_hash)h, hex) != u)
                    abort();
            }
        }
        digest_userdb_unref(db);
    }

    /* Single lines, as guise-passwd reads them. */
    struct digest_line l;
    const char *why = NULL;
    if (digest_line_parse(buf, size, &l, &why) == DIGEST_LINE_ENTRY &&
        l.ha1_len != digest_hash_hex_len(l.hash))
        abort();
    return 0;
}
