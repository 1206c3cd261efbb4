/*
 * config.h: the loaded configuration, an immutable typed struct, and the
 * live snapshot that new connections use.
 *
 * Path: start-up and signals load the file, at start and on SIGHUP. At
 * admit each connection takes a reference to the live snapshot, and every
 * later step reads its limits and timeouts from it.
 *
 * config_load() reads the INI file with iniparser, validates every key,
 * copies the values here and frees the dictionary. Workers read this struct
 * and never see iniparser. Every key is documented in etc/ferry.ini.
 *
 * Reload (SIGHUP) loads a whole new struct and makes it the live one; a
 * connection keeps its snapshot for its buffers and limits while a worker
 * serves it (a parked keep-alive client gets the live one when it wakes),
 * but each request's access checks take the live one's rules
 * (conn_refresh_rules()). Snapshots are
 * reference counted: the last holder to let go frees one, so a config is
 * never freed while a worker still reads it.
 */
#ifndef FERRY_CONFIG_H
#define FERRY_CONFIG_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "log.h"
#include "policy.h"
#include "route.h"

#define CONFIG_MAX_PORTS	32
/* Listening addresses, [server] listen and [proxy_protocol] listen. */
#define CONFIG_MAX_LISTEN	16
#define CONFIG_MAX_STRIP	32
#define CONFIG_NAME_MAX		64
#define CONFIG_TEXT_MAX		256
/* A pattern list: iniparser reads lines of up to 1 KiB. */
#define CONFIG_LIST_MAX		1024
/* Warnings kept from a load, one a line; more are counted, not kept. */
#define CONFIG_WARN_MAX		2048

enum pool_mode {
	POOL_MODE_POOL,		/* fixed workers serve a bounded queue */
	POOL_MODE_THREAD	/* one thread per connection, capped */
};

/* One listening address: each gets its own socket (acceptor.c). */
struct config_listen {
	struct sockaddr_storage	addr;
	socklen_t		len;
	char			text[64];	/* as written */
	bool			proxy;		/* [proxy_protocol] listen */
};

struct ferry_config {
	char			path[PATH_MAX];

	/* [server] */
	char			listen[CONFIG_TEXT_MAX];	/* as written */
	struct config_listen	listens[CONFIG_MAX_LISTEN];
	size_t			nlistens;
	char			user[CONFIG_NAME_MAX];
	char			group[CONFIG_NAME_MAX];
	char			pidfile[CONFIG_TEXT_MAX];
	unsigned		drain_timeout;	/* seconds */

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
	unsigned		keepalive_per_host;	/* idle, pooled */
	unsigned		keepalive_max;
	unsigned		keepalive_timeout;	/* seconds */

	/* [client], seconds, and bytes a second */
	unsigned		header_timeout;
	unsigned		idle_timeout;
	unsigned		min_rate;

	/* [limits] */
	unsigned		max_header_bytes;
	unsigned		max_headers;
	unsigned		max_uri_bytes;

	/* [connect] */
	uint16_t		connect_ports[CONFIG_MAX_PORTS];
	size_t			nconnect_ports;

	/* [headers] */
	bool			via;
	char			via_name[CONFIG_NAME_MAX]; /* never "" once
							      loaded */
	bool			forwarded_for;
	char			strip[CONFIG_MAX_STRIP][CONFIG_NAME_MAX];
	size_t			nstrip;

	/* [auth] and [destinations], as read; policy is built from them. */
	char			auth_users[CONFIG_TEXT_MAX];
	char			auth_realm[CONFIG_TEXT_MAX];
	unsigned		auth_cache_ttl;		/* seconds */
	char			dest_allow[CONFIG_LIST_MAX];
	char			dest_deny[CONFIG_LIST_MAX];
	char			dest_allow_file[CONFIG_TEXT_MAX];
	char			dest_deny_file[CONFIG_TEXT_MAX];
	enum dest_verdict	dest_default;
	enum dest_verdict	dest_internal;

	/*
	 * [proxy_protocol]: addresses where a load balancer connects with a
	 * PROXY protocol header (added to listens[], proxy set), and the
	 * balancers allowed there (the acl: config_free() frees it).
	 */
	char			proxy_listen[CONFIG_TEXT_MAX];
	char			proxy_from_text[CONFIG_LIST_MAX];
	struct acl		proxy_from;

	/* [log] */
	enum log_level		log_level;
	char			log_target[CONFIG_TEXT_MAX];
	char			log_access[CONFIG_TEXT_MAX];

	/*
	 * [whitelist]; without the section, loopback only. Its entries are
	 * on the heap and owned here: config_free() frees them.
	 */
	struct acl		whitelist;
	bool			whitelist_default;

