#!/usr/bin/env python3
"""e2e_connect: CONNECT tunnels through the real ferry.

https with curl -k to a local TLS origin (a throwaway self-signed cert),
a download checked by hash, the [connect] ports rule, a refused target,
bytes sent right after the CONNECT head, half-close in both directions.
"""
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

from ferrytest import (TMP, curl, echo, Ferry, free_port, fresh_date,
                       make_cert, Origin, raw, Script, status_of, Suite)

suite = Suite("connect")


def echo_then_bye(conn, stop):
    """A Script handler: echo until the client's EOF, then send "bye" and
    close, so that half-close can be observed."""
    echo(conn, stop)
    conn.sendall(b"bye")


def tunnel(ferry, target, first=b""):
    """Open a CONNECT tunnel; returns (socket, status line, extra bytes)."""
    s = socket.create_connection(("127.0.0.1", ferry.port), timeout=10)
    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)
              + first)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(4096)
        if not data:
            break
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return s, head.split(b"\r\n")[0], rest


def read_all(s):
    out = bytearray()  # += on bytes would copy all of it each time
    while True:
        data = s.recv(65536)
        if not data:
            return bytes(out)
        out += data


CERT = None


@suite.test
def https_get_through_connect():
    with Origin(tls=CERT) as o, \
            Ferry({"connect": {"ports": o.port}}) as f:
        r = curl("-k", o.url("/hello"), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"hello\n", r.stdout


@suite.test
def https_download_by_hash():
    size = 20 << 20
    with Origin(tls=CERT) as o, \
            Ferry({"connect": {"ports": o.port}}) as f:
        r = curl("-k", o.url("/big?size=%d" % size), proxy=f.proxy,
                 timeout=60)
        assert r.returncode == 0, r.stderr
        want = hashlib.sha256((bytes(range(256)) * (size // 256))).digest()
        assert hashlib.sha256(r.stdout).digest() == want


@suite.test
def https_post_byte_exact():
    body = os.urandom(2 << 20)
    path = os.path.join(TMP, "connect-post.bin")
    with open(path, "wb") as fh:
        fh.write(body)
    with Origin(tls=CERT) as o, \
            Ferry({"connect": {"ports": o.port}}) as f:
        r = curl("-k", "--data-binary", "@" + path, o.url("/echo"),
                 proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        # /echo answers with the request head it saw, then the body.
        assert r.stdout.endswith(body)
        seen = o.requests()[-1]
        assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()


@suite.test
def port_not_listed_is_403_and_nothing_connects():
    with Script(echo_then_bye) as e, Ferry() as f:
        s, line, _ = tunnel(f, b"127.0.0.1:%d" % e.port)
        s.close()
        assert b" 403 " in line, line
        time.sleep(0.3)
        assert e.accepted == 0, e.accepted


@suite.test
def ports_is_a_comma_list():
    # Every listed port is open to CONNECT, and only those: a port that is
    # a neighbour or a prefix of a listed one is not.
    with Script(echo_then_bye) as e, Script(echo_then_bye) as e2, \
            Ferry({"connect": {"ports": "443, %d,%d" % (e.port, e2.port)}}) \
            as f:
        for port in (e.port, e2.port):
            s, line, rest = tunnel(f, b"127.0.0.1:%d" % port, b"x")
            with s:
                assert b" 200 " in line, line
                s.shutdown(socket.SHUT_WR)
                assert rest + read_all(s) == b"xbye"
    with Script(echo_then_bye) as e, \
            Ferry({"connect": {"ports": "443,%d" % (e.port + 1)}}) as f:
        for port in (e.port, e.port // 10):
            s, line, _ = tunnel(f, b"127.0.0.1:%d" % port)
            s.close()
            assert b" 403 " in line, (port, line)
        assert e.accepted == 0


@suite.test
def refused_target_is_502():
    port = free_port()
    with Ferry({"connect": {"ports": port}}) as f:
        s, line, _ = tunnel(f, b"127.0.0.1:%d" % port)
        s.close()
        assert b" 502 " in line, line


@suite.test
def bad_authority_is_400():
    with Ferry() as f:
        for target in (b"127.0.0.1", b"127.0.0.1:0", b"127.0.0.1:65536",
                       b"http://127.0.0.1:443"):
            r = raw(f.port, b"CONNECT %s HTTP/1.1\r\nHost: x\r\n\r\n"
                    % target)
            assert status_of(r) == 400, (target, r[:60])


@suite.test
def bytes_after_head_and_half_close():
    with Script(echo_then_bye) as e, \
            Ferry({"connect": {"ports": e.port}}) as f:
        s, line, rest = tunnel(f, b"127.0.0.1:%d" % e.port, b"early ")
        with s:
            assert b" 200 " in line, line
            s.sendall(b"late")
            # Our EOF must reach the echo server, whose reply still
            # comes back through the half-closed tunnel.
            s.shutdown(socket.SHUT_WR)
            got = rest + read_all(s)
        assert got == b"early latebye", got


@suite.test
def connection_established_carries_date_and_no_framing():
    # ferry is the origin of its "200 Connection established": it sends
    # Date (RFC 9110 6.6.1), and no Content-Length or Transfer-Encoding,
    # which a 2xx to CONNECT must not carry (RFC 9110 9.3.6). The tunnel
    # starts right after the empty line.
    with Script(echo_then_bye) as e, \
            Ferry({"connect": {"ports": e.port}}) as f:
        with socket.create_connection(("127.0.0.1", f.port), 10) as s:
            s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"ping" % e.port)
            s.shutdown(socket.SHUT_WR)
            got = read_all(s)
        head, _, rest = got.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"HTTP/1.1 200 Connection established", got
        assert [ln.split(b":")[0] for ln in lines[1:]] == [b"Date"], got
        assert fresh_date(got), got
        assert rest == b"pingbye", got


@suite.test
def idle_tunnel_closed_after_idle_timeout():
    with Script(echo_then_bye) as e, Ferry({"connect": {"ports": e.port},
                             "client": {"idle_timeout": 1}}) as f:
        s, line, _ = tunnel(f, b"127.0.0.1:%d" % e.port)
        with s:
            assert b" 200 " in line, line
            s.settimeout(5)
            t0 = time.monotonic()
            # The echo server keeps its side open: only ferry's idle
            # timeout can end this (else recv times out and we fail).
            assert read_all(s) == b""
            assert time.monotonic() - t0 < 3.5


BULK = 32 * 1024 * 1024


def write_then_read(got):
    """A Script handler for a peer that reads only after it has written:
    it sends BULK bytes of its own, half-closes, then reads to EOF and
    puts the hash of what came into the list got."""
    def handler(conn, stop):
        conn.settimeout(60)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        conn.sendall(bytes(range(251)) * (BULK // 251))
        conn.shutdown(socket.SHUT_WR)
        got.append(hashlib.sha256(read_all(conn)).hexdigest())
    return handler


@suite.test
def both_ways_at_once_with_a_peer_that_reads_only_after_writing():
    # The client writes and reads at once; the server reads only after
    # it has sent everything. Over a direct connection the two finish;
    # a tunnel that moved one direction at a time would block writing
    # to the server, so stop reading from it, and both would wait until
    # idle_timeout ended the tunnel with the data short.
    got = []
    sent = os.urandom(1024 * 1024) * (BULK // (1024 * 1024))
    with Script(write_then_read(got)) as e, \
            Ferry({"connect": {"ports": e.port},
                   "client": {"idle_timeout": 3}}) as f:
        s, line, rest = tunnel(f, b"127.0.0.1:%d" % e.port)
        assert b" 200 " in line, line
        came = [rest]
        with s:
            s.settimeout(60)
            reader = threading.Thread(
                target=lambda: came.append(read_all(s)))
            reader.start()
            t0 = time.monotonic()
            s.sendall(sent)
            s.shutdown(socket.SHUT_WR)
            reader.join(60)
            took = time.monotonic() - t0
        assert b"".join(came) == bytes(range(251)) * (BULK // 251), \
            (len(b"".join(came)), took)
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got == [hashlib.sha256(sent).hexdigest()], (got, took)


def answer_then_reset(conn, stop):
    """A Script handler: send an answer, wait until the client's upload
    has begun to arrive, and close with it unread, which makes the kernel
    send a reset."""
    conn.sendall(b"R" * 1000)
    conn.settimeout(10)
    conn.recv(1, socket.MSG_PEEK)


@suite.test
def upstream_reset_reaches_the_client_as_a_reset():
    # What the server sent before its reset still arrives, and then the
    # client sees the reset too, as it would over a direct connection:
    # a clean end of stream would pass the cut for a complete one.
    with Script(answer_then_reset) as e, \
            Ferry({"connect": {"ports": e.port}}) as f:
        s, line, rest = tunnel(f, b"127.0.0.1:%d" % e.port)
        assert b" 200 " in line, line
        got = bytearray(rest)
        with s:
            s.settimeout(10)
            s.sendall(b"u" * 65536)
            try:
                while True:
                    data = s.recv(65536)
                    if not data:
                        break
                    got += data
                ended = "end of stream"
            except ConnectionResetError:
                ended = "reset"
        assert bytes(got) == b"R" * 1000, len(got)
        assert ended == "reset", ended


def drain_then_answer_big(conn, stop):
    """A Script handler: read to the client's EOF, then send 4 MiB and
    close."""
    conn.settimeout(10)
    read_all(conn)
    conn.sendall(b"b" * (4 * 1024 * 1024))


@suite.test
def tunnel_whose_connect_was_retried_ends_cleanly():
    # The server starts listening once ferry's log shows a refused first
    # attempt; the tunnel opens on a later one. That failure was left
    # behind in the connection's "why", and the tunnel once took it for
    # its own at the end and cut with a reset a cleanly finished
    # exchange, and with it the bytes still on their way to the client
    # (it reads only after a pause here).
    port = free_port()
    refused = "connect to 127.0.0.1:%d: Connection refused" % port
    with Ferry({"connect": {"ports": port},
                "upstream": {"retries": 4}}) as f:
        with Script(drain_then_answer_big, port=port,
                    gate=lambda: refused in f.log()):
            s, line, rest = tunnel(f, b"127.0.0.1:%d" % port, b"early ")
            with s:
                assert b" 200 " in line, line
                s.shutdown(socket.SHUT_WR)
                time.sleep(1)
                s.settimeout(10)
                got = len(rest) + len(read_all(s))
        assert got == 4 * 1024 * 1024, got
        assert refused in f.log()


@suite.test
def parallel_tunnels_keep_their_data():
    for mode in ("pool", "thread"):
        with Script(echo_then_bye) as e, Ferry({"connect": {"ports": e.port},
                                 "pool": {"mode": mode}}) as f:
            errors = []

            def one(i):
                try:
                    s, line, rest = tunnel(f, b"127.0.0.1:%d" % e.port)
                    with s:
                        data = (b"%d-" % i) * 5000
                        s.sendall(data)
                        s.shutdown(socket.SHUT_WR)
                        got = rest + read_all(s)
                    if got != data + b"bye":
                        errors.append((i, len(got)))
                except OSError as exc:
                    errors.append((i, exc))

            threads = [threading.Thread(target=one, args=(i,))
                       for i in range(20)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert not errors, (mode, errors)


CERT = make_cert()
sys.exit(suite.run())
