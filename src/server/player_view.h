/* Views of one media file: "?view=player" (an HTML player page,
 * http/player.h) and "?view=m3u" (an M3U of the file, for VLC/mpv). They are
 * served by the content phase after the file was opened as the viewer's
 * identity, exactly where the file itself would be: a viewer who may not
 * open the file is refused the view the same way (serve.c). */
#ifndef GUISE_SERVER_PLAYER_VIEW_H
#define GUISE_SERVER_PLAYER_VIEW_H

#include <stdbool.h>

struct request;

/* Answers r when it asks for a view of the regular file it opened, and
 * returns true (400 for an unknown view); false: no view asked, serve the
 * file. */
bool serve_file_view(struct request *r);

#endif
