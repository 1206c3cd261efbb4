#!/usr/bin/env python3
"""bench.py: ferry against tinyproxy, squid and HAProxy, on loopback.

Starts its own nginx origin (a 12-byte file, 1 MiB, 256 MiB; a TLS port
for CONNECT), tinyproxy, squid and HAProxy with minimal temporary configs,
and the ferry binary given, twice (pool mode, and "ferry-thread" in thread
mode), all on kernel-chosen loopback ports. Runs each load against
"direct" (no proxy, where that makes sense) and every proxy, then prints
one table with ratios to direct (xd), to tinyproxy (xt) and to HAProxy
(xh), and writes the same numbers as TSV. The curve scenario also draws
OUT/curve.svg (requests/s by number of clients) with gnuplot.

  bench/bench.py --ferry src/ferry [--seconds 10] [--only a,b] [--out DIR]
                 [--peers tinyproxy,squid,haproxy,ferry-thread]
  make bench          (the same, with the ferry just built)

Tools come from Debian: nginx-light wrk apache2-utils curl openssl
tinyproxy squid haproxy gnuplot-nox (the script says which are missing).
Every load is bounded in time; everything started is stopped by pid, also
on Ctrl-C.
"""
import argparse
import atexit
import base64
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = ["nginx", "wrk", "ab", "curl", "openssl", "tinyproxy", "squid",
         "htpasswd", "haproxy", "gnuplot"]
# The Debian package of each tool, for the missing-tools message.
PACKAGES = {"nginx": "nginx-light", "ab": "apache2-utils",
            "htpasswd": "apache2-utils", "gnuplot": "gnuplot-nox"}
SCENARIOS = ["small_c50", "small_c500", "small_c1", "ab_keepalive", "mb_c8",
             "big_get", "big_connect", "idle_1000", "auth_c50", "parent_c50",
             "parent_connect", "curve"]
# curve runs 6 loads on every system: only when asked for (--only curve).
DEFAULT = [s for s in SCENARIOS if s != "curve"]
# The systems started besides direct and ferry (--peers), table order.
PEERS = ["tinyproxy", "squid", "haproxy", "ferry-thread"]
# curve: wrk's number of connections, each for --seconds.
CURVE = [1, 10, 50, 200, 500, 2000]
# Clients each proxy is sized for when curve runs (ferry's max_clients,
# tinyproxy's MaxClients); the shipped ferry default is 1024.
CURVE_CLIENTS = 4096
# Loads HAProxy cannot serve: it has no forward CONNECT.
NO_CONNECT = {"big_connect"}
# auth_c50: the login the second ferry asks for (bcrypt, htpasswd's cost).
AUTH_USER, AUTH_PASSWORD = "bench", "bench-password"
STARTED = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def start(cmd, port, log):
    """Start a server that stays in the foreground; wait for its port."""
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    STARTED.append(proc)
    if not wait_port(port):
        sys.exit("bench: %s did not listen on %d (see %s)"
                 % (cmd[0], port, log.name))
    return proc


@atexit.register
def stop_all():
    for proc in reversed(STARTED):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# --- the servers ---

def start_origin(d):
    www = os.path.join(d, "www")
    os.mkdir(www)
    write(os.path.join(www, "small"), "hello world\n")
    with open(os.path.join(www, "1m"), "wb") as f:
        f.write(os.urandom(1 << 20))
    with open(os.path.join(www, "big"), "wb") as f:
        f.truncate(256 << 20)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=127.0.0.1", "-days", "1",
                    "-keyout", os.path.join(d, "key.pem"),
                    "-out", os.path.join(d, "cert.pem")],
                   check=True, capture_output=True)
    http, tls = free_port(), free_port()
    conf = write(os.path.join(d, "nginx.conf"), """
daemon off; worker_processes 2; pid %(d)s/nginx.pid; error_log %(d)s/nginx.err;
events { worker_connections 8192; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path %(d)s; proxy_temp_path %(d)s;
  fastcgi_temp_path %(d)s; uwsgi_temp_path %(d)s; scgi_temp_path %(d)s;
  server { listen 127.0.0.1:%(http)d; root %(www)s; }
  server { listen 127.0.0.1:%(tls)d ssl; root %(www)s;
           ssl_certificate %(d)s/cert.pem; ssl_certificate_key %(d)s/key.pem; }
}
""" % {"d": d, "http": http, "tls": tls, "www": www})
    start(["nginx", "-c", conf, "-p", d], http,
          open(os.path.join(d, "nginx.log"), "w"))
    return http, tls


