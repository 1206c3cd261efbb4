#!/usr/bin/env python3
"""haproxy: a real HAProxy in front of ferry for the end-to-end tests.

Issue 18 tests ferry behind a real load balancer: HAProxy (Debian package
haproxy, 2.6) in TCP mode, sending the PROXY protocol header (v2 or v1)
to each backend, health-checking them, retrying and redispatching the
connections it could not establish. The class here runs one real
haproxy in the foreground (-db) on a kernel-chosen loopback port, in its
own temporary directory, and stops it by the pid it started (SIGUSR1,
HAProxy's soft stop, then SIGTERM, then SIGKILL, each after a bound).
Every wait is bounded.

  HAProxy(backends, send_proxy="v2", check=True, extra_global=(),
          extra_backend=(), redispatch=1)
      backends: ports on 127.0.0.1, or (host, port) pairs; they become
      servers s1, s2, ... of backend "be", balance roundrobin, each
      "check inter 200ms fall 2 rise 2" (unless check=False).
      send_proxy: "v2" (send-proxy-v2), "v1" (send-proxy) or None; with a
      header, "check-send-proxy" makes health checks send one too (the
      default already when the check goes to the server's own address).
      Health checks are plain TCP connects (plus the header), then a
      close (HAProxy resets it); extra_backend may add "option httpchk
      ..." and the like. A v2 check header is a LOCAL command; a v1 one
      is "PROXY TCP4" with the check connection's own addresses.
      redispatch: the interval of "option redispatch" (1: every retry
      goes to another server; None: plain "option redispatch", which
      redispatches on the last retry only).
      extra_global, extra_backend: more haproxy.cfg lines for the global
      section and for the backend.
      .port   the frontend, 127.0.0.1 only (mode tcp)
      .log()  HAProxy's log (stderr: alerts, warnings, health-check state
              changes, and one "option tcplog" line per connection)
      .server_states()  {"s1": "UP", "s2": "DOWN", ...} from "show stat"
              on the stats socket (the first word of the status column:
              "UP 1/2" is a server still UP that failed one check,
              "DOWN 1/2" one still DOWN that passed one; "MAINT" and
              "DRAIN" are admin states; "no check" without check=True)
      .wait_state(name, "UP"|"DOWN", timeout)  True once it is, else False
      .admin(command)  one command on the stats socket (level admin), its
              answer: "set server be/s1 state drain", "show servers state"
      .dir .cfg .proc .start_seconds .stop_seconds .stop_status
  Clients reach HAProxy at 127.0.0.1:.port from any loopback source
  address: the choice is the client's (socket.bind(("127.0.0.2", 0))
  before connect(); curl --interface 127.0.0.2). Linux routes all of
  127.0.0.0/8 to lo, so 127.0.0.2 needs no setup; HAProxy puts the
  client's address and port in the PROXY header it sends.

  ProxyEcho(name, require="any"|"v1"|"v2", port=0)
      A small pure-Python PROXY protocol backend for the self-test: a
      loopback TCP server that reads a v1 or v2 header (strictly: v1 at
      most 107 bytes ending in CRLF, v2 signature, version 2, length
      bounded), then answers each HTTP/1.x request on the connection with
      200 and a body naming what the header said:
      "backend=NAME version=2 command=PROXY src=127.0.0.2:PORT\\n".
      A bad header is recorded and the connection closed.
      .port .conns (one dict per connection: version, command, src, dst,
      requests, error: a bad header, io_error: a reset or the like after
      a good one, as HAProxy's health checks end) .requests() .checks()
      (connections with no request: HAProxy's health checks)
      .close_listener(drain=False) (close the listening socket without
      accepting what the kernel completed: those connections are reset;
      drain=True accepts and serves them first) .stop().

`python3 tests/haproxy.py` checks HAProxy against ProxyEcho alone (no
ferry) and ends with "N passed, N failed".
"""
import csv
import ctypes
import io
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferrytest import Skip, free_port, read_text  # noqa

