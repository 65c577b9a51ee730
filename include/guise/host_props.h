/* guise: property sets, the host's side (not installed): building them
 * from a configuration file, editing them (the admin API's "set property"),
 * listing them with the file and line of every value. The server and the
 * admin interface build and edit the sets they hand the host; plug-ins only
 * read them (<guise/props.h>, or the host services). */
#ifndef GUISE_HOST_PROPS_H
#define GUISE_HOST_PROPS_H

#include <guise/plugin.h>
#include <guise/props.h>

/* file names where the values came from (for error messages); may be NULL. */
GUISE_API guise_props *guise_props_new(const char *file);
/* Appends key=value read at line. Returns 0, or -1 when out of memory. */
GUISE_API int guise_props_add(guise_props *p, const char *key, const char *value, int line);
/* Replaces every value of key by one value (admin "set property"). */
GUISE_API int guise_props_set(guise_props *p, const char *key, const char *value);
GUISE_API guise_props *guise_props_dup(const guise_props *p);
GUISE_API void guise_props_free(guise_props *p);
/* Number of distinct entries and the i-th (key, value, line), in file order. */
GUISE_API size_t guise_props_size(const guise_props *p);
GUISE_API void guise_props_entry(const guise_props *p, size_t i, const char **key,
                                 const char **value, int *line);
/* The last error recorded by guise_props_fail, "" when none. */
GUISE_API const char *guise_props_error(const guise_props *p);
/* The line of the last value of key, 0 when absent. */
GUISE_API int guise_props_line(const guise_props *p, const char *key);

#endif
