#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A load balancer that dawdles: for each connection to LISTEN (host:port) it
connects to TARGET, sends HEADER (a PROXY protocol line, '\\r\\n' escapes
understood) one byte every DELAY seconds, then relays both ways until one
side closes.  tests/fleet/proxy.sh uses it for a header that arrives slowly
but in time.  Runs until killed."""
import socket
import sys
import threading
import time


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(c, target, header, delay):
    t = socket.create_connection(target)
    for i in range(len(header)):
        t.sendall(header[i:i + 1])
        time.sleep(delay)
    threading.Thread(target=pipe, args=(c, t), daemon=True).start()
    pipe(t, c)


def main():
    lhost, lport = sys.argv[1].rsplit(":", 1)
    thost, tport = sys.argv[2].rsplit(":", 1)
    header = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
    delay = float(sys.argv[4])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lhost, int(lport)))
    ls.listen(16)
    print("listening", flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, (thost, int(tport)), header, delay),
                         daemon=True).start()


main()
