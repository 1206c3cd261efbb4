"""keeporigin.py: a loopback origin that keeps its connections alive.

tests/origin.py answers one request per connection and closes; the
suites that need ferry to pool origin connections (e2e_keepalive.py,
e2e_dest.py) serve through this one, which answers request after request
on a connection and can be told to misbehave on cue.
"""
import socket
import threading
import time

from ferrytest import Script
from origin import pattern


class KeepAliveOrigin(Script):
    """A Script origin that serves many requests per connection. Each
    request gets 200 with body "<method> <target> #<conn>.<n>" (or
    ?size=N bytes of pattern()), and fields X-Conn (which connection,
    from 1) and X-Seq (the request's number on it, from 1).

    answer: how many requests to answer on each connection before
    misbehaving (None: all of them); answer_conn(conn id), if given,
    says it per connection instead. then: what happens next: "close"
    (close at once after the last answer) or "die" (read the next
    request, then close without answering). delay: seconds to wait
    before each answer. fields: extra response fields (bytes, CRLF-ended);
    version: of the status line. A target with "chunked" in it is
    answered chunked. junk: bytes sent after every answer (a broken
    origin): with it in one write, or junk_delay seconds later.

    seen: [(conn, method, target, body)] in arrival order; eofs: how many
    connections the peer (ferry) closed."""

    def __init__(self, answer=None, then="close", delay=0.0, fields=b"",
                 answer_conn=None, version=b"1.1", junk=b"", junk_delay=0.0):
        super().__init__(self.handle)
        self.answer = answer
        self.then = then
        self.delay = delay
        self.fields = fields
        self.answer_conn = answer_conn
        self.version = version
        self.junk = junk
        self.junk_delay = junk_delay
        self.lock = threading.Lock()
        self.seen = []
        self.eofs = 0
        self.conns = 0

    @property
    def authority(self):
        return "127.0.0.1:%d" % self.port

    def requests(self):
        with self.lock:
            return list(self.seen)

    def handle(self, conn, stop):
        with self.lock:
            self.conns += 1
            cid = self.conns
        limit = self.answer_conn(cid) if self.answer_conn else self.answer
        rd = _Reader(conn, stop)
        n = 0
        while True:
            got = rd.request()
            if got is None:
                with self.lock:
                    self.eofs += 1
                return
            method, target, body = got
            n += 1
            with self.lock:
                self.seen.append((cid, method, target, body))
            if limit is not None and n > limit:
                return  # "die": read it, close without answering
            if self.delay:
                time.sleep(self.delay)
            if "size=" in target:
                data = pattern(int(target.split("size=")[1]))
            else:
                data = ("%s %s #%d.%d\n" % (method, target, cid,
                                            n)).encode()
            if method == "HEAD":
                framing, data = b"Content-Length: %d\r\n" % len(data), b""
            elif "chunked" in target:
                framing = b"Transfer-Encoding: chunked\r\n"
                data = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in
                                (data[:3], data[3:]) if p) + b"0\r\n\r\n"
            else:
                framing = b"Content-Length: %d\r\n" % len(data)
            answer = (b"HTTP/%s 200 OK\r\n%sX-Conn: %d\r\nX-Seq: %d"
                      b"\r\n%s\r\n%s" % (self.version, framing, cid, n,
                                          self.fields, data))
            if self.junk and not self.junk_delay:
                answer += self.junk  # in the same write
            conn.sendall(answer)
            if self.junk and self.junk_delay:
                time.sleep(self.junk_delay)
                conn.sendall(self.junk)
            if limit is not None and n == limit and self.then == "close":
                return


class _Reader:
    """Request reader for a Script handler: head, then the body by
    Content-Length or chunked, keeping what follows."""

    def __init__(self, conn, stop):
        self.conn = conn
        self.stop = stop
        self.buf = b""
        conn.settimeout(0.2)

    def _fill(self):
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                data = self.conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return False
            if not data:
                return False
            self.buf += data
            return True
        return False

    def _line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise EOFError
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _take(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def request(self):
        """(method, target, body) or None at EOF."""
        try:
            while b"\r\n\r\n" not in self.buf:
                if not self._fill():
                    return None
            head, _, self.buf = self.buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target = lines[0].split(" ")[:2]
            fields = {}
            for ln in lines[1:]:
                n, _, v = ln.partition(":")
                fields[n.strip().lower()] = v.strip()
            body = b""
            if fields.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        while self._line() != b"":
                            pass
                        break
                    body += self._take(size)
                    self._take(2)
            elif "content-length" in fields:
                body = self._take(int(fields["content-length"]))
            return method, target, body
        except EOFError:
            return None
