/* libFuzzer target: guised's configuration parser (libinih + validation).
 * Every input must either parse or produce an error message naming the
 * file; none may crash, leak or read out of bounds. */
#include "server/config.h"
#include "server/config_keys.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Point keys another subsystem registers (as broadcast points will). */
struct fuzz_point_values {
    unsigned burst;
    char *source;
    struct cfg_list hls;
};
static const struct cfg_key fuzz_keys[] = {
    {"burst-bytes", CFG_UINT, 0, offsetof(struct fuzz_point_values, burst), 0, 1u << 24, "a size",
     NULL, NULL, 0},
    {"source", CFG_STRING, CFG_NONEMPTY, offsetof(struct fuzz_point_values, source), 0, 0, NULL,
     NULL, NULL, 0},
    {"hls-variants", CFG_LIST, 0, offsetof(struct fuzz_point_values, hls), 0, 0, NULL, NULL, NULL,
     0},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0},
};
static const struct cfg_point_keys fuzz_point_keys = {"fuzz", fuzz_keys,
                                                      sizeof(struct fuzz_point_values), NULL, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int registered;
    if (!registered++ && guise_config_register_point_keys(&fuzz_point_keys) != 0)
        abort();
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
