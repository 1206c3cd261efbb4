"""ferrytest: what ferry's end-to-end tests share.

Each tests/e2e_*.py script starts the real ferry binary (FERRY_BIN, set by
`make check`) on a kernel-chosen loopback port with a temporary INI file,
starts tests/origin.py as the origin, and drives both with real clients
(curl, urllib, raw sockets). Each script ends with the plain line
"N passed, N failed" and exits non-zero if anything failed.

Everything listens on and talks to 127.0.0.0/8 or ::1 only, and every wait
has a timeout, so a broken ferry fails a test instead of hanging it.
"""
import email.utils
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("FERRY_SRCDIR", os.path.dirname(HERE))
FERRY_BIN = os.environ.get("FERRY_BIN",
                           os.path.join(os.path.dirname(HERE), "src", "ferry"))
ORIGIN = os.path.join(HERE, "origin.py")
TMP = tempfile.mkdtemp(prefix="ferry-e2e-")
# Readable by all, not writable: a ferry that drops to [server] user must
# read its config again (every reload does, and so does the start).
os.chmod(TMP, 0o755)
# The sanitizer flags ferry was built with (make check passes configure's
# SAN_CFLAGS). ThreadSanitizer runs one thread of its own in ferry and
# sizes thread stacks itself; the tests that count either allow for it.
TSAN = "-fsanitize=thread" in os.environ.get("FERRY_SAN_CFLAGS", "")


def free_port(host="127.0.0.1"):
    """A port the kernel says is free right now on host."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_listening(host, port, timeout=10.0):
    """Wait until something accepts on host:port; False on timeout."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return True
        except OSError:
            time.sleep(0.05)
    return False


def read_text(path):
    """The text of a file, "" if it does not exist (yet)."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def wait_serving(host, port, timeout=10.0):
    """Wait until ferry on host:port serves, not merely listens: it binds
    before it drops privileges and starts its threads. A connection that
    is half-closed at once is closed by a worker without a log line at
    info (and no access line) once ferry serves. False on timeout."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                s.connect((host, port))
                s.shutdown(socket.SHUT_WR)
                if s.recv(1) == b"":
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def write_ini(path, sections):
    """Write an INI file from {section: {key: value}}."""
    with open(path, "w") as f:
        for name, keys in sections.items():
            f.write("[%s]\n" % name)
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")


