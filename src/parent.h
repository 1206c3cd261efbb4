/*
 * parent.h: parent proxies ([parents]): the proxy URLs each one is
 * reached by, and whether each of those addresses is up.
 *
 * Path: start-up and reload read the URLs (route.c builds the table);
 * connect, for a request routed to a parent (hop.c): the first address
 * that is not down is tried, and the outcome is noted on it.
 *
 * A parent is a name and up to PARENT_ADDRS_MAX URLs, tried in order
 * (failover):
 *
 *   http://[user:password@]host:port     an HTTP proxy
 *   socks5://[user:password@]host:port   a SOCKS5 proxy (RFC 1928, 1929)
 *
 * user and password are percent-decoded (RFC 3986 §2.1), so that any
 * byte can be written, a ';' (an INI comment) as %3B. host is a name, an
 * IPv4 address or a bracketed IPv6 address; the port is required.
 *
 * Health: an address that fails down_after connects (or handshakes) in a
 * row is down for retry_after seconds; after that, the next request that
 * needs it tries it again (one request: the others still skip it while
 * it does): one success brings it up, one failure puts it down again at
 * once. The counts are atomics inside the snapshot's table,
 * shared by every worker without a lock; a reload starts them afresh.
 */
#ifndef FERRY_PARENT_H
#define FERRY_PARENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "destpat.h"

/* URLs in one parent's list. */
#define PARENT_ADDRS_MAX	8
/* A parent's name: a key of [parents]. */
#define PARENT_NAME_MAX		32
/* User and password: RFC 1929 allows 255 bytes each. */
#define PARENT_CRED_MAX		255
/* An address as logs show it: "socks5://[v6]:port", no credentials. */
#define PARENT_TEXT_MAX		(DESTPAT_NAME_MAX + 24)
/* "Basic " and the base64 of "user:password". */
#define PARENT_BASIC_MAX	(6 + ((2 * PARENT_CRED_MAX + 1 + 2) / 3) * 4 + 1)

enum parent_kind {
	PARENT_HTTP,		/* plain requests in absolute form, CONNECT */
	PARENT_SOCKS5		/* a SOCKS5 CONNECT to the destination */
};

/* One URL of a parent, and its health. */
struct parent_addr {
	enum parent_kind	 kind;
	char			 host[DESTPAT_NAME_MAX + 1]; /* no brackets */
	uint16_t		 port;
	char			 text[PARENT_TEXT_MAX];	/* for logs */
	bool			 has_cred;
	char			 user[PARENT_CRED_MAX + 1];
	size_t			 user_len;
	char			 pass[PARENT_CRED_MAX + 1];
	size_t			 pass_len;
	/* HTTP: the Proxy-Authorization value, "" without credentials. */
	char			 basic[PARENT_BASIC_MAX];

	/* Health, shared by every worker (see the top of this file). */
	atomic_uint		 fails;		/* in a row */
	atomic_uint_least64_t	 down_until;	/* io_now_ms(); 0: up */
};

struct parent {
	char			 name[PARENT_NAME_MAX + 1];
	struct parent_addr	 addr[PARENT_ADDRS_MAX];
	size_t			 naddrs;
	bool			 used;		/* some route names it */
};

/*
 * Parse one proxy URL s[0..len) into *a (health zeroed). Returns 0, or -1
 * with the reason, quoting the URL without its password, in err. Refused:
 * another scheme, no "//", a path, query or fragment, a missing or zero
 * port, a bad host, an empty user, a user with ':' (HTTP Basic), an
 * empty SOCKS5 password, a bad or control byte once decoded, more than
 * PARENT_CRED_MAX bytes. Pure: any thread.
 */
int parent_parse_url(const char *s, size_t len, struct parent_addr *a,
    char *err, size_t errlen);

/*
 * Fill *p as parent name with the URLs of list (separated by blanks), in
 * order. Returns 0, or -1 with the reason in err (a bad name or URL, no
 * URL, more than PARENT_ADDRS_MAX). Start-up and reload only.
 */
int parent_parse(struct parent *p, const char *name, const char *list,
    char *err, size_t errlen);

/* True if a is not down at time now (io_now_ms()). Any thread. */
bool parent_addr_up(const struct parent_addr *a, uint64_t now);

/*
 * Whether the caller may try a at time now: true if it is up; if it was
 * down and retry_after has passed, true for one caller only (*probe set),
 * who tries it while it stays down for the others, and whose outcome
 * (parent_addr_ok(), parent_addr_failed(), or parent_addr_release() when
 * the attempt said nothing about a) decides. Any thread: one
 * compare-and-swap.
 */
bool parent_addr_claim(struct parent_addr *a, uint64_t now,
    unsigned retry_after, bool *probe);

/*
 * The probe of a claimed by parent_addr_claim() ended without a verdict
 * on a: the next request may probe it again at once.
 */
void parent_addr_release(struct parent_addr *a);

/*
 * Note a failed connect or handshake on a, address of parent pname: the
 * down_after-th in a row (or any while it is retried after retry_after)
 * puts it down for retry_after seconds and logs a warning that says so.
 * Any thread: atomics only.
 */
void parent_addr_failed(struct parent_addr *a, const char *pname,
    unsigned down_after, unsigned retry_after);

/*
 * Note a working connection to a: its count starts again, and if it was
 * down, a line says it is up again. Any thread.
 */
void parent_addr_ok(struct parent_addr *a, const char *pname);

#endif
