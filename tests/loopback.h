/*
 * loopback.h: real TCP connections on 127.0.0.1 for the suites that move
 * bytes (relay, reuse). Ports are the kernel's choice, never fixed.
 */
#ifndef FERRY_TEST_LOOPBACK_H
#define FERRY_TEST_LOOPBACK_H

#include <stdbool.h>

/*
 * Make one connection. *near is the connecting end, non-blocking like the
 * sockets ferry holds; *far is the accepted end, blocking but with 10 s
 * send and receive timeouts, so that a test (or its thread) that goes
 * wrong fails instead of hanging. Both are the caller's to close. Fails
 * the test if the kernel refuses.
 */
void loopback_pair(int *near, int *far);

/*
 * Whether the other end of fd has closed: EOF or a reset arrives within
 * ms. False if it stays open (or, which no test expects, sends bytes).
 */
bool loopback_closed(int fd, int ms);

/* Whether a and b are the two ends of one connection. */
bool loopback_joined(int a, int b);

#endif
