/*
 * fuzz_config.c: libFuzzer harness for the INI config loader (config.c,
 * through iniparser), fed through a temporary file as ferry reads it.
 *
 * Invariants, for every input:
 * - a refused file gets a NUL-terminated message naming the file;
 * - an accepted one has a listen address, every number within its key's
 *   documented range, no CONNECT port 0, every text NUL-terminated, and a
 *   whitelist of well-formed entries;
 * - loading the same file twice gives the same settings;
 * - nothing leaks, whether the file was accepted or not.
 */
#include <stdbool.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char path[64];

static bool
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void
check_config(const struct ferry_config *c)
{
	size_t i;

	FUZZ_CHECK(c->nlistens >= 1 && c->nlistens <= CONFIG_MAX_LISTEN);
	for (i = 0; i < c->nlistens; i++) {
		FUZZ_CHECK(c->listens[i].len > 0);
		FUZZ_CHECK(terminated(c->listens[i].text,
		    sizeof(c->listens[i].text)));
	}
	FUZZ_CHECK(terminated(c->listen, sizeof(c->listen)));
	FUZZ_CHECK(terminated(c->user, sizeof(c->user)));
	FUZZ_CHECK(terminated(c->group, sizeof(c->group)));
	FUZZ_CHECK(terminated(c->pidfile, sizeof(c->pidfile)));
	FUZZ_CHECK(terminated(c->log_target, sizeof(c->log_target)));
	FUZZ_CHECK(terminated(c->log_access, sizeof(c->log_access)));
	FUZZ_CHECK(c->workers >= 1 && c->workers <= 4096);
	FUZZ_CHECK(c->queue >= 1 && c->max_clients >= 1);
	FUZZ_CHECK(c->stack_kb >= 64);
	FUZZ_CHECK(c->connect_timeout >= 1 && c->io_timeout >= 1);
	FUZZ_CHECK(c->retries <= 10);
	FUZZ_CHECK(c->header_timeout >= 1 && c->idle_timeout >= 1);
	FUZZ_CHECK(c->max_header_bytes >= 1024 &&
	    c->max_header_bytes <= 1048576);
	FUZZ_CHECK(c->max_headers >= 1 && c->max_headers <= 10000);
	FUZZ_CHECK(c->max_uri_bytes >= 16 && c->max_uri_bytes <= 1048576);
	FUZZ_CHECK(c->nconnect_ports <= CONFIG_MAX_PORTS);
	for (i = 0; i < c->nconnect_ports; i++)
		FUZZ_CHECK(c->connect_ports[i] != 0);
	FUZZ_CHECK(c->nstrip <= CONFIG_MAX_STRIP);
	for (i = 0; i < c->nstrip; i++)
		FUZZ_CHECK(c->strip[i][0] != '\0' &&
		    terminated(c->strip[i], CONFIG_NAME_MAX));
	for (i = 0; i < c->whitelist.count; i++)
		FUZZ_CHECK(c->whitelist.entries[i].prefix <=
		    (c->whitelist.entries[i].family == AF_INET ? 32u : 128u));
}

/* The settings of a and b agree (the whitelist compared by content). */
static void
check_same(const struct ferry_config *a, const struct ferry_config *b)
{
	FUZZ_CHECK(memcmp(a->listen, b->listen, sizeof(a->listen)) == 0);
	FUZZ_CHECK(a->workers == b->workers && a->queue == b->queue);
	FUZZ_CHECK(a->io_timeout == b->io_timeout);
	FUZZ_CHECK(a->max_headers == b->max_headers);
	FUZZ_CHECK(a->nconnect_ports == b->nconnect_ports);
	FUZZ_CHECK(a->nstrip == b->nstrip && a->via == b->via);
	FUZZ_CHECK(a->whitelist.count == b->whitelist.count);
	FUZZ_CHECK(a->whitelist.count == 0 ||
	    memcmp(a->whitelist.entries, b->whitelist.entries,
	    a->whitelist.count * sizeof(struct acl_entry)) == 0);
}

static void
remove_file(void)
{
	unlink(path);
}

/* Replace the temporary file's content with data[0..size). */
static void
write_file(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ferry_config a, b;
	char err[512];
	int fd;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/ferry-fuzz-XXXXXX");
		fd = mkstemp(path);
		FUZZ_CHECK(fd != -1);
		close(fd);
		atexit(remove_file);
	}
	write_file(data, size);
	memset(err, 'x', sizeof(err));
	if (config_load(path, &a, err, sizeof(err)) == -1) {
		FUZZ_CHECK(terminated(err, sizeof(err)));
		FUZZ_CHECK(strstr(err, path) != NULL ||
		    strstr(err, "ferry-fuzz") != NULL);
		return 0;
	}
	check_config(&a);
	FUZZ_CHECK(config_load(path, &b, err, sizeof(err)) == 0);
	check_same(&a, &b);
	config_free(&b);
	config_free(&a);
	return 0;
}
