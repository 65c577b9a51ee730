/* The htdigest store: an Apache htdigest user file (user:realm:HA1 lines,
 * several hashes per user), re-read when it changes. It serves Digest
 * (find_ha1) and Basic (check_password: H(user:realm:password) compared in
 * constant time with the stored value). Checks are cheap hashes: not
 * blocking. */
#ifndef GUISE_PLUGINS_STORES_HTDIGEST_H
#define GUISE_PLUGINS_STORES_HTDIGEST_H

#include "plugins/stores/store.h"

#include <guise/plugin.h>

#include <stdint.h>

/* Loads path for realm. Events (reloads, a world-readable file) go to host
 * with event_id. On failure err says which file and line. */
guise_result pk_htdigest_store_new(const struct guise_host_services *host, uint32_t event_id,
                                   const char *path, const char *realm, struct pk_store **out,
                                   char *err, size_t err_size);

#endif
