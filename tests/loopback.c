/*
 * loopback.c: TCP connections on 127.0.0.1 for the tests (see loopback.h).
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "loopback.h"
#include "suites.h"

void
loopback_pair(int *near, int *far)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct timeval tv = { 10, 0 };
	int ls, fl;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(ls, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(ls, 1), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sin, &len), 0);
	*near = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(*near, 0);
	/* Blocking connect: on loopback it completes at once. */
	ck_assert_int_eq(connect(*near, (struct sockaddr *)&sin, len), 0);
	*far = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(*far, 0);
	close(ls);
	fl = fcntl(*near, F_GETFL);
	ck_assert_int_ne(fl, -1);
	ck_assert_int_eq(fcntl(*near, F_SETFL, fl | O_NONBLOCK), 0);
	ck_assert_int_eq(setsockopt(*far, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	ck_assert_int_eq(setsockopt(*far, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)), 0);
}

bool
loopback_closed(int fd, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char b;
	ssize_t n;
	int r;

	do {
		r = poll(&pfd, 1, ms);
	} while (r == -1 && errno == EINTR);
	if (r != 1)
		return false;
	n = recv(fd, &b, 1, MSG_DONTWAIT);
	return n == 0 || (n == -1 && errno == ECONNRESET);
}

bool
loopback_joined(int a, int b)
{
	struct sockaddr_in sa, pb;
	socklen_t la = sizeof(sa), lb = sizeof(pb);

	if (getsockname(a, (struct sockaddr *)&sa, &la) == -1 ||
	    getpeername(b, (struct sockaddr *)&pb, &lb) == -1)
		return false;
	return la == lb && sa.sin_port == pb.sin_port &&
	    sa.sin_addr.s_addr == pb.sin_addr.s_addr;
}
