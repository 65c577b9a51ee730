/* Names of result codes, for events, logs and the admin API. */
#include <guise/result.h>

#include <stdio.h>
#include <string.h>

struct named_code {
    guise_result code;
    const char *name;
};

static const struct named_code known_codes[] = {
    {GUISE_S_OK, "GUISE_S_OK"},
    {GUISE_E_PENDING, "GUISE_E_PENDING"},
    {GUISE_E_NOTIMPL, "GUISE_E_NOTIMPL"},
    {GUISE_E_POINTER, "GUISE_E_POINTER"},
    {GUISE_E_FAIL, "GUISE_E_FAIL"},
    {GUISE_E_UNEXPECTED, "GUISE_E_UNEXPECTED"},
    {GUISE_E_ACCESSDENIED, "GUISE_E_ACCESSDENIED"},
    {GUISE_E_OUTOFMEMORY, "GUISE_E_OUTOFMEMORY"},
    {GUISE_E_BUSY, "GUISE_E_BUSY"},
    {GUISE_E_ABORTED, "GUISE_E_ABORTED"},
    {GUISE_E_INVALIDARG, "GUISE_E_INVALIDARG"},
    {GUISE_E_NOT_FOUND, "GUISE_E_NOT_FOUND"},
    {GUISE_E_TIMEOUT, "GUISE_E_TIMEOUT"},
    {GUISE_E_NOT_SUPPORTED, "GUISE_E_NOT_SUPPORTED"},
    {GUISE_E_BAD_FORMAT, "GUISE_E_BAD_FORMAT"},
    {GUISE_E_ABI_MISMATCH, "GUISE_E_ABI_MISMATCH"},
    {GUISE_E_CONTEXT_EXPIRED, "GUISE_E_CONTEXT_EXPIRED"},
    {GUISE_E_PLUGIN_ERROR_REPORTED, "GUISE_E_PLUGIN_ERROR_REPORTED"},
};

int guise_result_errno(guise_result r)
{
    uint32_t u = (uint32_t)r;
    if ((u & 0xFFFF0000u) == (0x80000000u | (GUISE_FACILITY_ERRNO << 16)))
        return (int)(u & 0xFFFF);
    return 0;
}

const char *guise_result_name(guise_result r)
{
    static _Thread_local char buf[48];
    for (size_t i = 0; i < sizeof known_codes / sizeof known_codes[0]; i++)
        if (known_codes[i].code == r)
            return known_codes[i].name;
    int e = guise_result_errno(r);
    if (e) {
        const char *n = strerrorname_np(e);
        snprintf(buf, sizeof buf, "errno:%s", n ? n : "?");
        if (!n)
            snprintf(buf, sizeof buf, "errno:%d", e);
        return buf;
    }
    snprintf(buf, sizeof buf, "0x%08X", (unsigned)r);
    return buf;
}
