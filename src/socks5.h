/*
 * socks5.h: the client side of SOCKS5 (RFC 1928) with username/password
 * authentication (RFC 1929), for a SOCKS5 proxy used as ferry's parent.
 *
 * Path: connect, for a request routed to a SOCKS5 parent (hop.c): after
 * ferry has connected to the parent, before the first byte of the
 * request or tunnel goes to it.
 *
 * Two layers. The builders and parsers are pure and allocation-free: the
 * caller owns every buffer, nothing is read beyond the length given, and
 * a parser gives the same verdict however its input is split (a prefix
 * gives SOCKS5_PARTIAL or already the final verdict). socks5_handshake()
 * is the one function that does I/O: the whole exchange on a connected
 * socket within one deadline, through io.h. Any thread, each on its own
 * socket.
 */
#ifndef FERRY_SOCKS5_H
#define FERRY_SOCKS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest user name, password and host name: one length byte each. */
#define SOCKS5_FIELD_MAX	255

/* Longest messages ferry builds or reads, for the callers' buffers. */
#define SOCKS5_GREETING_MAX	3			/* VER NMETHODS M */
#define SOCKS5_AUTH_MAX		(3 + 2 * SOCKS5_FIELD_MAX)	/* RFC 1929 */
#define SOCKS5_CONNECT_MAX	(7 + SOCKS5_FIELD_MAX)	/* RFC 1928 §4 */
#define SOCKS5_REPLY_MAX	(7 + SOCKS5_FIELD_MAX)	/* RFC 1928 §6 */

/* Authentication methods (RFC 1928 §3). */
#define SOCKS5_METHOD_NONE	0x00
#define SOCKS5_METHOD_USERPASS	0x02
#define SOCKS5_METHOD_REFUSED	0xff	/* "no acceptable methods" */

/*
 * Credentials for the parent (RFC 1929). user[0..user_len) and
 * pass[0..pass_len) are raw bytes, not NUL-terminated, 1..255 bytes each
 * (the builder refuses anything else). The struct owns its bytes; whoever
 * fills it should explicit_bzero() it when done, as it holds a password.
 */
struct socks5_auth {
	char	user[SOCKS5_FIELD_MAX];
	size_t	user_len;
	char	pass[SOCKS5_FIELD_MAX];
	size_t	pass_len;
};

/* A parser's verdict. */
enum socks5_result {
	SOCKS5_PARTIAL,		/* well formed so far, more bytes needed */
	SOCKS5_DONE,		/* complete and well formed */
	SOCKS5_DENIED,		/* well formed, and the server says no */
	SOCKS5_BAD		/* not what RFC 1928/1929 allow */
};

/* What socks5_handshake() came to. */
enum socks5_status {
	SOCKS5_HS_OK,		/* the parent is connected to the destination */
	SOCKS5_HS_INVALID,	/* host, port or credentials cannot be sent */
	SOCKS5_HS_SILENT,	/* no greeting or login reply by the deadline */
	SOCKS5_HS_TIMEOUT,	/* no CONNECT reply by the deadline */
	SOCKS5_HS_PROTOCOL,	/* malformed reply, or closed/reset early */
	SOCKS5_HS_AUTH,		/* no method we offered, or creds refused */
	SOCKS5_HS_REFUSED	/* the CONNECT reply's REP was not 0 */
};

/*
 * Write the greeting (RFC 1928 §3) to out[0..cap): VER 5 and a single
 * method, USERPASS if with_auth, else NONE. Never both: a parent must not
 * be able to skip the authentication ferry was told to use. Returns the
 * length (3), or 0 if cap is too small.
 */
size_t socks5_build_greeting(bool with_auth, uint8_t *out, size_t cap);

/*
 * Read the method-selection reply b[0..len), exactly 2 bytes: VER 5 and
 * METHOD. with_auth says what the greeting offered. Reads at most 2
 * bytes; anything after them is not the reply's. Returns SOCKS5_PARTIAL
 * (fewer than 2 bytes), SOCKS5_BAD (VER not 5), SOCKS5_DENIED (0xFF, or a
 * method that was not offered) or SOCKS5_DONE; *method is set to METHOD
 * once it is there (DONE and DENIED).
 */
