/* Ends answers whose file shrank while it was being sent.
 *
 * A file-backed answer promises Content-Length bytes. When the file is
 * truncated under it, libmicrohttpd 0.9.75's sendfile path gets 0 bytes at
 * the new end, takes the socket for "not write-ready" and waits for an
 * EPOLLOUT edge that never comes on a socket that stays writable: the
 * connection would hang until idle-timeout. The answer can no longer be
 * completed, so the honest end is to close the connection (the client sees
 * a short body). A watcher thread checks, every interval, the size of every
 * file being streamed (through a duplicate of its descriptor) and shuts down
 * the connection of each one that shrank below the end it promised; a
 * warning event says which file and client.
 *
 * Fields used in struct conn (request.h): stream_fd, stream_end,
 * stream_what, all under srv->conns_lock. */
#ifndef GUISE_SERVER_SHRINK_WATCH_H
#define GUISE_SERVER_SHRINK_WATCH_H

#include <stdint.h>

struct server;
struct conn;
struct shrink_watch;

/* Starts the watcher thread; NULL when it cannot (then answers are not
 * watched, and idle-timeout still ends a stalled one). */
struct shrink_watch *shrink_watch_start(struct server *srv, unsigned interval_ms);
void shrink_watch_stop(struct shrink_watch *w);

/* The connection's thread: the answer being queued streams the file open as
 * fd (duplicated here; the caller keeps its own) up to byte offset end;
 * what names it in the event (for example "/point/path"). */
void shrink_watch_conn_stream(struct server *srv, struct conn *c, int fd, uint64_t end,
                              const char *what);
/* The answer on c ended (or c closes): stop watching it. */
void shrink_watch_conn_done(struct server *srv, struct conn *c);

#endif
