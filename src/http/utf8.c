/* guise HTTP helpers: strict UTF-8 checking (see utf8.h). */
#include "http/utf8.h"

/* Allowed range of the second byte for each lead byte; all later bytes are
 * 80..BF. The narrowed ranges after E0, ED, F0 and F4 are what rule out
 * overlong forms, surrogates and code points above U+10FFFF. */
static int second_byte_range(unsigned char lead, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead == 0xE0) {
        *lo = 0xA0;
        return 3;
    }
    if (lead == 0xED) {
        *hi = 0x9F;
        return 3;
    }
    if (lead >= 0xE1 && lead <= 0xEF)
        return 3;
    if (lead == 0xF0) {
        *lo = 0x90;
        return 4;
    }
    if (lead >= 0xF1 && lead <= 0xF3)
        return 4;
    if (lead == 0xF4) {
        *hi = 0x8F;
        return 4;
    }
    return -1; /* 80..C1 and F5..FF never lead a sequence */
}

int gh_utf8_check(const unsigned char *s, size_t n)
{
    unsigned char lo, hi;
    int want;

    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    want = second_byte_range(s[0], &lo, &hi);
    if (want < 0)
        return -1;
    for (size_t i = 1; i < (size_t)want; i++) {
        if (i >= n)
            return 0;
        if (s[i] < lo || s[i] > hi)
            return -1;
        lo = 0x80;
        hi = 0xBF;
    }
    return want;
}
