/* IP address authorization: allow and deny lists of IPv4/IPv6 CIDRs; deny
 * wins; with an allow list, only listed addresses pass. Server level only,
 * like WMS's "WMS IP Address Authorization". */
#include "plugins/builtin.h"
#include <guise/props.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cidr {
    int family;
    uint8_t addr[16];
    unsigned prefix;
};

struct cidr_list {
    struct cidr *v;
    size_t n;
};

struct ipacl {
    struct cidr_list allow, deny;
};

static const struct guise_property_spec ip_properties[] = {
    {"allow", GUISE_PROP_REPEATABLE, "CIDRs allowed (space separated); empty: everyone"},
    {"deny", GUISE_PROP_REPEATABLE, "CIDRs denied (space separated); deny wins"},
    {NULL, 0, NULL},
};

static int parse_cidr(const char *text, struct cidr *out)
{
    char buf[64];
    if (strlen(text) >= sizeof buf)
        return -1;
    strcpy(buf, text);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash++ = '\0';
    memset(out, 0, sizeof *out);
    unsigned max;
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    out->prefix = max;
    if (slash) {
        char *end;
        if (!*slash || *slash == '-' || *slash == '+')
            return -1;
        unsigned long p = strtoul(slash, &end, 10);
        if (*end || p > max)
            return -1;
        out->prefix = (unsigned)p;
    }
    return 0;
}

static guise_result parse_list(const guise_props *props, const char *key, struct cidr_list *list)
{
    for (size_t i = 0; i < guise_props_count(props, key); i++) {
        char *copy = strdup(guise_props_at(props, key, i)), *save = NULL;
        if (!copy)
            return GUISE_E_OUTOFMEMORY;
        for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
            struct cidr c;
            if (parse_cidr(tok, &c) != 0) {
                guise_result r =
                    guise_props_fail(props, key, "'%s' is not an IP address or CIDR", tok);
                free(copy);
                return r;
            }
            struct cidr *v = realloc(list->v, (list->n + 1) * sizeof *v);
            if (!v) {
                free(copy);
                return GUISE_E_OUTOFMEMORY;
            }
            v[list->n++] = c;
            list->v = v;
        }
        free(copy);
    }
    return GUISE_S_OK;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rem = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return false;
    if (!rem)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rem));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

static bool list_matches(const struct cidr_list *l, const struct sockaddr *sa)
{
    uint8_t v4[4], v6[16];
    bool have4 = false, have6 = false;
    if (sa->sa_family == AF_INET) {
        memcpy(v4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        have4 = true;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(v6, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        have6 = true;
        /* An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d. */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(v6, mapped, 12) == 0) {
            memcpy(v4, v6 + 12, 4);
            have4 = true;
        }
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct cidr *c = &l->v[i];
        if ((c->family == AF_INET && have4 && prefix_match(c->addr, v4, c->prefix)) ||
            (c->family == AF_INET6 && have6 && prefix_match(c->addr, v6, c->prefix)))
            return true;
    }
    return false;
}

static void ip_shutdown(void *plugin)
{
    struct ipacl *a = plugin;
    free(a->allow.v);
    free(a->deny.v);
    free(a);
}

static guise_result ip_init(const struct guise_host_services *host, const guise_props *props,
                            void **out)
{
    struct ipacl *a = calloc(1, sizeof *a);
    if (!a)
        return GUISE_E_OUTOFMEMORY;
    guise_result r = parse_list(props, "allow", &a->allow);
    if (r == GUISE_S_OK)
        r = parse_list(props, "deny", &a->deny);
    if (r != GUISE_S_OK) {
        ip_shutdown(a);
        return r;
    }
    *out = a;
    return GUISE_S_OK;
}

static guise_result ip_authorize(void *plugin, uint32_t event, const struct guise_identity *who,
                                 const struct guise_request_info *req, guise_authz_done_fn done,
                                 void *cookie)
{
    struct ipacl *a = plugin;
    bool ok = req->client_addr != NULL && !list_matches(&a->deny, req->client_addr) &&
              (a->allow.n == 0 || list_matches(&a->allow, req->client_addr));
    done(ok ? GUISE_AUTHZ_ALLOW : GUISE_AUTHZ_DENY, ok ? GUISE_S_OK : GUISE_E_ACCESSDENIED, cookie);
    return GUISE_S_OK;
}

static const struct guise_authz_ops ip_ops = {
    .events = GUISE_AUTHZ_READ | GUISE_AUTHZ_WRITE | GUISE_AUTHZ_CREATE,
    .point_level_allowed = 0,
    .authorize = ip_authorize,
};

const struct guise_plugin_descriptor guise_ip_plugin = {
    .abi_major = GUISE_ABI_MAJOR,
    .abi_minor = GUISE_ABI_MINOR,
    .kind = GUISE_PLUGIN_AUTHORIZATION,
    .name = "ip",
    .package = "IP Address Authorization",
    .version = GUISE_VERSION,
    .description = "Allows or denies clients by IPv4/IPv6 address",
    .properties = ip_properties,
    .init = ip_init,
    .shutdown = ip_shutdown,
    .authz = &ip_ops,
};
