/*
 * check_conn.c: a client connection's state and shared services (conn.c).
 *
 * Each case sets a conn up on one end of a real loopback connection, as a
 * worker does with an admitted job, and reads what ferry sent at the other
 * end. The point of struct exchange is that nothing of one request can
 * reach the next: conn_new_exchange() must clear every byte of it at once
 * while leaving the connection's buffers and sockets alone.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "loopback.h"
#include "suites.h"

/* A config with what conn.c reads, the rest zero. */
static const struct ferry_config *
config(void)
{
	static struct ferry_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_header_bytes = 4096;
	cfg.max_headers = 16;
	cfg.idle_timeout = 2;
	cfg.io_timeout = 3;
	return &cfg;
}

/* conn_init() c on a fresh connection; *far is the client's end. */
static void
open_conn(struct conn *c, int *far)
{
	struct admit_job job;
	int near;

	loopback_pair(&near, far);
	memset(&job, 0, sizeof(job));
	job.fd = near;
	job.allowed = true;
	job.cfg = config();
	job.peer.ss_family = AF_INET;
	ck_assert_int_eq(conn_init(c, &job), 0);
	ck_assert_int_eq(c->client_fd, near);
	ck_assert_int_eq(c->upstream_fd, -1);
	ck_assert_str_eq(c->client_ip, "0.0.0.0");
}

/* Read what the client end got, up to cap - 1 bytes, NUL-terminated. */
static size_t
client_got(int far, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap && (n = recv(far, buf + len, cap - 1 - len,
	    0)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

/* Every byte of the exchange is cleared, the connection's are kept. */
START_TEST(test_new_exchange_clears_all)
{
	struct exchange zero;
	struct conn c;
	int far;

	open_conn(&c, &far);
	memcpy(c.req_buf, "GET http://a/ HTTP/1.1\r\n", 24);
	c.req_len = 24;
	c.carry_len = 0;
	/* Dirty every byte, as a request that went wrong everywhere. */
	memset(&c.x, 0xa5, sizeof(c.x));
	conn_new_exchange(&c);
	memset(&zero, 0, sizeof(zero));
	zero.start_ms = c.x.start_ms;
	zero.start_time = c.x.start_time;
	ck_assert(memcmp(&zero, &c.x, sizeof(zero)) == 0);
	ck_assert_uint_gt(c.x.start_ms, 0);
	ck_assert_int_gt(c.x.start_time, 0);
	/* The next request's bytes, the socket and the peer stay. */
	ck_assert_uint_eq(c.req_len, 24);
	ck_assert(memcmp(c.req_buf, "GET http://a/", 13) == 0);
	ck_assert_int_ge(c.client_fd, 0);
	ck_assert(c.allowed);
	conn_finish(&c);
	ck_assert(loopback_closed(far, 1000));
	close(far);
}
END_TEST

/* One error page, for the first status only; the connection then ends. */
START_TEST(test_fail_answers_once)
{
	char got[4096];
	struct conn c;
	int far;

	open_conn(&c, &far);
	snprintf(c.x.why, sizeof(c.x.why), "test cause");
	conn_fail(&c, 502, "The origin server sent a malformed response.");
	conn_fail(&c, 504, "The origin server did not answer in time.");
	ck_assert_int_eq(c.x.status, 502);
	ck_assert(c.x.head_sent);
	ck_assert(!c.x.keep);
	ck_assert(c.x.linger);
	ck_assert_uint_gt(c.x.bytes_out, 0);
	conn_finish(&c);
	ck_assert_uint_eq(client_got(far, got, sizeof(got)), c.x.bytes_out);
	ck_assert(strncmp(got, "HTTP/1.1 502 Bad Gateway\r\n", 26) == 0);
	ck_assert_ptr_null(strstr(got, "504"));
	/* The log's cause never reaches the client. */
	ck_assert_ptr_null(strstr(got, "test cause"));
	close(far);
}
END_TEST

/* A failed send is counted nowhere and leaves its errno in c->x.err. */
START_TEST(test_send_saves_errno)
{
	struct conn c;
	int far;

	signal(SIGPIPE, SIG_IGN);
	open_conn(&c, &far);
	close(far);
	/*
	 * The first send may still be taken by the kernel; the peer's reset
	 * then fails a later one. Bounded: 2 s at most.
	 */
	while (conn_send_client(&c, "x", 1) == 0) {
		ck_assert_uint_lt(c.x.bytes_out, 2000);
		usleep(1000);
	}
	ck_assert(c.x.err == EPIPE || c.x.err == ECONNRESET);
	conn_finish(&c);
}
END_TEST

/* After the head went out, a failure can only end the connection. */
START_TEST(test_head_sent_then_fail_only_logs)
{
	char got[256];
	struct conn c;
	int far;

	open_conn(&c, &far);
	ck_assert_int_eq(conn_send_client(&c, "HTTP/1.1 200 OK\r\n", 17), 0);
	c.x.head_sent = true;
	c.x.status = 200;
	c.x.keep = true;
	conn_fail(&c, 502, "The origin server sent a malformed response.");
	/* Too late for a page: the status stays, the connection ends. */
	ck_assert_int_eq(c.x.status, 200);
	ck_assert(!c.x.keep);
	ck_assert_uint_eq(c.x.bytes_out, 17);
	conn_finish(&c);
	ck_assert_uint_eq(client_got(far, got, sizeof(got)), 17);
	close(far);
}
END_TEST

Suite *
conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_new_exchange_clears_all);
	tcase_add_test(tc, test_fail_answers_once);
	tcase_add_test(tc, test_send_saves_errno);
	tcase_add_test(tc, test_head_sent_then_fail_only_logs);
	suite_add_tcase(s, tc);
	return s;
}