	/*
	 * [metrics]: the endpoint's address (metrics_listen "" : off) and
	 * who may scrape it (allow, on the heap and owned here, built from
	 * metrics_allow_text: config_free() frees it).
	 */
	char			metrics_listen[CONFIG_TEXT_MAX];
	struct config_listen	metrics_addr;
	char			metrics_allow_text[CONFIG_LIST_MAX];
	struct acl		metrics_allow;

	/* The users, the credential cache and the rules (policy.h). */
	struct policy		policy;

	/*
	 * [parents] and [routes]: the parent proxies, their health and
	 * where each destination goes (route.h).
	 */
	struct route_table	routes;

	/*
	 * What the load found worth saying but not refusing (a users file
	 * others can read, rules that never apply): lines, each ending in
	 * '\n'; nwarnings counts them all, kept or not.
	 */
	char			warnings[CONFIG_WARN_MAX];
	size_t			nwarnings;

	/*
	 * Which live snapshot this is: 1 for the first made live, one more
	 * for each reload (config_set_live() sets it); 0 if never live.
	 */
	unsigned long		generation;

	/* The one field that changes: holders of a snapshot (config_new). */
	atomic_uint		refs;
};

/*
 * Load and validate path into cfg (overwritten whole: free what it held
 * first). Every key has a default; an unknown section or key, or a bad
 * value, fails. Returns 0, or -1 with a message naming the file, section,
 * key and value in err. On failure cfg holds nothing to free. On success
 * free it with config_free(). Not thread-safe (iniparser's error callback
 * and a static buffer): one load at a time, as main.c does at start-up
 * and on SIGHUP.
 */
int config_load(const char *path, struct ferry_config *cfg, char *err,
    size_t errlen);

/*
 * Release what config_load() allocated (the whitelist, the policy); cfg itself
 * stays the caller's. A snapshot from config_new() goes by config_release().
 */
void config_free(struct ferry_config *cfg);

/*
 * config_load() into a new heap snapshot holding one reference (the
 * caller's; drop it with config_release(), never config_free()). Returns
 * NULL with a message in err. Same thread rule as config_load().
 */
struct ferry_config *config_new(const char *path, char *err, size_t errlen);

/*
 * Make cfg (from config_new(), or NULL at exit) the live snapshot, taking
 * over the caller's reference, and drop the live reference to the old one:
 * it is freed now only if no connection still holds it. Any thread; takes
 * the live lock.
 */
void config_set_live(struct ferry_config *cfg);

/*
 * A reference to the live snapshot, or NULL if none is live (before
 * start-up, after exit); give it back with config_release(). Any thread;
 * takes the live lock briefly, so a reload cannot free it under the call.
 */
const struct ferry_config *config_acquire(void);

/*
 * The generation of the live snapshot (0 before start-up): one atomic
 * read, so that a worker can tell cheaply, before each request, whether
 * its connection's snapshot is still the live one. Any thread.
 */
unsigned long config_live_generation(void);

/*
 * Another reference to the snapshot cfg, which the caller holds one of
 * already; returns cfg. Any thread: the count is atomic.
 */
const struct ferry_config *config_retain(const struct ferry_config *cfg);

/*
 * Drop a reference; the last one frees the snapshot. NULL is a no-op. Any
 * thread: the count is atomic.
 */
void config_release(const struct ferry_config *cfg);

/*
 * Keys that only take effect at start (the listening socket, the user,
 * the pidfile, the pool's shape). Writes into out a comma list of those
 * that differ between a and b ("" if none; cut short if outlen is small)
 * and returns how many. Reads only.
 */
size_t config_restart_keys_changed(const struct ferry_config *a,
    const struct ferry_config *b, char *out, size_t outlen);

/*
 * Give cfg (a reload's snapshot, not yet live) the running values of the
 * keys config_restart_keys_changed() compares, from boot, so that what
 * the log says holds: "the running value stays". A request that reads
 * one of them from its snapshot (the listening addresses, to refuse a
 * loop back into ferry) reads what is really in force. [metrics] allow
 * is not copied: the metrics thread holds the boot snapshot's list.
 */
void config_keep_restart_keys(struct ferry_config *cfg,
    const struct ferry_config *boot);

/* True if port is in the [connect] ports list. Reads only: any thread. */
bool config_connect_port_allowed(const struct ferry_config *cfg,
    uint16_t port);

/*
 * True if name (length len, not NUL-terminated) is in the [headers] strip
 * list, any case. Reads only: any thread.
 */
bool config_strips_header(const struct ferry_config *cfg, const char *name,
    size_t len);

#endif
