/*
 * check_socks5.c: the SOCKS5 client handshake (socks5.c). Tables for each
 * builder and parser, hostile replies first-class; every reply is parsed
 * from an exact-size heap copy (a read past its end shows under ASan), at
 * every truncation, and with bytes after it. Then the driver against a
 * scripted parent on a loopback connection: each script reads exactly
 * what ferry must send and writes what a parent would answer, and the
 * bytes after the CONNECT reply must still be in the socket afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "loopback.h"
#include "socks5.h"
#include "suites.h"

/* A byte-string literal and its length, NULs included. */
#define S(lit)	(lit), sizeof(lit) - 1

/* Heap copy of b[0..len) of exactly len bytes; the caller frees it. */
static uint8_t *
dup_exact(const void *b, size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(p);
	if (len > 0)
		memcpy(p, b, len);
	return p;
}

START_TEST(test_greeting)
{
	uint8_t out[SOCKS5_GREETING_MAX];

	ck_assert_uint_eq(socks5_build_greeting(false, out, sizeof(out)), 3);
	ck_assert(memcmp(out, "\x05\x01\x00", 3) == 0);
	ck_assert_uint_eq(socks5_build_greeting(true, out, sizeof(out)), 3);
	ck_assert(memcmp(out, "\x05\x01\x02", 3) == 0);
	ck_assert_uint_eq(socks5_build_greeting(true, out, 2), 0);
}
END_TEST

/* The method reply and the RFC 1929 reply: both two bytes. */
static const struct {
	const char		*in;
	size_t			 len;
	bool			 auth;	/* method: what was offered */
	enum socks5_result	 want;
	uint8_t			 code;	/* method or status, unless PARTIAL/BAD */
} method_cases[] = {
	{ S("\x05\x00"), false, SOCKS5_DONE, 0x00 },
	{ S("\x05\x02"), true, SOCKS5_DONE, 0x02 },
	{ S("\x05\xff"), false, SOCKS5_DENIED, 0xff },
	{ S("\x05\xff"), true, SOCKS5_DENIED, 0xff },
	/* A method we did not offer: never skip the auth we were told to use. */
	{ S("\x05\x00"), true, SOCKS5_DENIED, 0x00 },
	{ S("\x05\x02"), false, SOCKS5_DENIED, 0x02 },
	{ S("\x05\x01"), true, SOCKS5_DENIED, 0x01 },
	{ S("\x05\x00\x99"), false, SOCKS5_DONE, 0x00 },
	{ S("\x05"), false, SOCKS5_PARTIAL, 0 },
	{ S(""), false, SOCKS5_PARTIAL, 0 },
	{ S("\x04\x00"), false, SOCKS5_BAD, 0 },
	{ S("\x04"), false, SOCKS5_BAD, 0 },
	{ S("\x00\x00"), false, SOCKS5_BAD, 0 },
	{ S("\x01\x00"), true, SOCKS5_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\n"), false, SOCKS5_BAD, 0 },
};

START_TEST(test_parse_method)
{
	uint8_t *b = dup_exact(method_cases[_i].in, method_cases[_i].len);
	uint8_t m = 0x77;
	enum socks5_result r = socks5_parse_method(b, method_cases[_i].len,
	    method_cases[_i].auth, &m);

	ck_assert_msg(r == method_cases[_i].want, "case %d: got %d, want %d",
	    _i, (int)r, (int)method_cases[_i].want);
	if (r == SOCKS5_DONE || r == SOCKS5_DENIED)
		ck_assert_uint_eq(m, method_cases[_i].code);
	free(b);
}
END_TEST

static const struct {
	const char		*in;
	size_t			 len;
	enum socks5_result	 want;
	uint8_t			 status;
} auth_reply_cases[] = {
	{ S("\x01\x00"), SOCKS5_DONE, 0 },
	{ S("\x01\x01"), SOCKS5_DENIED, 1 },
	{ S("\x01\xff"), SOCKS5_DENIED, 0xff },
	{ S("\x01\x00\x05"), SOCKS5_DONE, 0 },
	{ S("\x01"), SOCKS5_PARTIAL, 0 },
	{ S(""), SOCKS5_PARTIAL, 0 },
	/* RFC 1929 §2: VER is 1, not SOCKS's 5. */
	{ S("\x05\x00"), SOCKS5_BAD, 0 },
	{ S("\x00\x00"), SOCKS5_BAD, 0 },
	{ S("\x02"), SOCKS5_BAD, 0 },
};

START_TEST(test_parse_auth)
{
	uint8_t *b = dup_exact(auth_reply_cases[_i].in,
	    auth_reply_cases[_i].len);
	uint8_t st = 0x77;
	enum socks5_result r = socks5_parse_auth(b, auth_reply_cases[_i].len,
	    &st);

	ck_assert_msg(r == auth_reply_cases[_i].want, "case %d: got %d", _i,
	    (int)r);
	if (r == SOCKS5_DONE || r == SOCKS5_DENIED)
		ck_assert_uint_eq(st, auth_reply_cases[_i].status);
	free(b);
}
END_TEST

START_TEST(test_build_auth)
{
	static const size_t lens[] = { 0, 1, 2, 254, 255, 256, 1000 };
	struct socks5_auth a;
	uint8_t out[SOCKS5_AUTH_MAX];
	size_t i, j, n;

	memset(&a, 0, sizeof(a));
	memset(a.user, 'u', sizeof(a.user));
	memset(a.pass, 'p', sizeof(a.pass));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			bool ok = lens[i] >= 1 && lens[i] <= 255 &&
			    lens[j] >= 1 && lens[j] <= 255;

			a.user_len = lens[i];
			a.pass_len = lens[j];
			n = socks5_build_auth(&a, out, sizeof(out));
			ck_assert_uint_eq(n, ok ? 3 + lens[i] + lens[j] : 0);
			if (!ok)
				continue;
			ck_assert_uint_eq(out[0], 1);
			ck_assert_uint_eq(out[1], lens[i]);
			ck_assert_uint_eq(out[2 + lens[i]], lens[j]);
			ck_assert_uint_eq(out[1 + lens[i]], 'u');
			ck_assert_uint_eq(out[n - 1], 'p');
			/* One byte short of room: refused, not cut. */
			ck_assert_uint_eq(socks5_build_auth(&a, out, n - 1), 0);
		}
	}
	memcpy(a.user, "alice", 5);
	a.user_len = 5;
	memcpy(a.pass, "s3:cr\0t", 7);
	a.pass_len = 7;
	n = socks5_build_auth(&a, out, sizeof(out));
	ck_assert_uint_eq(n, 15);
	ck_assert(memcmp(out, "\x01\x05" "alice" "\x07" "s3:cr\0t", 15) == 0);
}
END_TEST

