#!/usr/bin/env python3
"""origin.py: the local origin server that ferry's end-to-end tests proxy to.

A small threaded HTTP/1.1 server over raw sockets, so that every byte it
sends is under the test's control (chunked bodies, close-delimited bodies,
malformed answers, stalls). One request per connection; it closes after
answering. Every request it receives is appended to a JSON-lines log
(--log), so tests can check what ferry sent upstream, or that it sent
nothing at all.

Usage: origin.py --port N [--host H] [--log FILE] [--tls CERT KEY]
Prints "ready" on stdout once it listens.

Paths:
  /hello              200, "hello\\n"
  /echo               200, body = the raw request (head and body) received
  /big?size=N         200, N bytes of pattern(), Content-Length
  /chunked?size=N     200, N bytes of pattern() in chunks, with a trailer
                      (even to HEAD); &late=S waits S seconds after the head
  /close?size=N       200, N bytes, no length: ends when the origin closes
  /status/NNN         that status; 1xx/204/304 and HEAD get no body
  /stall              reads the request, never answers (closes after 30 s)
  /early              answers 413 at once, without reading any body
  /continue           sends "100 Continue" if asked, then echoes;
                      &hints=1 sends "103 Early Hints" before the 100
  /hop                response carrying hop-by-hop fields
  /bad                a malformed status line
  /clte               a response with both Content-Length and chunked
  /slowbody?size=N    sends the head, then N bytes slowly (1 byte / 50 ms)
"""
import argparse
import hashlib
import json
import socket
import socketserver
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit, parse_qs

MAX_HEAD = 65536


def pattern(n):
    """The deterministic body of n bytes that /big, /chunked, /close send."""
    block = bytes(range(256)) * 4096  # 1 MiB
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)