def start_tinyproxy(d, tls, clients=1000):
    port = free_port()
    conf = write(os.path.join(d, "tinyproxy.conf"),
                 "Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients %d\n"
                 "LogLevel Critical\nConnectPort %d\nAllow 127.0.0.1\n"
                 "DisableViaHeader Yes\n" % (port, clients, tls))
    start(["tinyproxy", "-d", "-c", conf], port,
          open(os.path.join(d, "tinyproxy.log"), "w"))
    return port


def start_squid(d, tls):
    port = free_port()
    os.chmod(d, 0o755)
    conf = write(os.path.join(d, "squid.conf"), """
http_port 127.0.0.1:%(port)d
acl tls port %(tls)d
acl CONNECT method CONNECT
http_access deny CONNECT !tls
http_access allow localhost
http_access deny all
cache deny all
cache_mem 8 MB
access_log none
cache_log %(d)s/squid-cache.log
pid_filename %(d)s/squid.pid
coredump_dir %(d)s
max_filedescriptors 16384
shutdown_lifetime 1 seconds
""" % {"port": port, "tls": tls, "d": d})
    start(["squid", "-N", "-f", conf], port,
          open(os.path.join(d, "squid.log"), "w"))
    return port


def start_haproxy(d):
    """HAProxy as a forward proxy for absolute-form GETs only (it has no
    forward CONNECT): each request goes to the address and port of its
    target, in origin-form, over kept-alive connections on both sides."""
    port = free_port()
    conf = write(os.path.join(d, "haproxy.cfg"), """
global
    maxconn 20000
    # 20,000 connections want 40,000 files; with a lower hard limit,
    # start anyway (a warning): the loads here hold at most 2,000.
    no strict-limits
    nbthread %(threads)d
defaults
    mode http
    option http-keep-alive
    timeout connect 10s
    timeout client 300s
    timeout server 300s
    timeout http-request 60s
    timeout http-keep-alive 300s
frontend forward
    bind 127.0.0.1:%(port)d
    maxconn 20000
    default_backend targets
backend targets
    http-reuse always
    http-request set-dst url_ip
    http-request set-dst-port url_port
    http-request set-uri %%[pathq]
    server clear 0.0.0.0:0
""" % {"port": port, "threads": os.cpu_count() or 1})
    start(["haproxy", "-db", "-f", conf], port,
          open(os.path.join(d, "haproxy.log"), "w"))
    return port


def start_ferry(d, binary, tls, name="ferry", extra=""):
    """ferry with the shipped defaults; the origin lives on 127.0.0.1,
    which the internal-address guard refuses unless allowed."""
    port = free_port()
    conf = write(os.path.join(d, name + ".ini"),
                 "[server]\nlisten = 127.0.0.1:%d\n[connect]\nports = %d\n"
                 "[destinations]\nallow = 127.0.0.1\n"
                 "[log]\nlevel = warn\ntarget = %s/%s.log\n%s"
                 % (port, tls, d, name, extra))
    start([binary, "-f", "-c", conf], port,
          open(os.path.join(d, name + ".out"), "w"))
    return port


def pool_section(thread=False, clients=None):
    """ferry's [pool] section: thread mode and max_clients if asked."""
    keys = ("mode = thread\n" if thread else "") + \
        ("max_clients = %d\n" % clients if clients else "")
    return "[pool]\n" + keys if keys else ""


def start_ferry_auth(d, binary, tls):
    """A second ferry that asks for a login: a users file of one bcrypt
    entry made by htpasswd -B (cost 10, as admins make them)."""
    users = os.path.join(d, "users")
    subprocess.run(["htpasswd", "-B", "-C", "10", "-b", "-c", users,
                    AUTH_USER, AUTH_PASSWORD], check=True,
                   capture_output=True)
    return start_ferry(d, binary, tls, "ferry-auth",
                       "[auth]\nusers = %s\n" % users)


def start_ferry_edge(d, binary, tls, parent):
    """A second ferry whose every request goes through the first as its
    parent proxy ([routes] default = up): ferry -> ferry."""
    return start_ferry(d, binary, tls, "ferry-edge",
                       "[headers]\nvia_name = edge\n"
                       "[parents]\nup = http://127.0.0.1:%d\n"
                       "[routes]\ndefault = up\n" % parent)


# --- the loads ---