static const struct {
	const char	*host;
	size_t		 host_len;	/* 0: strlen(host) */
	uint16_t	 port;
	const char	*want;		/* NULL: refused */
	size_t		 want_len;
} connect_cases[] = {
	{ "example.com", 0, 443,
	    S("\x05\x01\x00\x03\x0b" "example.com" "\x01\xbb") },
	{ "a", 0, 1, S("\x05\x01\x00\x03\x01" "a" "\x00\x01") },
	{ "10.1.2.3", 0, 80, S("\x05\x01\x00\x01\x0a\x01\x02\x03\x00\x50") },
	{ "255.255.255.255", 0, 65535,
	    S("\x05\x01\x00\x01\xff\xff\xff\xff\xff\xff") },
	{ "::1", 0, 8080, S("\x05\x01\x00\x04" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	    "\x01" "\x1f\x90") },
	{ "2001:db8::ff00:42:8329", 0, 443,
	    S("\x05\x01\x00\x04" "\x20\x01\x0d\xb8\0\0\0\0\0\0\xff\x00\x00\x42"
	    "\x83\x29" "\x01\xbb") },
	{ "::ffff:10.0.0.1", 0, 443,
	    S("\x05\x01\x00\x04" "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\0\0\x01"
	    "\x01\xbb") },
	/* Not quite an address: a name, for the parent to resolve. */
	{ "10.1.2", 0, 80, S("\x05\x01\x00\x03\x06" "10.1.2" "\x00\x50") },
	{ "010.1.2.3", 0, 80,
	    S("\x05\x01\x00\x03\x09" "010.1.2.3" "\x00\x50") },
	{ "fe80::1%eth0", 0, 80,
	    S("\x05\x01\x00\x03\x0c" "fe80::1%eth0" "\x00\x50") },
	/* Only host_len bytes count, whatever follows. */
	{ "10.1.2.3x", 8, 80, S("\x05\x01\x00\x01\x0a\x01\x02\x03\x00\x50") },
	/* Refused: empty, port 0, bytes no host name holds, brackets. */
	{ "", 0, 80, NULL, 0 },
	{ "example.com", 0, 0, NULL, 0 },
	{ "exa mple.com", 0, 80, NULL, 0 },
	{ "example.com\r\n", 0, 80, NULL, 0 },
	{ "exa\0mple", 8, 80, NULL, 0 },
	{ "exa\x7fmple", 0, 80, NULL, 0 },
	{ "[::1]", 0, 80, NULL, 0 },
};

