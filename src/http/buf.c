/* guise HTTP helpers: a growable byte buffer (see buf.h). */
#include "http/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gh_buf_reserve(struct gh_buf *b, size_t n)
{
    size_t want, cap;
    char *p;

    if (n > SIZE_MAX - 1 - b->len)
        return -1;
    want = b->len + n + 1;
    if (want <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int gh_buf_append(struct gh_buf *b, const void *data, size_t n)
{
    if (gh_buf_reserve(b, n) < 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int gh_buf_puts(struct gh_buf *b, const char *s)
{
    return gh_buf_append(b, s, strlen(s));
}

int gh_buf_printf(struct gh_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || gh_buf_reserve(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void gh_buf_truncate(struct gh_buf *b, size_t len)
{
    if (b->data == NULL || len > b->len)
        return;
    b->len = len;
    b->data[len] = '\0';
}

void gh_buf_free(struct gh_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
