#!/usr/bin/env python3
"""e2e_failures: how ferry behaves when things go wrong.

Covers issue 4 sections 3-5 on the unhappy paths: whitelist denial (403
for every method, nothing sent upstream), connect retry with backoff,
unresolvable names, connect and read timeouts (504), malformed or vanishing
origins (502), clients that abort or stall, and a saturated pool or thread
cap (the acceptor waits, nothing is dropped).

Origins that origin.py cannot play (one that appears late, one that stalls
mid-body, one that closes without a word, one whose accept queue is full)
are small socket servers in this file.
"""
import concurrent.futures
import select
import socket
import sys
import time

from ferrytest import (Ferry, Origin, Script, Suite, body_of, free_port,
                       header_of, raw, read_request_head, status_of,
                       tls_client_hello, wait_for)

suite = Suite("failures")

# The upstream backoff in upstream.c: 100 ms << (round - 1), capped at 1 s.
BACKOFF_MS = [100, 200, 400, 800, 1000, 1000]


def get(target_host, target_port, path="/hello"):
    """An absolute-form GET for target, as a proxy client sends it, asking
    ferry to close after the answer (raw() reads until the close)."""
    return ("GET http://%s:%d%s HTTP/1.1\r\nHost: %s:%d\r\n"
            "Connection: close\r\n\r\n"
            % (target_host, target_port, path, target_host,
               target_port)).encode()


def get_url(url):
    host = url.split("/")[2]
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
            % (url, host)).encode()


def answer_late(conn, stop):
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                 b"Connection: close\r\n\r\nlate\n")


def head_then_stall(conn, stop):
    """Promise 1000 bytes, send 100, then go quiet (without closing)."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" +
                 b"a" * 100)
    stop.wait(20)


def close_silently(conn, stop):
    read_request_head(conn)


def until_eof(conn, stop):
    """Read and drop everything until the peer half-closes."""
    conn.settimeout(5)
    while conn.recv(65536):
        pass


def run_parallel(fn, n, timeout=30.0):
    """Run fn(i) for i in range(n) on n threads; returns the results."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        futures = [ex.submit(fn, i) for i in range(n)]
        return [fu.result(timeout) for fu in futures]


# --- whitelist ---

WL_LOCAL = {"whitelist": {"local": "127.0.0.1"}}


@suite.test
def unlisted_client_get_is_403_and_nothing_sent():
    with Origin() as o, Ferry(WL_LOCAL) as f:
        r = raw(f.port, get(o.host, o.port), source="127.0.0.12")
        assert status_of(r) == 403, r[:200]
        time.sleep(0.2)
        assert o.requests() == [], o.requests()


@suite.test
def unlisted_client_post_is_403_and_nothing_sent():
    body = b"x" * 1000
    with Origin() as o, Ferry(WL_LOCAL) as f:
        req = ("POST http://%s/echo HTTP/1.1\r\nHost: %s\r\n"
               "Content-Length: %d\r\n\r\n" % (
                   o.authority, o.authority, len(body))).encode() + body
        r = raw(f.port, req, source="127.0.0.12")
        assert status_of(r) == 403, r[:200]
        time.sleep(0.2)
        assert o.requests() == [], o.requests()


@suite.test
def unlisted_client_connect_is_403_and_nothing_connected():
    with Script(until_eof) as s:
        assert s.listening.wait(5)
        cfg = dict(WL_LOCAL, connect={"ports": str(s.port)})
        with Ferry(cfg) as f:
            req = ("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d"
                   "\r\n\r\n" % (s.port, s.port)).encode()
            r = raw(f.port, req, source="127.0.0.12")
            assert status_of(r) == 403, r[:200]
            time.sleep(0.2)
            assert s.accepted == 0, s.accepted
            # The same CONNECT from a listed client does reach it, so the
            # 403 above came from the whitelist, not the port rule.
            with socket.create_connection(("127.0.0.1", f.port), 5) as c:
                c.sendall(req)
                c.settimeout(5)
                assert c.recv(4096).startswith(b"HTTP/1.1 200")
            assert wait_for(lambda: s.accepted == 1), s.accepted


@suite.test
def listed_client_is_served():
    with Origin() as o, Ferry(WL_LOCAL) as f:
        r = raw(f.port, get(o.host, o.port), source="127.0.0.1")
        assert status_of(r) == 200, r[:200]
        assert body_of(r) == b"hello\n", r