HAPROXY = os.environ.get("FERRY_HAPROXY", "/usr/sbin/haproxy")
START_TIMEOUT = 20.0  # haproxy starts in well under 0.1 s here
SOFT_STOP_TIMEOUT = 5.0  # SIGUSR1, then SIGTERM
STOP_TIMEOUT = 5.0  # SIGTERM, then SIGKILL
BACKEND = "be"
FRONTEND = "fe"
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def _listening(host, port):
    """True if /proc/net/tcp shows host:port (IPv4) in LISTEN, without
    connecting (a probe connection would reach a backend)."""
    want = "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(host))[0],
                          port)
    for line in read_text("/proc/net/tcp").splitlines()[1:]:
        f = line.split()
        if len(f) > 3 and f[1] == want and f[3] == "0A":
            return True
    return False


class HAProxy:
    """A real haproxy (-db: foreground, no master-worker) on 127.0.0.1."""

    def __init__(self, backends, send_proxy="v2", check=True,
                 extra_global=(), extra_backend=(), redispatch=1):
        if send_proxy not in ("v2", "v1", None):
            raise ValueError("send_proxy: 'v2', 'v1' or None")
        self.backends = [(b, ) if isinstance(b, int) else tuple(b)
                         for b in backends]
        self.backends = [("127.0.0.1", b[0]) if len(b) == 1 else b
                         for b in self.backends]
        self.send_proxy = send_proxy
        self.check = check
        self.extra_global = list(extra_global)
        self.extra_backend = list(extra_backend)
        self.redispatch = redispatch
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self.dir = tempfile.mkdtemp(prefix="ferry-haproxy-")
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        self.sock = os.path.join(self.dir, "admin.sock")
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.proc = None
        self.start_seconds = None
        self.stop_seconds = None
        self.stop_status = None

    def names(self):
        return ["s%d" % (i + 1) for i in range(len(self.backends))]

    def config(self):
        server_opts = ""
        if self.check:
            server_opts += " check inter 200ms fall 2 rise 2"
        if self.send_proxy == "v2":
            server_opts += " send-proxy-v2"
        elif self.send_proxy == "v1":
            server_opts += " send-proxy"
        if self.send_proxy and self.check:
            server_opts += " check-send-proxy"
        lines = [
            "global",
            "    log stderr format raw local0 info",
            "    stats socket %s mode 600 level admin" % self.sock,
            "    stats timeout 10s",
            "    maxconn 2000",
            "    nbthread 2",
            "    hard-stop-after 3s",
        ]
        lines += ["    " + ln for ln in self.extra_global]
        lines += [
            "",
            "defaults",
            "    mode tcp",
            "    log global",
            "    option tcplog",
            "    timeout connect 2s",
            "    timeout client 30s",
            "    timeout server 30s",
            "    timeout check 1s",
            "    retries 3",
            "    option redispatch" + ("" if self.redispatch is None
                                       else " %d" % self.redispatch),
            "",
            "frontend %s" % FRONTEND,
            "    bind %s:%d" % (self.host, self.port),
            "    default_backend %s" % BACKEND,
            "",
            "backend %s" % BACKEND,
            "    balance roundrobin",
        ]
        lines += ["    " + ln for ln in self.extra_backend]
        for name, (host, port) in zip(self.names(), self.backends):
            h = "[%s]" % host if ":" in host else host
            lines.append("    server %s %s:%d%s" % (name, h, port,
                                                    server_opts))
        return "\n".join(lines) + "\n"

    def start(self):
        t0 = time.monotonic()
        if not os.access(HAPROXY, os.X_OK):
            raise Skip("%s is missing (apt-get install haproxy)" % HAPROXY)
        try:
            with open(self.cfg, "w") as f:
                f.write(self.config())
            with open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(
                    [HAPROXY, "-f", self.cfg, "-db"],
                    stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                    cwd=self.dir, start_new_session=True)
            deadline = t0 + START_TIMEOUT
            while True:
                if _listening(self.host, self.port) and \
                        os.path.exists(self.sock):
                    try:
                        if "Name: HAProxy" in self.admin("show info"):
                            break
                    except OSError:
                        pass
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise RuntimeError(
                        "haproxy did not listen on %d within %.0f s "
                        "(exit %s):\n%s" % (self.port, START_TIMEOUT,
                                            self.proc.poll(), self.log()))
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def admin(self, command, timeout=5.0):
        """Send one command on the stats socket; its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.sock)
            s.sendall(command.encode() + b"\n")
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        return out.decode("utf-8", "replace")

    def stats(self):
        """The rows of "show stat" for the servers of the backend, as
        dicts keyed by the CSV header (pxname, svname, status, scur,
        stot, chkfail, ...)."""
        text = self.admin("show stat")
        if not text.startswith("# "):
            raise RuntimeError("show stat: %r" % text[:200])
        rows = csv.DictReader(io.StringIO(text[2:]))
        return [r for r in rows if r["pxname"] == BACKEND and
                r["svname"] not in ("FRONTEND", "BACKEND")]

    def server_states(self):
        """{server name: "UP" | "DOWN" | "MAINT" | ...}: the first word of
        each server's status (see the module docstring)."""
        return {r["svname"]: (r["status"].split() or ["?"])[0]
                for r in self.stats()}

    def wait_state(self, name, state, timeout=5.0):
        """Wait until server name's state is state; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if self.server_states().get(name) == state:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def log(self):
        return read_text(self.stderr_path)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGUSR1 (soft stop: stop listening, let connections finish;
        hard-stop-after 3s bounds it), SIGTERM after SOFT_STOP_TIMEOUT,
        SIGKILL after STOP_TIMEOUT more; then SIGKILL to what is left of
        the session it leads; remove the directory. Returns the exit
        status (None if it never started)."""
        t0 = time.monotonic()
        if self.proc is not None:
            for sig, bound in ((signal.SIGUSR1, SOFT_STOP_TIMEOUT),
                               (signal.SIGTERM, STOP_TIMEOUT),
                               (signal.SIGKILL, 5.0)):
                if self.proc.poll() is not None:
                    break
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(bound)
                except subprocess.TimeoutExpired:
                    pass
            self.stop_status = self.proc.returncode
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
        self.stop_seconds = time.monotonic() - t0
        return self.stop_status

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------
# ProxyEcho: a PROXY protocol backend for the self-test.

