#!/usr/bin/python3
"""SMTP next hop for the integration tests that keeps every message it takes.

Run with Debian's /usr/bin/python3 (python3-aiosmtpd). Usage:

  pysink.py --port PORT --dir DIR [--reject-rcpt REGEX] [--tempfail-rcpt REGEX]
            [--reject-data REGEX] [--tempfail-data REGEX] [--max-size BYTES]

Each accepted message is written atomically (temp file + rename) as
DIR/NNNNNN.eml, holding the DATA bytes exactly as received (CRLF line ends,
dot-unstuffed), and DIR/NNNNNN.json with the envelope (mail_from, rcpt_tos,
helo, peer). The .json is renamed into place first, so once the .eml exists
both are complete.

Recipients matching --reject-rcpt (Python regex, searched in the address,
case-insensitive) get "550 5.1.1"; --tempfail-rcpt gets "450 4.2.0". A
message whose bytes match --reject-data / --tempfail-data gets 554 / 451 at
end of data and is not kept. --max-size is advertised as the EHLO SIZE
limit (default 200 MiB); larger messages get aiosmtpd's 552. Every reply is
logged to stdout.
"""
import argparse
import itertools
import json
import os
import re
import signal
import sys

from aiosmtpd.controller import Controller

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--dir", required=True)
ap.add_argument("--reject-rcpt")
ap.add_argument("--tempfail-rcpt")
ap.add_argument("--reject-data")
ap.add_argument("--tempfail-data")
ap.add_argument("--max-size", type=int, default=200 * 1024 * 1024)
args = ap.parse_args()
os.makedirs(args.dir, exist_ok=True)


def rx(s):
    return re.compile(s, re.I) if s else None


reject_rcpt, tempfail_rcpt = rx(args.reject_rcpt), rx(args.tempfail_rcpt)
reject_data = re.compile(args.reject_data.encode()) if args.reject_data else None
tempfail_data = re.compile(args.tempfail_data.encode()) if args.tempfail_data else None
counter = itertools.count(1)


def log(*a):
    print("pysink:", *a, flush=True)


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reject_rcpt and reject_rcpt.search(address):
            log("RCPT", address, "-> 550")
            return "550 5.1.1 <%s>: Recipient address rejected by test sink" % address
        if tempfail_rcpt and tempfail_rcpt.search(address):
            log("RCPT", address, "-> 450")
            return "450 4.2.0 <%s>: Recipient temporarily refused by test sink" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or b""
        if reject_data and reject_data.search(data):
            log("DATA -> 554")
            return "554 5.6.0 Message rejected by test sink"
        if tempfail_data and tempfail_data.search(data):
            log("DATA -> 451")
            return "451 4.3.0 Message deferred by test sink"
        n = next(counter)
        base = os.path.join(args.dir, "%06d" % n)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "helo": session.host_name,
            "peer": list(session.peer) if session.peer else None,
            "size": len(data),
        }
        write_atomic(base + ".json", json.dumps(meta).encode())
        write_atomic(base + ".eml", data)
        log("DATA kept as", base + ".eml", "from", envelope.mail_from, "to", ",".join(envelope.rcpt_tos))
        return "250 2.0.0 Ok: queued as sink%06d" % n


def main():
    # Block the stop signals before the server thread starts (it inherits
    # the mask), then wait for one in the main thread.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    ctl = Controller(Handler(), hostname=args.host, port=args.port,
                     data_size_limit=args.max_size, enable_SMTPUTF8=True,
                     decode_data=False, ident="pysink")
    ctl.start()
    log("listening on %s:%d" % (args.host, args.port))
    signal.sigwait(stop_signals)
    ctl.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
