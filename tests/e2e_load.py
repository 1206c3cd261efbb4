#!/usr/bin/env python3
"""e2e_load: ferry under many concurrent clients.

Issue 4 section 7: 200 concurrent clients x 5 requests all succeed, in pool
and thread mode, and ferry's open-descriptor count returns to its baseline
afterwards (nothing leaks). Also a mixed run (small GETs, 64 KB POSTs, 1 MB
downloads, CONNECT tunnels at once) and the pool's bounds: with a small
queue the acceptor waits instead of dropping clients or growing threads.
Overload: with every worker and the queue held by a slow origin, 200
parked keep-alive clients still time out on time, a few that ask again
are served once workers free up, and no queued request is lost.

Clients are Python threads on raw sockets: curl processes are too slow for
a thousand requests on a small machine. The CONNECT target is an echo
server in this file.
"""
import concurrent.futures
import hashlib
import os
import re
import select
import socket
import sys
import threading
import time

from ferrytest import (TSAN, Ferry, Origin, Script, Skip, Suite, body_of,
                       echo, header_of, raw, read_request_head, status_of,
                       thread_count, wait_for)

suite = Suite("load")

HELLO = b"hello\n"


def get(o, path="/hello"):
    """An absolute-form GET for origin o, as a proxy client sends it,
    asking ferry to close after the answer (raw() reads until the close)."""
    return ("GET http://%s%s HTTP/1.1\r\nHost: %s\r\nConnection: close"
            "\r\n\r\n"
            % (o.authority, path, o.authority)).encode()


def warm_up(f, o):
    """One request, so the pool is fully started before baselines."""
    r = raw(f.port, get(o))
    assert status_of(r) == 200, r[:200]


class ThreadSampler:
    """Samples ferry's thread count every 20 ms while active; max holds
    the highest count seen."""

    def __init__(self, f):
        self.f = f
        self.max = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.max = max(self.max, thread_count(self.f))
            except OSError:
                return
            self.stop.wait(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)


def run_clients(n, per_client, timeout=90.0):
    """Start n client threads; client i runs per_client(i), which returns
    a list of failure descriptions. Returns all failures."""
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        futures = [ex.submit(per_client, i) for i in range(n)]
        deadline = time.monotonic() + timeout
        for fu in futures:
            try:
                failures += fu.result(max(0.1, deadline - time.monotonic()))
            except Exception as e:  # a crashed client is a failure too
                failures.append(repr(e))
    return failures


def hello_client(f, o, count):
    """A client doing count sequential GET /hello; returns failures."""
    def client(i):
        bad = []
        for k in range(count):
            r = raw(f.port, get(o), timeout=30)
            if status_of(r) != 200 or body_of(r) != HELLO:
                bad.append("client %d req %d: %r" % (i, k, r[:120]))
        return bad
    return client


def run_200x5(f, o):
    """200 clients x 5 GETs through f; checks every answer and that the
    descriptors come back. Returns (threads before, peak threads)."""
    warm_up(f, o)
    fds = f.settled_fd_count()
    threads = thread_count(f)
    with ThreadSampler(f) as ts:
        failures = run_clients(200, hello_client(f, o, 5))
    assert not failures, (len(failures), failures[:5])
    assert len(o.requests()) == 1 + 1000, len(o.requests())
    assert wait_for(lambda: f.fd_count() == fds), (f.fd_count(), fds)
    assert f.alive()
    return threads, ts.max


ACCESS_LINE = re.compile(r'^127\.0\.0\.1 - - \[[^]]+\] "GET http://'
                         r'127\.0\.0\.1:\d+/hello HTTP/1\.1" 200 \d+ \d+ '
                         r'127\.0\.0\.1:\d+$')


@suite.test
def pool_mode_200_clients_x5_all_succeed_and_nothing_leaks():
    f = Ferry()
    access = os.path.join(f.dir, "access.log")
    f.configure({"pool": {"mode": "pool"}, "log": {"access": access}})
    with Origin() as o, f:
        threads, peak = run_200x5(f, o)
        # The pool is fixed at start: no thread is ever added or lost.
        assert peak == threads, (peak, threads)
        assert thread_count(f) == threads, (thread_count(f), threads)
        # 32 workers wrote 1001 access lines at once: each one whole.
        lines = wait_for(lambda: len(open(access).read().splitlines())
                         == 1001 and open(access).read().splitlines())
        assert lines, len(open(access).read().splitlines())
        torn = [ln for ln in lines if not ACCESS_LINE.match(ln)]
        assert not torn, torn[:3]


