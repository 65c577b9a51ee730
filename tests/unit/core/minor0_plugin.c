/* A plug-in module built for ABI 1.0: its descriptor is the 1.0 structure,
 * which ends before the members 1.1 added (`next`). The host must load it and
 * read nothing past its end (ASan's redzone after this global would catch a
 * read of `next`). The structure is spelled out here as 1.0 declared it,
 * as an old module's copy of plugin.h would have it. */
#include <guise/plugin.h>

#include <stddef.h>

struct descriptor_1_0 {
    uint32_t abi_major, abi_minor;
    enum guise_plugin_kind kind;
    const char *name;
    const char *package;
    const char *version;
    const char *description;
    const struct guise_property_spec *properties;
    guise_result (*init)(const struct guise_host_services *host, const guise_props *props,
                         void **plugin);
    guise_result (*enable)(void *plugin);
    guise_result (*disable)(void *plugin);
    void (*shutdown)(void *plugin);
    const struct guise_authn_ops *authn;
    const struct guise_authz_ops *authz;
};
_Static_assert(sizeof(struct descriptor_1_0) == GUISE_DESCRIPTOR_SIZE_MINOR0,
               "the 1.0 descriptor is the prefix of today's");

static guise_result old_init(const struct guise_host_services *host, const guise_props *props,
                             void **plugin)
{
    *plugin = (void *)host;
    return GUISE_S_OK;
}

static guise_result old_authorize(void *plugin, uint32_t event, const struct guise_identity *who,
                                  const struct guise_request_info *req, guise_authz_done_fn done,
                                  void *cookie)
{
    done(GUISE_AUTHZ_ALLOW, GUISE_S_OK, cookie);
    return GUISE_S_OK;
}

static const struct guise_authz_ops old_authz = {GUISE_AUTHZ_READ, 1, old_authorize};

static const struct descriptor_1_0 old = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = 0,
    .kind = GUISE_PLUGIN_AUTHORIZATION,
    .name = "old-minor",
    .package = "OldMinor",
    .init = old_init,
    .authz = &old_authz,
};

const struct guise_plugin_descriptor *guise_plugin_entry(void);
const struct guise_plugin_descriptor *guise_plugin_entry(void)
{
    return (const struct guise_plugin_descriptor *)(const void *)&old;
}
