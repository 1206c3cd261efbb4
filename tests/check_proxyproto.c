/*
 * check_proxyproto.c: the PROXY protocol header parser (proxyproto.c,
 * HAProxy's doc/proxy-protocol.txt). Tables of v1 lines and of v2
 * headers, the v2 ones built byte by byte, each with its verdict, the
 * header's length and the addresses it carries; HTTP bytes follow each
 * one and must be left alone. Every case is also parsed at every length
 * from 0 up, each time from an exact-size heap copy (so ASan sees a read
 * past the end): a prefix of a valid header must be PARTIAL, and a bad
 * one must turn BAD at one length and stay BAD, no later than the byte
 * that shows the fault. Since the parser keeps no state, that is also
 * the verdict for the input however it was split.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"
#include "suites.h"

#define HTTP_AFTER	"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
#define V2_SIG		"\r\n\r\n\0\r\nQUIT\n"
#define IN_MAX		(PROXYPROTO_MAX + 256)

/* Parse an exact-size heap copy of in[0..len). */
static enum proxyproto_result
parse_copy(const uint8_t *in, size_t len, struct proxyproto *out,
    const char **why)
{
	uint8_t *buf = malloc(len > 0 ? len : 1);
	enum proxyproto_result r;

	ck_assert_ptr_nonnull(buf);
	if (len > 0)
		memcpy(buf, in, len);
	r = proxyproto_parse(buf, len, out, why);
	free(buf);
	return r;
}

/*
 * Parse every prefix of in[0..len) and check that the verdicts agree
 * with want for the whole: DONE at hdr_len and after, PARTIAL before;
 * or PARTIAL up to some length and BAD from there on, no later than at
 * (0: at len). Returns the whole input's result in *out and *why.
 */
static void
check_prefixes(const char *name, const uint8_t *in, size_t len,
    enum proxyproto_result want, size_t hdr_len, size_t at,
    struct proxyproto *out, const char **why)
{
	size_t k, bad_from = 0;
	bool seen_bad = false;

	for (k = 0; k <= len; k++) {
		struct proxyproto pp;
		const char *w = "unset";
		enum proxyproto_result r = parse_copy(in, k, &pp, &w);

		ck_assert_msg(r != PROXYPROTO_PARTIAL || k < PROXYPROTO_MAX,
		    "%s: PARTIAL at %zu", name, k);
		ck_assert_msg((r == PROXYPROTO_BAD) == (w != NULL),
		    "%s: why does not match the verdict at %zu", name, k);
		if (want == PROXYPROTO_DONE) {
			ck_assert_msg(r == (k < hdr_len ? PROXYPROTO_PARTIAL :
			    PROXYPROTO_DONE), "%s: verdict %d at %zu of %zu",
			    name, (int)r, k, hdr_len);
			if (r == PROXYPROTO_DONE)
				ck_assert_msg(pp.len == hdr_len,
				    "%s: len %zu, want %zu", name, pp.len,
				    hdr_len);
		} else {
			ck_assert_msg(r != PROXYPROTO_DONE, "%s: DONE at %zu",
			    name, k);
			ck_assert_msg(!seen_bad || r == PROXYPROTO_BAD,
			    "%s: BAD at %zu, then not at %zu", name,
			    bad_from, k);
			if (r == PROXYPROTO_BAD && !seen_bad) {
				seen_bad = true;
				bad_from = k;
			}
		}
		if (k == len) {
			*out = pp;
			*why = w;
		}
	}
	if (want == PROXYPROTO_BAD) {
		ck_assert_msg(seen_bad, "%s: never BAD", name);
		ck_assert_msg(bad_from <= (at != 0 ? at : len),
		    "%s: BAD only at %zu, want by %zu", name, bad_from, at);
	}
}

/* The parsed addresses against the expected ones (NULL: local). */
static void
check_addrs(const char *name, const struct proxyproto *pp, const char *src,
    uint16_t sport, const char *dst, uint16_t dport)
{
	struct sockaddr_storage ws, wd;

	if (src == NULL) {
		memset(&ws, 0, sizeof(ws));
		memset(&wd, 0, sizeof(wd));
	} else {
		sockaddr_of(src, sport, &ws);
		sockaddr_of(dst, dport, &wd);
	}
	ck_assert_msg(pp->local == (src == NULL), "%s: local %d", name,
	    (int)pp->local);
	ck_assert_msg(memcmp(&pp->src, &ws, sizeof(ws)) == 0,
	    "%s: source address", name);
	ck_assert_msg(memcmp(&pp->dst, &wd, sizeof(wd)) == 0,
	    "%s: destination address", name);
}