enum socks5_result socks5_parse_method(const uint8_t *b, size_t len,
    bool with_auth, uint8_t *method);

/*
 * Write the username/password request (RFC 1929 §2) to out[0..cap):
 * VER 1, ULEN, UNAME, PLEN, PASSWD. Returns its length, or 0 if user or
 * password is empty or longer than 255 bytes, or cap is too small. out
 * then holds the password: the caller wipes it (explicit_bzero).
 */
size_t socks5_build_auth(const struct socks5_auth *auth, uint8_t *out,
    size_t cap);

/*
 * Read the username/password reply b[0..len), exactly 2 bytes: VER 1 and
 * STATUS. Reads at most 2 bytes. Returns SOCKS5_PARTIAL, SOCKS5_BAD (VER
 * not 1), SOCKS5_DENIED (STATUS not 0: the credentials were refused) or
 * SOCKS5_DONE. *status is set once it is there.
 */
enum socks5_result socks5_parse_auth(const uint8_t *b, size_t len,
    uint8_t *status);

/*
 * Write the CONNECT request (RFC 1928 §4) for host[0..host_len) (borrowed,
 * need not be NUL-terminated) and port to out[0..cap). An IPv4 dotted
 * quad or IPv6 text (without brackets) goes as ATYP 1 or 4, anything else
 * as a domain name, ATYP 3, for the parent to resolve. Returns the
 * length, or 0 if host is empty, longer than 255 bytes or holds a byte
 * that cannot be in a host name (a control byte, space, DEL, '[' or
 * ']'), if port is 0, or if cap is too small.
 */
size_t socks5_build_connect(const char *host, size_t host_len, uint16_t port,
    uint8_t *out, size_t cap);

/*
 * Read the CONNECT reply (RFC 1928 §6) b[0..len) as far as it goes:
 * VER 5, REP, RSV 0, ATYP (1, 3 or 4), BND.ADDR (4 bytes, a length byte
 * of 1..255 and the name, or 16 bytes), BND.PORT. *need is the reply's
 * total length as far as known: 5 until ATYP and the next byte are in,
 * then exact (10 for IPv4, 22 for IPv6, 7 + length for a name). Returns
 * SOCKS5_PARTIAL (len < *need), SOCKS5_BAD (VER, RSV, ATYP or a zero name
 * length) or SOCKS5_DONE with *rep the REP code (0 is success; the
 * caller decides) and *need the exact length; bytes after it are not the
 * reply's. Never reads past b[len - 1] nor past the reply.
 */
enum socks5_result socks5_parse_reply(const uint8_t *b, size_t len,
    size_t *need, uint8_t *rep);

/* RFC 1928 §6's text for a REP code ("succeeded", "connection refused",
 * ..., "unassigned"); a static string. */
const char *socks5_rep_text(unsigned rep);

/*
 * The whole handshake on fd, a connected (non-blocking) socket to the
 * parent: greeting, authentication if auth is not NULL, then CONNECT to
 * host[0..host_len):port (see socks5_build_connect()), all within
 * timeout_ms in all. Reads exactly the parent's replies and not a byte
 * more: what follows the CONNECT reply is the destination's and stays in
 * the socket. The authentication request is wiped once sent.
 *
 * Returns SOCKS5_HS_OK, or another status with why[0..whylen) saying in
 * plain words what happened, for the log (why may be NULL if whylen is
 * 0; the text is cut to fit); *rep (may be NULL) is set to the REP code
 * for SOCKS5_HS_REFUSED. fd is the caller's, open or not afterwards:
 * on anything but OK the caller closes it. Blocks the calling thread at
 * most timeout_ms (plus scheduling).
 */
enum socks5_status socks5_handshake(int fd, const struct socks5_auth *auth,
    const char *host, size_t host_len, uint16_t port, int timeout_ms,
    int *rep, char *why, size_t whylen);

#endif
