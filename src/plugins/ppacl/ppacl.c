/* Publishing-point ACL authorization: who may read (open, play, seek, list)
 * and who may write (publish) one publishing point. One instance per point,
 * made from the point's own `read` and `write` keys. Entries:
 *   user:NAME   the logical user id or the impersonated account is NAME
 *   group:NAME  the token carries group NAME (resolved once, at init)
 *   anonymous   the identity came from an anonymous plug-in
 *   everyone    anybody (the default for read; write defaults to nobody)
 * WMS: "WMS Publishing Points ACL Authorization". */
#include "plugins/builtin.h"
#include <guise/props.h>
#include <guise/token.h>

#include <grp.h>
#include <stdlib.h>
#include <string.h>

enum ace_kind { ACE_USER, ACE_GROUP, ACE_ANONYMOUS, ACE_EVERYONE };

struct ace {
    enum ace_kind kind;
    char *name;
    gid_t gid;
};

struct acl {
    struct ace *v;
    size_t n;
};

struct ppacl {
    struct acl read, write;
};

static const struct guise_property_spec ppacl_properties[] = {
    {"read", 0, "who may read: user:NAME group:NAME anonymous everyone (default everyone)"},
    {"write", 0, "who may publish (default nobody)"},
    {NULL, 0, NULL},
};

static void acl_free(struct acl *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].name);
    free(a->v);
}

static guise_result add_ace(struct acl *a, struct ace e)
{
    struct ace *v = realloc(a->v, (a->n + 1) * sizeof *v);
    if (!v) {
        free(e.name);
        return GUISE_E_OUTOFMEMORY;
    }
    v[a->n++] = e;
    a->v = v;
    return GUISE_S_OK;
}

/* Group names are resolved here, at configuration time, so that no request
 * ever waits on NSS. */
static guise_result parse_acl(const guise_props *props, const char *key, const char *dflt,
                              struct acl *out)
{
    const char *text = guise_props_get(props, key);
    if (!text)
        text = dflt;
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        return GUISE_E_OUTOFMEMORY;
    guise_result r = GUISE_S_OK;
    for (char *t = strtok_r(copy, " \t,", &save); t && r == GUISE_S_OK;
         t = strtok_r(NULL, " \t,", &save)) {
        struct ace e = {0};
        if (strcmp(t, "everyone") == 0 || strcmp(t, "*") == 0) {
            e.kind = ACE_EVERYONE;
        } else if (strcmp(t, "anonymous") == 0) {
            e.kind = ACE_ANONYMOUS;
        } else if (strncmp(t, "user:", 5) == 0 && t[5]) {
            e.kind = ACE_USER;
            if (!(e.name = strdup(t + 5)))
                r = GUISE_E_OUTOFMEMORY;
        } else if (strncmp(t, "group:", 6) == 0 && t[6]) {
            struct group gr, *res = NULL;
            char buf[4096];
            if (getgrnam_r(t + 6, &gr, buf, sizeof buf, &res) != 0 || !res) {
                r = guise_props_fail(props, key, "unknown group '%s'", t + 6);
                break;
            }
            e.kind = ACE_GROUP;
            e.gid = res->gr_gid;
            if (!(e.name = strdup(t + 6)))
                r = GUISE_E_OUTOFMEMORY;
        } else {
            r = guise_props_fail(props, key,
                                 "'%s' is not user:NAME, group:NAME, anonymous or everyone", t);
            break;
        }
        if (r == GUISE_S_OK)
            r = add_ace(out, e);
    }
    free(copy);
    return r;
}

static void ppacl_shutdown(void *plugin)
{
    struct ppacl *p = plugin;
    acl_free(&p->read);
    acl_free(&p->write);
    free(p);
}

static guise_result ppacl_init(const struct guise_host_services *host, const guise_props *props,
                               void **out)
{
    struct ppacl *p = calloc(1, sizeof *p);
    if (!p)
        return GUISE_E_OUTOFMEMORY;
    guise_result r = parse_acl(props, "read", "everyone", &p->read);
    if (r == GUISE_S_OK)
        r = parse_acl(props, "write", "", &p->write);
    if (r != GUISE_S_OK) {
        ppacl_shutdown(p);
        return r;
    }
    *out = p;
    return GUISE_S_OK;
}

static bool acl_grants(const struct acl *a, const struct guise_identity *who)
{
    for (size_t i = 0; i < a->n; i++) {
        const struct ace *e = &a->v[i];
        switch (e->kind) {
        case ACE_EVERYONE:
            return true;
        case ACE_ANONYMOUS:
            if (who->anonymous)
                return true;
            break;
        case ACE_USER:
            if (!who->anonymous && ((who->logical_user && !strcmp(who->logical_user, e->name)) ||
                                    (who->account && !strcmp(who->account, e->name))))
                return true;
            break;
        case ACE_GROUP:
            if (!who->anonymous && who->token && guise_token_in_group(who->token, e->gid))
                return true;
            break;
        }
    }
    return false;
}

static guise_result ppacl_authorize(void *plugin, uint32_t event, const struct guise_identity *who,
                                    const struct guise_request_info *req, guise_authz_done_fn done,
                                    void *cookie)
{
    struct ppacl *p = plugin;
    /* Create needs Write, as in the model. */
    const struct acl *a = (event & (GUISE_AUTHZ_WRITE | GUISE_AUTHZ_CREATE)) ? &p->write : &p->read;
    bool ok = acl_grants(a, who);
    done(ok ? GUISE_AUTHZ_ALLOW : GUISE_AUTHZ_DENY, ok ? GUISE_S_OK : GUISE_E_ACCESSDENIED, cookie);
    return GUISE_S_OK;
}

static const struct guise_authz_ops ppacl_ops = {
    .events = GUISE_AUTHZ_READ | GUISE_AUTHZ_WRITE | GUISE_AUTHZ_CREATE,
    .point_level_allowed = GUISE_AUTHZ_POINT_LEVEL | GUISE_AUTHZ_POINT_INSTANCE,
    .authorize = ppacl_authorize,
};

const struct guise_plugin_descriptor guise_ppacl_plugin = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHORIZATION,
    .name = "pp-acl",
    .package = "Publishing Point ACL Authorization",
    .version = GUISE_VERSION,
    .description = "Read/write permissions per publishing point for users and groups",
    .properties = ppacl_properties,
    .init = ppacl_init,
    .shutdown = ppacl_shutdown,
    .authz = &ppacl_ops,
};