/*
 * v1 lines. len: for DONE the header's length (0: up to the first
 * "\r\n", included); for BAD the length by which it must be BAD (0: the
 * whole line). HTTP bytes are appended to each.
 */
struct v1_case {
	const char		*in;
	enum proxyproto_result	 r;
	size_t			 len;
	const char		*why;	/* for BAD */
	const char		*src;	/* NULL: local */
	uint16_t		 sport;
	const char		*dst;
	uint16_t		 dport;
	size_t			 in_len;	/* 0: strlen(in) */
};

#define F6	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
#define M6	"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
#define DONE	PROXYPROTO_DONE
#define BAD	PROXYPROTO_BAD
#define W_SRC	"v1: bad source address"
#define W_DST	"v1: bad destination address"
#define W_SP	"v1: bad source port"
#define W_DP	"v1: bad destination port"
#define W_PROTO	"v1: bad protocol"
#define W_LONG	"v1: no CRLF within 107 bytes"
/* A BAD line: verdict by at, with why. */
#define V1_BAD(in, at, why) { in, BAD, at, why, NULL, 0, NULL, 0, 0 }
#define NUL_LINE "PROXY TCP4 1.2\0.3.4 1.2.3.4 1 2\r\n"

static const struct v1_case v1_cases[] = {
	/* The spec's own example, and its longest lines. */
	{ "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", DONE, 0,
	    NULL, "192.168.0.1", 56324, "192.168.0.11", 443, 0 },
	{ "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
	    DONE, 56, NULL, "255.255.255.255", 65535, "255.255.255.255",
	    65535, 0 },
	{ "PROXY TCP6 " F6 " " F6 " 65535 65535\r\n", DONE, 104, NULL, F6,
	    65535, F6, 65535, 0 },
	{ "PROXY UNKNOWN\r\n", DONE, 15, NULL, NULL, 0, NULL, 0, 0 },
	{ "PROXY UNKNOWN " F6 " " F6 " 65535 65535\r\n", DONE, 107, NULL,
	    NULL, 0, NULL, 0, 0 },
	/* Zeros, IPv6 forms inet_pton() takes, either case of hex. */
	{ "PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n", DONE, 0, NULL, "0.0.0.0",
	    0, "10.0.0.1", 0, 0 },
	{ "PROXY TCP4 10.20.30.40 1.2.3.4 10 100\r\n", DONE, 0, NULL,
	    "10.20.30.40", 10, "1.2.3.4", 100, 0 },
	{ "PROXY TCP6 2001:db8::1 2001:DB8::2 1234 80\r\n", DONE, 0, NULL,
	    "2001:db8::1", 1234, "2001:db8::2", 80, 0 },
	{ "PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n", DONE, 0, NULL,
	    "::ffff:192.0.2.1", 1, "::1", 2, 0 },
	{ "PROXY TCP6 :: ::1 65535 0\r\n", DONE, 0, NULL, "::", 65535,
	    "::1", 0, 0 },
	/* UNKNOWN: the rest of the line is ignored, whatever it holds. */
	{ "PROXY UNKNOWN whatever \x01\xff\t \r\n", DONE, 0, NULL, NULL, 0,
	    NULL, 0, 0 },
	{ "PROXY UNKNOWN \r\n", DONE, 0, NULL, NULL, 0, NULL, 0, 0 },

	/* Not "PROXY ", decided at the first wrong byte. */
	V1_BAD("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 1, "not a PROXY header"),
	V1_BAD("PROXy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 5, "v1: bad signature"),
	V1_BAD("PROXY\r\n", 6, "v1: bad signature"),
	V1_BAD("PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", 6, "v1: bad signature"),
	V1_BAD("GET / HTTP/1.1\r\n", 1, "not a PROXY header"),
	/* The protocol word. */
	V1_BAD("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 7, W_PROTO),
	V1_BAD("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", 7, W_PROTO),
	V1_BAD("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", 10, W_PROTO),
	V1_BAD("PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n", 10, W_PROTO),
	V1_BAD("PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n", 11, W_PROTO),
	V1_BAD("PROXY TCP4\r\n", 11, W_PROTO),
	V1_BAD("PROXY UNKNOWNX\r\n", 14, W_PROTO),
	V1_BAD("PROXY UNKNOW\r\n", 13, W_PROTO),
	V1_BAD("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", 8, W_PROTO),
	/* Spaces. */
	V1_BAD("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", 12, W_SRC),
	V1_BAD("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", 20, W_DST),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n", 28, W_SP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", 30, W_DP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", 31, W_DP),
	V1_BAD("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", 19, W_SRC),
	/* IPv4 addresses. */
	V1_BAD("PROXY TCP4 192.168.0.01 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 1.2.3.4 010.1.1.1 1 2\r\n", 0, W_DST),
	V1_BAD("PROXY TCP4 00.1.2.3 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 256.1.2.3 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 1.2.3.4.5 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 1.2.3. 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 .1.2.3 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 1..2.3 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 1234.1.2.3 1.2.3.4 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP4 1.2.3.4 ::1 1 2\r\n", 20, W_DST),
	V1_BAD("PROXY TCP4 0x1.2.3.4 1.2.3.4 1 2\r\n", 13, W_SRC),
	V1_BAD("PROXY TCP4 1.2.3.4/8 1.2.3.4 1 2\r\n", 19, W_SRC),
	{ NUL_LINE, BAD, 15, W_SRC, NULL, 0, NULL, 0,
	    sizeof(NUL_LINE) - 1 },
	V1_BAD("PROXY TCP4 1.2.3.4 1.2.3.4.5.6.7.8.9 1 2\r\n", 35, W_DST),
	/* IPv6 addresses. */
	V1_BAD("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP6 2001:db8:::1 ::1 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP6 12345::1 ::1 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", 0, W_SRC),
	V1_BAD("PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n", 0, W_DST),
	V1_BAD("PROXY TCP6 ::1 [::1] 1 2\r\n", 16, W_DST),
	V1_BAD("PROXY TCP6 ::1 g::1 1 2\r\n", 16, W_DST),
	V1_BAD("PROXY TCP6 ::ffff:01.2.3.4 ::1 1 2\r\n", 0, W_SRC),
	/* Valid text, but too long for the 107-byte line. */
	V1_BAD("PROXY TCP6 " M6 " " M6 " 65535 65535\r\n", 107, W_LONG),
	/* Ports. */
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", 29, W_SP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n", 31, W_DP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", 32, W_SP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", 34, W_DP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 123456 2\r\n", 33, W_SP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", 28, W_SP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", 28, W_SP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 0x1 2\r\n", 29, W_SP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 29, W_SP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 31, W_DP),
	/* The line end: CRLF only. */
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 31, W_DP),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", 32, "v1: CR without LF"),
	V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", 32, "v1: CR without LF"),
	V1_BAD("PROXY UNKNOWN\n", 14, "v1: bad line end"),
	V1_BAD("PROXY UNKNOWN\rX", 15, "v1: CR without LF"),
	V1_BAD("PROXY UNKNOWN a\nb\r\n", 16, "v1: bare LF"),
};

START_TEST(test_v1)
{
	const struct v1_case *c = &v1_cases[_i];
	uint8_t in[IN_MAX];
	size_t n = c->in_len != 0 ? c->in_len : strlen(c->in), len, hdr;
	struct proxyproto pp;
	const char *why;

	ck_assert(n + sizeof(HTTP_AFTER) <= sizeof(in));
	memcpy(in, c->in, n);
	memcpy(in + n, HTTP_AFTER, sizeof(HTTP_AFTER) - 1);
	len = n + sizeof(HTTP_AFTER) - 1;
	hdr = c->len;
	if (c->r == DONE && hdr == 0)
		hdr = (size_t)(strstr(c->in, "\r\n") - c->in) + 2;
	check_prefixes(c->in, in, c->r == DONE ? len : n, c->r, hdr, c->len,
	    &pp, &why);
	if (c->r == BAD) {
		ck_assert_msg(strcmp(why, c->why) == 0, "%s: why \"%s\"",
		    c->in, why);
		return;
	}
	ck_assert_uint_eq(pp.len, hdr);
	ck_assert_uint_eq(pp.version, 1);
	ck_assert(memcmp(in + pp.len, HTTP_AFTER, 4) == 0);
	check_addrs(c->in, &pp, c->src, c->sport, c->dst, c->dport);
}
END_TEST

/* A line of UNKNOWN and filler with no CRLF: BAD at byte 107. */
START_TEST(test_v1_no_crlf)
{
	uint8_t in[300];
	struct proxyproto pp;
	const char *why;

	memset(in, 'a', sizeof(in));
	memcpy(in, "PROXY UNKNOWN ", 14);
	check_prefixes("no CRLF", in, sizeof(in), BAD, 0, 107, &pp, &why);
	ck_assert_str_eq(why, W_LONG);
	/* A CRLF at 106..107 still ends the line in time. */
	in[105] = '\r';
	in[106] = '\n';
	check_prefixes("CRLF at 107", in, sizeof(in), DONE, 107, 0, &pp,
	    &why);
	ck_assert(pp.local);
	/* One byte later is too late. */
	in[105] = 'a';
	in[106] = '\r';
	in[107] = '\n';
	check_prefixes("CRLF at 108", in, sizeof(in), BAD, 0, 107, &pp, &why);
}
END_TEST

/*
 * Each byte of "PROXY " and of the v2 signature changed in turn: BAD as
 * soon as that byte is there.
 */
START_TEST(test_signature_each_byte)
{
	static const char v1[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
	static const uint8_t v2[] = V2_SIG "\x21\x11\x00\x0c"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02";
	uint8_t in[64];
	struct proxyproto pp;
	const char *why;
	size_t i;

	for (i = 0; i < 6; i++) {
		memcpy(in, v1, sizeof(v1) - 1);
		in[i] ^= 0x20;
		check_prefixes("v1 signature", in, sizeof(v1) - 1, BAD, 0,
		    i + 1, &pp, &why);
		ck_assert_str_eq(why, i == 0 ? "not a PROXY header" :
		    "v1: bad signature");
	}
	for (i = 0; i < 12; i++) {
		memcpy(in, v2, sizeof(v2) - 1);
		in[i] ^= 0x01;
		check_prefixes("v2 signature", in, sizeof(v2) - 1, BAD, 0,
		    i + 1, &pp, &why);
		ck_assert_str_eq(why, i == 0 ? "not a PROXY header" :
		    "v2: bad signature");
	}
	/* Unchanged, both are whole headers. */
	check_prefixes("v1", (const uint8_t *)v1, sizeof(v1) - 1, DONE,
	    sizeof(v1) - 1, 0, &pp, &why);
	check_prefixes("v2", v2, sizeof(v2) - 1, DONE, sizeof(v2) - 1, 0,
	    &pp, &why);
}
END_TEST

/* Every first byte: only 'P' and CR may start a header. */
START_TEST(test_first_byte)
{
	struct proxyproto pp;
	const char *why;
	uint8_t b;
	unsigned c;

	for (c = 0; c < 256; c++) {
		enum proxyproto_result r;

		b = (uint8_t)c;
		r = proxyproto_parse(&b, 1, &pp, &why);
		if (c == 'P' || c == '\r')
			ck_assert_int_eq(r, PROXYPROTO_PARTIAL);
		else
			ck_assert_int_eq(r, PROXYPROTO_BAD);
	}
	ck_assert_int_eq(proxyproto_parse(&b, 0, &pp, &why),
	    PROXYPROTO_PARTIAL);
	ck_assert_ptr_null(why);
}
END_TEST

/*
 * v2 headers, built byte by byte: the signature, ver_cmd, fam, the
 * length (len_field, or -1 for the bytes that follow), the addresses of
 * src and dst (if set, 4 or 16 bytes as the text is) and the two ports,
 * then raw[0..raw_len) (TLVs, or other address bytes).
 */
struct v2_case {
	const char		*name;
	uint8_t			 ver_cmd;
	uint8_t			 fam;
	const char		*src;
	uint16_t		 sport;
	const char		*dst;
	uint16_t		 dport;
	const uint8_t		*raw;
	size_t			 raw_len;
	int			 len_field;
	enum proxyproto_result	 r;
	const char		*why;	/* for BAD */
	size_t			 at;	/* BAD by this length; 0: all */
	bool			 local;	/* for DONE */
};

#define TLVS	"\x01\x00\x02h2" "\x04\x00\x00" "\x02\x00\x0b" "example.com" \
	"\x05\x00\x03" "abc"
#define W_FAM	"v2: bad family"
#define W_SHORT	"v2: length too short for the addresses"
#define W_OVER	"v2: TLV runs past the header"

static const uint8_t unix_addrs[216] = { 0 };
/* A NOOP TLV that makes a TCP4 header exactly PROXYPROTO_V2_MAX long. */
static uint8_t big_tlv[PROXYPROTO_V2_MAX - 16 - 12];
static uint8_t over_tlv[PROXYPROTO_V2_MAX - 16 - 12 + 1];

static const struct v2_case v2_cases[] = {
	/* PROXY over TCP: the addresses are the client's. */
	{ "tcp4", 0x21, 0x11, "192.0.2.1", 56324, "198.51.100.1", 443,
	    NULL, 0, -1, DONE, NULL, 0, false },
	{ "tcp6", 0x21, 0x21, "2001:db8::1", 1, "2001:db8::2", 65535,
	    NULL, 0, -1, DONE, NULL, 0, false },
	{ "tcp4 tlvs", 0x21, 0x11, "10.0.0.1", 0, "10.0.0.2", 80,
	    (const uint8_t *)TLVS, sizeof(TLVS) - 1, -1, DONE, NULL, 0,
	    false },
	{ "tcp6 tlvs", 0x21, 0x21, "::1", 80, "::ffff:1.2.3.4", 8080,
	    (const uint8_t *)TLVS, sizeof(TLVS) - 1, -1, DONE, NULL, 0,
	    false },
	{ "tcp4 empty tlv", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2,
	    (const uint8_t *)"\x04\x00\x00", 3, -1, DONE, NULL, 0, false },
	{ "tcp4 at the cap", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2,
	    big_tlv, sizeof(big_tlv), -1, DONE, NULL, 0, false },
	/* LOCAL: the socket's own addresses, whatever follows. */
	{ "local", 0x20, 0x00, NULL, 0, NULL, 0, NULL, 0, -1, DONE, NULL, 0,
	    true },
	{ "local with addresses", 0x20, 0x11, "192.0.2.1", 1, "192.0.2.2", 2,
	    NULL, 0, -1, DONE, NULL, 0, true },
	{ "local with tcp6 addresses", 0x20, 0x21, "::1", 1, "::2", 2,
	    NULL, 0, -1, DONE, NULL, 0, true },
	{ "local with junk", 0x20, 0x00, NULL, 0, NULL, 0,
	    (const uint8_t *)"\xff\xff\xff\xff\xff", 5, -1, DONE, NULL, 0,
	    true },
	{ "local, family ignored", 0x20, 0x55, NULL, 0, NULL, 0, NULL, 0,
	    -1, DONE, NULL, 0, true },
	{ "local, short addresses", 0x20, 0x11, NULL, 0, NULL, 0,
	    (const uint8_t *)"\x01\x02", 2, -1, DONE, NULL, 0, true },
	/* PROXY for what ferry does not carry: falls back to UNSPEC. */
	{ "proxy unspec", 0x21, 0x00, NULL, 0, NULL, 0, NULL, 0, -1, DONE,
	    NULL, 0, true },
	{ "proxy unspec with bytes", 0x21, 0x00, NULL, 0, NULL, 0,
	    (const uint8_t *)"\xff\xff", 2, -1, DONE, NULL, 0, true },
	{ "udp4", 0x21, 0x12, "192.0.2.1", 53, "192.0.2.2", 53, NULL, 0, -1,
	    DONE, NULL, 0, true },
	{ "udp6", 0x21, 0x22, "::1", 53, "::2", 53, NULL, 0, -1, DONE,
	    NULL, 0, true },
	{ "unix stream", 0x21, 0x31, NULL, 0, NULL, 0, unix_addrs,
	    sizeof(unix_addrs), -1, DONE, NULL, 0, true },
	{ "unix dgram", 0x21, 0x32, NULL, 0, NULL, 0, unix_addrs,
	    sizeof(unix_addrs), -1, DONE, NULL, 0, true },

	/* Version and command: the 13th byte. */
	{ "version 1", 0x11, 0x11, "1.1.1.1", 1, "2.2.2.2", 2, NULL, 0, -1,
	    BAD, "v2: bad version", 13, false },
	{ "version 3", 0x31, 0x11, "1.1.1.1", 1, "2.2.2.2", 2, NULL, 0, -1,
	    BAD, "v2: bad version", 13, false },
	{ "version 0", 0x01, 0x11, "1.1.1.1", 1, "2.2.2.2", 2, NULL, 0, -1,
	    BAD, "v2: bad version", 13, false },
	{ "command 2", 0x22, 0x11, "1.1.1.1", 1, "2.2.2.2", 2, NULL, 0, -1,
	    BAD, "v2: bad command", 13, false },
	{ "command 15", 0x2f, 0x00, NULL, 0, NULL, 0, NULL, 0, -1, BAD,
	    "v2: bad command", 13, false },
	/* Family and transport: the 14th byte, for PROXY. */
	{ "family 4", 0x21, 0x41, "1.1.1.1", 1, "2.2.2.2", 2, NULL, 0, -1,
	    BAD, W_FAM, 14, false },
	{ "transport 3", 0x21, 0x13, "1.1.1.1", 1, "2.2.2.2", 2, NULL, 0, -1,
	    BAD, W_FAM, 14, false },
	{ "inet, no transport", 0x21, 0x10, "1.1.1.1", 1, "2.2.2.2", 2, NULL,
	    0, -1, BAD, W_FAM, 14, false },
	{ "no family, stream", 0x21, 0x01, NULL, 0, NULL, 0, NULL, 0, -1,
	    BAD, W_FAM, 14, false },
	/* The length against the addresses and the cap. */
	{ "tcp4 length 11", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2, NULL, 0,
	    11, BAD, W_SHORT, 16, false },
	{ "tcp4 length 0", 0x21, 0x11, NULL, 0, NULL, 0, NULL, 0, -1, BAD,
	    W_SHORT, 16, false },
	{ "tcp6 length 35", 0x21, 0x21, "::1", 1, "::2", 2, NULL, 0, 35, BAD,
	    W_SHORT, 16, false },
	{ "tcp6 with tcp4 length", 0x21, 0x21, "1.1.1.1", 1, "2.2.2.2", 2,
	    NULL, 0, -1, BAD, W_SHORT, 16, false },
	{ "udp4 length 4", 0x21, 0x12, NULL, 0, NULL, 0,
	    (const uint8_t *)"\x01\x02\x03\x04", 4, -1, BAD, W_SHORT, 16,
	    false },
	{ "unix length 215", 0x21, 0x31, NULL, 0, NULL, 0, unix_addrs,
	    sizeof(unix_addrs) - 1, -1, BAD, W_SHORT, 16, false },
	{ "one byte over the cap", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2,
	    over_tlv, sizeof(over_tlv), -1, BAD, "v2: oversized", 16, false },
	{ "length 65535", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2, NULL, 0,
	    65535, BAD, "v2: oversized", 16, false },
	{ "local oversized", 0x20, 0x00, NULL, 0, NULL, 0, NULL, 0, 2049,
	    BAD, "v2: oversized", 16, false },
	/* TLVs that do not fit the header. */
	{ "tlv overruns", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2,
	    (const uint8_t *)"\x01\x00\x05" "ab", 5, -1, BAD, W_OVER, 31,
	    false },
	{ "second tlv overruns", 0x21, 0x21, "::1", 1, "::2", 2,
	    (const uint8_t *)"\x04\x00\x00" "\x02\x00\x02" "a", 7, -1, BAD,
	    W_OVER, 58, false },
	{ "tlv length 65535", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2,
	    (const uint8_t *)"\x02\xff\xff" "abc", 6, -1, BAD, W_OVER, 31,
	    false },
	{ "tlv head cut", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2,
	    (const uint8_t *)"\x04\x00", 2, -1, BAD, "v2: truncated TLV", 16,
	    false },
	{ "one stray byte", 0x21, 0x11, "1.1.1.1", 1, "2.2.2.2", 2,
	    (const uint8_t *)"\x04\x00\x00\x00", 4, -1, BAD,
	    "v2: truncated TLV", 31, false },
};

/* Append the network bytes of the address text a to buf at *n. */
static void
put_addr(uint8_t *buf, size_t *n, const char *a)
{
	if (inet_pton(AF_INET, a, buf + *n) == 1) {
		*n += 4;
		return;
	}
	ck_assert_msg(inet_pton(AF_INET6, a, buf + *n) == 1, "bad %s", a);
	*n += 16;
}

/* Build c's header into buf; returns its length as sent (len field). */
static size_t
v2_build(const struct v2_case *c, uint8_t *buf, size_t cap)
{
	size_t n = 16, blen;

	ck_assert(c->raw_len + 64 + sizeof(HTTP_AFTER) <= cap);
	memcpy(buf, V2_SIG, 12);
	buf[12] = c->ver_cmd;
	buf[13] = c->fam;
	if (c->src != NULL) {
		put_addr(buf, &n, c->src);
		put_addr(buf, &n, c->dst);
		buf[n++] = (uint8_t)(c->sport >> 8);
		buf[n++] = (uint8_t)c->sport;
		buf[n++] = (uint8_t)(c->dport >> 8);
		buf[n++] = (uint8_t)c->dport;
	}
	if (c->raw_len > 0)
		memcpy(buf + n, c->raw, c->raw_len);
	n += c->raw_len;
	blen = c->len_field >= 0 ? (size_t)c->len_field : n - 16;
	buf[14] = (uint8_t)(blen >> 8);
	buf[15] = (uint8_t)blen;
	return n;
}

START_TEST(test_v2)
{
	const struct v2_case *c = &v2_cases[_i];
	uint8_t in[IN_MAX];
	size_t n, len;
	struct proxyproto pp;
	const char *why;
	bool tcp;

	memset(big_tlv, 0, sizeof(big_tlv));
	big_tlv[0] = 0x04;
	big_tlv[1] = (uint8_t)((sizeof(big_tlv) - 3) >> 8);
	big_tlv[2] = (uint8_t)(sizeof(big_tlv) - 3);
	memset(over_tlv, 0, sizeof(over_tlv));
	over_tlv[0] = 0x04;
	over_tlv[1] = (uint8_t)((sizeof(over_tlv) - 3) >> 8);
	over_tlv[2] = (uint8_t)(sizeof(over_tlv) - 3);
	n = v2_build(c, in, sizeof(in));
	memcpy(in + n, HTTP_AFTER, sizeof(HTTP_AFTER) - 1);
	len = n + sizeof(HTTP_AFTER) - 1;
	check_prefixes(c->name, in, len, c->r, n, c->at, &pp, &why);
	if (c->r == BAD) {
		ck_assert_msg(strcmp(why, c->why) == 0, "%s: why \"%s\"",
		    c->name, why);
		return;
	}
	ck_assert_uint_eq(pp.len, n);
	ck_assert_uint_eq(pp.version, 2);
	ck_assert(memcmp(in + pp.len, HTTP_AFTER, 4) == 0);
	tcp = c->ver_cmd == 0x21 && (c->fam == 0x11 || c->fam == 0x21);
	ck_assert_msg(pp.local == c->local && c->local == !tcp, "%s: local",
	    c->name);
	check_addrs(c->name, &pp, c->local ? NULL : c->src, c->sport,
	    c->dst, c->dport);
}
END_TEST

/*
 * A v1 and a v2 header back to back: only the first is the header; the
 * second is left for HTTP (which will refuse it).
 */
START_TEST(test_only_first_header)
{
	static const uint8_t two[] = "PROXY UNKNOWN\r\n" V2_SIG
	    "\x20\x00\x00\x00";
	struct proxyproto pp;
	const char *why;

	ck_assert_int_eq(proxyproto_parse(two, sizeof(two) - 1, &pp, &why),
	    PROXYPROTO_DONE);
	ck_assert_uint_eq(pp.len, 15);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(proxyproto_parse(two + 15, sizeof(two) - 16, &pp,
	    &why), PROXYPROTO_DONE);
	ck_assert_uint_eq(pp.len, 16);
}
END_TEST

Suite *
proxyproto_suite(void)
{
	Suite *s = suite_create("proxyproto");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_v1, 0, NELEM(v1_cases));
	tcase_add_test(tc, test_v1_no_crlf);
	tcase_add_test(tc, test_signature_each_byte);
	tcase_add_test(tc, test_first_byte);
	tcase_add_loop_test(tc, test_v2, 0, NELEM(v2_cases));
	tcase_add_test(tc, test_only_first_header);
	suite_add_tcase(s, tc);
	return s;
}