def wrk(proxy, origin, path, conns, seconds, login=""):
    """wrk through proxy (None: direct), sending login as
    Proxy-Authorization if given; returns (req/s ok, p99 ms, errs)."""
    script = os.path.join(HERE, "absform.lua")
    url = "http://127.0.0.1:%d/" % (proxy or origin)
    cmd = ["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns),
           "-d", "%ds" % seconds, "--timeout", "5s", "--latency",
           "-s", script, url]
    if proxy:
        cmd += ["--", "http://127.0.0.1:%d%s" % (origin, path), "", login]
    else:
        cmd += ["--", "", path]
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    if "BENCH " not in out:
        return None
    m = dict(re.findall(r"(\w+)=([\d.]+)", out.split("BENCH ", 1)[1]))
    ok = float(m["requests"]) - float(m["non2xx"])
    return {"req/s": ok / (float(m["duration_us"]) / 1e6),
            "p99 ms": float(m["p99_us"]) / 1000,
            "errors": int(float(m["non2xx"]) + float(m["timeout"]) +
                          float(m["connect"])),
            "MB/s": float(m["bytes"]) / (float(m["duration_us"]) / 1e6)
            / 1e6}


def auth_c50(plain, authed, origin, seconds, rounds=3):
    """small_c50 through ferry without and with a login, alternating, so
    both see the same machine; the median run of each."""
    login = "Basic " + base64.b64encode(
        ("%s:%s" % (AUTH_USER, AUTH_PASSWORD)).encode()).decode()
    runs = {"ferry": [], "ferry+auth": []}
    for _ in range(rounds):
        runs["ferry"].append(wrk(plain, origin, "/small", 50, seconds))
        runs["ferry+auth"].append(wrk(authed, origin, "/small", 50, seconds,
                                      login))
    out = {}
    for name, got in runs.items():
        got = [r for r in got if r]
        if got:
            out[name] = sorted(got, key=lambda r: r["req/s"])[len(got) // 2]
    return out


def alternate(loads, rounds=3):
    """Run each named load rounds times, alternating, so that all see the
    same machine; the median run of each (by req/s, else MB/s)."""
    runs = {name: [] for name in loads}
    for _ in range(rounds):
        for name, load in loads.items():
            runs[name].append(load())
    out = {}
    for name, got in runs.items():
        got = [r for r in got if r]
        key = "req/s" if got and "req/s" in got[0] else "MB/s"
        if got:
            out[name] = sorted(got, key=lambda r: r[key])[len(got) // 2]
    return out


def curve(ports, systems, origin, seconds):
    """small_c50's load at every number of clients in CURVE, on every
    system, all systems at one number before the next; one result per
    number, named curve_cN, of req/s, p99 ms and errors."""
    out = []
    for conns in CURVE:
        metrics = {}
        for sysname in systems:
            r = wrk(ports.get(sysname), origin, "/small", conns, seconds)
            if r:
                del r["MB/s"]
            metrics[sysname] = r
            print("bench: curve_c%d/%s: %s" % (conns, sysname, r),
                  file=sys.stderr)
        out.append(("curve_c%d" % conns, metrics))
    return out


def plot_curve(curves, systems, out, seconds):
    """Write OUT/curve.dat (a column of req/s per system) and draw
    OUT/curve.svg from it with curve.gp."""
    lines = ["clients " + " ".join(systems)]
    for (scen, metrics), conns in zip(curves, CURVE):
        cells = []
        for s in systems:
            v = (metrics.get(s) or {}).get("req/s")
            cells.append("%.2f" % v if v else "NaN")
        lines.append("%d %s" % (conns, " ".join(cells)))
    data = write(os.path.join(out, "curve.dat"), "\n".join(lines) + "\n")
    svg = os.path.join(out, "curve.svg")
    heading = ("ferry bench: 12-byte GET, wrk %d s per point, %d cores, %s"
               % (seconds, os.cpu_count() or 1,
                  time.strftime("%Y-%m-%d %H:%M")))
    gp = subprocess.run(
        ["gnuplot", "-e", "data='%s'; out='%s'; heading='%s'; columns=%d"
         % (data, svg, heading, len(systems) + 1),
         os.path.join(HERE, "curve.gp")],
        capture_output=True, text=True, timeout=60)
    if gp.returncode != 0:
        print("bench: gnuplot failed: %s" % gp.stderr.strip(),
              file=sys.stderr)
        return None
    return svg


def ab_keepalive(proxy, origin, n=20000):
    cmd = ["ab", "-k", "-n", str(n), "-c", "50", "-s", "10"]
    if proxy:
        cmd += ["-X", "127.0.0.1:%d" % proxy]
    cmd.append("http://127.0.0.1:%d/small" % origin)
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=120).stdout
    rps = re.search(r"Requests per second:\s+([\d.]+)", out)
    ka = re.search(r"Keep-Alive requests:\s+(\d+)", out)
    return {"req/s": float(rps.group(1)) if rps else 0.0,
            "keep-alive requests": int(ka.group(1)) if ka else 0}


def curl_speed(args, runs=3):
    speeds = []
    for _ in range(runs):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                              "%{http_code} %{speed_download}",
                              "--max-time", "120"] + args,
                             capture_output=True, text=True).stdout.split()
        if len(out) == 2 and out[0] == "200":
            speeds.append(float(out[1]) / 1e6)
    return {"MB/s": statistics.median(speeds) if speeds else 0.0}


