/* A plug-in module built for a future ABI major version: the host must
 * refuse it and name both versions. */
#include <guise/plugin.h>

static const struct guise_plugin_descriptor future = {
    .abi_major = GUISE_ABI_MAJOR + 1,
    .abi_minor = 0,
    .kind = GUISE_PLUGIN_AUTHENTICATION,
    .name = "future",
    .package = "Future",
};

const struct guise_plugin_descriptor *guise_plugin_entry(void);
const struct guise_plugin_descriptor *guise_plugin_entry(void)
{
    return &future;
}
