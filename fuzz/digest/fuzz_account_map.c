/* Fuzzes the account-map parser shared by the authentication plug-ins. */
#include "plugins/common/account_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_account_map *m = NULL;
    char err[256];
    if (pk_account_map_parse((const char *)data, size, &m, err, sizeof err) != GUISE_S_OK) {
        if (m || strncmp(err, "line ", 5) != 0)
            abort();
        return 0;
    }
    static const char *const users[] = {"alice", "bob", "*", "", "root"};
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        const char *a = pk_account_map_resolve(m, users[i], NULL);
        const char *own = pk_account_map_lookup(m, users[i]);
        if (!a || (own && strcmp(a, own) != 0))
            abort();
        /* Whatever the map says is a valid account name. */
        if (a != users[i] && !pk_account_name_ok(a))
            abort();
    }
    pk_account_map_free(m);
    return 0;
}
