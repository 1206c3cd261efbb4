/*
 * httpdate.h: the Date field of the answers ferry writes itself.
 *
 * Path: fail, tunnel and the Max-Forwards answer: any answer that comes
 * from ferry rather than the origin (an error page, the 200 of a CONNECT
 * tunnel, the answer to TRACE or OPTIONS at Max-Forwards 0).
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

/* Room for the field line httpdate_field() writes, NUL included. */
#define HTTPDATE_FIELD_SIZE	(sizeof("Date: \r\n") + HTTPDATE_LEN)

/*
 * The whole field line "Date: <IMF-fixdate>\r\n" for t into out, which
 * has HTTPDATE_FIELD_SIZE bytes; or "" when httpdate_format() gives no
 * date, so that every answer of ferry's can print it as it is. Returns
 * the length. Pure; any thread.
 */
size_t httpdate_field(time_t t, char out[HTTPDATE_FIELD_SIZE]);

#endif