@suite.test
def thread_mode_200_clients_x5_all_succeed_and_nothing_leaks():
    with Origin() as o, Ferry({"pool": {"mode": "thread"}}) as f:
        threads, peak = run_200x5(f, o)
        assert peak > threads, (peak, threads)  # one thread a connection
        # Idle, thread mode is the main (signal) thread, the acceptor and
        # the idle watcher alone: every connection thread ended with its
        # connection.
        assert wait_for(lambda: thread_count(f) == 3), thread_count(f)


# --- mixed traffic ---

def exchange(port, data, timeout=30.0):
    """Send data, half-close, read until EOF (raw() with shut=True, but
    failing loudly on a timeout instead of returning a partial answer)."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return out
            out += chunk


def op_hello(f, o, e, i):
    r = exchange(f.port, get(o))
    return None if status_of(r) == 200 and body_of(r) == HELLO else r[:200]


def op_post(f, o, e, i):
    body = os.urandom(64 * 1024)
    req = ("POST http://%s/echo HTTP/1.1\r\nHost: %s\r\nContent-Length: "
           "%d\r\n\r\n" % (o.authority, o.authority, len(body))).encode()
    r = exchange(f.port, req + body)
    # /echo returns the head ferry sent, then the body byte for byte.
    echoed = body_of(r).split(b"\r\n\r\n", 1)
    if status_of(r) != 200 or len(echoed) != 2 or echoed[1] != body:
        return r[:200]
    return None


def op_big(f, o, e, i):
    size = 1 << 20
    want = hashlib.sha256(bytes(range(256)) * (size // 256)).hexdigest()
    r = exchange(f.port, get(o, "/big?size=%d" % size))
    got = body_of(r)
    if status_of(r) != 200 or hashlib.sha256(got).hexdigest() != want or \
            header_of(r, "Content-Length") != str(size):
        return (r[:200], len(got))
    return None


def op_connect(f, o, e, i):
    data = os.urandom(64 * 1024)
    req = ("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
           % (e.port, e.port)).encode()
    with socket.create_connection(("127.0.0.1", f.port), 30) as s:
        s.sendall(req)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(1)
            if not chunk:
                return head
            head += chunk
        if status_of(head) != 200:
            return head
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            out += chunk
    return None if out == data else ("tunnel", len(out))


OPS = [op_hello, op_post, op_big, op_connect]


@suite.test
def mixed_traffic_50_clients_all_succeed():
    with Origin() as o, Script(echo) as e, \
            Ferry({"connect": {"ports": str(e.port)}}) as f:
        warm_up(f, o)
        fds = f.settled_fd_count()

        def client(i):
            bad = []
            # Each client does all four, starting at a different one, so
            # every kind of exchange overlaps with every other.
            for k in range(len(OPS)):
                op = OPS[(i + k) % len(OPS)]
                err = op(f, o, e, i)
                if err is not None:
                    bad.append("client %d %s: %r" % (i, op.__name__, err))
            return bad

        failures = run_clients(50, client)
        assert not failures, (len(failures), failures[:5])
        assert wait_for(lambda: f.fd_count() == fds), (f.fd_count(), fds)


# --- bounds ---

@suite.test
def small_queue_makes_acceptor_wait_and_threads_stay_fixed():
    workers, n = 4, 100
    cfg = {"pool": {"mode": "pool", "workers": workers, "queue": 8}}
    with Origin() as o, Ferry(cfg) as f:
        warm_up(f, o)
        threads = thread_count(f)
        # The main, acceptor and idle-watcher threads plus the workers;
        # nothing else.
        assert threads <= workers + 3, threads
        fds = f.settled_fd_count()

        def client(i):
            # /slowbody takes ~100 ms, so 100 clients outrun 4 workers and
            # a queue of 8: most wait in the listen backlog meanwhile.
            r = raw(f.port, get(o, "/slowbody?size=2"), timeout=60)
            if status_of(r) != 200 or body_of(r) != b"xx":
                return ["client %d: %r" % (i, r[:120])]
            return []

        t0 = time.monotonic()
        with ThreadSampler(f) as ts:
            failures = run_clients(n, client)
        took = time.monotonic() - t0
        assert not failures, (len(failures), failures[:5])
        assert ts.max == threads, (ts.max, threads)
        # At most `workers` exchanges ran at once: 100 x 100 ms / 4.
        assert took >= 0.8 * n * 0.1 / workers, took
        assert len(o.requests()) == 1 + n
        assert wait_for(lambda: f.fd_count() == fds), (f.fd_count(), fds)


def stacks_of(pid, kb):
    """How many thread stacks of kb KiB the process has: read-write
    mappings of that size right after a guard page (no access)."""
    count, prev_guard_end = 0, None
    with open("/proc/%d/maps" % pid) as maps:
        for ln in maps:
            rng, perms = ln.split()[:2]
            lo, hi = (int(x, 16) for x in rng.split("-"))
            if perms.startswith("rw") and lo == prev_guard_end and \
                    hi - lo == kb * 1024:
                count += 1
            prev_guard_end = hi if perms.startswith("---") else None
    return count


@suite.test
def stack_kb_sizes_the_worker_stacks():
    # Each pool worker runs on a stack of [pool] stack_kb (what keeps
    # thread mode with many clients small); change it and they change.
    if TSAN:
        raise Skip("ThreadSanitizer sizes thread stacks itself")
    for kb, other in ((200, 328), (328, 200)):
        with Ferry({"pool": {"workers": 5, "stack_kb": kb}}) as f:
            assert stacks_of(f.proc.pid, kb) >= 5, kb
            assert stacks_of(f.proc.pid, other) < 5, other


# --- overload: every worker busy, hundreds of clients parked ---

class SlowOrigin(Script):
    """An origin that holds every request until release is set (for at
    most 30 s), then answers 200 with body "slow <target>" and closes.
    heads: the request heads received, in arrival order."""

    def __init__(self):
        super().__init__(self.handle)
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.heads = []

    def handle(self, conn, stop):
        head = read_request_head(conn)
        if b"\r\n\r\n" not in head:
            return
        with self.arrived:
            self.heads.append(head)
            self.arrived.notify_all()
        if not self.release.wait(30):
            return
        body = b"slow " + head.split(b" ", 2)[1]
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))

    def wait_heads(self, n, timeout):
        """Wait until n requests arrived; returns how many did."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.heads) >= n, timeout)
            return len(self.heads)

    def count(self):
        with self.lock:
            return len(self.heads)


