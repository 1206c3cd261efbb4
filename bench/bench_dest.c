/*
 * bench_dest.c: how fast the destination rules load and answer (issue
 * 16 section 3: a deny file of 1,000,000 names loads in under 2 s and
 * adds under 1 us to a lookup). Not part of make check: `make
 * bench-dest`, see bench/README.md.
 *
 *   bench/bench_dest [NAMES [LOOKUPS]]
 *
 * Writes NAMES (default 1,000,000) generated names, a tenth of them as
 * ".suffix" rules, to a temporary deny file, loads it with
 * dest_add_file() and times that; then times LOOKUPS (default
 * 2,000,000) dest_match_name() calls on listed hosts, on names below a
 * listed suffix and on unlisted names of five labels, and LOOKUPS
 * dest_match_addr() calls against 100,000 CIDR rules. Prints one line per
 * measurement, and the peak RSS.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dest.h"

#define NET_RULES	100000
#define HOSTS		(1ul << 20)	/* distinct hosts looked up, cycled */
#define HOST_CAP	64

static double
clock_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now(void)
{
	return clock_of(CLOCK_MONOTONIC);
}

/* Name i: varied lengths and second-level domains, as block lists are. */
static int
name_of(unsigned long i, char *buf, size_t cap)
{
	static const char *const tld[] = { "com", "net", "org", "io", "de" };

	return snprintf(buf, cap, "%sads%lu-%lx.tracker%lu.%s",
	    i % 10 == 0 ? "." : "", i, i * 2654435761u % 65521, i % 997,
	    tld[i % 5]);
}

/*
 * Host i of a lookup shape: 0 a listed host, 1 five labels below a listed
 * suffix, 2 an unlisted name of five labels.
 */
static int
host_of(int shape, unsigned long i, unsigned long names, char *buf,
    size_t cap)
{
	unsigned long j = (i * 7919) % names, k = j - j % 10;

	if (shape == 0)
		return name_of(k + 1, buf, cap);
	if (shape == 1)
		return snprintf(buf, cap, "www.cdn%lu.ads%lu-%lx.tracker%lu.com",
		    i % 50, k, k * 2654435761u % 65521, k % 997);
	return snprintf(buf, cap, "img%lu.static.news%lu.example.com",
	    i % 100, j);
}

/*
 * ns per dest_match_name() over n lookups of shape; the hosts are made
 * beforehand (HOSTS of them, cycled) so that only the lookup is timed.
 */
static double
time_names(const struct dest_set *s, unsigned long names, unsigned long n,
    int shape, unsigned long *hits)
{
	struct dest_match m;
	unsigned long i;
	char *hosts;
	size_t *lens;
	double t0, t;

	hosts = malloc((size_t)HOSTS * HOST_CAP);
	lens = malloc((size_t)HOSTS * sizeof(*lens));
	if (hosts == NULL || lens == NULL)
		exit(1);
	for (i = 0; i < HOSTS; i++)
		lens[i] = (size_t)host_of(shape, i, names, hosts + i * HOST_CAP,
		    HOST_CAP);
	*hits = 0;
	t0 = now();
	for (i = 0; i < n; i++) {
		dest_match_name(s, hosts + (i % HOSTS) * HOST_CAP,
		    lens[i % HOSTS], 443, &m);
		*hits += m.verdict == DEST_DENY;
	}
	t = (now() - t0) / (double)n * 1e9;
	free(hosts);
	free(lens);
	return t;
}

int
main(int argc, char **argv)
{
	unsigned long names = 1000000, lookups = 2000000, i, hits;
	char path[] = "/tmp/ferry-bench-dest-XXXXXX", buf[300], err[512];
	struct sockaddr_in sin;
	struct dest_match m;
	struct dest_set *s, *nets;
	struct rusage ru;
	FILE *f;
	double t0, c0, load, cpu;
	int fd;

	if (argc > 1)
		names = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		lookups = strtoul(argv[2], NULL, 10);
	if (names < 10 || lookups == 0 || (fd = mkstemp(path)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL)
		return 1;
	for (i = 0; i < names; i++) {
		name_of(i, buf, sizeof(buf));
		fprintf(f, "%s\n", buf);
	}
	if (fclose(f) != 0)
		return 1;
	if ((s = dest_set_new()) == NULL)
		return 1;
	t0 = now();
	c0 = clock_of(CLOCK_PROCESS_CPUTIME_ID);
	if (dest_add_file(s, DEST_DENY, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_dest: %s\n", err);
		return 1;
	}
	load = now() - t0;
	cpu = clock_of(CLOCK_PROCESS_CPUTIME_ID) - c0;
	unlink(path);
	getrusage(RUSAGE_SELF, &ru);
	printf("load %lu names from a file: %.3f s (CPU %.3f s, %zu rules, "
	    "RSS %ld MB)\n", names, load, cpu, dest_count(s),
	    ru.ru_maxrss / 1024);
	printf("name lookup, listed host:          %6.0f ns",
	    time_names(s, names, lookups, 0, &hits));
	printf(" (%lu denied of %lu)\n", hits, lookups);
	printf("name lookup, 5 labels below suffix: %6.0f ns",
	    time_names(s, names, lookups, 1, &hits));
	printf(" (%lu denied)\n", hits);
	printf("name lookup, unlisted, 5 labels:   %6.0f ns",
	    time_names(s, names, lookups, 2, &hits));
	printf(" (%lu denied)\n", hits);

	if ((nets = dest_set_new()) == NULL)
		return 1;
	for (i = 0; i < NET_RULES; i++) {
		snprintf(buf, sizeof(buf), "%lu.%lu.%lu.0/%d", 10 + i % 200,
		    (i / 200) % 256, i % 256, i % 3 == 0 ? 16 : 24);
		if (i % 3 == 0)
			snprintf(buf, sizeof(buf), "%lu.%lu.0.0/16",
			    10 + i % 200, (i / 200) % 256);
		if (dest_add_list(nets, i % 2 ? DEST_DENY : DEST_ALLOW, buf,
		    err, sizeof(err)) == -1) {
			fprintf(stderr, "bench_dest: %s\n", err);
			return 1;
		}
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(443);
	hits = 0;
	t0 = now();
	for (i = 0; i < lookups; i++) {
		sin.sin_addr.s_addr = htonl((uint32_t)(i * 2654435761u));
		dest_match_addr(nets, (struct sockaddr *)&sin, &m);
		hits += m.verdict != DEST_NONE;
	}
	printf("address lookup, %d CIDR rules:  %6.0f ns (%lu matched)\n",
	    NET_RULES, (now() - t0) / (double)lookups * 1e9, hits);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS: %ld MB\n", ru.ru_maxrss / 1024);
	dest_set_free(nets);
	dest_set_free(s);
	return 0;
}