class Ferry:
    """The real ferry binary, running in the foreground on a free port.

    config: {section: {key: value}} merged over a test-friendly base (short
    timeouts, debug log to a file). wrapper: a command line that execs the
    rest (so the process is still ferry's). args: more ferry options (-v).
    Use as a context manager.
    """

    def __init__(self, config=None, host="127.0.0.1", wrapper=(), args=()):
        self.host = host
        self.wrapper = list(wrapper)  # a command ferry runs under
        self.args = list(args)  # more options, after -f -c FILE
        self.port = free_port(host)
        self.dir = tempfile.mkdtemp(dir=TMP)
        os.chmod(self.dir, 0o755)  # as TMP
        self.ini = os.path.join(self.dir, "ferry.ini")
        self.logfile = os.path.join(self.dir, "ferry.log")
        self.configure(config)
        self.proc = None

    def configure(self, config=None):
        """(Re)write the INI file: the test base with config merged over
        it, or config itself if it is a string (a broken file, say). A
        running ferry reads it again on reload()."""
        if isinstance(config, str):
            with open(self.ini, "w") as f:
                f.write(config)
            return
        h = "[%s]" % self.host if ":" in self.host else self.host
        sections = {
            "server": {"listen": "%s:%d" % (h, self.port)},
            "upstream": {"connect_timeout": 2, "io_timeout": 5},
            "client": {"header_timeout": 5, "idle_timeout": 10},
            "log": {"level": "debug", "target": self.logfile},
            # The origins the tests start live on loopback, which the
            # internal-address guard refuses by default.
            "destinations": {"allow": "127.0.0.0/8 ::1"},
        }
        for name, keys in (config or {}).items():
            sections.setdefault(name, {}).update(keys)
        write_ini(self.ini, sections)

    def reload(self, config, expect="reloaded "):
        """Rewrite the INI with config, send SIGHUP, and wait until the
        log says expect (as many times as reloads so far)."""
        want = self.log().count(expect) + 1
        self.configure(config)
        self.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: self.log().count(expect) >= want), \
            self.log()[-2000:]

    def start(self):
        self.proc = subprocess.Popen(self.wrapper +
                                     [FERRY_BIN, "-f", "-c", self.ini] +
                                     self.args,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        if not wait_serving(self.host, self.port):
            status = self.stop()
            # What it said before its log file opened is on stderr.
            raise RuntimeError("ferry did not start (exit %s): %s%s" % (
                status, self.log(), self.stderr[-2000:]))
        return self

    @property
    def proxy(self):
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (h, self.port)

    def log(self):
        return read_text(self.logfile)

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def settled_fd_count(self, timeout=5.0):
        """The fd count once it stops changing (the start-up probe and
        any warm-up connection closed): a baseline to come back to."""
        last = self.fd_count()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = self.fd_count()
            if now == last:
                return now
            last = now
        return last

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then wait; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.stderr.closed:  # stopped already
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.stderr = self.proc.stderr.read().decode("utf-8", "replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        status = self.stop()
        # A clean stop is exit 0 with no sanitizer report (the
        # --enable-sanitizers build aborts or fails its exit on one).
        if exc_type is None:
            assert "Sanitizer" not in self.stderr and \
                "runtime error" not in self.stderr, self.stderr
            assert status == 0, (status, self.stderr[-2000:])


class Origin:
    """tests/origin.py on a free loopback port; see its docstring."""

    def __init__(self, host="127.0.0.1", port=None, tls=None):
        self.host = host
        self.port = port or free_port(host)
        self.logfile = tempfile.mktemp(dir=TMP, suffix=".origin.jsonl")
        self.tls = tls
        self.proc = None

    def start(self):
        cmd = [sys.executable, ORIGIN, "--host", self.host, "--port",
               str(self.port), "--log", self.logfile]
        if self.tls:
            cmd += ["--tls", self.tls[0], self.tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("origin did not start")
        return self

    def url(self, path="/"):
        h = "[%s]" % self.host if ":" in self.host else self.host
        scheme = "https" if self.tls else "http"
        return "%s://%s:%d%s" % (scheme, h, self.port, path)

    @property
    def authority(self):
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (h, self.port)

    def requests(self):
        """Every request the origin received so far, oldest first."""
        try:
            with open(self.logfile) as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self.proc.stdout.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def curl(*args, proxy=None, timeout=30):
    """Run curl; returns CompletedProcess with bytes stdout/stderr."""
    cmd = ["curl", "-sS", "--max-time", str(timeout)]
    if proxy:
        cmd += ["-x", proxy]
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, timeout=timeout + 10)


def raw(port, data, host="127.0.0.1", timeout=5.0, source=None,
        shut=False, piece=None, delay=0.0):
    """Send data on a new connection to host:port and read until the peer
    closes (or timeout). source: local address to bind, e.g. 127.0.0.2.
    shut: half-close after sending. piece: send that many bytes at a time,
    sleeping delay seconds after each, and stop sending if the peer has
    answered and closed. Returns the bytes received."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    out = b""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        if piece is None:
            s.sendall(data)
        else:
            try:
                for i in range(0, len(data), piece):
                    s.sendall(data[i:i + piece])
                    time.sleep(delay)
            except OSError:
                pass  # answered and closed before the end: read it
        if shut:
            s.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return out


def tls_client_hello():
    """The first bytes a real TLS client (Python's ssl) sends, cut before
    the first LF byte if its random bytes hold one, so that no "line"
    ends in it: what a client configured with an https:// proxy URL sends
    to a plain HTTP proxy port. Starts with 0x16, a handshake record."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass  # the hello is out; the server's answer would come next
    return outgoing.read().split(b"\n")[0]


def status_of(response):
    """The status code of a raw HTTP response, or 0 if there is none."""
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def absolute_request(authority, path="/hello", method="GET", version="1.1",
                     fields="", body=b""):
    """An absolute-form request for http://authority/path, Host set to
    authority; fields are more CRLF-ended lines."""
    return ("%s http://%s%s HTTP/%s\r\nHost: %s\r\n%s\r\n"
            % (method, authority, path, version, authority,
               fields)).encode() + body


def read_response(s, timeout=5.0):
    """Exactly one response framed by Content-Length (none: no body) from
    socket s, as ferry's own pages and the test origins send them; what
    arrived if s closed first (b"" before a head)."""
    s.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(65536)
        if not data:
            return buf
        buf += data
    need = buf.index(b"\r\n\r\n") + 4 + \
        int(header_of(buf, "Content-Length") or 0)
    while len(buf) < need:
        data = s.recv(65536)
        if not data:
            break
        buf += data
    assert len(buf) <= need, ("more than one response", buf)
    return buf


def header_of(response, name):
    """The value of the first field name in a raw response head, or None."""
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        n, _, v = line.partition(":")
        if n.strip().lower() == name.lower():
            return v.strip()
    return None


IMF_FIXDATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
                         r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|"
                         r"Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] "
                         r"GMT")


def fresh_date(response, slack=5.0):
    """Whether the head of a raw response holds exactly one Date field,
    an IMF-fixdate (RFC 9110 5.6.7) within slack seconds of this
    machine's clock: what ferry puts on the answers it writes itself."""
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    dates = [line.partition(":")[2].strip() for line in head.split("\r\n")
             if line.partition(":")[0].lower() == "date"]
    if len(dates) != 1 or not IMF_FIXDATE.fullmatch(dates[0]):
        return False
    when = email.utils.parsedate_to_datetime(dates[0]).timestamp()
    return abs(when - time.time()) <= slack


def without_date(response):
    """A raw response with its Date field's value blanked, to compare two
    answers made at different seconds."""
    return re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: -\r\n", response,
                  count=1)


def body_of(response):
    return response.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in response \
        else b""


def make_cert():
    """A throwaway self-signed certificate for CN=localhost, made once per
    test run in TMP, for TLS origins (CONNECT tests); returns (cert,
    key) paths."""
    cert = os.path.join(TMP, "cert.pem")
    key = os.path.join(TMP, "key.pem")
    if not os.path.exists(key):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-subj", "/CN=localhost", "-days", "1",
                        "-keyout", key, "-out", cert], check=True,
                       capture_output=True, timeout=60)
    return cert, key


