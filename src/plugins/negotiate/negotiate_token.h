/* Negotiate / NTLM plug-ins: what can be known about client tokens and GSS
 * names without GSSAPI (pure functions, unit-tested). */
#ifndef GUISE_NEGOTIATE_TOKEN_H
#define GUISE_NEGOTIATE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define NEGOTIATE_NAME_MAX 1024

/* True when a token starts a new exchange: a GSS initial context token
 * (RFC 2743 3.1: tag 0x60, the framing of SPNEGO's NegTokenInit and of raw
 * Kerberos), or an NTLMSSP NEGOTIATE_MESSAGE (type 1). Continuation tokens
 * (SPNEGO NegTokenResp 0xa1, NTLMSSP type 3) are not. A client that starts
 * over on a connection whose exchange is unfinished or done sends one. */
bool negotiate_token_is_initial(const void *data, size_t len);

/* gss-ntlmssp (1.2.0) decodes NTLMSSP messages only in the layout Windows
 * sends: a NEGOTIATE_MESSAGE whose payload comes after the 8-byte Version
 * field, an AUTHENTICATE_MESSAGE whose payload comes after Version and the
 * 16-byte MIC. MS-NLMP 2.2.1 makes these fields optional, and curl and Java
 * leave them out (payload at offset 32, resp. 64): gss-ntlmssp then answers
 * "Failed to decode data". This rewrites such a message into the layout it
 * decodes: zeros are inserted where the payload began and every payload
 * offset moves by as much. Nothing that authenticates the user changes (the
 * NTLMv2 response is an HMAC over the server challenge and the client's
 * blob); the zero MIC is only checked when the client's blob announces a
 * MIC, which only clients that send the fields do.
 *
 * out has room for len + NEGOTIATE_NTLM_GROWTH bytes. Returns the length
 * written: len with a verbatim copy for anything else (other tokens,
 * messages already in that layout, malformed ones GSSAPI will refuse). */
#define NEGOTIATE_NTLM_GROWTH 24
size_t negotiate_ntlm_layout(const void *in, size_t len, void *out);

/* A malloc'd NUL-terminated copy of a GSS display name (gss-ntlmssp counts
 * the terminating NUL in the length, MIT does not). NULL when the name is
 * empty, longer than NEGOTIATE_NAME_MAX, holds a control character (it ends
 * up in logs and account maps) or memory runs out. */
char *negotiate_name_dup(const void *value, size_t length);

/* The user an NTLMSSP AUTHENTICATE_MESSAGE claims, DOMAIN\user or user
 * as gss-ntlmssp displays it once authenticated (UTF-16LE names converted
 * to UTF-8 when the message sets NTLMSSP_NEGOTIATE_UNICODE), malloc'd; NULL
 * for any other token, an empty or unusable name. Lets the host count
 * failed passwords per user: nothing here is verified. */
char *negotiate_ntlm_claimed_user(const void *msg, size_t len);

#endif
