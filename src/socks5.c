/*
 * socks5.c: SOCKS5 client handshake with a parent proxy (see socks5.h).
 *
 * The builders write into the caller's buffer after checking every
 * length once; the parsers look only at the bytes they are given, each
 * byte as soon as it is there, so a split input can only delay the
 * verdict, never change it. socks5_handshake() strings them together
 * with io.c's bounded waits and one overall deadline. Owns nothing
 * beyond its stack; uses only io.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "socks5.h"

#define SOCKS5_VER		0x05
#define SOCKS5_AUTH_VER		0x01	/* RFC 1929 §2 */
#define SOCKS5_CMD_CONNECT	0x01
#define SOCKS5_ATYP_IPV4	0x01
#define SOCKS5_ATYP_NAME	0x03
#define SOCKS5_ATYP_IPV6	0x04

size_t
socks5_build_greeting(bool with_auth, uint8_t *out, size_t cap)
{
	if (cap < 3)
		return 0;
	out[0] = SOCKS5_VER;
	out[1] = 1;
	out[2] = with_auth ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NONE;
	return 3;
}

enum socks5_result
socks5_parse_method(const uint8_t *b, size_t len, bool with_auth,
    uint8_t *method)
{
	uint8_t offered = with_auth ? SOCKS5_METHOD_USERPASS :
	    SOCKS5_METHOD_NONE;

	if (len >= 1 && b[0] != SOCKS5_VER)
		return SOCKS5_BAD;
	if (len < 2)
		return SOCKS5_PARTIAL;
	*method = b[1];
	/* 0xFF, or a method we never offered (RFC 1928 §3). */
	return b[1] == offered ? SOCKS5_DONE : SOCKS5_DENIED;
}

size_t
socks5_build_auth(const struct socks5_auth *auth, uint8_t *out, size_t cap)
{
	size_t ulen = auth->user_len, plen = auth->pass_len;

	/* RFC 1929 §2: ULEN and PLEN are 1..255. */
	if (ulen == 0 || ulen > SOCKS5_FIELD_MAX || plen == 0 ||
	    plen > SOCKS5_FIELD_MAX || cap < 3 + ulen + plen)
		return 0;
	out[0] = SOCKS5_AUTH_VER;
	out[1] = (uint8_t)ulen;
	memcpy(out + 2, auth->user, ulen);
	out[2 + ulen] = (uint8_t)plen;
	memcpy(out + 3 + ulen, auth->pass, plen);
	return 3 + ulen + plen;
}

enum socks5_result
socks5_parse_auth(const uint8_t *b, size_t len, uint8_t *status)
{
	if (len >= 1 && b[0] != SOCKS5_AUTH_VER)
		return SOCKS5_BAD;
	if (len < 2)
		return SOCKS5_PARTIAL;
	*status = b[1];
	return b[1] == 0 ? SOCKS5_DONE : SOCKS5_DENIED;
}

/* True if host[0..len) has only bytes a host name may carry here. */
static bool
socks5_host_ok(const char *host, size_t len)
{
	size_t i;

	if (len == 0 || len > SOCKS5_FIELD_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		/* Brackets: an IPv6 literal comes without them. */
		if (c <= 0x20 || c == 0x7f || c == '[' || c == ']')
			return false;
	}
	return true;
}

size_t
socks5_build_connect(const char *host, size_t host_len, uint16_t port,
    uint8_t *out, size_t cap)
{
	char text[SOCKS5_FIELD_MAX + 1];
	uint8_t addr[16];
	size_t n;

	if (!socks5_host_ok(host, host_len) || port == 0 ||
	    cap < SOCKS5_CONNECT_MAX)
		return 0;
	out[0] = SOCKS5_VER;
	out[1] = SOCKS5_CMD_CONNECT;
	out[2] = 0;
	/* inet_pton() wants a C string; host_len <= 255 fits. */
	memcpy(text, host, host_len);
	text[host_len] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1) {
		out[3] = SOCKS5_ATYP_IPV4;
		memcpy(out + 4, addr, 4);
		n = 8;
	} else if (inet_pton(AF_INET6, text, addr) == 1) {
		out[3] = SOCKS5_ATYP_IPV6;
		memcpy(out + 4, addr, 16);
		n = 20;
	} else {
		out[3] = SOCKS5_ATYP_NAME;
		out[4] = (uint8_t)host_len;
		memcpy(out + 5, host, host_len);
		n = 5 + host_len;
	}
	out[n] = (uint8_t)(port >> 8);
	out[n + 1] = (uint8_t)(port & 0xff);
	return n + 2;
}

