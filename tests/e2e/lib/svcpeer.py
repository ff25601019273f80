# SPDX-License-Identifier: GPL-2.0-or-later
"""Destinations for the TLS stream service tests (tests/e2e/services*.sh),
run in the lab's lan namespace.  One mode per invocation:

  svcpeer.py sha HOST PORT        per connection: read to EOF, then answer
                                  "<sha256 hex> <bytes>\\n" and close (upload
                                  and half-close: the answer comes only
                                  after the client's side is closed)
  svcpeer.py proxy HOST PORT      read a PROXY v2 header, answer an HTTP
                                  response whose body is "src=ADDR:PORT
                                  dst=ADDR:PORT"
  svcpeer.py hold HOST PORT FILE  hold every connection (idle streams)
                                  until its client closes; the number held
                                  goes to FILE
  svcpeer.py flood HOST PORT FILE write to each connection for ever; the
                                  bytes the kernel took so far go to FILE
"""
import hashlib
import selectors
import socket
import struct
import sys
import threading


def listener(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(4096)
    return s


def sha_conn(c):
    h, n = hashlib.sha256(), 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        h.update(d)
        n += len(d)
    c.sendall(("%s %d\n" % (h.hexdigest(), n)).encode())
    c.close()


def addr_text(fam, raw_addr, raw_port):
    a = socket.inet_ntop(fam, raw_addr)
    port = struct.unpack("!H", raw_port)[0]
    return ("[%s]:%d" if fam == socket.AF_INET6 else "%s:%d") % (a, port)


def proxy_conn(c):
    head = b""
    while len(head) < 16:
        d = c.recv(16 - len(head))
        if not d:
            c.close()
            return
        head += d
    body = "no PROXY v2 header"
    if head[:12] == b"\r\n\r\n\x00\r\nQUIT\n" and head[12] == 0x21:
        n = struct.unpack("!H", head[14:16])[0]
        rest = b""
        while len(rest) < n:
            rest += c.recv(n - len(rest))
        if head[13] == 0x11:
            body = "src=%s dst=%s" % (addr_text(socket.AF_INET, rest[0:4], rest[8:10]),
                                      addr_text(socket.AF_INET, rest[4:8], rest[10:12]))
        elif head[13] == 0x21:
            body = "src=%s dst=%s" % (addr_text(socket.AF_INET6, rest[0:16], rest[32:34]),
                                      addr_text(socket.AF_INET6, rest[16:32], rest[34:36]))
    c.recv(65536)  # the request
    c.sendall(("HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
    c.close()


def hold(s, count_file):
    sel = selectors.DefaultSelector()
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    held = 0
    while True:
        for key, _ in sel.select(1.0):
            if key.fileobj is s:
                for _ in range(256):
                    try:
                        c, _a = s.accept()
                    except BlockingIOError:
                        break
                    sel.register(c, selectors.EVENT_READ)
                    held += 1
            elif not key.fileobj.recv(65536):  # the client went: so do we
                sel.unregister(key.fileobj)
                key.fileobj.close()
                held -= 1
        with open(count_file, "w") as f:
            f.write("%d\n" % held)


def flood_conn(c, out):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
    block, sent = b"x" * 65536, 0
    try:
        while True:
            sent += c.send(block)
            with open(out, "w") as f:
                f.write("%d\n" % sent)
    except OSError:
        pass


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = listener(host, port)
    if mode == "hold":
        hold(s, sys.argv[4])
        return
    serve = {"sha": sha_conn, "proxy": proxy_conn}.get(mode)
    while True:
        c, _a = s.accept()
        if mode == "flood":
            threading.Thread(target=flood_conn, args=(c, sys.argv[4]), daemon=True).start()
        else:
            threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
