#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that breaks connections on purpose, for the
LDAP tests' failure cases.

  cutproxy.py PORTFILE TARGET_PORT --cut-after BYTES   forward both ways, and
      close both sides once BYTES have gone from the server to the client
      (a connection lost in the middle of a paged search)
  cutproxy.py PORTFILE 0 --silent                      accept and never answer
      (a hung server: the client's timeouts must end the wait)

Writes its port to PORTFILE once it listens; runs until killed.
"""
import argparse
import socket
import threading


def pump(src, dst, budget, lock):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if budget is not None:
                with lock:
                    allowed = min(len(data), budget[0])
                    budget[0] -= allowed
                if allowed:
                    dst.sendall(data[:allowed])
                if budget[0] <= 0:
                    break
            else:
                dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("target", type=int)
    ap.add_argument("--cut-after", type=int)
    ap.add_argument("--silent", action="store_true")
    a = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(a.portfile + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    import os
    os.rename(a.portfile + ".tmp", a.portfile)
    held = []
    while True:
        c, _ = ls.accept()
        if a.silent:
            held.append(c)  # never read, never answer, never close
            continue
        s = socket.create_connection(("127.0.0.1", a.target))
        lock = threading.Lock()
        budget = [a.cut_after] if a.cut_after is not None else None
        threading.Thread(target=pump, args=(c, s, None, lock), daemon=True).start()
        threading.Thread(target=pump, args=(s, c, budget, lock), daemon=True).start()


if __name__ == "__main__":
    main()
