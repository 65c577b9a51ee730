/* Private structures of the plug-in host, shared by host.c and loader.c. */
#ifndef GUISE_CORE_HOST_INTERNAL_H
#define GUISE_CORE_HOST_INTERNAL_H

#include <guise/host.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct loaded_module {
    void *handle;
    char *path;
};

struct guise_plugin {
    guise_host *host;
    const struct guise_plugin_descriptor *desc;
    char *name; /* instance name */
    guise_props *props;
    void *instance; /* what desc->init returned */
    struct guise_host_services services;
    _Atomic int state; /* enum guise_plugin_state */
    /* Calls into the instance that have begun and not ended: synchronous
     * calls until they return, asynchronous ones until their completion
     * (see "Calls in flight" in plugin.h). disable waits for zero. */
    atomic_uint inflight;
    atomic_bool draining; /* a disable waits: the last call ends it */
    pthread_mutex_t drain_lock;
    pthread_cond_t drained;
    /* Serialises enable, disable and re-enable of this instance; never held
     * by a call into a plug-in other than enable and disable themselves. */
    pthread_mutex_t life_lock;
    pthread_mutex_t err_lock;
    guise_result last_code;
    char last_msg[512];
};

struct guise_scope {
    guise_host *host;
    char *name;
    guise_plugin **authn, **authz;
    size_t nauthn, nauthz;
    _Atomic int critical;
};

struct guise_host {
    guise_eventlog *log;
    guise_token_store *tokens;
    struct guise_workers *workers;
    char *realm, *state_dir;
    bool check_only;      /* guise_host_options.check_only */
    pthread_mutex_t lock; /* registry and scope lists; never held across plug-in calls */
    const struct guise_plugin_descriptor **types;
    size_t ntypes;
    struct loaded_module *modules;
    size_t nmodules;
    guise_plugin **plugins;
    size_t nplugins;
    guise_scope **scopes;
    size_t nscopes;
};

/* Appends item to a realloc'ed array of pointers; 0 or -1. */
int guise_ptr_append(void *array_ptr, size_t *n, void *item);

/* dlclose()s the loaded modules (loader.c). */
void guise_host_unload_modules(guise_host *h);

#endif
