/* guise HTTP helpers: strict UTF-8 checking.
 *
 * Shared by the path decoder (which must refuse overlong forms such as
 * C0 AE, an old trick to smuggle '.' past a traversal check) and by the
 * index renderers (which must not emit invalid UTF-8 into HTML or JSON).
 */
#ifndef GUISE_HTTP_UTF8_H
#define GUISE_HTTP_UTF8_H

#include <stddef.h>

/* Looks at the n bytes at s (n >= 1) and tells what the sequence starting
 * at s[0] is, following Unicode table 3-7 (no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF):
 *   1..4  s[0..r) is one complete, well-formed sequence;
 *   0     the n bytes are a well-formed but unfinished prefix (more needed);
 *  -1     s[0..n) can never start a well-formed sequence. */
int gh_utf8_check(const unsigned char *s, size_t n);

#endif
