/* The authentication/authorization pipeline (pipeline.c). */
#ifndef GUISE_SERVER_PIPELINE_H
#define GUISE_SERVER_PIPELINE_H

struct request;
struct conn;

/* Runs the request from routing on; when it returns the request is either
 * finished (step ST_DONE, not suspended) or suspended and will be resumed. */
void pipeline_start(struct request *r);
void pipeline_request_cleanup(struct request *r);
/* Drops a connection's context and identity (reload, close). */
void conn_reset(struct conn *c);

#endif
