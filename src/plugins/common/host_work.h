/* The worker services of ABI 1.1, used safely by the built-in plug-ins:
 * a host of an older minor version lacks them (plugin.h). */
#ifndef GUISE_PLUGINS_HOST_WORK_H
#define GUISE_PLUGINS_HOST_WORK_H

#include <guise/plugin.h>

#include <stdbool.h>

/* Inside a job: true when the requester is gone (see work_cancelled). */
static inline bool pk_work_cancelled(const struct guise_host_services *host)
{
    return host->abi_minor >= 1 && host->work_cancelled && host->work_cancelled(host->host);
}

/* A short job on the quick lane, or on the only lane an older host has. */
static inline guise_result pk_submit_quick(const struct guise_host_services *host, guise_work_fn fn,
                                           void *arg)
{
    if (host->abi_minor >= 1 && host->submit_quick_work)
        return host->submit_quick_work(host->host, fn, arg);
    return host->submit_work(host->host, fn, arg);
}

#endif