def wait_for(pred, timeout=5.0, step=0.05):
    """Poll pred until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def read_request_head(conn, timeout=5.0):
    """Read a request head from conn (a Script handler's socket); returns
    it, maybe partial if the peer closed or went quiet."""
    conn.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf and len(buf) < 65536:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
    except OSError:
        pass
    return buf


class Script:
    """A loopback TCP server in a thread, for the peers origin.py cannot
    play: handler(conn, stop) serves each accepted connection in its own
    thread (stop is set when the server ends). gate: a function polled
    (for at most 10 s) before listening at all, for a server that appears
    late. accepted counts the connections taken. Use as a context manager;
    without a gate, entering waits until it listens."""

    def __init__(self, handler, port=None, gate=None):
        self.handler = handler
        self.port = port or free_port()
        self.gate = gate
        self.stop = threading.Event()
        self.listening = threading.Event()
        self.accepted = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        deadline = time.monotonic() + 10
        while self.gate is not None and not self.gate():
            if self.stop.wait(0.01) or time.monotonic() > deadline:
                return
        with socket.socket() as ls:
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", self.port))
            ls.listen(128)
            ls.settimeout(0.1)
            self.listening.set()
            while not self.stop.is_set():
                try:
                    conn, _ = ls.accept()
                except socket.timeout:
                    continue
                self.accepted += 1
                threading.Thread(target=self.serve, args=(conn,),
                                 daemon=True).start()

    def serve(self, conn):
        with conn:
            try:
                self.handler(conn, self.stop)
            except OSError:
                pass

    def __enter__(self):
        self.thread.start()
        if self.gate is None and not self.listening.wait(5):
            raise RuntimeError("script server did not listen")
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)


def echo(conn, stop):
    """A Script handler: send back every byte until the peer's EOF."""
    conn.settimeout(30)
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def thread_count(f):
    """ferry's own threads: those of its process, less the sanitizer's."""
    return len(os.listdir("/proc/%d/task" % f.proc.pid)) - (1 if TSAN else 0)


class Skip(Exception):
    """Raised by a test that cannot hold in this build (the reason says
    why); it is reported as "skip", counted neither passed nor failed."""


class Suite:
    """Collects checks and prints "N passed, N failed" at the end.

    Register tests with @suite.test; each is a function that raises
    AssertionError (or anything) to fail, or Skip when this build cannot
    run it. run() calls them in order; names on the command line run
    only those tests.
    """

    def __init__(self, name):
        self.name = name
        self.tests = []
        self.passed = 0
        self.failed = 0

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self):
        only = set(sys.argv[1:])
        for fn in self.tests:
            if only and fn.__name__ not in only:
                continue
            start = time.monotonic()
            try:
                fn()
            except Skip as why:
                print("skip %s.%s: %s" % (self.name, fn.__name__, why))
            except Exception:  # a failed check or a broken test: both fail
                self.failed += 1
                print("FAIL %s.%s (%.1fs)" % (self.name, fn.__name__,
                                              time.monotonic() - start))
                traceback.print_exc(file=sys.stdout)
            else:
                self.passed += 1
                print("ok   %s.%s (%.1fs)" % (self.name, fn.__name__,
                                              time.monotonic() - start))
            sys.stdout.flush()
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 else 1
