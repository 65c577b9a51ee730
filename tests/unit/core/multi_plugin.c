/* A plug-in module with two descriptors chained through `next` (ABI 1.1),
 * as a module serving Negotiate and NTLM would be; the third is refused by
 * the test when it is made to clash (see test_host.c). */
#include <guise/plugin.h>

static guise_result multi_init(const struct guise_host_services *host, const guise_props *props,
                               void **plugin)
{
    *plugin = (void *)host;
    return GUISE_S_OK;
}

static guise_result multi_authorize(void *plugin, uint32_t event, const struct guise_identity *who,
                                    const struct guise_request_info *req, guise_authz_done_fn done,
                                    void *cookie)
{
    done(GUISE_AUTHZ_DENY, GUISE_S_OK, cookie);
    return GUISE_S_OK;
}

static const struct guise_authz_ops multi_authz = {GUISE_AUTHZ_READ, 1, multi_authorize};

static const struct guise_plugin_descriptor second = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = 1,
    .kind = GUISE_PLUGIN_AUTHORIZATION,
    .name = "multi-b",
    .package = "MultiB",
    .init = multi_init,
    .authz = &multi_authz,
    .next = NULL,
};

static const struct guise_plugin_descriptor first = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = 1,
    .kind = GUISE_PLUGIN_AUTHORIZATION,
    .name = "multi-a",
    .package = "MultiA",
    .init = multi_init,
    .authz = &multi_authz,
    .next = &second,
};

const struct guise_plugin_descriptor *guise_plugin_entry(void);
const struct guise_plugin_descriptor *guise_plugin_entry(void)
{
    return &first;
}