class BadHeader(Exception):
    pass


def _recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise BadHeader("truncated (%d of %d bytes)" % (len(out), n))
        out += chunk
    return out


def read_proxy_header(s):
    """Read a PROXY protocol header from socket s; returns a dict
    (version, command, src, dst) or raises BadHeader. Strict enough for a
    test: v1 is at most 107 bytes ending in CRLF with the spec's fields;
    v2 has the signature, version 2, a known command and family, and at
    most 1024 bytes after the 16-byte head."""
    first = _recv_exact(s, 5)
    if first == b"PROXY":
        line = first
        while not line.endswith(b"\r\n"):
            if len(line) >= 107:
                raise BadHeader("v1 line longer than 107 bytes")
            c = s.recv(1)
            if not c:
                raise BadHeader("v1 truncated")
            line += c
        f = line[:-2].decode("ascii").split(" ")
        if f[1] == "UNKNOWN":
            return {"version": 1, "command": "UNKNOWN", "src": None,
                    "dst": None}
        if len(f) != 6 or f[1] not in ("TCP4", "TCP6"):
            raise BadHeader("v1 fields: %r" % line)
        fam = socket.AF_INET if f[1] == "TCP4" else socket.AF_INET6
        for a in (f[2], f[3]):
            socket.inet_pton(fam, a)
        for p in (f[4], f[5]):
            if not p.isdigit() or int(p) > 65535 or \
                    (p != "0" and p.startswith("0")):
                raise BadHeader("v1 port %r" % p)
        return {"version": 1, "command": "PROXY", "family": f[1],
                "src": (f[2], int(f[4])), "dst": (f[3], int(f[5]))}
    head = first + _recv_exact(s, 7)
    if head != V2_SIG:
        raise BadHeader("neither v1 nor v2: %r" % head)
    verb, fam, length = struct.unpack("!BBH", _recv_exact(s, 4))
    if verb >> 4 != 2 or (verb & 0xF) not in (0, 1):
        raise BadHeader("v2 version/command byte 0x%02x" % verb)
    if length > 1024:
        raise BadHeader("v2 length %d" % length)
    body = _recv_exact(s, length)
    command = "LOCAL" if verb & 0xF == 0 else "PROXY"
    out = {"version": 2, "command": command, "src": None, "dst": None,
           "tlv_bytes": 0}
    if fam == 0x11:  # TCP over IPv4
        if length < 12:
            raise BadHeader("v2 TCP4 length %d" % length)
        sa, da, sp, dp = struct.unpack("!4s4sHH", body[:12])
        out.update(family="TCP4", src=(socket.inet_ntoa(sa), sp),
                   dst=(socket.inet_ntoa(da), dp), tlv_bytes=length - 12)
    elif fam == 0x21:  # TCP over IPv6
        if length < 36:
            raise BadHeader("v2 TCP6 length %d" % length)
        sa, da, sp, dp = struct.unpack("!16s16sHH", body[:36])
        out.update(family="TCP6",
                   src=(socket.inet_ntop(socket.AF_INET6, sa), sp),
                   dst=(socket.inet_ntop(socket.AF_INET6, da), dp),
                   tlv_bytes=length - 36)
    elif fam == 0x00:
        out["family"] = "UNSPEC"
    else:
        raise BadHeader("v2 family 0x%02x" % fam)
    if command == "PROXY" and out["src"] is None:
        raise BadHeader("v2 PROXY without addresses")
    return out