def read_response(sock, timeout):
    """Read one Content-Length framed response from sock; returns
    (status, body). Raises on EOF or timeout (socket.timeout)."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            raise EOFError("closed after %r" % buf[:200])
        buf += data
    head, _, body = buf.partition(b"\r\n\r\n")
    length = int(header_of(head + b"\r\n\r\n", "Content-Length"))
    while len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            raise EOFError("body cut short: %r" % body[:200])
        body += data
    assert len(body) == length, "stray bytes: %r" % body[length:][:200]
    return status_of(head), body


def keepalive_get(o):
    """An absolute-form GET for origin o that leaves the connection open."""
    return ("GET http://%s/hello HTTP/1.1\r\nHost: %s\r\n\r\n"
            % (o.authority, o.authority)).encode()


def park_clients(f, o, n):
    """n clients that each did one keep-alive GET /hello through f and
    are now idle, so ferry has parked them: [(sock, sent, answered)] with
    the monotonic times before the request and after its answer."""
    def one(i):
        s = socket.create_connection(("127.0.0.1", f.port), 30)
        sent = time.monotonic()
        s.sendall(keepalive_get(o))
        status, body = read_response(s, 30)
        answered = time.monotonic()
        assert status == 200 and body == HELLO, (i, status, body[:100])
        return s, sent, answered
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        return list(ex.map(one, range(n), timeout=60))


def watch_closes(socks, deadline):
    """Wait until every socket in socks sees EOF (or a reset), or until
    deadline; returns {sock: monotonic time of its close}. Any byte
    ferry sends instead fails."""
    closed = {}
    poller = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    while len(closed) < len(socks):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for fd, _ in poller.poll(max(1, int(left * 1000))):
            now = time.monotonic()
            try:
                data = by_fd[fd].recv(4096, socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b""
            assert data == b"", "bytes on an idle client: %r" % data[:200]
            closed[by_fd[fd]] = now
            poller.unregister(fd)
    return closed


def slow_get(f, slow, k):
    """GET /slow/k from the slow origin through f; the raw answer."""
    authority = "127.0.0.1:%d" % slow.port
    return raw(f.port, ("GET http://%s/slow/%d HTTP/1.1\r\nHost: %s\r\n"
                        "Connection: close\r\n\r\n"
                        % (authority, k, authority)).encode(), timeout=40)


def assert_nothing_yet(socks):
    """No socket in socks has an answer or a close waiting."""
    for i, s in enumerate(socks):
        s.setblocking(False)
        try:
            got = s.recv(4096)
        except BlockingIOError:
            got = None
        finally:
            s.setblocking(True)
        assert got is None, (i, got[:200])


@suite.test
def overload_parked_clients_time_out_and_queued_requests_are_all_served():
    # Two workers and a queue of two, all held by an origin that answers
    # only when told; 200 keep-alive clients parked just before. The idle
    # watcher never waits for the pool, so the idle clients are closed at
    # idle_timeout while every worker is busy; a few parked clients whose
    # next request comes meanwhile wait for a worker and are served once
    # the origin lets go, and so is every request held or queued for it.
    idle_timeout, nidle, nwoken, nslow = 2, 195, 5, 6
    cfg = {"pool": {"mode": "pool", "workers": 2, "queue": 2},
           "client": {"idle_timeout": idle_timeout},
           "upstream": {"io_timeout": 30}}
    with Origin() as o, SlowOrigin() as slow, Ferry(cfg) as f, \
            concurrent.futures.ThreadPoolExecutor(nslow) as ex:
        try:
            warm_up(f, o)
            fds = f.settled_fd_count()
            idle = park_clients(f, o, nidle)
            first = min(sent for _, sent, _ in idle)
            last = max(answered for _, _, answered in idle)
            assert last - first < 1.0, "parking took %.2fs" % (last - first)
            # The pool must be full before the first idle client times
            # out (first + idle_timeout), and the woken clients, which
            # wait at most idle_timeout for a worker from when they ask,
            # must outlast the last idle one (last + idle_timeout + a
            # 0.25 s sweep): ask halfway, so both ends keep one margin.
            time.sleep(max(0.0, (first + last + idle_timeout + 0.25) / 2 -
                           0.05 - time.monotonic()))
            woken = park_clients(f, o, nwoken)
            # Two take the workers, two the queue, and two wait for the
            # acceptor, which waits for room.
            answers = [ex.submit(slow_get, f, slow, k) for k in range(2)]
            assert slow.wait_heads(2, 10) == 2, slow.count()
            answers += [ex.submit(slow_get, f, slow, k)
                        for k in range(2, nslow)]
            full = time.monotonic()
            for s, _, _ in woken:
                s.sendall(keepalive_get(o))

            closed = watch_closes([s for s, _, _ in idle],
                                  last + idle_timeout + 1.5)
            held = slow.count()
            assert_nothing_yet([s for s, _, _ in woken])
        finally:
            slow.release.set()

        assert len(closed) == nidle, "%d of %d idle clients still open " \
            "1.5 s past the last one's idle_timeout" % (
                nidle - len(closed), nidle)
        late = [round(closed[s] - answered, 2) for s, _, answered in idle
                if closed[s] - answered > idle_timeout + 1]
        assert not late, "%d closed over 1 s after idle_timeout: %s" % (
            len(late), late[:10])
        early = [round(closed[s] - sent, 2) for s, sent, _ in idle
                 if closed[s] - sent < idle_timeout - 0.01]
        assert not early, "%d closed before idle_timeout: %s" % (
            len(early), early[:10])
        assert min(closed.values()) > full, "closed before the pool filled"
        # Every worker stayed busy until the release: the queued requests
        # reached the origin only after it.
        assert held == 2, held
        for i, (s, _, _) in enumerate(woken):
            status, body = read_response(s, 30)
            assert status == 200 and body == HELLO, (i, status, body[:100])
        for k, fu in enumerate(answers):
            r = fu.result(40)
            assert status_of(r) == 200 and \
                body_of(r) == b"slow /slow/%d" % k, (k, r[:200])
        assert slow.count() == nslow, slow.count()
        assert len(o.requests()) == 1 + nidle + 2 * nwoken, \
            len(o.requests())
        for s, _, _ in idle + woken:
            s.close()
        assert wait_for(lambda: f.fd_count() == fds, 10), (f.fd_count(), fds)


sys.exit(suite.run())