enum socks5_result
socks5_parse_reply(const uint8_t *b, size_t len, size_t *need, uint8_t *rep)
{
	/* VER REP RSV ATYP, and the first address byte (a name's length). */
	*need = 5;
	if (len >= 1 && b[0] != SOCKS5_VER)
		return SOCKS5_BAD;
	if (len >= 3 && b[2] != 0)
		return SOCKS5_BAD;
	if (len < 4)
		return SOCKS5_PARTIAL;
	switch (b[3]) {
	case SOCKS5_ATYP_IPV4:
		*need = 4 + 4 + 2;
		break;
	case SOCKS5_ATYP_IPV6:
		*need = 4 + 16 + 2;
		break;
	case SOCKS5_ATYP_NAME:
		if (len < 5)
			return SOCKS5_PARTIAL;
		if (b[4] == 0)
			return SOCKS5_BAD;
		*need = 5 + (size_t)b[4] + 2;
		break;
	default:
		return SOCKS5_BAD;
	}
	if (len < *need)
		return SOCKS5_PARTIAL;
	*rep = b[1];
	return SOCKS5_DONE;
}

const char *
socks5_rep_text(unsigned rep)
{
	/* RFC 1928 §6. */
	static const char *const text[] = {
		"succeeded",
		"general SOCKS server failure",
		"connection not allowed by ruleset",
		"network unreachable",
		"host unreachable",
		"connection refused",
		"TTL expired",
		"command not supported",
		"address type not supported",
	};

	return rep < sizeof(text) / sizeof(text[0]) ? text[rep] : "unassigned";
}

/*
 * Say what happened in why[0..whylen). A message cut to fit is still
 * worth logging, so truncation is accepted here (and only here).
 */
static void __attribute__((format(printf, 3, 4)))
socks5_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* The state one handshake carries between its steps. */
struct socks5_hs {
	int		 fd;
	uint64_t	 deadline;
	int		 timeout_ms;
	char		*why;
	size_t		 whylen;
};

/* Send buf[0..len) by the deadline; step names it for why. */
static enum socks5_status
socks5_send(struct socks5_hs *hs, const uint8_t *buf, size_t len,
    const char *step)
{
	int err;

	if (io_send_all(hs->fd, buf, len, io_ms_left(hs->deadline)) == 0)
		return SOCKS5_HS_OK;
	err = errno;
	if (err == ETIMEDOUT) {
		socks5_why(hs->why, hs->whylen, "SOCKS5 parent: %s not sent "
		    "within %d ms", step, hs->timeout_ms);
		return SOCKS5_HS_TIMEOUT;
	}
	socks5_why(hs->why, hs->whylen, "SOCKS5 parent: sending %s: %s", step,
	    strerror(err));
	return SOCKS5_HS_PROTOCOL;
}

/*
 * Read into buf until *got reaches want, by the deadline, never asking
 * for more than want - *got: the bytes after a reply are not ours.
 */
static enum socks5_status
socks5_read(struct socks5_hs *hs, uint8_t *buf, size_t *got, size_t want,
    const char *step)
{
	while (*got < want) {
		ssize_t n = io_recv(hs->fd, buf + *got, want - *got,
		    io_ms_left(hs->deadline));
		int err = errno;

		if (n > 0) {
			*got += (size_t)n;
			continue;
		}
		if (n < 0 && err == ETIMEDOUT) {
			socks5_why(hs->why, hs->whylen, "SOCKS5 parent: no "
			    "complete %s within %d ms", step, hs->timeout_ms);
			return SOCKS5_HS_TIMEOUT;
		}
		if (n == 0)
			socks5_why(hs->why, hs->whylen, "SOCKS5 parent closed "
			    "the connection during its %s (%zu bytes in)",
			    step, *got);
		else
			socks5_why(hs->why, hs->whylen, "SOCKS5 parent: "
			    "reading its %s: %s", step, strerror(err));
		return SOCKS5_HS_PROTOCOL;
	}
	return SOCKS5_HS_OK;
}

/* Greeting and method selection; *with_auth is what we offered. */
static enum socks5_status
socks5_step_method(struct socks5_hs *hs, bool with_auth)
{
	uint8_t buf[SOCKS5_GREETING_MAX], method = 0;
	size_t len = socks5_build_greeting(with_auth, buf, sizeof(buf));
	size_t got = 0;
	enum socks5_status st;

	if ((st = socks5_send(hs, buf, len, "greeting")) != SOCKS5_HS_OK ||
	    (st = socks5_read(hs, buf, &got, 2, "method reply")) !=
	    SOCKS5_HS_OK)
		return st;
	switch (socks5_parse_method(buf, got, with_auth, &method)) {
	case SOCKS5_DONE:
		return SOCKS5_HS_OK;
	case SOCKS5_DENIED:
		if (method == SOCKS5_METHOD_REFUSED)
			socks5_why(hs->why, hs->whylen, "SOCKS5 parent "
			    "accepts no method ferry offered (%s)", with_auth ?
			    "username/password" : "no authentication");
		else
			socks5_why(hs->why, hs->whylen, "SOCKS5 parent chose "
			    "method 0x%02x, which ferry did not offer",
			    method);
		return SOCKS5_HS_AUTH;
	default:
		socks5_why(hs->why, hs->whylen, "SOCKS5 parent: malformed "
		    "method reply (version %u)", buf[0]);
		return SOCKS5_HS_PROTOCOL;
	}
}

