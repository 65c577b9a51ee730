/* guise: the host's accessors of plug-in properties (private: not
 * installed).
 *
 * The host and the built-in plug-ins, linked into guised, call these
 * directly; a loadable plug-in reaches the same functions through
 * guise_host_services (props_get, ...), so that it links no guise library.
 * Every function is thread-safe on a property set nobody modifies: the
 * host never changes the set an instance was initialised with. */
#ifndef GUISE_PROPS_H
#define GUISE_PROPS_H

#include <guise/plugin.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Last value of key, or NULL. */
GUISE_API const char *guise_props_get(const guise_props *p, const char *key);
/* Number of values of key (repeatable keys), and the i-th one. */
GUISE_API size_t guise_props_count(const guise_props *p, const char *key);
GUISE_API const char *guise_props_at(const guise_props *p, const char *key, size_t i);
/* Records a configuration error on key ("file:line: key 'k': message") that
 * the host prints when init fails. Returns GUISE_E_INVALIDARG for convenience:
 *   return guise_props_fail(p, "algorithms", "unknown algorithm '%s'", a); */
GUISE_API guise_result guise_props_fail(const guise_props *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Typed helpers: parse the last value of key or use dflt when absent; on a bad
 * value they call guise_props_fail and return GUISE_E_INVALIDARG. */
GUISE_API guise_result guise_props_uint(const guise_props *p, const char *key, unsigned long dflt,
                                        unsigned long min, unsigned long max, unsigned long *out);
GUISE_API guise_result guise_props_bool(const guise_props *p, const char *key, bool dflt,
                                        bool *out);

#ifdef __cplusplus
}
#endif
#endif
