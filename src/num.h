/*
 * num.h: overflow-checked number parsing for config values and HTTP fields.
 *
 * Path: parse (Content-Length, chunk sizes, ports) and start-up (config
 * values, whitelist prefixes, the pidfile).
 *
 * Why not atoi/strtol: they accept signs, spaces, "0x" prefixes and trailing
 * garbage ("80x" is 80), and hide overflow. Every number that ferry reads from
 * a config file or from the network goes through these two functions instead.
 */
#ifndef FERRY_NUM_H
#define FERRY_NUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse s[0..len) as plain decimal digits (no sign, no space, at least one
 * digit) into *out. Fails (-1, *out untouched) on any other byte or when
 * the value exceeds max. Returns 0 on success. Pure: any thread.
 */
int num_parse_dec(const char *s, size_t len, uint64_t max, uint64_t *out);

/*
 * Parse one hexadecimal digit (either case); returns its value 0..15, or
 * -1. Pure.
 */
int num_hex_digit(unsigned char c);

/*
 * The number of elements of the array a (not a pointer): the macro of
 * the BSDs' <sys/param.h>, which glibc lacks.
 */
#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#endif
