/*
 * config.h: the loaded configuration, an immutable typed struct.
 *
 * config_load() reads the INI file with iniparser, validates every key,
 * copies the values here and frees the dictionary. Workers read this struct
 * and never see iniparser. Every key is documented in etc/ferry.ini.
 */
#ifndef FERRY_CONFIG_H
#define FERRY_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "log.h"

#define CONFIG_MAX_PORTS	32
#define CONFIG_MAX_STRIP	32
#define CONFIG_NAME_MAX		64
#define CONFIG_TEXT_MAX		256

enum pool_mode {
	POOL_MODE_POOL,		/* fixed workers serve a bounded queue */
	POOL_MODE_THREAD	/* one thread per connection, capped */
};

struct ferry_config {
	char			path[PATH_MAX];

	/* [server] */
	char			listen[CONFIG_TEXT_MAX];
	struct sockaddr_storage	listen_addr;
	socklen_t		listen_len;
	char			user[CONFIG_NAME_MAX];
	char			pidfile[CONFIG_TEXT_MAX];

	/* [pool] */
	enum pool_mode		mode;
	unsigned		workers;
	unsigned		queue;
	unsigned		max_clients;
	unsigned		stack_kb;

	/* [upstream], seconds and a count */
	unsigned		connect_timeout;
	unsigned		io_timeout;
	unsigned		retries;

	/* [client], seconds */
	unsigned		header_timeout;
	unsigned		idle_timeout;

	/* [limits] */
	unsigned		max_header_bytes;
	unsigned		max_headers;
	unsigned		max_uri_bytes;

	/* [connect] */
	uint16_t		connect_ports[CONFIG_MAX_PORTS];
	size_t			nconnect_ports;

	/* [headers] */
	bool			via;
	bool			forwarded_for;
	char			strip[CONFIG_MAX_STRIP][CONFIG_NAME_MAX];
	size_t			nstrip;

	/* [log] */
	enum log_level		log_level;
	char			log_target[CONFIG_TEXT_MAX];

	/* [whitelist]; without the section, loopback only */
	struct acl		whitelist;
	bool			whitelist_default;
};

/*
 * Load and validate path into cfg. Every key has a default; an unknown
 * section or key, or a bad value, fails. Returns 0, or -1 with a message
 * naming the file, section, key and value in err. On failure cfg holds
 * nothing to free. On success free it with config_free().
 */
int config_load(const char *path, struct ferry_config *cfg, char *err,
    size_t errlen);

/* Release what config_load() allocated. */
void config_free(struct ferry_config *cfg);

/* True if port is in the [connect] ports list. */
bool config_connect_port_allowed(const struct ferry_config *cfg,
    uint16_t port);

/* True if name (length len) is in the [headers] strip list, any case. */
bool config_strips_header(const struct ferry_config *cfg, const char *name,
    size_t len);

#endif