def idle_1000(proxy, origin, pid):
    out = subprocess.run([sys.executable, os.path.join(HERE, "idle.py"),
                          str(proxy), str(origin), str(pid or 0)],
                         capture_output=True, text=True, timeout=120)
    return dict((k, float(v)) for k, v in
                re.findall(r"^(.+?)=([\d.]+)$", out.stdout, re.M))


def rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as st:
            for line in st:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --- the table ---

# Metrics where less is better: their ratios are inverted, so that a
# ratio above 1 always means "better than the reference".
LOWER_IS_BETTER = {"p99 ms", "fresh ms", "RSS held MB", "peak RSS MB",
                   "threads held", "errors"}


def ratio(v, base, lower_better=False):
    if not base or not v:
        return ""
    r = base / v if lower_better else v / base
    return "%.2f" % r


def report(results, systems, out):
    rows = []
    tsv = []
    for scen, metrics in results:
        for metric in sorted({m for r in metrics.values() if r for m in r}):
            lower = metric in LOWER_IS_BETTER
            cells = []
            for s in systems:
                v = (metrics.get(s) or {}).get(metric)
                if v is None:
                    cells.append("")
                    continue
                tsv.append("%s\t%s\t%s\t%s" % (scen, s, metric, v))
                cell = "%d" % v if float(v).is_integer() else "%.2f" % v
                notes = []
                for ref, tag in (("direct", "xd"), ("tinyproxy", "xt"),
                                 ("haproxy", "xh"), ("ferry", "xf")):
                    base = (metrics.get(ref) or {}).get(metric)
                    if ref == "haproxy" and s not in ("ferry",
                                                      "ferry-thread"):
                        continue
                    if ref == "ferry" and s not in ("ferry+auth",
                                                    "ferry->ferry",
                                                    "ferry-thread"):
                        continue
                    if s not in (ref, "direct") and base:
                        r = ratio(v, base, lower)
                        if r:
                            notes.append(r + tag)
                if notes:
                    cell += " (" + ", ".join(notes) + ")"
                cells.append(cell)
            rows.append("| %s | %s | %s |" % (scen, metric, " | ".join(cells)))
    head = "| scenario | metric | " + " | ".join(systems) + " |"
    sep = "|" + "---|" * (len(systems) + 2)
    table = "\n".join([head, sep] + rows)
    print(table)
    write(os.path.join(out, "table.md"), table + "\n")
    write(os.path.join(out, "results.tsv"), "\n".join(tsv) + "\n")
    print("\nxd: ratio to direct, xt: to tinyproxy, xh: to haproxy, xf: to "
          "ferry; above 1 is better "
          "(inverted for %s)" % ", ".join(sorted(LOWER_IS_BETTER)))
    print("results: %s/table.md, %s/results.tsv" % (out, out))


