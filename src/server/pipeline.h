/* The authentication/authorization pipeline of a content request
 * (pipeline.c): the authentication front, the authorization round, then
 * the content phase. */
#ifndef GUISE_SERVER_PIPELINE_H
#define GUISE_SERVER_PIPELINE_H

struct request;
struct conn;

/* Runs the request from routing on (phase LC_ROUTED, called by the handler
 * on the connection's thread); when it returns the request is either
 * answered (lc_ready) or waiting for a completion that will drive it. */
void pipeline_start(struct request *r);
void pipeline_request_cleanup(struct request *r);
/* Drops a connection's context and identity (reload, close). */
void conn_reset(struct conn *c);

#endif
