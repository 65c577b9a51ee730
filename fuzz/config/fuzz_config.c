/* libFuzzer target: guised's configuration parser (libinih + validation).
 * Every input must either parse or produce an error message naming the
 * file; none may crash, leak or read out of bounds. */
#include "server/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[1024] = "";
    struct guise_config *c = guise_config_parse("fuzz.conf", text, err, sizeof err);
    if (c) {
        /* a parsed file is internally consistent */
        for (size_t i = 0; i < c->npoints; i++)
            if (!c->points[i].path)
                abort();
        guise_config_free(c);
    } else if (strncmp(err, "fuzz.conf", 9) != 0) {
        abort(); /* every error names the file */
    }
    free(text);
    return 0;
}
