/*
 * httpdate.h: the Date field of the answers ferry writes itself.
 *
 * Path: any answer that comes from ferry rather than the origin: an error
 * page (errpage.c), the 200 of a CONNECT tunnel (tunnel.c), and the
 * answer to TRACE or OPTIONS at Max-Forwards 0 (maxfwd.c).
 *
 * RFC 9110 §6.6.1: an origin server with a clock sends Date, and ferry is
 * the origin of these answers. The format is the IMF-fixdate of RFC 9110
 * §5.6.7, "Sun, 06 Nov 1994 08:49:37 GMT", always in GMT.
 */
#ifndef FERRY_HTTPDATE_H
#define FERRY_HTTPDATE_H

#include <stddef.h>
#include <time.h>

/* Bytes of an IMF-fixdate, without the NUL. */
#define HTTPDATE_LEN	29

/*
 * Write t (seconds since the epoch) as an IMF-fixdate and a NUL into
 * out[0..cap). Returns HTTPDATE_LEN, or 0 if cap is too small or the year
 * of t has not four digits (a clock that far off is no clock, and
 * RFC 9110 §6.6.1 then wants no Date at all); out then holds no date.
 * Pure and locale-independent; any thread (gmtime_r()).
 */
size_t httpdate_format(time_t t, char *out, size_t cap);

#endif
