/* The PAM store: pam_authenticate and pam_acct_mgmt of one service, with a
 * deadline (plugins/basic/basic_pam.h runs each check in a thread of its
 * own). Serves Basic (check_password). Blocking: checks run on the worker
 * pool. Refuses a service without a file where libpam looks, which libpam
 * would silently replace by "other". */
#ifndef GUISE_PLUGINS_STORES_PAM_H
#define GUISE_PLUGINS_STORES_PAM_H

#include "plugins/stores/store.h"

#include <guise/result.h>

guise_result pk_pam_store_new(const char *service, unsigned timeout_ms, struct pk_store **out,
                              char *err, size_t err_size);

#endif