@suite.test
def cidr_rule_allows_inside_denies_outside():
    cfg = {"whitelist": {"lan": "127.0.0.0/30"}}
    with Origin() as o, Ferry(cfg) as f:
        for src, want in (("127.0.0.2", 200), ("127.0.0.3", 200),
                          ("127.0.0.4", 403), ("127.0.0.5", 403)):
            r = raw(f.port, get(o.host, o.port), source=src)
            assert status_of(r) == want, (src, r[:200])


@suite.test
def no_whitelist_section_serves_loopback_and_says_so():
    with Origin() as o, Ferry() as f:
        for src in ("127.0.0.1", "127.0.0.77"):
            r = raw(f.port, get(o.host, o.port), source=src)
            assert status_of(r) == 200, (src, r[:200])
            assert body_of(r) == b"hello\n"
        assert "loopback" in f.log(), f.log()
        assert f.log().count("no [whitelist] section") == 1, f.log()


@suite.test
def ipv6_listener_whitelist_serves_v6_client():
    cfg = {"whitelist": {"v6": "::1"}}
    with Origin() as o, Ferry(cfg, host="::1") as f:
        r = raw(f.port, get(o.host, o.port), host="::1")
        assert status_of(r) == 200, r[:200]
        assert body_of(r) == b"hello\n"


@suite.test
def ipv6_client_not_listed_is_403():
    cfg = {"whitelist": {"v4only": "127.0.0.1"}}
    with Origin() as o, Ferry(cfg, host="::1") as f:
        r = raw(f.port, get(o.host, o.port), host="::1")
        assert status_of(r) == 403, r[:200]
        time.sleep(0.2)
        assert o.requests() == []


@suite.test
def forbidden_page_has_exact_content_length():
    with Origin() as o, Ferry(WL_LOCAL) as f:
        r = raw(f.port, get(o.host, o.port), source="127.0.0.12")
        assert status_of(r) == 403, r[:200]
        body = body_of(r)
        assert int(header_of(r, "Content-Length")) == len(body), r
        assert len(body) > 0
        assert (header_of(r, "Connection") or "").lower() == "close", r
        assert b"403" in body


@suite.test
def unlisted_client_sending_tls_gets_403_at_once():
    # The early refusal of impossible first bytes (a TLS hello to the
    # plain port) keeps the whitelist rule: an unlisted client learns
    # only that it is unlisted, and learns it at once, not after
    # header_timeout.
    hello = tls_client_hello()
    with Ferry(dict(WL_LOCAL, client={"header_timeout": 10})) as f:
        for junk in (hello, b"\x00\x01\x02", b"{"):
            t0 = time.monotonic()
            r = raw(f.port, junk, source="127.0.0.12", timeout=15)
            assert status_of(r) == 403, (junk[:8], r[:200])
            assert b"TLS" not in r, r
            assert time.monotonic() - t0 < 2, time.monotonic() - t0


