/* The public browser assets guised serves under GH_ASSETS_PREFIX
 * ("/.guise/", http/player.h): hls.min.js (installed from npm at build time)
 * and player.js (the player page's script). They are public libraries:
 * served to anyone, before any authentication, with no publishing point's
 * ACL applying (no point can be named ".guise": config.c refuses it).
 *
 * Read once at start, before the privilege switch, from the [server] key
 * assets-dir (default GUISE_ASSETS_DIR, the install's data dir), and kept in
 * memory, read-only, for the life of the process. */
#ifndef GUISE_SERVER_ASSETS_H
#define GUISE_SERVER_ASSETS_H

#include <stdbool.h>
#include <stdio.h>

struct request;

/* Loads the assets from dir (NULL: the default). A missing hls.min.js is no
 * error: the player then offers native HLS only, and a line saying so goes
 * to warn (when not NULL), as guised -t shows it. Returns 0, or -1 when a
 * file exists but cannot be read (the reason on warn). Call once. */
int assets_load(const char *dir, FILE *warn);
/* Whether hls.min.js was loaded. */
bool assets_have_hlsjs(void);
/* A short hex digest of what was loaded, for "?v=" on the assets' URLs
 * (they are served immutable; a new install is a new URL). */
const char *assets_version(void);
/* Answers r when its normalised path is below GH_ASSETS_PREFIX (the file,
 * 304 on a matching If-None-Match, or 404) and returns true; false for any
 * other path. */
bool assets_serve(struct request *r);
/* Frees what assets_load read. */
void assets_free(void);

#endif
