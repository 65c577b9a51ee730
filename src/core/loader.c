/* Loading plug-in types from shared objects through the versioned entry. */
#include "core/host_internal.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bound on a module's chain of descriptors, against a cycle. */
#define GUISE_MODULE_MAX_DESCRIPTORS 64

guise_result guise_host_load_module(guise_host *h, const char *path, char *err, size_t errsz)
{
    char msg[512];
    guise_result r = GUISE_S_OK;
    size_t types_before = h->ntypes; /* a failing module registers nothing */
    /* RTLD_LOCAL: two plug-ins may use the same internal symbol names. */
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(msg, sizeof msg, "cannot load plug-in module %s: %s", path, dlerror());
        r = GUISE_E_NOT_FOUND;
        goto fail;
    }
    guise_plugin_entry_fn entry;
    void *sym = dlsym(handle, GUISE_PLUGIN_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer, as POSIX allows */
    if (!sym) {
        snprintf(msg, sizeof msg, "plug-in module %s does not export %s", path,
                 GUISE_PLUGIN_ENTRY_SYMBOL);
        r = GUISE_E_INVALIDARG;
        goto fail;
    }
    const struct guise_plugin_descriptor *d = entry();
    if (!d) {
        snprintf(msg, sizeof msg, "plug-in module %s returned no descriptor", path);
        r = GUISE_E_INVALIDARG;
        goto fail;
    }
    /* The entry returns the first descriptor of the module's chain; each
     * carries its own version, and only ABI 1.1 and later have `next`. */
    unsigned n = 0;
    for (; d; d = d->abi_minor >= 1 ? d->next : NULL) {
        if (++n > GUISE_MODULE_MAX_DESCRIPTORS) {
            snprintf(msg, sizeof msg, "plug-in module %s: more than %d descriptors (a loop?)", path,
                     GUISE_MODULE_MAX_DESCRIPTORS);
            r = GUISE_E_INVALIDARG;
            goto fail;
        }
        if (d->abi_major != GUISE_ABI_MAJOR) {
            snprintf(msg, sizeof msg,
                     "plug-in module %s was built for guise plug-in ABI %u.%u; this server speaks "
                     "ABI %u.%u",
                     path, d->abi_major, d->abi_minor, GUISE_ABI_MAJOR, GUISE_ABI_MINOR);
            r = GUISE_E_ABI_MISMATCH;
            goto fail;
        }
        r = guise_host_add_type(h, d);
        if (r != GUISE_S_OK) {
            snprintf(msg, sizeof msg, "plug-in module %s: descriptor '%s' refused (%s)", path,
                     d->name ? d->name : "?",
                     r == GUISE_E_INVALIDARG ? "incomplete or duplicate name"
                                             : guise_result_name(r));
            goto fail;
        }
    }
    struct loaded_module *m = realloc(h->modules, (h->nmodules + 1) * sizeof *m);
    if (!m) {
        r = GUISE_E_OUTOFMEMORY;
        snprintf(msg, sizeof msg, "out of memory loading %s", path);
        goto fail;
    }
    h->modules = m;
    h->modules[h->nmodules].handle = handle;
    h->modules[h->nmodules].path = strdup(path);
    h->nmodules++;
    if (err && errsz)
        err[0] = '\0';
    return GUISE_S_OK;
fail:
    while (h->ntypes > types_before)
        free((void *)h->types[--h->ntypes]);
    if (handle)
        dlclose(handle);
    guise_eventlog_write(h->log, GUISE_EVENT_ERROR, "server", GUISE_EV_PLUGIN_LOAD_FAILED, r, "%s",
                         msg);
    if (err && errsz)
        snprintf(err, errsz, "%s", msg);
    return r;
}

void guise_host_unload_modules(guise_host *h)
{
    for (size_t i = 0; i < h->nmodules; i++) {
        dlclose(h->modules[i].handle);
        free(h->modules[i].path);
    }
    free(h->modules);
    h->modules = NULL;
    h->nmodules = 0;
}
