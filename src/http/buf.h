/* guise HTTP helpers: a growable byte buffer for generated bodies. */
#ifndef GUISE_HTTP_BUF_H
#define GUISE_HTTP_BUF_H

#include <stddef.h>

/* Start with struct gh_buf b = {0}. When data is not NULL it is kept
 * NUL-terminated (len does not count the NUL), so it can be used as a C
 * string; the body itself may still contain NUL bytes. */
struct gh_buf {
    char *data;
    size_t len, cap;
};

/* Makes room for n more bytes plus the NUL. 0, or -1 when out of memory. */
int gh_buf_reserve(struct gh_buf *b, size_t n);
/* Appends n bytes / a C string / printf output. 0, or -1 when out of
 * memory (the buffer is then unchanged). */
int gh_buf_append(struct gh_buf *b, const void *data, size_t n);
int gh_buf_puts(struct gh_buf *b, const char *s);
int gh_buf_printf(struct gh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Cuts the buffer back to len bytes (len <= b->len). */
void gh_buf_truncate(struct gh_buf *b, size_t len);
/* Frees the memory and resets b to {0}; b may be reused. */
void gh_buf_free(struct gh_buf *b);

#endif