START_TEST(test_build_connect)
{
	uint8_t out[SOCKS5_CONNECT_MAX];
	const char *h = connect_cases[_i].host;
	size_t hl = connect_cases[_i].host_len != 0 ?
	    connect_cases[_i].host_len : strlen(h);
	char *copy = (char *)dup_exact(h, hl);
	size_t n = socks5_build_connect(copy, hl, connect_cases[_i].port, out,
	    sizeof(out));

	ck_assert_uint_eq(n, connect_cases[_i].want_len);
	if (connect_cases[_i].want != NULL)
		ck_assert_msg(memcmp(out, connect_cases[_i].want, n) == 0,
		    "case %d (%s): wrong bytes", _i, h);
	free(copy);
}
END_TEST

/* Host names at the length limit, and a buffer too small. */
START_TEST(test_build_connect_limits)
{
	char host[300];
	uint8_t out[SOCKS5_CONNECT_MAX];

	memset(host, 'h', sizeof(host));
	ck_assert_uint_eq(socks5_build_connect(host, 255, 443, out,
	    sizeof(out)), 262);
	ck_assert_uint_eq(out[4], 255);
	ck_assert_uint_eq(out[260], 0x01);
	ck_assert_uint_eq(out[261], 0xbb);
	ck_assert_uint_eq(socks5_build_connect(host, 256, 443, out,
	    sizeof(out)), 0);
	ck_assert_uint_eq(socks5_build_connect(host, 3, 443, out,
	    sizeof(out) - 1), 0);
}
END_TEST

