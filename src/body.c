/*
 * body.c: body relaying by framing (see body.h).
 *
 * Each framing has its own small loop. The chunked loop runs the decoder
 * over every buffer before it is written, so a bad chunk size is caught
 * before its bytes reach the other side.
 */
#include <errno.h>
#include <stdint.h>

#include "body.h"
#include "chunked.h"
#include "io.h"

/* Write buf[0..len) to the other side, counting it. */
static enum body_result
body_write(struct body_relay *r, const char *buf, size_t len)
{
	if (len == 0)
		return BODY_OK;
	if (io_send_all(r->path.to, buf, len, r->path.write_ms) == -1) {
		r->err = errno;
		return BODY_WRITE_ERR;
	}
	r->nwritten += len;
	return BODY_OK;
}

/*
 * How long the next read may wait for 'from': its read_ms, or less if
 * the least rate (r->min_rate) runs out sooner. False, with r->err set,
 * when the sender is behind it already.
 */
static bool
body_read_wait(const struct body_relay *r, int *wait_ms)
{
	uint64_t allowed;

	*wait_ms = r->path.read_ms;
	if (r->min_rate == 0)
		return true;
	allowed = r->grace_ms + r->nread * 1000 / r->min_rate;
	if (r->waited_ms >= allowed) {
		errno = ETIMEDOUT;
		return false;
	}
	if (allowed - r->waited_ms < (uint64_t)*wait_ms)
		*wait_ms = (int)(allowed - r->waited_ms);
	return true;
}

/* Read the next piece, at most want bytes, into the relay buffer. */
static enum body_result
body_read(struct body_relay *r, size_t want, size_t *got)
{
	uint64_t t0 = io_now_ms();
	ssize_t n;
	int wait;

	if (!body_read_wait(r, &wait)) {
		r->err = errno;
		return BODY_READ_ERR;
	}
	n = io_recv(r->path.from, r->path.buf, want < r->path.cap ? want :
	    r->path.cap, wait);
	r->waited_ms += io_now_ms() - t0;
	if (n == 0)
		return BODY_EOF;
	if (n < 0) {
		r->err = errno;
		return BODY_READ_ERR;
	}
	r->nread += (uint64_t)n;
	*got = (size_t)n;
	return BODY_OK;
}

/*
 * Move up to max bytes straight from 'from' to 'to' (splice.c: spliced
 * when it is worth it), counting them both ways.
 */
static enum body_result
body_move(struct body_relay *r, uint64_t max, size_t *n)
{
	size_t want = max < SIZE_MAX ? (size_t)max : SIZE_MAX;
	struct splice_path path = r->path;
	uint64_t t0 = io_now_ms();
	enum splice_result sr;

	if (!body_read_wait(r, &path.read_ms)) {
		r->err = errno;
		return BODY_READ_ERR;
	}
	sr = splice_move(&path, want, n);
	r->waited_ms += io_now_ms() - t0;
	switch (sr) {
	case SPLICE_OK:
		r->nread += *n;
		r->nwritten += *n;
		return BODY_OK;
	case SPLICE_EOF:
		return BODY_EOF;
	case SPLICE_READ_ERR:
		r->err = errno;
		return BODY_READ_ERR;
	default:
		r->err = errno;
		return BODY_WRITE_ERR;
	}
}

/* Exactly length bytes. */
static enum body_result
body_length(struct body_relay *r, uint64_t length, const char *pre,
    size_t prelen, size_t *pre_used)
{
	uint64_t left = length;
	enum body_result res;
	size_t n = prelen < left ? prelen : (size_t)left;

	*pre_used = n;
	r->nread += n;
	res = body_write(r, pre, n);
	left -= n;
	while (res == BODY_OK && left > 0) {
		res = body_move(r, left, &n);
		left -= n;
	}
	return res;
}

/* Everything until 'from' closes (responses only). */
static enum body_result
body_until_close(struct body_relay *r, const char *pre, size_t prelen,
    size_t *pre_used)
{
	enum body_result res;
	size_t n;

	*pre_used = prelen;
	r->nread += prelen;
	res = body_write(r, pre, prelen);
	while (res == BODY_OK) {
		res = body_move(r, UINT64_MAX, &n);
		if (res == BODY_EOF)
			return BODY_OK;
	}
	return res;
}

/*
 * Run buf[0..len) through the chunked decoder and write it on: the raw
 * bytes, or only the chunk data when dechunking. *used ends where the body
 * ends; *done says it has.
 */
static enum body_result
body_chunked_piece(struct body_relay *r, struct chunked *ch, const char *buf,
    size_t len, size_t *used, bool *done)
{
	enum chunked_result cr = CHUNKED_MORE;
	enum body_result res = BODY_OK;
	size_t off = 0, step;
	const char *data;
	size_t dlen;

	while (off < len && cr == CHUNKED_MORE && res == BODY_OK) {
		cr = chunked_feed(ch, buf + off, len - off, &step, &data,
		    &dlen);
		if (cr == CHUNKED_BAD)
			return BODY_BAD_CHUNK;
		if (r->dechunk)
			res = body_write(r, data, dlen);
		off += step;
	}
	*used = off;
	*done = cr == CHUNKED_DONE;
	if (res == BODY_OK && !r->dechunk)
		res = body_write(r, buf, off);
	return res;
}

/* A chunked body, up to the end of its trailer section. */
static enum body_result
body_chunked(struct body_relay *r, const char *pre, size_t prelen,
    size_t *pre_used)
{
	struct chunked ch;
	enum body_result res;
	bool done = false;
	size_t n, used;

	chunked_init(&ch);
	res = body_chunked_piece(r, &ch, pre, prelen, pre_used, &done);
	r->nread += *pre_used;
	while (res == BODY_OK && !done) {
		res = body_read(r, r->path.cap, &n);
		if (res == BODY_OK)
			res = body_chunked_piece(r, &ch, r->path.buf, n, &used,
			    &done);
		if (res == BODY_OK && done) {
			r->rest = r->path.buf + used;
			r->rest_len = n - used;
			r->nread -= r->rest_len;
		}
	}
	return res;
}

enum body_result
body_relay(struct body_relay *r, const struct framing *fr, const char *pre,
    size_t prelen, size_t *pre_used)
{
	*pre_used = 0;
	r->rest = NULL;
	r->rest_len = 0;
	switch (fr->kind) {
	case BODY_LENGTH:
		return body_length(r, fr->length, pre, prelen, pre_used);
	case BODY_CHUNKED:
		return body_chunked(r, pre, prelen, pre_used);
	case BODY_CLOSE:
		return body_until_close(r, pre, prelen, pre_used);
	case BODY_NONE:
		break;
	}
	return BODY_OK;
}