class ProxyEcho:
    """A loopback TCP server that expects a PROXY header on each
    connection, then answers HTTP/1.x requests with the address it
    learned (keep-alive unless the request says Connection: close)."""

    def __init__(self, name, require="any", host="127.0.0.1", port=0):
        self.name = name
        self.require = require
        self.host = host
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, port))
        self.lsock.listen(128)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.stopping = threading.Event()
        self.closed = threading.Event()
        self.drain = False
        self.drained = 0
        self.open_socks = set()
        self.thread = threading.Thread(target=self._accept_loop,
                                       daemon=True)
        self.thread.start()

    def _accept_loop(self):
        while not self.closing.is_set():
            r, _, _ = select.select([self.lsock], [], [], 0.02)
            if r and not self.closing.is_set():
                try:
                    c, _ = self.lsock.accept()
                except OSError:
                    continue
                threading.Thread(target=self._serve, args=(c, ),
                                 daemon=True).start()
        if self.drain:
            # Take what the kernel completed, then close, with nothing in
            # between: libc's accept4() and close() called through
            # ctypes.PyDLL keep the GIL, so no other Python thread runs
            # in the window in which a handshake could complete after
            # the last accept and be reset by the close (socket.accept()
            # lets other threads run around each call: that window was
            # long enough to lose a connection in one run of six).
            libc = ctypes.PyDLL(None, use_errno=True)
            self.lsock.setblocking(False)  # O_NONBLOCK: EAGAIN ends it
            fd = self.lsock.detach()
            fds = []
            while True:
                c = libc.accept4(fd, None, None, 0)
                if c < 0:
                    break
                fds.append(c)
            libc.close(fd)
            for c in fds:
                self.drained += 1
                threading.Thread(target=self._serve,
                                 args=(socket.socket(fileno=c), ),
                                 daemon=True).start()
        else:
            # Abrupt: what the kernel completed and nobody accepted is
            # reset when the listening socket closes.
            self.lsock.close()
        self.closed.set()

    def _serve(self, c):
        rec = {"version": None, "command": None, "src": None, "dst": None,
               "requests": 0, "error": None, "io_error": None}
        with self.lock:
            self.conns.append(rec)
            self.open_socks.add(c)
        try:
            c.settimeout(10)
            try:
                rec.update(read_proxy_header(c))
            except (BadHeader, ValueError, OSError, IndexError,
                    UnicodeDecodeError) as e:
                rec["error"] = "%s: %s" % (type(e).__name__, e)
                return
            if self.require != "any" and \
                    "v%d" % rec["version"] != self.require:
                rec["error"] = "wrong version v%d" % rec["version"]
                return
            buf = b""
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buf:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                    if len(buf) > 65536:
                        rec["error"] = "request head too long"
                        return
                head, buf = buf.split(b"\r\n\r\n", 1)
                rec["requests"] += 1
                src = rec["src"]
                body = ("backend=%s version=%d command=%s src=%s\n" % (
                    self.name, rec["version"], rec["command"],
                    "%s:%d" % src if src else "-")).encode()
                close = b"connection: close" in head.lower() or \
                    head.split(b"\r\n")[0].endswith(b"HTTP/1.0")
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain"
                          b"\r\nContent-Length: %d\r\n%s\r\n%s" % (
                              len(body),
                              b"Connection: close\r\n" if close else b"",
                              body))
                if close:
                    return
        except OSError as e:
            # after a good header: HAProxy closes its health checks with
            # a reset, and a client may go away
            rec["io_error"] = "%s: %s" % (type(e).__name__, e)
        finally:
            with self.lock:
                self.open_socks.discard(c)
            c.close()

    def requests(self):
        with self.lock:
            return sum(r["requests"] for r in self.conns)

    def checks(self):
        """Connections that carried no request: HAProxy's health
        checks (and nothing else in the self-test)."""
        with self.lock:
            return [r for r in self.conns if r["requests"] == 0 and
                    r["version"] is not None]

    def close_listener(self, drain=False, timeout=2.0):
        """Close the listening socket; connections being served go on.
        drain=False: without accepting what the kernel completed (those
        connections are reset); drain=True: accept and serve those first
        (.drained counts them)."""
        self.drain = drain
        self.closing.set()
        self.closed.wait(timeout)

    def stop(self):
        self.close_listener()
        self.stopping.set()
        with self.lock:
            socks = list(self.open_socks)
        for c in socks:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def get(port, source="127.0.0.1", host="127.0.0.1", timeout=5.0, sock=None):
    """One GET / through HAProxy at host:port from source; returns
    (status line, body) or raises OSError. With sock, use that open
    connection (keep-alive) instead of a new one that says close."""
    own = sock is None
    s = sock
    if own:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect((host, port))
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n%s\r\n" % (
            b"Connection: close\r\n" if own else b""))
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the response: %r"
                                      % buf)
            buf += chunk
        head, body = buf.split(b"\r\n\r\n", 1)
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(body) < n:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the body")
            body += chunk
        return head.split(b"\r\n")[0].decode(), body.decode()
    finally:
        if own:
            s.close()


