#!/usr/bin/env python3
"""A tiny authoritative DNS server for the integration tests (stdlib only).

Usage: fakedns.py ZONE_FILE PORT_FILE [PIDFILE]

Binds UDP and TCP on 127.0.0.1 with a kernel-chosen port, writes that port
to PORT_FILE once both sockets listen, and answers from ZONE_FILE, which is
re-read whenever it changes (tests may add records while it runs). Zone lines:

    name TYPE value...          # '#' starts a comment
    example.net        TXT  "v=spf1 ip4:192.0.2.0/24 -all"
    mx.example.org     A    203.0.113.5
    example.org        MX   10 mx.example.org
    5.113.0.203.in-addr.arpa PTR mx.example.org
    *.dnsbl.test       A    127.0.0.2        # leading '*.' = wildcard

TXT values: one or more "quoted strings" (joined, then split into 255-byte
chunks), or a bare word. Names that have records of another type answer
NOERROR with no data; unknown names answer NXDOMAIN at once, so nothing
(rspamd RBL/SPF/DKIM lookups) ever waits for a timeout.
"""
import os
import re
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}

zone_file, port_file = sys.argv[1], sys.argv[2]
_zone = {}
_zone_mtime = None
_lock = threading.Lock()


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_txt(value):
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', value)
    text = "".join(p.replace('\\"', '"') for p in parts) if parts else value
    data = text.encode()
    chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    return b"".join(bytes([len(c)]) + c for c in chunks)


def rdata(rtype, value):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype in ("PTR", "CNAME", "NS"):
        return encode_name(value)
    if rtype == "MX":
        pref, host = value.split(None, 1)
        return struct.pack("!H", int(pref)) + encode_name(host)
    if rtype == "TXT":
        return parse_txt(value)
    raise ValueError(rtype)


def load_zone():
    global _zone, _zone_mtime
    try:
        mtime = os.stat(zone_file).st_mtime_ns
    except FileNotFoundError:
        mtime = None
    with _lock:
        if mtime == _zone_mtime:
            return _zone
        zone = {}
        if mtime is not None:
            with open(zone_file) as f:
                for line in f:
                    line = line.strip()
                    if not line or line.startswith("#"):
                        continue
                    name, rtype, value = line.split(None, 2)
                    rtype = rtype.upper()
                    try:
                        zone.setdefault(name.lower().rstrip("."), []).append((rtype, rdata(rtype, value)))
                    except Exception as e:  # a bad line must not kill the server
                        print("fakedns: bad zone line %r: %s" % (line, e), file=sys.stderr)
        _zone, _zone_mtime = zone, mtime
        return zone


def lookup(zone, name):
    if name in zone:
        return zone[name]
    labels = name.split(".")
    for i in range(1, len(labels)):
        wild = "*." + ".".join(labels[i:])
        if wild in zone:
            return zone[wild]
    return None


def answer(query):
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    pos, labels = 12, []
    try:
        while query[pos]:
            n = query[pos]
            labels.append(query[pos + 1:pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
        pos += 1
        qtype, qclass = struct.unpack("!HH", query[pos:pos + 4])
        pos += 4
    except (IndexError, struct.error):
        return None
    question = query[12:pos]
    name = ".".join(labels).lower()
    records = lookup(load_zone(), name)
    rd = flags & 0x0100
    answers = []
    if records is None:
        rcode = 3  # NXDOMAIN
    else:
        rcode = 0
        for rtype, data in records:
            t = TYPES[rtype]
            if t == qtype or qtype == 255 or (t == 5 and qtype != 5):
                answers.append(b"\xc0\x0c" + struct.pack("!HHIH", t, 1, 60, len(data)) + data)
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | rd | rcode, 1, len(answers), 0, 0)
    return hdr + question + b"".join(answers)


def serve_udp(sock):
    while True:
        data, addr = sock.recvfrom(4096)
        resp = answer(data)
        if resp is not None:
            if len(resp) > 512 and not _edns(data):
                # Too big for plain UDP: set TC, drop the answers; the
                # client retries over TCP.
                qlen = resp.index(b"\0", 12) + 5
                resp = resp[:2] + bytes([resp[2] | 0x02]) + resp[3:4] + b"\0\1\0\0\0\0\0\0" + resp[12:qlen]
            sock.sendto(resp, addr)


def _edns(query):
    return len(query) > 12 and struct.unpack("!H", query[10:12])[0] > 0


def serve_tcp_conn(conn):
    with conn:
        while True:
            hdr = conn.recv(2)
            if len(hdr) < 2:
                return
            (n,) = struct.unpack("!H", hdr)
            data = b""
            while len(data) < n:
                chunk = conn.recv(n - len(data))
                if not chunk:
                    return
                data += chunk
            resp = answer(data)
            if resp is None:
                return
            conn.sendall(struct.pack("!H", len(resp)) + resp)


def serve_tcp(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(conn,), daemon=True).start()


def main():
    # One port for both: pick it with UDP, then bind TCP on the same number.
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", port))
            break
        except OSError:
            udp.close()
            tcp.close()
    else:
        sys.exit("fakedns: no free port")
    tcp.listen(16)
    load_zone()
    threading.Thread(target=serve_tcp, args=(tcp,), daemon=True).start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, port_file)
    serve_udp(udp)


if __name__ == "__main__":
    main()
