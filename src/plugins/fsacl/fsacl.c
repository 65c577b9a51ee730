/* File-system ACL authorization: the content must open with the identity's
 * token, so owner modes and POSIX ACLs decide, in the kernel. The open goes
 * through the host (req->open_content), which keeps the descriptor for
 * serving: the decision and the bytes served come from one open. */
#include "plugins/builtin.h"

#include <stdlib.h>

static const struct guise_property_spec fsacl_properties[] = {{NULL, 0, NULL}};

static guise_result fsacl_init(const struct guise_host_services *host, const guise_props *props,
                               void **out)
{
    *out = (void *)host;
    return GUISE_S_OK;
}

static void fsacl_shutdown(void *plugin)
{
}

static guise_result fsacl_authorize(void *plugin, uint32_t event, const struct guise_identity *who,
                                    const struct guise_request_info *req, guise_authz_done_fn done,
                                    void *cookie)
{
    if (!req->open_content) {
        done(GUISE_AUTHZ_ALLOW, GUISE_S_OK, cookie);
        return GUISE_S_OK;
    }
    guise_result r = req->open_content(req, who->token);
    if (r == GUISE_S_OK) {
        done(GUISE_AUTHZ_ALLOW, GUISE_S_OK, cookie);
        return GUISE_S_OK;
    }
    /* Every kernel refusal is a denial of this request (the host turns it
     * into 401/403/404 without revealing names inside directories the
     * identity cannot search, or 500 for I/O errors). None is a failure of
     * the plug-in: one unreadable file must not put the scope in the
     * critical-error state. */
    done(GUISE_AUTHZ_DENY, r, cookie);
    return GUISE_S_OK;
}

static const struct guise_authz_ops fsacl_ops = {
    .events = GUISE_AUTHZ_READ,
    .point_level_allowed = 1,
    .authorize = fsacl_authorize,
};

const struct guise_plugin_descriptor guise_fsacl_plugin = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHORIZATION,
    .name = "fs-acl",
    .package = "File System ACL Authorization",
    .version = GUISE_VERSION,
    .description = "Content must be readable by the impersonated account",
    .properties = fsacl_properties,
    .init = fsacl_init,
    .shutdown = fsacl_shutdown,
    .authz = &fsacl_ops,
};
