/*
 * serve.h: serving one client connection, request after request: the
 * table of contents of ferry's request path.
 *
 * Path: the worker step and everything after it: read head, parse, refuse
 * (403 for an unlisted client, 508 for a loop), forward (plain HTTP) or
 * tunnel (CONNECT), log one line per request, then park or close.
 */
#ifndef FERRY_SERVE_H
#define FERRY_SERVE_H

/*
 * The pool's handler: serve the connection of job, a struct admit_job
 * (admit.h), while the client keeps it, then close it or park it; either
 * way the socket is no longer the job's, and the job's config reference
 * is released before this returns. The socket must be non-blocking: every
 * wait is a poll() with a timeout. Runs on a worker thread.
 */
void serve_job(void *job);

#endif