def raise_nofile():
    """wrk's 2,000 connections, and every server started (which inherits
    it), need more open files than the usual soft limit: the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as e:
            print("bench: cannot raise the open-files limit to %d: %s"
                  % (hard, e), file=sys.stderr)


def check_tools(peers, only):
    """The tools this run needs: those of the peers asked for, gnuplot
    for curve only."""
    skip = {p for p in ("tinyproxy", "squid", "haproxy") if p not in peers}
    if "curve" not in only:
        skip.add("gnuplot")
    missing = [t for t in TOOLS
               if t not in skip and shutil.which(t) is None]
    if missing:
        pkgs = []
        for t in TOOLS:
            pkg = PACKAGES.get(t, t)
            if pkg not in pkgs:
                pkgs.append(pkg)
        sys.exit("bench: missing %s; apt-get install -y %s"
                 % (" ".join(missing), " ".join(pkgs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--only", default=",".join(DEFAULT),
                    help="scenarios, comma-separated, of: %s (default: all "
                    "but curve)" % ",".join(SCENARIOS))
    ap.add_argument("--peers", default=",".join(PEERS),
                    help="systems started besides direct and ferry, "
                    "comma-separated (default: %s)" % ",".join(PEERS))
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    only = a.only.split(",")
    peers = [p for p in a.peers.split(",") if p]
    for name, got, known in (("scenario", only, SCENARIOS),
                             ("peer", peers, PEERS)):
        bad = [x for x in got if x not in known]
        if bad:
            sys.exit("bench: unknown %s %s (known: %s)"
                     % (name, ",".join(bad), ",".join(known)))
    check_tools(peers, only)
    raise_nofile()
    out = a.out or tempfile.mkdtemp(prefix="ferry-bench-")
    os.makedirs(out, exist_ok=True)
    d = tempfile.mkdtemp(prefix="ferry-bench-run-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ferry = os.path.abspath(a.ferry)
    # curve goes up to 2,000 clients: every proxy is sized for more.
    clients = CURVE_CLIENTS if "curve" in only else None
    http, tls = start_origin(d)
    ports, pids = {}, {}
    starters = {
        "tinyproxy": lambda: start_tinyproxy(d, tls, clients or 1000),
        "squid": lambda: start_squid(d, tls),
        "haproxy": lambda: start_haproxy(d),
        "ferry": lambda: start_ferry(d, ferry, tls,
                                     extra=pool_section(clients=clients)),
        "ferry-thread": lambda: start_ferry(
            d, ferry, tls, "ferry-thread",
            pool_section(thread=True, clients=clients)),
    }
    systems = ["direct"]
    for name in ("tinyproxy", "squid", "haproxy", "ferry", "ferry-thread"):
        if name == "ferry" or name in peers:
            ports[name] = starters[name]()
            pids[name] = STARTED[-1].pid
            systems.append(name)
    if "auth_c50" in only:
        ports["ferry+auth"] = start_ferry_auth(d, ferry, tls)
        systems.append("ferry+auth")
    if "parent_c50" in only or "parent_connect" in only:
        ports["ferry->ferry"] = start_ferry_edge(d, ferry, tls,
                                                 ports["ferry"])
        systems.append("ferry->ferry")
    results = []
    s = a.seconds
    loads = {
        "small_c50": lambda p: wrk(p, http, "/small", 50, s),
        "small_c500": lambda p: wrk(p, http, "/small", 500, s),
        "small_c1": lambda p: wrk(p, http, "/small", 1, s),
        "ab_keepalive": lambda p: ab_keepalive(p, http),
        "mb_c8": lambda p: wrk(p, http, "/1m", 8, s),
        "big_get": lambda p: curl_speed(
            (["-x", "127.0.0.1:%d" % p] if p else []) +
            ["http://127.0.0.1:%d/big" % http]),
        "big_connect": lambda p: curl_speed(
            ["-k"] + (["-p", "-x", "127.0.0.1:%d" % p] if p else []) +
            ["https://127.0.0.1:%d/big" % tls]),
    }
    # The systems every plain scenario runs on: not the two ferries
    # that only auth_c50 and parent_* compare with the first.
    plain = [x for x in systems if x not in ("ferry+auth", "ferry->ferry")]
    svg = None
    for scen in SCENARIOS:
        if scen not in only:
            continue
        if scen == "curve":
            curves = curve(ports, plain, http, s)
            results.extend(curves)
            svg = plot_curve(curves, plain, out, s)
            continue
        if scen == "auth_c50":
            metrics = auth_c50(ports["ferry"], ports["ferry+auth"], http, s)
            print("bench: auth_c50: %s" % metrics, file=sys.stderr)
            results.append((scen, metrics))
            continue
        if scen in ("parent_c50", "parent_connect"):
            load = loads["small_c50" if scen == "parent_c50" else
                         "big_connect"]
            metrics = alternate({
                "ferry": lambda: load(ports["ferry"]),
                "ferry->ferry": lambda: load(ports["ferry->ferry"])})
            print("bench: %s: %s" % (scen, metrics), file=sys.stderr)
            results.append((scen, metrics))
            continue
        metrics = {}
        for sysname in plain:
            if sysname == "haproxy" and scen in NO_CONNECT:
                continue
            if scen == "idle_1000":
                if sysname != "direct":
                    metrics[sysname] = idle_1000(ports[sysname], http,
                                                 pids.get(sysname))
                continue
            metrics[sysname] = loads[scen](ports.get(sysname))
            print("bench: %s/%s: %s" % (scen, sysname, metrics[sysname]),
                  file=sys.stderr)
        results.append((scen, metrics))
    results.append(("memory", {k: {"peak RSS MB": rss_mb(pid)}
                               for k, pid in pids.items()}))
    report(results, systems, out)
    if svg:
        print("curve: %s (data %s/curve.dat)" % (svg, out))


if __name__ == "__main__":
    main()
