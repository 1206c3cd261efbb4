/*
 * addr.h: socket addresses as bytes to compare and as text to show.
 *
 * Path: wherever an address is compared or shown: admit (the whitelist),
 * connect (the loop check, the origin's address), log and trace.
 *
 * One rule everywhere: an IPv4 client on a dual-stack socket arrives as an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d); ferry treats and shows it as
 * the IPv4 address it is, so that a whitelist entry, a log line and a loop
 * check all see the same thing. Pure: any thread.
 */
#ifndef FERRY_ADDR_H
#define FERRY_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for any address as addr_text_port() writes it, "[ip6]:port". */
#define ADDR_TEXT_MAX	(INET6_ADDRSTRLEN + 8)

/* An address with a prefix length: a network, or one host at full length. */
struct addr_net {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		bytes[16];	/* network bytes (4 used for IPv4) */
	unsigned	prefix;		/* 0..32 or 0..128 */
};

/*
 * Parse s[0..len), "addr" or "addr/prefix" (an IPv4 dotted quad or an
 * IPv6 address as inet_pton() reads them, a decimal prefix within the
 * family's width), into *out. A bare address gets the full width. The
 * bytes are as written: bits past the prefix are not cleared, so that a
 * caller may refuse them or clear them with addr_mask(). Returns 0, or -1
 * (*out then undefined) for anything else. Pure: any thread.
 */
int addr_parse_net(const char *s, size_t len, struct addr_net *out);

/*
 * Whether sa is internal, and what kind, for the log: loopback
 * (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::), link-local
 * (169.254.0.0/16, fe80::/10) or multicast (224.0.0.0/4, ff00::/8),
 * IPv4-mapped forms included: the addresses issue 16 section 4 keeps
 * clients from reaching (cloud metadata lives at 169.254.169.254).
 * Private ranges are not internal: LAN proxies must reach them. Returns
 * "loopback", "unspecified", "link-local", "multicast", or "not IP" for
 * another family (refused too); NULL if it is not internal. A static string. *block receives
 * the prefix length of the internal block sa lies in (8 for 127.0.0.0/8,
 * 128 for ::1; an IPv4-mapped address counts as IPv4), so that a caller
 * can tell whether a CIDR rule lies inside it; 0 if none. Pure.
 */
const char *addr_internal_kind(const struct sockaddr *sa, unsigned *block);

/* Clear every bit of a[0..len) after the first prefix bits. Pure. */
void addr_mask(uint8_t *a, size_t len, unsigned prefix);

/*
 * The network bytes of sa into out (4 for IPv4, 16 for IPv6; a mapped
 * IPv4 address gives its 4) and its port in host order into *port (may
 * be NULL). Returns AF_INET, AF_INET6, or AF_UNSPEC for another family
 * (out and *port are then untouched).
 */
int addr_bytes(const struct sockaddr *sa, uint8_t out[16], uint16_t *port);

/*
 * sa's address as text without the port ("192.0.2.1", "2001:db8::1") into
 * buf[0..cap), "?" for another family or a buffer too small.
 */
void addr_text(const struct sockaddr *sa, char *buf, size_t cap);

/*
 * sa as "ip:port" or "[ip6]:port" into buf[0..cap) (ADDR_TEXT_MAX is
 * enough), "?" for another family or a buffer too small.
 */
void addr_text_port(const struct sockaddr *sa, char *buf, size_t cap);

/*
 * If host[0..len) is an IP literal (IPv4 text, or IPv6 text without
 * brackets, as uri.c splits a host), fill *ss with it and port and
 * return true; false (ss undefined) for a name. Pure: any thread.
 */
bool addr_from_literal(const char *host, size_t len, uint16_t port,
    struct sockaddr_storage *ss);

#endif