static const struct {
	const char		*in;
	size_t			 len;
	enum socks5_result	 want;
	size_t			 need;	/* DONE: the reply's length */
	uint8_t			 rep;
} reply_cases[] = {
	{ S("\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"), SOCKS5_DONE, 10, 0 },
	{ S("\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"), SOCKS5_DONE, 10, 5 },
	{ S("\x05\x00\x00\x04" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01" "\x04\x38"),
	    SOCKS5_DONE, 22, 0 },
	{ S("\x05\x00\x00\x03\x01" "x" "\x00\x50"), SOCKS5_DONE, 8, 0 },
	{ S("\x05\x01\x00\x03\x0b" "example.com" "\x01\xbb"), SOCKS5_DONE, 18,
	    1 },
	{ S("\x05\x09\x00\x01\x01\x02\x03\x04\x00\x00"), SOCKS5_DONE, 10, 9 },
	{ S("\x05\xff\x00\x01\x01\x02\x03\x04\x00\x00"), SOCKS5_DONE, 10,
	    0xff },
	/* Bytes after the reply are the destination's. */
	{ S("\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38" "HTTP/1.1 200"),
	    SOCKS5_DONE, 10, 0 },
	/* Hostile: VER, RSV, ATYP, a zero name length. */
	{ S("\x04\x00\x00\x01\x7f\x00\x00\x01\x04\x38"), SOCKS5_BAD, 0, 0 },
	{ S("\x00"), SOCKS5_BAD, 0, 0 },
	{ S("\x05\x00\x01\x01\x7f\x00\x00\x01\x04\x38"), SOCKS5_BAD, 0, 0 },
	{ S("\x05\x00\xff"), SOCKS5_BAD, 0, 0 },
	{ S("\x05\x00\x00\x02\x7f\x00\x00\x01\x04\x38"), SOCKS5_BAD, 0, 0 },
	{ S("\x05\x00\x00\x00\x7f\x00\x00\x01\x04\x38"), SOCKS5_BAD, 0, 0 },
	{ S("\x05\x00\x00\x05"), SOCKS5_BAD, 0, 0 },
	{ S("\x05\x00\x00\x03\x00\x00\x50"), SOCKS5_BAD, 0, 0 },
	{ S("HTTP/1.1 407 Proxy Authentication Required\r\n"), SOCKS5_BAD, 0,
	    0 },
	/* A name of 255 bytes: the longest reply. */
	{ S("\x05\x00\x00\x03\xff"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\x01\xbb"), SOCKS5_DONE, 262, 0 },
};

/*
 * Parse in[0..len) from an exact-size copy; the verdict must not depend
 * on how the bytes arrived, so every prefix is parsed too: each is
 * PARTIAL with a need past it (and never past the reply) or already the
 * final verdict.
 */
START_TEST(test_parse_reply)
{
	size_t len = reply_cases[_i].len, cut, need = 0, pneed;
	uint8_t rep = 0x77, prep;
	uint8_t *b = dup_exact(reply_cases[_i].in, len);
	enum socks5_result r = socks5_parse_reply(b, len, &need, &rep), pr;

	ck_assert_msg(r == reply_cases[_i].want, "case %d: got %d", _i,
	    (int)r);
	if (r == SOCKS5_DONE) {
		ck_assert_uint_eq(need, reply_cases[_i].need);
		ck_assert_uint_eq(rep, reply_cases[_i].rep);
	}
	free(b);
	for (cut = 0; cut < len; cut++) {
		b = dup_exact(reply_cases[_i].in, cut);
		pneed = 0;
		pr = socks5_parse_reply(b, cut, &pneed, &prep);
		free(b);
		if (pr == SOCKS5_PARTIAL) {
			ck_assert_uint_gt(pneed, cut);
			if (r == SOCKS5_DONE)
				ck_assert_uint_le(pneed, need);
			continue;
		}
		ck_assert_msg(pr == r, "case %d cut at %zu: got %d, want %d",
		    _i, cut, (int)pr, (int)r);
		if (r == SOCKS5_DONE)
			ck_assert(pneed == need && prep == rep);
	}
}
END_TEST

/* A reply read the way the driver reads it: exactly need bytes a time. */
START_TEST(test_parse_reply_stepwise)
{
	size_t len = reply_cases[_i].len, got = 0, need = 0;
	uint8_t rep = 0;
	enum socks5_result r;
	uint8_t *b;

	for (;;) {
		b = dup_exact(reply_cases[_i].in, got);
		r = socks5_parse_reply(b, got, &need, &rep);
		free(b);
		if (r != SOCKS5_PARTIAL)
			break;
		ck_assert_uint_gt(need, got);
		if (got == len)
			break;	/* all there is: the driver would wait */
		got = need < len ? need : len;
	}
	if (reply_cases[_i].want == SOCKS5_DONE)
		ck_assert(r == SOCKS5_DONE && got == reply_cases[_i].need &&
		    need == got);
	else
		ck_assert_int_eq(r, reply_cases[_i].want);
}
END_TEST

START_TEST(test_rep_text)
{
	ck_assert_str_eq(socks5_rep_text(0), "succeeded");
	ck_assert_str_eq(socks5_rep_text(1), "general SOCKS server failure");
	ck_assert_str_eq(socks5_rep_text(2),
	    "connection not allowed by ruleset");
	ck_assert_str_eq(socks5_rep_text(3), "network unreachable");
	ck_assert_str_eq(socks5_rep_text(4), "host unreachable");
	ck_assert_str_eq(socks5_rep_text(5), "connection refused");
	ck_assert_str_eq(socks5_rep_text(6), "TTL expired");
	ck_assert_str_eq(socks5_rep_text(7), "command not supported");
	ck_assert_str_eq(socks5_rep_text(8), "address type not supported");
	ck_assert_str_eq(socks5_rep_text(9), "unassigned");
	ck_assert_str_eq(socks5_rep_text(255), "unassigned");
	ck_assert_str_eq(socks5_rep_text(100000), "unassigned");
}
END_TEST

/*
 * The scripted parent. 'r': read exactly n bytes, which must be b[0..n);
 * 'w': write b[0..n) at once; 'W': write it a byte at a time, 2 ms apart;
 * 'c': close our sending side. After the script it counts what ferry
 * sends until it closes: that must be nothing.
 */
struct step {
	char		 op;
	const char	*b;
	size_t		 n;
};

#define GREET		S("\x05\x01\x00")
#define GREET_AUTH	S("\x05\x01\x02")
#define AUTH_REQ	S("\x01\x05" "alice" "\x06" "s3cret")
#define CONN_REQ	S("\x05\x01\x00\x03\x0b" "example.com" "\x01\xbb")
#define REPLY_OK	S("\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38" "TAIL")
#define REPLY_NAME_OK	S("\x05\x00\x00\x03\x04" "bind" "\x04\x38" "TAIL")

struct peer {
	int			 fd;
	const struct step	*steps;
	char			 err[160];
	size_t			 extra;		/* bytes after the script */
	pthread_t		 thread;
};

static void
peer_read(struct peer *p, const struct step *s)
{
	char buf[SOCKS5_AUTH_MAX];
	size_t got = 0;

	while (got < s->n) {
		ssize_t n = recv(p->fd, buf + got, s->n - got, 0);

		if (n <= 0) {
			snprintf(p->err, sizeof(p->err), "peer: short read "
			    "(%zu of %zu)", got, s->n);
			return;
		}
		got += (size_t)n;
	}
	if (memcmp(buf, s->b, s->n) != 0)
		snprintf(p->err, sizeof(p->err), "peer: unexpected bytes");
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	const struct step *s;
	char buf[512];
	size_t i;
	ssize_t n;

	for (s = p->steps; s->op != '\0' && p->err[0] == '\0'; s++) {
		switch (s->op) {
		case 'r':
			peer_read(p, s);
			break;
		case 'w':
			if (send(p->fd, s->b, s->n, MSG_NOSIGNAL) !=
			    (ssize_t)s->n)
				snprintf(p->err, sizeof(p->err), "peer: send");
			break;
		case 'W':
			for (i = 0; i < s->n; i++) {
				(void)send(p->fd, s->b + i, 1, MSG_NOSIGNAL);
				io_pause_ms(2);
			}
			break;
		case 'c':
			shutdown(p->fd, SHUT_WR);
			break;
		}
	}
	/* Until ferry's side closes (10 s receive timeout at most). */
	while ((n = recv(p->fd, buf, sizeof(buf), 0)) > 0)
		p->extra += (size_t)n;
	return NULL;
}

static const struct socks5_auth alice = {
	"alice", 5, "s3cret", 6
};

static const struct {
	const char		*name;
	bool			 auth;
	const char		*host;
	int			 timeout_ms;
	struct step		 steps[8];
	enum socks5_status	 want;
	int			 rep;
	const char		*why;	/* in the message; NULL: none */
	const char		*tail;	/* left in the socket; NULL: none */
} hs_cases[] = {
	{ "no auth", false, "example.com", 2000,
	    { { 'r', GREET }, { 'w', S("\x05\x00") }, { 'r', CONN_REQ },
	    { 'w', REPLY_OK } }, SOCKS5_HS_OK, -1, NULL, "TAIL" },
	{ "auth", true, "example.com", 2000,
	    { { 'r', GREET_AUTH }, { 'w', S("\x05\x02") }, { 'r', AUTH_REQ },
	    { 'w', S("\x01\x00") }, { 'r', CONN_REQ }, { 'w', REPLY_NAME_OK } },
	    SOCKS5_HS_OK, -1, NULL, "TAIL" },
	{ "a byte at a time", true, "example.com", 2000,
	    { { 'r', GREET_AUTH }, { 'W', S("\x05\x02") }, { 'r', AUTH_REQ },
	    { 'W', S("\x01\x00") }, { 'r', CONN_REQ }, { 'W', REPLY_NAME_OK } },
	    SOCKS5_HS_OK, -1, NULL, "TAIL" },
	{ "IPv4 literal", false, "10.1.2.3", 2000,
	    { { 'r', GREET }, { 'w', S("\x05\x00") },
	    { 'r', S("\x05\x01\x00\x01\x0a\x01\x02\x03\x01\xbb") },
	    { 'w', REPLY_OK } }, SOCKS5_HS_OK, -1, NULL, "TAIL" },
	{ "credentials refused", true, "example.com", 2000,
	    { { 'r', GREET_AUTH }, { 'w', S("\x05\x02") }, { 'r', AUTH_REQ },
	    { 'w', S("\x01\x01") } }, SOCKS5_HS_AUTH, -1,
	    "the SOCKS5 parent refused ferry's credentials (status 1)", NULL },
	{ "no acceptable method", true, "example.com", 2000,
	    { { 'r', GREET_AUTH }, { 'w', S("\x05\xff") } }, SOCKS5_HS_AUTH, -1,
	    "accepts no method ferry offered (username/password)", NULL },
	{ "method not offered", true, "example.com", 2000,
	    { { 'r', GREET_AUTH }, { 'w', S("\x05\x00") } }, SOCKS5_HS_AUTH, -1,
	    "chose method 0x00", NULL },
	{ "connection refused", false, "example.com", 2000,
	    { { 'r', GREET }, { 'w', S("\x05\x00") }, { 'r', CONN_REQ },
	    { 'w', S("\x05\x05\x00\x01\0\0\0\0\0\0") } }, SOCKS5_HS_REFUSED, 5,
	    "SOCKS5 parent: connect to example.com:443 failed: connection "
	    "refused (reply 5)", NULL },
	{ "closed mid-reply", false, "example.com", 2000,
	    { { 'r', GREET }, { 'w', S("\x05\x00") }, { 'r', CONN_REQ },
	    { 'w', S("\x05\x00\x00\x01\x7f") }, { 'c', NULL, 0 } },
	    SOCKS5_HS_PROTOCOL, -1, "closed the connection during its CONNECT "
	    "reply (5 bytes in)", NULL },
	{ "closed at once", false, "example.com", 2000,
	    { { 'r', GREET }, { 'c', NULL, 0 } }, SOCKS5_HS_PROTOCOL, -1,
	    "method reply (0 bytes in)", NULL },
	{ "not SOCKS5", false, "example.com", 2000,
	    { { 'r', GREET }, { 'w', S("\x04\x5a") } }, SOCKS5_HS_PROTOCOL, -1,
	    "malformed method reply (version 4)", NULL },
	{ "bad RSV", false, "example.com", 2000,
	    { { 'r', GREET }, { 'w', S("\x05\x00") }, { 'r', CONN_REQ },
	    { 'w', S("\x05\x00\x01\x01\0\0\0\0\0\0") } }, SOCKS5_HS_PROTOCOL,
	    -1, "malformed CONNECT reply", NULL },
	{ "silent", false, "example.com", 200,
	    { { 'r', GREET } }, SOCKS5_HS_SILENT, -1,
	    "no complete method reply within 200 ms", NULL },
	{ "silent after the login", true, "example.com", 200,
	    { { 'r', GREET_AUTH }, { 'w', S("\x05\x02") }, { 'r', AUTH_REQ } },
	    SOCKS5_HS_SILENT, -1,
	    "no complete authentication reply within 200 ms", NULL },
	{ "silent mid-reply", true, "example.com", 200,
	    { { 'r', GREET_AUTH }, { 'w', S("\x05\x02") }, { 'r', AUTH_REQ },
	    { 'w', S("\x01\x00") }, { 'r', CONN_REQ },
	    { 'w', S("\x05\x00\x00\x03\x04" "bi") } }, SOCKS5_HS_TIMEOUT, -1,
	    "no complete CONNECT reply within 200 ms", NULL },
	/* Refused before a byte goes out. */
	{ "bad host", false, "", 2000, { { '\0', NULL, 0 } },
	    SOCKS5_HS_INVALID, -1, "cannot ask for a host of 0 bytes", NULL },
};

START_TEST(test_handshake)
{
	struct peer p;
	int near = -1, far = -1, rep = -1;
	char why[256], tail[16];
	const char *host = hs_cases[_i].host;
	uint64_t start, took;
	enum socks5_status st;

	memset(&p, 0, sizeof(p));
	loopback_pair(&near, &far);
	p.fd = far;
	p.steps = hs_cases[_i].steps;
	ck_assert_int_eq(pthread_create(&p.thread, NULL, peer_main, &p), 0);
	start = io_now_ms();
	st = socks5_handshake(near, hs_cases[_i].auth ? &alice : NULL, host,
	    strlen(host), 443, hs_cases[_i].timeout_ms, &rep, why,
	    sizeof(why));
	took = io_now_ms() - start;
	ck_assert_msg(st == hs_cases[_i].want, "%s: got %d (%s)",
	    hs_cases[_i].name, (int)st, why);
	ck_assert_int_eq(rep, hs_cases[_i].rep);
	if (hs_cases[_i].why != NULL)
		ck_assert_msg(strstr(why, hs_cases[_i].why) != NULL,
		    "%s: why is \"%s\"", hs_cases[_i].name, why);
	if (st == SOCKS5_HS_TIMEOUT || st == SOCKS5_HS_SILENT)
		ck_assert_msg(took + 5 >= (uint64_t)hs_cases[_i].timeout_ms &&
		    took < (uint64_t)hs_cases[_i].timeout_ms + 500,
		    "%s: took %llu ms", hs_cases[_i].name,
		    (unsigned long long)took);
	if (hs_cases[_i].tail != NULL) {
		/* What follows the reply is the destination's, unread. */
		size_t n = strlen(hs_cases[_i].tail), got = 0;

		while (got < n) {
			ssize_t r = io_recv(near, tail + got, n - got, 2000);

			ck_assert_int_gt(r, 0);
			got += (size_t)r;
		}
		ck_assert(memcmp(tail, hs_cases[_i].tail, n) == 0);
	}
	io_close(&near);
	ck_assert_int_eq(pthread_join(p.thread, NULL), 0);
	io_close(&far);
	ck_assert_msg(p.err[0] == '\0', "%s: %s", hs_cases[_i].name, p.err);
	ck_assert_msg(p.extra == 0, "%s: ferry sent %zu bytes more",
	    hs_cases[_i].name, p.extra);
}
END_TEST

/* Over-long credentials: refused before anything is sent. */
START_TEST(test_handshake_bad_auth)
{
	struct socks5_auth a;
	int near = -1, far = -1;
	char why[128];

	memset(&a, 'x', sizeof(a));
	a.user_len = 256;
	a.pass_len = 1;
	loopback_pair(&near, &far);
	ck_assert_int_eq(socks5_handshake(near, &a, "example.com", 11, 443,
	    1000, NULL, why, sizeof(why)), SOCKS5_HS_INVALID);
	ck_assert(strstr(why, "1 to 255 bytes") != NULL);
	a.user_len = 1;
	a.pass_len = 0;
	ck_assert_int_eq(socks5_handshake(near, &a, "example.com", 11, 443,
	    1000, NULL, NULL, 0), SOCKS5_HS_INVALID);
	io_close(&near);
	ck_assert(loopback_closed(far, 1000));
	io_close(&far);
}
END_TEST

Suite *
socks5_suite(void)
{
	Suite *s = suite_create("socks5");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_greeting);
	tcase_add_loop_test(tc, test_parse_method, 0, NELEM(method_cases));
	tcase_add_loop_test(tc, test_parse_auth, 0, NELEM(auth_reply_cases));
	tcase_add_test(tc, test_build_auth);
	tcase_add_loop_test(tc, test_build_connect, 0, NELEM(connect_cases));
	tcase_add_test(tc, test_build_connect_limits);
	tcase_add_loop_test(tc, test_parse_reply, 0, NELEM(reply_cases));
	tcase_add_loop_test(tc, test_parse_reply_stepwise, 0,
	    NELEM(reply_cases));
	tcase_add_test(tc, test_rep_text);
	tcase_add_loop_test(tc, test_handshake, 0, NELEM(hs_cases));
	tcase_add_test(tc, test_handshake_bad_auth);
	suite_add_tcase(s, tc);
	return s;
}
