/*
 * http_route - the request path from evhttp to a handler: the route table
 * (method, path, {id} segment), the OCI signature check (401
 * NotAuthenticated), the per-client request rate (429 TooManyRequests with
 * retry-after), then the operation's handler.
 */
#ifndef HTTP_ROUTE_H
#define HTTP_ROUTE_H

struct evhttp_request;

/* http_route_request - the evhttp generic callback; ARG is the struct httpd */
void http_route_request(struct evhttp_request *req, void *arg);

#endif