def pattern_chunks(n, size=1 << 20):
    """pattern(n) in pieces of at most size bytes, continuing the 0..255
    cycle across pieces whatever their size."""
    block = bytes(range(256)) * (size // 256 + 2)
    sent = 0
    while sent < n:
        k = min(n - sent, size)
        start = sent % 256
        yield block[start:start + k]
        sent += k


def read_head(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None, buf
        buf += data
        if len(buf) > MAX_HEAD:
            return None, buf
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def parse_head(head):
    lines = head[:-4].split(b"\r\n")
    method, target, version = lines[0].decode("latin-1").split(" ", 2)
    fields = []
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        fields.append((name, value.strip()))
    return method, target, version, fields


def field(fields, name):
    for n, v in fields:
        if n.lower() == name.lower():
            return v
    return None


def read_exact(sock, rest, n):
    buf = rest
    while len(buf) < n:
        data = sock.recv(min(1 << 20, n - len(buf)))
        if not data:
            raise EOFError("body cut short")
        buf += data
    return buf[:n], buf[n:]


def read_chunked(sock, rest):
    """Read a chunked body; returns the raw bytes (as framed)."""
    raw = b""
    buf = rest

    def need(pred):
        nonlocal buf
        while not pred():
            data = sock.recv(65536)
            if not data:
                raise EOFError("chunked body cut short")
            buf += data

    while True:
        need(lambda: b"\r\n" in buf)
        line, _, buf = buf.partition(b"\r\n")
        raw += line + b"\r\n"
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:
                need(lambda: b"\r\n" in buf)
                tline, _, buf = buf.partition(b"\r\n")
                raw += tline + b"\r\n"
                if tline == b"":
                    return raw
        need(lambda: len(buf) >= size + 2)
        raw += buf[: size + 2]
        buf = buf[size + 2:]


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(60)
        try:
            self.serve(sock)
        except (OSError, EOFError, ValueError):
            pass

    def log(self, entry):
        if self.server.log_path:
            with self.server.log_lock, open(self.server.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def read_body(self, sock, fields, rest):
        te = field(fields, "Transfer-Encoding")
        if te is not None and te.lower().endswith("chunked"):
            return read_chunked(sock, rest)
        cl = field(fields, "Content-Length")
        if cl is not None:
            body, _ = read_exact(sock, rest, int(cl))
            return body
        return b""

    def serve(self, sock):
        head, rest = read_head(sock)
        if head is None:
            return
        method, target, version, fields = parse_head(head)
        url = urlsplit(target)
        path = url.path
        query = parse_qs(url.query)
        size = int(query.get("size", ["0"])[0])
        entry = {"method": method, "target": target, "version": version,
                 "fields": fields, "client": self.client_address[0]}
        if path == "/early":
            self.log(entry)
            return self.send(sock, 413, b"too large\n")
        if path == "/continue" and (field(fields, "Expect") or "").lower() \
                == "100-continue":
            if "hints" in query:    # 103 Early Hints first, apart
                sock.sendall(b"HTTP/1.1 103 Early Hints\r\n"
                             b"Link: </a.css>; rel=preload\r\n\r\n")
                time.sleep(0.1)
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.read_body(sock, fields, rest)
        entry["body_len"] = len(body)
        entry["body_sha256"] = hashlib.sha256(body).hexdigest()
        self.log(entry)
        self.route(sock, method, path, size, head, body, query)

    def route(self, sock, method, path, size, head, body, query):
        if path == "/hello":
            return self.send(sock, 200, b"hello\n", method=method)
        if path in ("/echo", "/continue"):
            return self.send(sock, 200, head + body, method=method)
        if path == "/big":
            return self.send_big(sock, size, method)
        if path == "/chunked":
            late = float(query.get("late", ["0"])[0])
            return self.send_chunked(sock, size, late)
        if path == "/close":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: "
                         b"application/octet-stream\r\n\r\n")
            for part in pattern_chunks(size):
                sock.sendall(part)
            return
        if path.startswith("/status/"):
            return self.send(sock, int(path[8:]), b"status body\n",
                             method=method)
        if path == "/stall":
            time.sleep(30)
            return
        if path == "/hop":
            sock.sendall(b"HTTP/1.1 200 OK\r\nConnection: X-Secret\r\n"
                         b"X-Secret: 1\r\nKeep-Alive: timeout=5\r\n"
                         b"Upgrade: h2c\r\nX-Kept: yes\r\n"
                         b"Content-Length: 3\r\n\r\nhop")
            return
        if path == "/bad":
            sock.sendall(b"HTTP/1.1 2OO OK\r\n\r\n")
            return
        if path == "/clte":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n"
                         b"3\r\nabc\r\n0\r\n\r\n")
            return
        if path == "/slowbody":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                         % size)
            for i in range(size):
                time.sleep(0.05)
                sock.sendall(b"x")
            return
        return self.send(sock, 404, b"no such path\n", method=method)

    def send(self, sock, status, body, method="GET"):
        no_body = method == "HEAD" or status < 200 or status in (204, 304)
        head = "HTTP/1.1 %d Test\r\nContent-Type: text/plain\r\n" % status
        if status not in (204, 304) and status >= 200:
            head += "Content-Length: %d\r\n" % len(body)
        head += "Connection: close\r\n\r\n"
        sock.sendall(head.encode() + (b"" if no_body else body))

    def send_big(self, sock, size, method):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/"
                     b"octet-stream\r\nContent-Length: %d\r\n\r\n" % size)
        if method == "HEAD":
            return
        for part in pattern_chunks(size):
            sock.sendall(part)

    def send_chunked(self, sock, size, late=0.0):
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                     b"Trailer: X-Sum\r\n\r\n")
        time.sleep(late)
        for part in pattern_chunks(size, 65536 + 7):
            sock.sendall(b"%x;ext=1\r\n" % len(part) + part + b"\r\n")
        sock.sendall(b"0\r\nX-Sum: done\r\n\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


class TLSServer(Server):
    def get_request(self):
        sock, addr = super().get_request()
        return self.tls.wrap_socket(sock, server_side=True), addr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    cls = TLSServer if args.tls else Server
    cls.address_family = family
    srv = cls((args.host, args.port), Handler)
    srv.log_path = args.log
    srv.log_lock = threading.Lock()
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.tls = ctx
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