@suite.test
def unlisted_client_sending_garbage_gets_403_not_400():
    with Ferry(WL_LOCAL) as f:
        for junk in (b"\x01\x02 garbage \x7f\r\n\r\n",
                     b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET http://a b c HTTP/9.9\r\n\r\n"):
            r = raw(f.port, junk, source="127.0.0.12")
            assert status_of(r) == 403, (junk, r[:200])


# --- retry ---

@suite.test
def retry_reaches_origin_that_appears_late():
    # The origin starts listening once ferry's log shows the first
    # refused attempt. The next attempts come 100, 300, 700, 1500 ms
    # later (retries = 4), so there is ample time to be there for one.
    port = free_port()
    refused = "connect to 127.0.0.1:%d: Connection refused" % port
    with Ferry({"upstream": {"retries": 4}}) as f:
        with Script(answer_late, port=port, gate=lambda: refused in f.log()):
            r = raw(f.port, get("127.0.0.1", port), timeout=10)
        assert status_of(r) == 200, (r[:300], f.log())
        assert body_of(r) == b"late\n", r
        log = f.log()
        assert log.count(refused) >= 1, log
        assert " 200 " in log, log


@suite.test
def origin_never_there_gives_502_after_all_attempts():
    port = free_port()
    with Ferry({"upstream": {"retries": 3}}) as f:
        t0 = time.monotonic()
        r = raw(f.port, get("127.0.0.1", port), timeout=10)
        took = time.monotonic() - t0
        assert status_of(r) == 502, r[:300]
        # Three pauses: 100 + 200 + 400 ms.
        assert 0.6 <= took < 5.0, took
        log = wait_for(lambda: "attempts" in f.log() and f.log())
        assert "refused" in log, log
        assert "(4 attempts)" in log, log
        assert log.count("debug: connect to 127.0.0.1:%d: Connection "
                         "refused" % port) == 4, log


@suite.test
def retries_zero_means_exactly_one_attempt():
    port = free_port()
    with Ferry({"upstream": {"retries": 0}}) as f:
        t0 = time.monotonic()
        r = raw(f.port, get("127.0.0.1", port), timeout=10)
        took = time.monotonic() - t0
        assert status_of(r) == 502, r[:300]
        assert took < 2.0, took
        log = wait_for(lambda: "attempt" in f.log() and f.log())
        assert "(1 attempt)" in log, log
        assert log.count("debug: connect to 127.0.0.1:%d: Connection "
                         "refused" % port) == 1, log


# --- resolution and timeouts ---

@suite.test
def unresolvable_name_gives_502_and_log_says_why():
    with Ferry() as f:
        t0 = time.monotonic()
        r = raw(f.port, get_url("http://nonexistent.invalid/"), timeout=20)
        assert status_of(r) == 502, r[:300]
        assert time.monotonic() - t0 < 15
        log = wait_for(lambda: "resolve" in f.log() and f.log())
        assert "cannot resolve nonexistent.invalid" in log, log


@suite.test
def unresolvable_name_page_says_name_not_resolved():
    # Issue 4 section 5: a 502 page says what happened, and "name not
    # resolved" is one of the cases it names.
    with Ferry() as f:
        r = raw(f.port, get_url("http://nonexistent.invalid/"), timeout=20)
        assert status_of(r) == 502, r[:300]
        assert b"resol" in body_of(r).lower(), body_of(r)


def full_backlog_listener():
    """A listener whose accept queue is full and which never accepts, so
    that a further SYN is dropped and connect() hangs (Linux). Returns the
    listener and the sockets that fill its queue."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        fillers.append(s)
        if s.connect_ex(("127.0.0.1", port)) == 0:
            continue
        _, writable, _ = select.select([], [s], [], 0.3)
        if not writable:
            return ls, fillers  # a SYN was dropped: the queue is full
    raise RuntimeError("could not fill the accept queue")


@suite.test
def connect_timeout_gives_504():
    ls, fillers = full_backlog_listener()
    port = ls.getsockname()[1]
    try:
        cfg = {"upstream": {"connect_timeout": 1, "retries": 0}}
        with Ferry(cfg) as f:
            t0 = time.monotonic()
            r = raw(f.port, get("127.0.0.1", port), timeout=10)
            took = time.monotonic() - t0
            assert status_of(r) == 504, r[:300]
            assert 0.8 <= took < 3.0, took
            log = wait_for(lambda: "timed out" in f.log() and f.log())
            assert "127.0.0.1:%d timed out" % port in log, log
    finally:
        for s in fillers:
            s.close()
        ls.close()


@suite.test
def stalled_origin_gives_504():
    with Origin() as o, Ferry({"upstream": {"io_timeout": 1}}) as f:
        t0 = time.monotonic()
        r = raw(f.port, get(o.host, o.port, "/stall"), timeout=10)
        took = time.monotonic() - t0
        assert status_of(r) == 504, r[:300]
        assert took < 3.0, took
        assert int(header_of(r, "Content-Length")) == len(body_of(r))


@suite.test
def origin_stalling_mid_body_ends_client_connection():
    with Script(head_then_stall) as s, \
            Ferry({"upstream": {"io_timeout": 1}}) as f:
        assert s.listening.wait(5)
        t0 = time.monotonic()
        r = raw(f.port, get("127.0.0.1", s.port), timeout=10)
        took = time.monotonic() - t0
        assert status_of(r) == 200, r[:300]
        assert header_of(r, "Content-Length") == "1000", r[:300]
        assert body_of(r) == b"a" * 100, len(body_of(r))
        # raw() returned on EOF, not on its own 10 s timeout.
        assert took < 3.0, took


# --- malformed and vanishing origins ---

@suite.test
def malformed_status_line_gives_502():
    with Origin() as o, Ferry() as f:
        r = raw(f.port, get(o.host, o.port, "/bad"))
        assert status_of(r) == 502, r[:300]
        assert b"2OO" not in r


@suite.test
def response_with_cl_and_te_is_read_as_chunked():
    # RFC 9112 6.3 rule 3: Transfer-Encoding overrides Content-Length,
    # and an intermediary drops the Content-Length before relaying.
    with Origin() as o, Ferry() as f:
        r = raw(f.port, get(o.host, o.port, "/clte"))
        assert status_of(r) == 200, r[:300]
        assert header_of(r, "Content-Length") is None, r[:300]
        assert body_of(r) == b"3\r\nabc\r\n0\r\n\r\n", r


@suite.test
def early_answer_is_relayed():
    # /early answers 413 without reading a body: a response head did
    # arrive, so the client gets it, not a 502.
    with Origin() as o, Ferry() as f:
        r = raw(f.port, get(o.host, o.port, "/early"))
        assert status_of(r) == 413, r[:300]
        assert body_of(r) == b"too large\n", r


@suite.test
def early_answer_to_post_is_relayed_or_502():
    # The origin answers 413 and closes while the body is still on its
    # way; depending on when the reset lands, ferry either still reads
    # the 413 or finds the origin gone. Either way the client gets a whole
    # response at once, never a hang or a bare close.
    body = b"y" * (4 << 20)
    with Origin() as o, Ferry() as f:
        req = ("POST http://%s/early HTTP/1.1\r\nHost: %s\r\n"
               "Content-Length: %d\r\n\r\n" % (o.authority, o.authority,
                                               len(body))).encode()
        with socket.create_connection(("127.0.0.1", f.port), 5) as c:
            c.settimeout(5)
            c.sendall(req)
            try:
                c.sendall(body)
            except OSError:
                pass  # ferry may stop reading once it has an answer
            out = b""
            try:
                while True:
                    data = c.recv(65536)
                    if not data:
                        break
                    out += data
            except OSError:
                pass
        assert status_of(out) in (413, 502), out[:300]
        cl = header_of(out, "Content-Length")
        assert cl is not None and int(cl) == len(body_of(out)), out[:300]


@suite.test
def origin_closing_without_answer_gives_502():
    with Script(close_silently) as s, Ferry() as f:
        assert s.listening.wait(5)
        r = raw(f.port, get("127.0.0.1", s.port))
        assert status_of(r) == 502, r[:300]
        log = wait_for(lambda: "without" in f.log() and f.log())
        assert "closed without a complete response" in log, log


# --- clients that abort or stall; saturation ---

@suite.test
def client_abort_mid_download_frees_descriptors():
    with Origin() as o, Ferry() as f:
        baseline = f.settled_fd_count()
        with socket.create_connection(("127.0.0.1", f.port), 5) as c:
            c.settimeout(5)
            c.sendall(get(o.host, o.port, "/big?size=%d" % (200 << 20)))
            got = 0
            while got < (1 << 20):
                data = c.recv(65536)
                assert data, "ferry closed before 1 MiB"
                got += len(data)
            assert f.fd_count() > baseline  # the exchange is live
        # Closing with unread data resets the connection; ferry's next
        # write fails and it must release both sockets.
        assert wait_for(lambda: f.fd_count() == baseline, 5), \
            (f.fd_count(), baseline)
        assert f.alive()


def slow_get(f, o, n_bytes=4):
    """A GET of /slowbody (50 ms a byte) through f; returns the response.
    Slow on purpose, so that parallel clients really pile up."""
    return raw(f.port, get(o.host, o.port, "/slowbody?size=%d" % n_bytes),
               timeout=30)


@suite.test
def pool_with_small_queue_serves_every_client():
    cfg = {"pool": {"mode": "pool", "workers": 2, "queue": 4}}
    with Origin() as o, Ferry(cfg) as f:
        results = run_parallel(lambda i: slow_get(f, o), 20, timeout=60)
        bad = [r[:100] for r in results if status_of(r) != 200 or
               body_of(r) != b"xxxx"]
        assert not bad, bad
        assert len(o.requests()) == 20


@suite.test
def thread_mode_with_small_cap_serves_every_client():
    cfg = {"pool": {"mode": "thread", "max_clients": 4}}
    with Origin() as o, Ferry(cfg) as f:
        results = run_parallel(lambda i: slow_get(f, o), 20, timeout=60)
        bad = [r[:100] for r in results if status_of(r) != 200 or
               body_of(r) != b"xxxx"]
        assert not bad, bad
        assert len(o.requests()) == 20


@suite.test
def stalled_client_does_not_block_others():
    cfg = {"pool": {"mode": "pool", "workers": 2, "queue": 4},
           "client": {"header_timeout": 10}}
    with Origin() as o, Ferry(cfg) as f:
        with socket.create_connection(("127.0.0.1", f.port), 5) as stall:
            # Half a head: this client holds one worker until
            # header_timeout.
            stall.sendall(get(o.host, o.port)[:30])
            time.sleep(0.2)
            t0 = time.monotonic()
            for _ in range(5):
                r = raw(f.port, get(o.host, o.port), timeout=5)
                assert status_of(r) == 200, r[:200]
                assert body_of(r) == b"hello\n"
            assert time.monotonic() - t0 < 3.0


sys.exit(suite.run())