# ---------------------------------------------------------------------
# Self-test: HAProxy against ProxyEcho backends, without ferry.

def _selftest():
    from ferrytest import Suite
    suite = Suite("haproxy")

    def timing(h):
        print("     haproxy: started in %.2f s, stopped in %.2f s (exit %s)"
              % (h.start_seconds, h.stop_seconds, h.stop_status))

    def wait_checks(echo, n=1, timeout=3.0):
        deadline = time.monotonic() + timeout
        while len(echo.checks()) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return echo.checks()

    def header_test(version):
        with ProxyEcho("a", require=version) as a, \
                ProxyEcho("b", require=version) as b:
            h = HAProxy([a.port, b.port], send_proxy=version)
            with h:
                seen = {}
                for source in ("127.0.0.1", "127.0.0.2"):
                    for _ in range(4):
                        status, body = get(h.port, source)
                        assert status == "HTTP/1.1 200 OK", status
                        f = dict(kv.split("=") for kv in body.split())
                        assert f["version"] == version[1], body
                        assert f["command"] == "PROXY", body
                        ip = f["src"].rsplit(":", 1)[0]
                        assert ip == source, (source, body)
                        seen[f["backend"]] = seen.get(f["backend"], 0) + 1
                print("     %s: bodies from %s; e.g. %s"
                      % (version, seen, body.strip()))
                assert seen == {"a": 4, "b": 4}, seen
                ca, cb = wait_checks(a), wait_checks(b)
                assert ca and cb, (a.conns, b.conns)
                c = ca[0]
                print("     %s health check header: command=%s src=%s; "
                      "%d + %d checks so far" % (version, c["command"],
                                                 c["src"], len(ca), len(cb)))
                # v2: a LOCAL command (no addresses); v1 has no LOCAL:
                # HAProxy sends its own check connection's addresses.
                for x, port in [(x, a.port) for x in ca] + \
                        [(x, b.port) for x in cb]:
                    if version == "v2":
                        assert x["command"] == "LOCAL", x
                    else:
                        assert x["command"] == "PROXY", x
                        assert x["src"][0] == "127.0.0.1", x
                        assert x["dst"] == ("127.0.0.1", port), x
                bad = [r for r in a.conns + b.conns if r["error"]]
                assert not bad, bad
                assert h.server_states() == {"s1": "UP", "s2": "UP"}, \
                    h.server_states()
                # option tcplog: one line per connection, real client
                # (written when the session ends: wait, bounded)
                deadline = time.monotonic() + 2
                while True:
                    tcplog = [ln for ln in h.log().splitlines()
                              if ln.startswith("127.0.0.2:") and
                              " fe be/s" in ln]
                    if len(tcplog) >= 4 or time.monotonic() > deadline:
                        break
                    time.sleep(0.02)
                assert len(tcplog) == 4, h.log()
                print("     log: %s" % tcplog[0])
            timing(h)

    @suite.test
    def proxy_v2_real_client_address():
        header_test("v2")

    @suite.test
    def proxy_v1_real_client_address():
        header_test("v1")

    @suite.test
    def keepalive_connection_stays_on_one_backend():
        with ProxyEcho("a") as a, ProxyEcho("b") as b, \
                HAProxy([a.port, b.port]) as h:
            s = socket.create_connection(("127.0.0.1", h.port), 5,
                                         ("127.0.0.2", 0))
            with s:
                bodies = {get(h.port, sock=s)[1] for _ in range(20)}
            assert len(bodies) == 1, bodies
            print("     20 requests on one connection: %s"
                  % bodies.pop().strip())

    @suite.test
    def without_proxy_header_and_checks():
        with ProxyEcho("a") as a, \
                HAProxy([a.port], send_proxy=None, check=False) as h:
            r = b""
            with socket.create_connection(("127.0.0.1", h.port), 5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(2)
                try:
                    r = s.recv(100)
                except OSError:
                    pass
            assert r == b"", r
            assert h.server_states() == {"s1": "no"}, h.server_states()
            time.sleep(0.3)
            errs = [c["error"] for c in a.conns]
            print("     no header sent: %s" % errs)
            assert errs and all("neither v1 nor v2" in e for e in errs), \
                errs

    @suite.test
    def stopped_backend_marked_down():
        with ProxyEcho("a") as a, ProxyEcho("b") as b, \
                HAProxy([a.port, b.port]) as h:
            assert h.wait_state("s1", "UP", 2), h.server_states()
            wait_checks(a)
            t0 = time.monotonic()
            a.stop()
            assert h.wait_state("s1", "DOWN", 3), h.server_states()
            down = time.monotonic() - t0
            print("     s1 DOWN %.2f s after its listener closed (inter "
                  "200ms fall 2); states %s" % (down, h.server_states()))
            assert down < 1.5, down
            backends = [get(h.port)[1].split()[0] for _ in range(20)]
            assert set(backends) == {"backend=b"}, backends
            print("     show servers state:\n       " + "\n       ".join(
                h.admin("show servers state %s" % BACKEND)
                .strip().splitlines()[:3]))
            assert "Server be/s1 is DOWN" in h.log(), h.log()
            print("     log: %s" % [ln for ln in h.log().splitlines()
                                    if "is DOWN" in ln][0])
            # and back up: a new listener on the same port
            t0 = time.monotonic()
            a2 = ProxyEcho("a2", port=a.port)
            with a2:
                assert h.wait_state("s1", "UP", 3), h.server_states()
                print("     s1 UP again %.2f s after a new listener"
                      % (time.monotonic() - t0))

    def run_loop(h, victim, n=500, threads=4, close_at=150, drain=False):
        """n requests over `threads` client threads (fresh connections,
        sources 127.0.0.1 and 127.0.0.2 alternately); after close_at of
        them, victim closes its listener (drain: see close_listener).
        Returns (failures, per-backend counts, seconds)."""
        lock = threading.Lock()
        state = {"next": 0, "done": 0, "fail": [], "by": {}}

        def worker():
            while True:
                with lock:
                    i = state["next"]
                    if i >= n:
                        return
                    state["next"] += 1
                try:
                    status, body = get(h.port, ("127.0.0.1", "127.0.0.2")
                                       [i % 2], timeout=10)
                    if status != "HTTP/1.1 200 OK":
                        raise RuntimeError(status)
                    be = body.split()[0].split("=")[1]
                    with lock:
                        state["by"][be] = state["by"].get(be, 0) + 1
                except Exception as e:  # noqa: a failed request
                    with lock:
                        state["fail"].append((i, repr(e)))
                with lock:
                    state["done"] += 1
                    go = state["done"] == close_at
                if go:
                    victim.close_listener(drain=drain)

        t0 = time.monotonic()
        ts = [threading.Thread(target=worker) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        return state["fail"], state["by"], time.monotonic() - t0

    def closed_mid_run(drain, rounds):
        """rounds runs of 500 requests; each: backend a closes its
        listener after 150. Returns the failures of each run."""
        out = []
        for redispatch in (1, None):
            for _ in range(rounds):
                with ProxyEcho("a") as a, ProxyEcho("b") as b, \
                        HAProxy([a.port, b.port],
                                redispatch=redispatch) as h:
                    fails, by, secs = run_loop(h, a, drain=drain)
                    down = h.wait_state("s1", "DOWN", 3)
                    stats = {r["svname"]: "%s/%s/%s" % (
                        r["wretr"], r["wredis"], r["econ"])
                        for r in h.stats()}
                    print("     redispatch %s, %s: %d of 500 failed "
                          "(%.2f s, served %s, s1 DOWN: %s, "
                          "retries/redispatches/econ %s%s)" % (
                              redispatch or "last",
                              "drained %d" % a.drained if drain
                              else "abrupt", len(fails), secs, by, down,
                              stats, "; " + fails[0][1][:60] if fails
                              else ""))
                    assert down, h.server_states()
                    assert by.get("a", 0) >= 50 and by.get("b", 0) >= 250, by
                    out.append(len(fails))
        return out

    @suite.test
    def listener_closed_abruptly_mid_run():
        # The connections the kernel had completed in a's listen queue
        # are reset when it closes: HAProxy had them established, so it
        # cannot retry them (the 1-2 of 500 issue 18 speaks of); the
        # ones it could not establish are retried and redispatched.
        fails = closed_mid_run(False, 3)
        print("     abrupt close: failures per run %s" % fails)
        assert max(fails) <= 10, fails

    @suite.test
    def listener_drained_mid_run_loses_nothing():
        # What ferry's drain does: accept what is pending, then close.
        fails = closed_mid_run(True, int(os.environ.get("HAP_ROUNDS", 3)))
        print("     drained close: failures per run %s" % fails)
        assert sum(fails) == 0, fails

    @suite.test
    def soft_stop_finishes_and_cleans_up():
        with ProxyEcho("a") as a:
            h = HAProxy([a.port])
            with h:
                pid = h.proc.pid
                d = h.dir
                s = socket.create_connection(("127.0.0.1", h.port), 5)
                with s:
                    get(h.port, sock=s)
                    h.proc.send_signal(signal.SIGUSR1)
                    time.sleep(0.2)
                    assert not _listening("127.0.0.1", h.port), \
                        "still listening after SIGUSR1"
                    # the connection it had still works during the soft
                    # stop
                    status, body = get(h.port, sock=s)
                    assert status == "HTTP/1.1 200 OK", status
                    print("     during the soft stop: %s" % body.strip())
            timing(h)
            assert not os.path.exists(d), d
            assert not os.path.exists("/proc/%d" % pid), pid

    status = suite.run()
    return status


if __name__ == "__main__":
    sys.exit(_selftest())
