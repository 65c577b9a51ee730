/* The plug-ins linked into guised. */
#ifndef GUISE_PLUGINS_BUILTIN_H
#define GUISE_PLUGINS_BUILTIN_H

#include <guise/plugin.h>

extern const struct guise_plugin_descriptor guise_anonymous_plugin;
extern const struct guise_plugin_descriptor guise_ip_plugin;
extern const struct guise_plugin_descriptor guise_fsacl_plugin;
extern const struct guise_plugin_descriptor guise_ppacl_plugin;

/* NULL-terminated list of every built-in descriptor. */
extern const struct guise_plugin_descriptor *const guise_builtin_plugins[];

#endif
