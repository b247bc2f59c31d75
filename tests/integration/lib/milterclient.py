#!/usr/bin/env python3
"""A raw milter protocol client for tests (stdlib only).

The milter wire format: every packet is a 4-byte big-endian length (of the
command byte plus its data), one command byte, then the data. This client
speaks it byte for byte, so a test can send what Postfix never would: an
envelope address that is not UTF-8, a zero-length packet, a command out of
order, an unknown protocol version.

As a library:
    c = MilterClient("127.0.0.1", port)
    c.optneg()                               # version 6, all actions
    c.connect(b"mx.example.org", b"203.0.113.5")
    c.helo(b"mx.example.org")
    c.mail(b"<m\\xfcller@example.org>")
    c.rcpt(b"<bob@example.com>")
    c.header(b"Subject", b"hello")
    c.eoh()
    c.body(b"text\\r\\n")
    replies = c.eom()                        # [(cmd, data), ...] up to the final one
    c.quit()

    c.send_raw(b"\\0\\0\\0\\0")                # anything at all
    c.closed_within(5)                       # True if the milter closed the connection

As a command (for shell tests):
    milterclient.py HOST:PORT message FROM RCPT FILE   # one message; prints the replies
    milterclient.py HOST:PORT raw HEX [HEX...]          # sends packets given in hex after
                                                        # OPTNEG; prints "closed after N.Ns"
                                                        # or "open after N.Ns" (wait: --wait S)
FROM/RCPT accept \\xNN escapes, so a test can pass bytes that are not UTF-8.
"""

import socket
import struct
import sys
import time

# Commands (MTA -> milter) and replies (milter -> MTA), libmilter's mfdef.h.
OPTNEG, CONNECT, HELO, MAIL, RCPT, HEADER, EOH, BODY, EOM, ABORT, QUIT, MACRO, DATA = (
    b"O", b"C", b"H", b"M", b"R", b"L", b"N", b"B", b"E", b"A", b"Q", b"D", b"T")
FINAL_REPLIES = {b"a", b"c", b"d", b"r", b"t", b"y", b"s"}  # accept, continue, ...
ACTIONS_ALL = 0x1FF       # every SMFIF_* action
PROTO_NONE = 0            # the MTA sends every stage and wants every reply


def packet(cmd: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data) + 1) + cmd + data


class MilterClient:
    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    # -- raw ------------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, cmd: bytes, data: bytes = b"") -> None:
        self.sock.sendall(packet(cmd, data))

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("milter closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_reply(self):
        """One reply packet: (command byte, data)."""
        (n,) = struct.unpack(">I", self._read_exact(4))
        if n == 0:
            raise ConnectionError("zero-length reply")
        body = self._read_exact(n)
        return body[:1], body[1:]

    def read_until_final(self):
        replies = []
        while True:
            cmd, data = self.read_reply()
            replies.append((cmd, data))
            if cmd in FINAL_REPLIES:
                return replies

    def closed_within(self, seconds: float) -> bool:
        """True if the milter closes (EOF or reset) within `seconds`; replies
        that arrive meanwhile are read and dropped."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True

    def close(self) -> None:
        self.sock.close()

    # -- the stages -------------------------------------------------------------
    def optneg(self, version: int = 6, actions: int = ACTIONS_ALL, protocol: int = PROTO_NONE):
        self.send(OPTNEG, struct.pack(">III", version, actions, protocol))
        return self.read_reply()

    def macro(self, for_cmd: bytes, pairs: dict) -> None:
        data = for_cmd
        for k, v in pairs.items():
            data += k + b"\0" + v + b"\0"
        self.send(MACRO, data)

    def connect(self, hostname: bytes = b"localhost", addr: bytes = b"127.0.0.1", port: int = 25):
        self.send(CONNECT, hostname + b"\0" + b"4" + struct.pack(">H", port) + addr + b"\0")
        return self.read_reply()

    def helo(self, name: bytes):
        self.send(HELO, name + b"\0")
        return self.read_reply()

    def mail(self, sender: bytes, *args: bytes):
        self.send(MAIL, b"".join(a + b"\0" for a in (sender,) + args))
        return self.read_reply()

    def rcpt(self, rcpt: bytes, *args: bytes):
        self.send(RCPT, b"".join(a + b"\0" for a in (rcpt,) + args))
        return self.read_reply()

    def header(self, name: bytes, value: bytes):
        self.send(HEADER, name + b"\0" + value + b"\0")
        return self.read_reply()

    def eoh(self):
        self.send(EOH)
        return self.read_reply()

    def body(self, data: bytes):
        last = None
        for off in range(0, max(len(data), 1), 65535):
            self.send(BODY, data[off:off + 65535])
            last = self.read_reply()
        return last

    def eom(self, queue_id: bytes = b"TESTQID"):
        self.macro(EOM, {b"i": queue_id})
        self.send(EOM)
        return self.read_until_final()

    def quit(self) -> None:
        try:
            self.send(QUIT)
        except OSError:
            pass
        self.close()

    def message(self, sender: bytes, rcpts, raw: bytes, queue_id: bytes = b"TESTQID"):
        """A whole message from its raw bytes (headers + body); the replies of
        end-of-message."""
        head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        self.mail(sender)
        for r in rcpts:
            self.rcpt(r)
        name, value = None, b""
        for line in head.split(b"\n"):
            if line[:1] in (b" ", b"\t") and name is not None:
                value += b"\n" + line
                continue
            if name is not None:
                self.header(name, value)
            name, _, value = line.partition(b":")
            value = value[1:] if value.startswith(b" ") else value
        if name is not None:
            self.header(name, value)
        self.eoh()
        if body:
            self.body(body.replace(b"\n", b"\r\n"))
        return self.eom(queue_id)


def unescape(s: str) -> bytes:
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    host, _, port = argv[1].rpartition(":")
    wait = 5.0
    if "--wait" in argv:
        i = argv.index("--wait")
        wait = float(argv[i + 1])
        del argv[i:i + 2]
    c = MilterClient(host, int(port))
    if argv[2] == "message":
        sender, rcpt, path = unescape(argv[3]), unescape(argv[4]), argv[5]
        c.optneg()
        c.connect(b"mx.example.org", b"203.0.113.5")
        c.helo(b"mx.example.org")
        replies = c.message(b"<" + sender + b">", [b"<" + rcpt + b">"], open(path, "rb").read())
        for cmd, data in replies:
            print(cmd.decode("latin-1"), data.rstrip(b"\0").replace(b"\0", b" ").decode("latin-1"))
        c.quit()
        return 0 if replies and replies[-1][0] in FINAL_REPLIES else 1
    if argv[2] == "raw":
        c.optneg()
        start = time.monotonic()
        for h in argv[3:]:
            c.send_raw(bytes.fromhex(h))
        closed = c.closed_within(wait)
        print(("closed" if closed else "open") + " after %.1fs" % (time.monotonic() - start))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
