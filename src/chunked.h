/*
 * chunked.h: a streaming validator and decoder for the chunked transfer
 * coding (RFC 9112 §7.1).
 *
 * Path: forward body and relay response, for chunked bodies; and just
 * before connect, over the body bytes that came with the request head.
 *
 * ferry relays chunked bodies byte for byte; this state machine watches the
 * bytes go by to find where the body ends and to reject bad chunk sizes
 * before they reach the other side. It can also hand out the chunk data,
 * for a client that speaks HTTP/1.0 and cannot read chunked.
 */
#ifndef FERRY_CHUNKED_H
#define FERRY_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

enum chunked_state {
	CH_SIZE_START,	/* expecting the first hex digit of a size */
	CH_SIZE,	/* in the hex digits */
	CH_EXT,		/* in chunk extensions, up to CR */
	CH_SIZE_LF,	/* CR after the size line seen */
	CH_DATA,	/* in chunk data */
	CH_DATA_CR,	/* expecting CR after chunk data */
	CH_DATA_LF,	/* expecting LF after chunk data */
	CH_TRAILER_START, /* at the start of a trailer line or the end */
	CH_TRAILER,	/* inside a trailer field line */
	CH_TRAILER_LF,	/* CR after a trailer line seen */
	CH_END_LF,	/* CR of the final blank line seen */
	CH_DONE
};

enum chunked_result {
	CHUNKED_MORE,	/* all input used, the body goes on */
	CHUNKED_DONE,	/* the body ended inside the input */
	CHUNKED_BAD	/* not valid chunked coding */
};

/* The decoder's whole state: one per body, owned by its caller. */
struct chunked {
	enum chunked_state	state;
	uint64_t		remaining;	/* data bytes left in chunk */
	size_t			line_len;	/* bytes in this ext/trailer line */
	size_t			trailers;	/* trailer lines seen */
};

/* Set c to the start of a body. */
void chunked_init(struct chunked *c);

/*
 * Feed buf[0..len). *used is set to how many bytes were consumed: up to
 * and including the body's last byte for CHUNKED_DONE. For CHUNKED_MORE the
 * call stops early after a run of chunk data, so that the data is the tail
 * of what was used: *data and *data_len point at it (or *data_len is 0); call
 * again with the rest of the input while *used < len. *data points into buf
 * (borrowed). After CHUNKED_BAD (*used then counts the bad byte) or
 * CHUNKED_DONE, c is finished: start again with chunked_init().
 */
enum chunked_result chunked_feed(struct chunked *c, const char *buf,
    size_t len, size_t *used, const char **data, size_t *data_len);

/*
 * Check buf[0..len), the start of a chunked body, without keeping any
 * state: CHUNKED_BAD if it is already invalid, CHUNKED_DONE if the body
 * ends inside it, else CHUNKED_MORE. Pure: any thread may call it.
 */
enum chunked_result chunked_scan(const char *buf, size_t len);

#endif
