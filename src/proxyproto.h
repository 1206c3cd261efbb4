/*
 * proxyproto.h: the PROXY protocol header a load balancer sends before
 * any HTTP byte (HAProxy's doc/proxy-protocol.txt), version 1 (text) and
 * version 2 (binary), read into the client's real address.
 *
 * Path: accept, on a [proxy_protocol] listener, before the request head
 * (issue 18 §2). Not wired in yet.
 *
 * Pure and allocation-free: a function of (buf, len) that keeps no state,
 * so the caller calls it again on the whole buffer as more bytes arrive,
 * and gets the same verdict however the bytes were split. It reads no
 * byte outside buf[0..len). It says nothing about who may send a header:
 * checking the balancer's address against [proxy_protocol] from is the
 * caller's job. Any thread.
 *
 * What the caller does:
 * - PROXYPROTO_PARTIAL: read more (within its header timeout). Never
 *   returned once len >= PROXYPROTO_MAX, so a buffer of PROXYPROTO_MAX
 *   bytes always gets a verdict.
 * - PROXYPROTO_DONE: the header is buf[0..out->len); the bytes after it
 *   are the client's HTTP bytes. If out->local, keep the socket's own
 *   addresses (a v2 LOCAL health check, v1 UNKNOWN, or a v2 family ferry
 *   does not carry); else out->src is the client.
 * - PROXYPROTO_BAD: close the connection and log why (a fixed string).
 */
#ifndef FERRY_PROXYPROTO_H
#define FERRY_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The longest v1 line the spec allows, CRLF included (spec §2.1). */
#define PROXYPROTO_V1_MAX	107
/*
 * The longest v2 header ferry takes: the 16-byte fixed part and at most
 * 2048 bytes of addresses and TLVs. The spec sets no limit below the
 * 16-bit length field (64 KiB); HAProxy's own receiver is bounded by its
 * buffer (tune.bufsize, 16 KiB by default). 2048 holds AF_UNIX's 216
 * bytes of addresses and everything HAProxy sends by default or with
 * send-proxy-v2-ssl (ALPN, authority, unique id up to 128 bytes, the SSL
 * TLV with version, CN, cipher and algorithms, CRC32C) with room to
 * spare; only a whole client certificate (pp2 client-cert TLV) would not
 * fit, and ferry has no use for one. Bigger is "oversized".
 */
#define PROXYPROTO_V2_MAX	(16 + 2048)
/* A buffer this long always gets a verdict. */
#define PROXYPROTO_MAX		PROXYPROTO_V2_MAX

enum proxyproto_result {
	PROXYPROTO_PARTIAL,	/* a valid beginning: need more bytes */
	PROXYPROTO_DONE,	/* a whole, valid header */
	PROXYPROTO_BAD		/* not a valid header: close */
};

/*
 * A parsed header. With local false, src and dst are AF_INET or AF_INET6
 * addresses with their ports (network order, as in any sockaddr): src is
 * the client, dst the address it connected to at the balancer. With
 * local true, both are zeroed (family AF_UNSPEC).
 */
struct proxyproto {
	size_t			len;	/* header bytes, CRLF included */
	unsigned		version; /* 1 or 2 */
	bool			local;	/* no address: use the socket's */
	struct sockaddr_storage	src;
	struct sockaddr_storage	dst;
};

/*
 * Read buf[0..len) (borrowed; it need not be NUL-terminated and may hold
 * bytes after the header) as the start of a connection that must begin
 * with a PROXY header. Returns PROXYPROTO_DONE with *out filled and *why
 * NULL; PROXYPROTO_PARTIAL if buf is a prefix of a valid header (*why
 * NULL); PROXYPROTO_BAD with *why set to a static string naming the fault
 * ("v1: bad source address"). *out is written only on DONE. The verdict
 * comes as early as the bytes allow: a first byte that starts neither
 * signature is BAD with len 1. Pure: any thread.
 */
enum proxyproto_result proxyproto_parse(const uint8_t *buf, size_t len,
    struct proxyproto *out, const char **why);

#endif
