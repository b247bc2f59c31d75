#!/usr/bin/env python3
"""Stand-ins for clamd and rspamd, for bench/intake_bench.sh only.

The intake benchmark measures what mailvault adds to Postfix. The real
clamd and rspamd would mostly measure themselves (rspamd spends 10-20 ms of
CPU per message on its rules, clamd scans every byte), so this answers both
protocols at once with a fixed verdict after reading the whole request, as
a fast engine would. The real engines are exercised by
tests/integration/milter_test.sh.

  stub_engines.py --clamd-socket PATH --port-file FILE --mode clean|labelled

clamd (unix socket PATH): zINSTREAM\\0 + chunks (4-byte big-endian length,
zero-length end) -> "stream: OK\\0" (clean) or
"stream: Eicar-Test-Signature FOUND\\0" (labelled); zVERSION\\0 -> a fixed
ClamAV version line; zPING\\0 -> PONG. One command per connection, as clamd.

rspamd (HTTP on 127.0.0.1, a free port written to FILE): POST /checkv2 with
a Content-Length body -> "no action" (clean) or a GTUBE "reject"
(labelled); GET /ping -> pong. Keep-alive is honoured.

Single-threaded asyncio: the stubs' own CPU cost is small next to what they
stand in for, and the bench reports it.
"""

import argparse
import asyncio
import os
import signal
import socket
import struct

CLAMD_VERSION = b"ClamAV 1.4.6/27000/Thu Nov 20 08:00:00 2026\0"
CLAMD_REPLY = {
    "clean": b"stream: OK\0",
    "labelled": b"stream: Eicar-Test-Signature FOUND\0",
}
RSPAMD_REPLY = {
    "clean": b'{"action":"no action","score":0.1,"required_score":15,"symbols":{}}',
    "labelled": b'{"action":"reject","score":1000,"required_score":15,'
                b'"symbols":{"GTUBE":{"name":"GTUBE","score":0}}}',
}


async def clamd_session(reader, writer, mode):
    try:
        cmd = await reader.readuntil(b"\0")
        if cmd == b"zINSTREAM\0":
            while True:
                (n,) = struct.unpack("!I", await reader.readexactly(4))
                if n == 0:
                    break
                await reader.readexactly(n)
            writer.write(CLAMD_REPLY[mode])
        elif cmd == b"zVERSION\0":
            writer.write(CLAMD_VERSION)
        elif cmd == b"zPING\0":
            writer.write(b"PONG\0")
        else:
            writer.write(b"UNKNOWN COMMAND\0")
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


def http_reply(status, body, keep_alive):
    head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
    return head.encode() + body


async def rspamd_session(reader, writer, mode):
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # the client closed between requests
            lines = head.decode("latin-1").split("\r\n")
            method, path, version = (lines[0].split(" ") + ["", "", ""])[:3]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            keep = (version == "HTTP/1.1" and
                    headers.get("connection", "").lower() != "close")
            if method == "POST" and path.startswith("/checkv2"):
                writer.write(http_reply("200 OK", RSPAMD_REPLY[mode], keep))
            elif path.startswith("/ping"):
                writer.write(http_reply("200 OK", b"pong\r\n", keep))
            else:
                writer.write(http_reply("404 Not Found", b"{}", keep))
            await writer.drain()
            if not keep:
                return
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
            ValueError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clamd-socket", required=True)
    ap.add_argument("--port-file", required=True, help="where the rspamd stub's port goes")
    ap.add_argument("--mode", choices=sorted(CLAMD_REPLY), default="clean")
    a = ap.parse_args()

    if os.path.exists(a.clamd_socket):
        os.unlink(a.clamd_socket)
    clamd = await asyncio.start_unix_server(
        lambda r, w: clamd_session(r, w, a.mode), path=a.clamd_socket, backlog=1024)
    os.chmod(a.clamd_socket, 0o666)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    rspamd = await asyncio.start_server(
        lambda r, w: rspamd_session(r, w, a.mode), sock=sock, backlog=1024)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{sock.getsockname()[1]}\n")
    os.rename(tmp, a.port_file)  # readers never see a half-written port

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    clamd.close()
    rspamd.close()


if __name__ == "__main__":
    asyncio.run(main())
