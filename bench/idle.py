#!/usr/bin/env python3
"""idle.py: 1,000 idle keep-alive clients, and one fresh request.

  idle.py PROXY_PORT ORIGIN_PORT [PID]

Opens 1,000 connections to the proxy on 127.0.0.1, sends one keep-alive
absolute-form GET of /small on each and reads the answer, then leaves them
open. After a second it counts how many the proxy still holds, reads the
proxy's RSS and thread count (if PID is given), and times one request on a
new connection while all of them are held (capped at 5 s). Prints
key=value lines. Bounded: every socket has a 5 s timeout.
"""
import resource
import select
import socket
import sys
import time

N = 1000


def request(origin):
    return ("GET http://127.0.0.1:%d/small HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Connection: keep-alive\r\n\r\n" % (origin, origin)).encode()


def answered(s):
    """Read one response head and its Content-Length body; True if 200."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(4096)
        if not data:
            return False
        buf += data
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        data = s.recv(4096)
        if not data:
            break
        body += data
    return head.split(b" ")[1] == b"200"


def still_open(s):
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return True
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False


def proc_value(pid, key):
    try:
        with open("/proc/%d/status" % pid) as st:
            for line in st:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    proxy, origin = int(sys.argv[1]), int(sys.argv[2])
    pid = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held, ok = [], 0
    for _ in range(N):
        try:
            s = socket.create_connection(("127.0.0.1", proxy), 5)
            s.settimeout(5)
            s.sendall(request(origin))
            ok += answered(s)
            held.append(s)
        except OSError:
            pass
    time.sleep(1)
    print("answered 200=%d" % ok)
    print("still open=%d" % sum(still_open(s) for s in held))
    if pid:
        print("RSS held MB=%.1f" % (proc_value(pid, "VmRSS") / 1024))
        print("threads held=%d" % proc_value(pid, "Threads"))
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", proxy), 5) as s:
            s.settimeout(5)
            s.sendall(request(origin))
            fresh = answered(s)
    except OSError:
        fresh = False
    print("fresh ok=%d" % fresh)
    print("fresh ms=%.2f" % ((time.monotonic() - t0) * 1000))
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
