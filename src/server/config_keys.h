/* Typed configuration keys declared in one table per section, the way
 * plug-ins declare their properties (guise_property_spec): [server] and
 * [publishing-point "NAME"] keys are collected as a property set (value and
 * line of every occurrence, <guise/plugin.h>'s guise_props) and then parsed
 * by their declaration. Another subsystem declares the point keys it needs
 * in its own file and registers them (guise_config_register_point_keys). */
#ifndef GUISE_SERVER_CONFIG_KEYS_H
#define GUISE_SERVER_CONFIG_KEYS_H

#include <guise/plugin.h>

#include <stdbool.h>
#include <stddef.h>

enum cfg_key_type {
    CFG_UINT,        /* unsigned, min..max */
    CFG_ULONG,       /* unsigned long, min..max */
    CFG_BOOL,        /* bool: true/false, yes/no, on/off, 1/0 */
    CFG_STRING,      /* char * (strdup'ed); CFG_NONEMPTY refuses "" */
    CFG_ABSPATH,     /* char *, an absolute path */
    CFG_LIST,        /* struct cfg_list: each value replaces the list */
    CFG_LIST_APPEND, /* struct cfg_list: each value appends (repeatable) */
    CFG_ENUM,        /* int: the index of the value in choices (NULL-terminated) */
    CFG_CUSTOM,      /* parse() */
};

#define CFG_NONEMPTY 0x100u /* with GUISE_PROP_* flags */

/* One key. offset is where the value goes in the section's structure
 * (offsetof); line_offset, when not 0, where the int line of its last value
 * goes (offsetof + 1, so that 0 means none). what completes "'V' is not ..."
 * for the typed kinds. parse (CFG_CUSTOM) returns 0, or -1 with why. */
struct cfg_key {
    const char *name;
    enum cfg_key_type type;
    unsigned flags;
    size_t offset;
    unsigned long min, max;
    const char *what;
    const char *const *choices;
    int (*parse)(void *section, const char *value, int line, char *why, size_t whysz);
    size_t line_offset;
};
#define CFG_LINE_AT(type, member) (offsetof(type, member) + 1)

/* Parses every entry of props (file order) into section by table; refuses
 * unknown keys. 0, or -1 with "FILE:LINE: key 'K': why" in err (where names
 * the section in the unknown-key message: "[server]"). Every allocation is
 * checked: out of memory refuses. */
int cfg_keys_apply(const struct cfg_key *table, void *section, const guise_props *props,
                   const char *file, const char *where, char *err, size_t errsz);
/* The same over several tables (a point's own keys and the registered
 * ones): each key is looked up in tables[i] and parsed into sections[i]. */
int cfg_keys_apply_tables(const struct cfg_key *const *tables, void *const *sections, size_t n,
                          const guise_props *props, const char *file, const char *where, char *err,
                          size_t errsz);
/* Frees what the table's strings and lists hold in section. */
void cfg_keys_free(const struct cfg_key *table, void *section);
const struct cfg_key *cfg_key_find(const struct cfg_key *table, const char *name);

/* Keys another subsystem adds to [publishing-point] sections: for every
 * point a structure of `size` bytes is calloc'ed, `defaults` fills it, the
 * keys are parsed into it, then `check` may refuse the combination (why,
 * without file and line: the section's line is added). Registered before
 * the first configuration is read (main, tests); at most 8. */
struct cfg_point_keys {
    const char *owner; /* "live" */
    const struct cfg_key *keys;
    size_t size;
    void (*defaults)(void *values);
    int (*check)(const char *point, void *values, char *why, size_t whysz);
};
int guise_config_register_point_keys(const struct cfg_point_keys *k);

#endif
