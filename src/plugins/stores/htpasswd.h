/* The htpasswd store: an Apache htpasswd file (bcrypt, yescrypt, sha512crypt,
 * sha256crypt, apr1, {SHA}), re-read when it changes. Serves Basic
 * (check_password). Checks are costly by design (bcrypt, yescrypt): blocking,
 * they run on the worker pool. Unknown users are checked against a real
 * user's hash (or a yescrypt dummy), so they cost what a user costs. */
#ifndef GUISE_PLUGINS_STORES_HTPASSWD_H
#define GUISE_PLUGINS_STORES_HTPASSWD_H

#include "plugins/stores/store.h"

#include <guise/plugin.h>

#include <stdint.h>

/* Loads path. Events (reloads, unusable entries) go to host with event_id. */
guise_result pk_htpasswd_store_new(const struct guise_host_services *host, uint32_t event_id,
                                   const char *path, struct pk_store **out, char *err,
                                   size_t err_size);

#endif
