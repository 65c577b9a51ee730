#include "plugins/builtin.h"
#include "plugins/basic/basic.h"
#include "plugins/digest/digest.h"
#include "plugins/negotiate/negotiate.h"

const struct guise_plugin_descriptor *const guise_builtin_plugins[] = {
    &guise_anonymous_plugin, &guise_digest_plugin, &guise_basic_plugin,
    &guise_negotiate_plugin, &guise_ntlm_plugin,   &guise_ip_plugin,
    &guise_fsacl_plugin,     &guise_ppacl_plugin,  NULL,
};
