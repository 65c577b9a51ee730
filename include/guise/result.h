/* guise: result codes.
 *
 * Every plug-in method and most library calls return a guise_result, a 32-bit
 * value laid out like a Windows HRESULT so that codes documented for Windows
 * Media Services keep their meaning. Success is exactly GUISE_S_OK (0); any
 * other value is a failure. Never test with "< 0": compare with GUISE_S_OK.
 */
#ifndef GUISE_RESULT_H
#define GUISE_RESULT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t guise_result;

/* Marks a function libguise exports; everything else in the library is
 * hidden (built with -fvisibility=hidden). The exported list is checked by
 * tests/unit/core/check_exports.py against src/core/libguise.exports: a new
 * export is a conscious change. */
#if defined(GUISE_BUILDING_LIBGUISE)
#define GUISE_API __attribute__((visibility("default")))
#else
#define GUISE_API
#endif

#define GUISE_S_OK           ((guise_result)0)
#define GUISE_E_PENDING      ((guise_result)0x8000000A) /* E_PENDING: would block */
#define GUISE_E_NOTIMPL      ((guise_result)0x80004001)
#define GUISE_E_POINTER      ((guise_result)0x80004003)
#define GUISE_E_FAIL         ((guise_result)0x80004005)
#define GUISE_E_UNEXPECTED   ((guise_result)0x8000FFFF)
#define GUISE_E_ACCESSDENIED ((guise_result)0x80070005)
#define GUISE_E_OUTOFMEMORY  ((guise_result)0x8007000E)
#define GUISE_E_INVALIDARG   ((guise_result)0x80070057)
/* HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) */
#define GUISE_E_NOT_FOUND ((guise_result)0x80070002)
/* HRESULT_FROM_WIN32(ERROR_TIMEOUT) */
#define GUISE_E_TIMEOUT ((guise_result)0x800705B4)
/* HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED) */
#define GUISE_E_NOT_SUPPORTED ((guise_result)0x80070032)
/* HRESULT_FROM_WIN32(ERROR_BAD_FORMAT): malformed input from a peer or file */
#define GUISE_E_BAD_FORMAT ((guise_result)0x8007000B)
/* SEC_E_CONTEXT_EXPIRED: with GUISE_AUTH_DENIED, the credentials were right
 * but are stale (an expired Digest nonce): the host answers 401 with the
 * plug-in's challenge and does not count an authentication failure. */
#define GUISE_E_CONTEXT_EXPIRED ((guise_result)0x80090317)
/* HRESULT_FROM_WIN32(ERROR_BUSY): a temporary refusal of this one request
 * (the worker queue is full, or the client has too many jobs queued). Not a
 * plug-in failure: a plug-in passes it on as the result of its call or as the
 * code of a denial, the host never puts the plug-in in the error state for
 * it, and the server answers 503 with Retry-After. */
#define GUISE_E_BUSY ((guise_result)0x800700AA)
/* E_ABORT: the work was cancelled because nobody waits for it any more (the
 * client's connection closed and the server freed its authentication
 * context). Like GUISE_E_BUSY, never a plug-in failure. */
#define GUISE_E_ABORTED ((guise_result)0x80004004)
/* HRESULT_FROM_WIN32(ERROR_OLD_WIN_VERSION) is not a good fit; guise uses a
 * facility-4 (ITF) code for the ABI mismatch of a loadable plug-in. */
#define GUISE_E_ABI_MISMATCH ((guise_result)0x80040201)
/* The plug-in has already written its failure to the event log: the host must
 * not log it again (NS_E_PLUGIN_ERROR_REPORTED of Windows Media Services). */
#define GUISE_E_PLUGIN_ERROR_REPORTED ((guise_result)0xC00D157D)

/* Win32 error codes wrapped as HRESULTs: HRESULT_FROM_WIN32-like, for errno. */
#define GUISE_FACILITY_ERRNO 0x0FE /* private facility for POSIX errno values */
#define GUISE_RESULT_FROM_ERRNO(e)                                                                 \
    ((e) == 0                                                                                      \
         ? GUISE_S_OK                                                                              \
         : (guise_result)(0x80000000u | (GUISE_FACILITY_ERRNO << 16) | ((uint32_t)(e)&0xFFFF)))

/* Returns the symbolic name of a code ("GUISE_E_ACCESSDENIED", "errno:EACCES",
 * ...) or "0xXXXXXXXX" for an unknown code. The string is static or lives in
 * thread-local storage until the next call on the same thread. Never NULL. */
GUISE_API const char *guise_result_name(guise_result r);

/* If r carries a POSIX errno (see GUISE_RESULT_FROM_ERRNO), returns it, else 0. */
GUISE_API int guise_result_errno(guise_result r);

#ifdef __cplusplus
}
#endif
#endif