/* RFC 1929 username/password; the request is wiped once sent. */
static enum socks5_status
socks5_step_auth(struct socks5_hs *hs, const uint8_t *req, size_t len)
{
	uint8_t buf[2], status = 0;
	size_t got = 0;
	enum socks5_status st;

	if ((st = socks5_send(hs, req, len, "credentials")) != SOCKS5_HS_OK ||
	    (st = socks5_read(hs, buf, &got, 2, "authentication reply")) !=
	    SOCKS5_HS_OK)
		return st;
	switch (socks5_parse_auth(buf, got, &status)) {
	case SOCKS5_DONE:
		return SOCKS5_HS_OK;
	case SOCKS5_DENIED:
		socks5_why(hs->why, hs->whylen, "the SOCKS5 parent refused "
		    "ferry's credentials (status %u)", status);
		return SOCKS5_HS_AUTH;
	default:
		socks5_why(hs->why, hs->whylen, "SOCKS5 parent: malformed "
		    "authentication reply (version %u)", buf[0]);
		return SOCKS5_HS_PROTOCOL;
	}
}

/* CONNECT request and its reply, read to its exact length. */
static enum socks5_status
socks5_step_connect(struct socks5_hs *hs, const uint8_t *req, size_t len,
    const char *host, size_t host_len, uint16_t port, int *rep)
{
	uint8_t buf[SOCKS5_REPLY_MAX], code = 0;
	size_t got = 0, need = 0;
	enum socks5_result r;
	enum socks5_status st;
	/* An IPv6 literal is written [addr]:port. */
	bool v6 = memchr(host, ':', host_len) != NULL;

	if ((st = socks5_send(hs, req, len, "CONNECT request")) !=
	    SOCKS5_HS_OK)
		return st;
	while ((r = socks5_parse_reply(buf, got, &need, &code)) ==
	    SOCKS5_PARTIAL) {
		if ((st = socks5_read(hs, buf, &got, need, "CONNECT reply")) !=
		    SOCKS5_HS_OK)
			return st;
	}
	if (r == SOCKS5_BAD) {
		socks5_why(hs->why, hs->whylen, "SOCKS5 parent: malformed "
		    "CONNECT reply");
		return SOCKS5_HS_PROTOCOL;
	}
	if (code == 0)
		return SOCKS5_HS_OK;
	if (rep != NULL)
		*rep = code;
	socks5_why(hs->why, hs->whylen, "SOCKS5 parent: connect to %s%.*s%s:%u "
	    "failed: %s (reply %u)", v6 ? "[" : "", (int)host_len, host,
	    v6 ? "]" : "", (unsigned)port, socks5_rep_text(code), code);
	return SOCKS5_HS_REFUSED;
}

enum socks5_status
socks5_handshake(int fd, const struct socks5_auth *auth, const char *host,
    size_t host_len, uint16_t port, int timeout_ms, int *rep, char *why,
    size_t whylen)
{
	struct socks5_hs hs;
	uint8_t areq[SOCKS5_AUTH_MAX], creq[SOCKS5_CONNECT_MAX];
	size_t alen = 0, clen;
	enum socks5_status st;

	hs.fd = fd;
	hs.deadline = io_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	hs.timeout_ms = timeout_ms;
	hs.why = why;
	hs.whylen = whylen;
	socks5_why(why, whylen, "%s", "");
	/* Build both requests first: refuse before a byte goes out. */
	clen = socks5_build_connect(host, host_len, port, creq, sizeof(creq));
	if (clen == 0) {
		socks5_why(why, whylen, "SOCKS5 parent: cannot ask for a "
		    "host of %zu bytes, or port %u", host_len, (unsigned)port);
		return SOCKS5_HS_INVALID;
	}
	if (auth != NULL &&
	    (alen = socks5_build_auth(auth, areq, sizeof(areq))) == 0) {
		socks5_why(why, whylen, "SOCKS5 parent: user and password "
		    "must be 1 to 255 bytes each");
		return SOCKS5_HS_INVALID;
	}
	st = socks5_step_method(&hs, auth != NULL);
	if (st == SOCKS5_HS_OK && auth != NULL)
		st = socks5_step_auth(&hs, areq, alen);
	explicit_bzero(areq, sizeof(areq));
	/*
	 * Until the CONNECT request goes out no destination is involved: a
	 * parent that does not answer its greeting or login is itself hung,
	 * while a late CONNECT reply may be the destination's fault.
	 */
	if (st == SOCKS5_HS_TIMEOUT)
		st = SOCKS5_HS_SILENT;
	if (st == SOCKS5_HS_OK)
		st = socks5_step_connect(&hs, creq, clen, host, host_len, port,
		    rep);
	return st;
}
