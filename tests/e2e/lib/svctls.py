# SPDX-License-Identifier: GPL-2.0-or-later
"""TLS clients for the TLS stream service tests (tests/e2e/services*.sh).

  svctls.py send HOST PORT FILE [CERT KEY]
      handshake, send FILE, close our side with close_notify (and a FIN),
      then print everything the server sends until it closes: the
      half-close case (the destination answers only after our EOF)
  svctls.py idle HOST PORT N SECONDS
      open N TLS streams (100 handshakes at a time), print "held N" once
      all are up, hold them SECONDS; exits 1 when fewer than N came up
  svctls.py noread HOST PORT SECONDS
      handshake, send a line, then never read for SECONDS
"""
import asyncio
import socket
import ssl
import sys
import time


def ctx(cert=None, key=None):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    if cert:
        c.load_cert_chain(cert, key)
    return c


def send(host, port, path, cert=None, key=None):
    sock = socket.create_connection((host, port), timeout=60)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx(cert, key).wrap_bio(inc, out, server_side=False)

    def flush():
        d = out.read()
        if d:
            sock.sendall(d)

    def fill():
        d = sock.recv(1 << 16)
        if d:
            inc.write(d)
        else:
            inc.write_eof()
        return d

    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush()
            if not fill():
                raise SystemExit("closed during the handshake")
    flush()
    with open(path, "rb") as f:
        while True:
            d = f.read(1 << 16)
            if not d:
                break
            obj.write(d)
            flush()
    try:
        obj.unwrap()  # close_notify
    except ssl.SSLWantReadError:
        pass
    flush()
    sock.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        try:
            got += obj.read(1 << 16)
        except ssl.SSLWantReadError:
            if not fill():
                break
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    sys.stdout.write(got.decode(errors="replace"))


async def one(host, port, c, gate, up):
    async with gate:
        try:
            _r, w = await asyncio.open_connection(host, port, ssl=c)
        except (OSError, ssl.SSLError):
            return
    up.append(w)


async def idle(host, port, n, secs):
    c, up = ctx(), []
    gate = asyncio.Semaphore(100)  # handshakes under way at once
    await asyncio.gather(*[one(host, port, c, gate, up) for _ in range(n)])
    print("held %d" % len(up), flush=True)
    await asyncio.sleep(secs)
    return len(up)


def noread(host, port, secs):
    raw = socket.create_connection((host, port), timeout=30)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s = ctx().wrap_socket(raw)
    s.sendall(b"start\n")
    print("connected", flush=True)
    time.sleep(secs)


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "send":
        send(host, port, sys.argv[4], *sys.argv[5:7])
    elif mode == "idle":
        n = int(sys.argv[4])
        got = asyncio.run(idle(host, port, n, float(sys.argv[5])))
        sys.exit(0 if got >= n else 1)
    elif mode == "noread":
        noread(host, port, float(sys.argv[4]))


if __name__ == "__main__":
    main()
