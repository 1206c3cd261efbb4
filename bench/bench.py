#!/usr/bin/env python3
"""bench.py: ferry against tinyproxy and squid, on loopback.

Starts its own nginx origin (a 12-byte file, 1 MiB, 256 MiB; a TLS port
for CONNECT), tinyproxy and squid with minimal temporary configs, and the
ferry binary given, all on kernel-chosen loopback ports. Runs each load
against "direct" (no proxy, where that makes sense) and every proxy, then
prints one table with ratios to direct (xd) and to tinyproxy (xt), and
writes the same numbers as TSV.

  bench/bench.py --ferry src/ferry [--seconds 10] [--only a,b] [--out DIR]
  make bench          (the same, with the ferry just built)

Tools come from Debian: nginx-light wrk apache2-utils curl openssl
tinyproxy squid (the script says which are missing). Every load is bounded
in time; everything started is stopped by pid, also on Ctrl-C.
"""
import argparse
import atexit
import base64
import os
import re
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
         "htpasswd"]
SCENARIOS = ["small_c50", "small_c500", "small_c1", "ab_keepalive", "mb_c8",
             "big_get", "big_connect", "idle_1000", "auth_c50", "parent_c50",
             "parent_connect"]
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


def start_tinyproxy(d, tls):
    port = free_port()
    conf = write(os.path.join(d, "tinyproxy.conf"),
                 "Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 1000\n"
                 "LogLevel Critical\nConnectPort %d\nAllow 127.0.0.1\n"
                 "DisableViaHeader Yes\n" % (port, tls))
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
                                 ("ferry", "xf")):
                    base = (metrics.get(ref) or {}).get(metric)
                    if ref == "ferry" and s not in ("ferry+auth",
                                                    "ferry->ferry"):
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
    print("\nxd: ratio to direct, xt: to tinyproxy, xf: to ferry; above 1 "
          "is better "
          "(inverted for %s)" % ", ".join(sorted(LOWER_IS_BETTER)))
    print("results: %s/table.md, %s/results.tsv" % (out, out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--only", default=",".join(SCENARIOS))
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        sys.exit("bench: missing %s; apt-get install -y nginx-light wrk "
                 "apache2-utils curl openssl tinyproxy squid"
                 % " ".join(missing))
    only = a.only.split(",")
    out = a.out or tempfile.mkdtemp(prefix="ferry-bench-")
    os.makedirs(out, exist_ok=True)
    d = tempfile.mkdtemp(prefix="ferry-bench-run-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    http, tls = start_origin(d)
    ports = {"tinyproxy": start_tinyproxy(d, tls),
             "squid": start_squid(d, tls),
             "ferry": start_ferry(d, os.path.abspath(a.ferry), tls)}
    pids = {p.args[0].split("/")[-1]: p.pid for p in STARTED}
    pids["ferry"] = STARTED[-1].pid
    systems = ["direct", "tinyproxy", "squid", "ferry"]
    if "auth_c50" in only:
        ports["ferry+auth"] = start_ferry_auth(d, os.path.abspath(a.ferry),
                                               tls)
        systems.append("ferry+auth")
    if "parent_c50" in only or "parent_connect" in only:
        ports["ferry->ferry"] = start_ferry_edge(d, os.path.abspath(a.ferry),
                                                 tls, ports["ferry"])
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
    for scen in SCENARIOS:
        if scen not in only:
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
        for sysname in systems:
            if sysname in ("ferry+auth", "ferry->ferry"):  # their own
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
    results.append(("memory", {k: {"peak RSS MB": rss_mb(pids[k])}
                               for k in ("tinyproxy", "squid", "ferry")
                               if k in pids}))
    report(results, systems, out)


if __name__ == "__main__":
    main()
