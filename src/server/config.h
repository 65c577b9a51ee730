/* guised's configuration file: a git-config-like INI file read with libinih.
 *
 *   [server]                    listen, tls-*, workers, impersonation, ...
 *   [plugin "NAME"]             properties of plug-in NAME
 *   [publishing-point "NAME"]   path, authentication, authorization, read, write
 *
 * Every error names file, line, key and why; the server refuses to start (or,
 * on reload, keeps the running configuration). */
#ifndef GUISE_SERVER_CONFIG_H
#define GUISE_SERVER_CONFIG_H

#include <guise/plugin.h>
#include <guise/token.h>

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct cfg_list {
    char **v;
    size_t n;
    bool set; /* the key appeared (an empty list is meaningful) */
    int line;
};

struct cfg_listen {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char text[80];
    int line;
};

struct cfg_plugin {
    char *name;
    guise_props *props; /* owned until handed to the host */
    int line;
};

#define CFG_POINT_EXT_MAX 8

/* active-content: what HTML and SVG from a point may do on the server's
 * origin (where viewers' Basic and Digest credentials are cached). */
enum cfg_active_content {
    CFG_ACTIVE_OFF,     /* served as text/plain (no markup is rendered) */
    CFG_ACTIVE_SANDBOX, /* Content-Security-Policy: sandbox (default) */
    CFG_ACTIVE_ON,      /* live on the origin: only for trusted writers */
};

struct cfg_point {
    char *name;
    char *path;
    int path_line;
    bool is_dir;
    struct cfg_list authn; /* replaces the server list when set */
    struct cfg_list authz; /* runs after the server list */
    guise_props *acl;      /* read/write keys, given to this point's pp-acl */
    int active_content;    /* enum cfg_active_content */
    guise_props *raw;      /* the section's keys as read, before parsing */
    /* values of keys other subsystems registered (server/config_keys.h):
     * guise_config_point_values */
    void *ext[CFG_POINT_EXT_MAX];
    int line;
};

struct guise_config {
    char *file;
    struct cfg_listen *listen;
    size_t nlisten;
    char *tls_cert, *tls_key;
    unsigned workers;
    unsigned io_threads;
    enum guise_imp_mode impersonation;
    int impersonation_line;
    unsigned long min_uid;
    struct cfg_list allow_accounts; /* accounts allowed below min-uid (never uid 0) */
    unsigned long min_gid;          /* primary gids below it are refused (default 100) */
    struct cfg_list allow_groups;   /* supplementary groups kept below min-gid (names or gids) */
    /* The unprivileged account a root-started guised switches to once its
     * start-up work is done (NULL: the default, "guise"). */
    char *server_account;
    int server_account_line;
    unsigned token_ttl;
    struct cfg_list authn, authz;
    struct cfg_list modules; /* plug-in .so files to load */
    char *access_log;
    int event_sink; /* enum guise_event_sink */
    char *realm;
    char *state_dir;
    char *assets_dir; /* /.guise/ files (server/assets.h); NULL: the data dir */
    bool check_only;  /* set by `guised -t`, never read from the file: plug-ins write nothing */
    char *public_url; /* NULL: index URLs are relative to the request */
    unsigned max_connections, max_connections_per_ip;
    unsigned idle_timeout;
    /* SIGTERM: how long requests may finish, then how long plug-in jobs
     * on the worker pool may (seconds each). */
    unsigned shutdown_timeout;
    unsigned long max_header_size;
    unsigned long max_uri_length;
    /* The small-file cache (server/content_cache.h): how long an entry lives
     * (0: no cache) and the slots of each thread's table. */
    unsigned content_cache_ttl_ms;
    unsigned content_cache_entries;
    unsigned fail_delay_ms; /* throttling of repeated authentication failures */
    unsigned lockout_after, lockout_seconds;
    unsigned max_client_jobs; /* plug-in calls in flight per address and per user */
    /* The admin listener: a Unix socket path (NULL: the default
     * /run/guise/admin.sock), "none", or a loopback ADDRESS:PORT. */
    char *admin_listen;
    bool admin_tcp; /* admin_listen is ADDRESS:PORT, parsed into admin_addr */
    struct cfg_listen admin_addr;
    int admin_listen_line;
    /* Group whose members may administer (besides root); resolved by
     * guise_config_load. admin_gid_valid is false when the default group
     * does not exist (then only root may). */
    char *admin_group;
    bool admin_group_set;
    /* Where the admin API persists its changes (NULL: CONFIG-FILE.state). */
    char *admin_state;
    gid_t admin_gid;
    bool admin_gid_valid;
    struct cfg_plugin *plugins;
    size_t nplugins;
    struct cfg_point *points;
    size_t npoints;
};

/* Reads and validates path. On failure returns NULL and writes
 * "FILE:LINE: key 'K': WHY" (or "FILE: WHY") to err. */
struct guise_config *guise_config_load(const char *path, char *err, size_t errsz);
/* Same from a memory buffer (tests, fuzzing); name is used in messages. */
struct guise_config *guise_config_parse(const char *name, const char *text, char *err,
                                        size_t errsz);
void guise_config_free(struct guise_config *c);
const struct cfg_plugin *guise_config_plugin(const struct guise_config *c, const char *name);
const struct cfg_point *guise_config_point(const struct guise_config *c, const char *name);

struct cfg_point_keys;
/* A point's values of keys registered by another subsystem (the structure
 * it declared), NULL when k was not registered. */
const void *guise_config_point_values(const struct cfg_point *p, const struct cfg_point_keys *k);

/* Lists: words separated by spaces, tabs or commas. Replaces l's words
 * (append: adds to them); 0, or -1 when out of memory (l keeps what was
 * parsed until then, freed by cfg_list_free). */
int cfg_list_parse(struct cfg_list *l, const char *value, int line, bool append);
void cfg_list_free(struct cfg_list *l);

#endif
