#!/usr/bin/env python3
"""Writes the test messages and files the integration tests scan (stdlib only).

Usage: samples.py OUTDIR

Files (see services.sh for what each engine says about them):
  eicar.com            the 68-byte EICAR test file
  heuristic.txt        text with the marker of the private DB's Heuristics.* signature
  encrypted.zip        a ZipCrypto (password "secret") archive of a text file
  broken.exe           clam.exe cut short after its PE header (if clamav-testfiles is installed)
  eicar.eml            mail, EICAR as a base64 attachment "eicar.com"
  eicar-inline.eml     mail, EICAR string inside the text body
  clam-zip.eml         mail, Debian's clam.zip as an attachment (if installed)
  heuristic.eml        mail, heuristic marker in the body
  encrypted.eml        mail, encrypted.zip attached
  broken-exe.eml       mail, broken.exe attached (if installed)
  gtube.eml            mail with the GTUBE string (rspamd: reject, symbol GTUBE)
  phishing.eml         HTML mail, <a href=http://evil.example.net/login>https://www.paypal.com/</a>
  clean.eml            plain mail nothing flags
  spf-fail.eml         From carol@example.net; send it from an IP outside
                       192.0.2.0/24 (e.g. XCLIENT ADDR=198.51.100.7): SPF fail, DMARC reject
  dkim-fail.eml        From carol@example.net with a DKIM-Signature (s=mv) that does not verify
"""
import base64
import os
import struct
import sys
import zlib

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HEURISTIC_MARKER = b"MAILVAULT-HEURISTIC-TEST"
TESTFILES = "/usr/share/clamav-testfiles"
DATE = "Thu, 01 Jan 2026 00:00:00 +0000"

_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (0xEDB88320 ^ (_c >> 1)) if _c & 1 else (_c >> 1)
    _CRC_TABLE.append(_c)


def _crc_byte(crc, b):
    return _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)


def zipcrypto_zip(name, data, password):
    """A one-entry zip, stored, with traditional PKWARE (ZipCrypto) encryption."""
    k = [0x12345678, 0x23456789, 0x34567890]

    def update(c):
        k[0] = _crc_byte(k[0], c)
        k[1] = (k[1] + (k[0] & 0xFF)) & 0xFFFFFFFF
        k[1] = (k[1] * 134775813 + 1) & 0xFFFFFFFF
        k[2] = _crc_byte(k[2], k[1] >> 24)

    def stream_byte():
        t = (k[2] | 2) & 0xFFFF
        return ((t * (t ^ 1)) >> 8) & 0xFF

    for ch in password.encode():
        update(ch)
    crc = zlib.crc32(data) & 0xFFFFFFFF
    header = bytearray(os.urandom(11)) + bytes([crc >> 24])
    out = bytearray()
    for p in bytes(header) + data:
        out.append(p ^ stream_byte())
        update(p)
    fname = name.encode()
    flags, method, mtime, mdate = 0x0001, 0, 0, (46 << 9) | (1 << 5) | 1
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, mtime, mdate,
                        crc, len(out), len(data), len(fname), 0) + fname
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, mtime, mdate,
                          crc, len(out), len(data), len(fname), 0, 0, 0, 0, 0o100644 << 16, 0) + fname
    body = local + bytes(out)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end


def mail(subject, body, attachment=None, sender="Alice <alice@example.org>",
         to="Bob <bob@example.com>", msgid=None, extra_headers=(), html=False):
    msgid = msgid or "<%s@example.org>" % subject.lower().replace(" ", "-")
    h = ["From: " + sender, "To: " + to, "Subject: " + subject, "Message-ID: " + msgid,
         "Date: " + DATE, "MIME-Version: 1.0"] + list(extra_headers)
    ctype = "text/html" if html else "text/plain"
    if attachment is None:
        h.append("Content-Type: %s; charset=utf-8" % ctype)
        return ("\r\n".join(h) + "\r\n\r\n").encode() + body.replace(b"\n", b"\r\n")
    fname, data = attachment
    h.append('Content-Type: multipart/mixed; boundary="MVB"')
    b64 = base64.encodebytes(data).replace(b"\n", b"\r\n")
    parts = [("\r\n".join(h) + "\r\n\r\nThis is a MIME message.\r\n").encode(),
             b"--MVB\r\nContent-Type: " + ctype.encode() + b"; charset=utf-8\r\n\r\n"
             + body.replace(b"\n", b"\r\n") + b"\r\n",
             ('--MVB\r\nContent-Type: application/octet-stream; name="%s"\r\n'
              'Content-Disposition: attachment; filename="%s"\r\n'
              "Content-Transfer-Encoding: base64\r\n\r\n" % (fname, fname)).encode() + b64,
             b"--MVB--\r\n"]
    return b"".join(parts)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def w(name, data):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)

    enc = zipcrypto_zip("notes.txt", b"quarterly numbers\n" * 20, "secret")
    w("eicar.com", EICAR)
    w("heuristic.txt", b"some text " + HEURISTIC_MARKER + b" more text\n")
    w("encrypted.zip", enc)
    w("eicar.eml", mail("EICAR attached", b"See attachment.\n", ("eicar.com", EICAR)))
    w("eicar-inline.eml", mail("EICAR inline", b"Test string follows:\n" + EICAR + b"\nend\n"))
    w("heuristic.eml", mail("Heuristic test", b"Marker: " + HEURISTIC_MARKER + b"\n"))
    w("encrypted.eml", mail("Encrypted archive", b"Password is secret.\n", ("notes.zip", enc)))
    clam_exe = os.path.join(TESTFILES, "clam.exe")
    if os.path.exists(clam_exe):
        exe = open(clam_exe, "rb").read()
        pe = struct.unpack("<I", exe[0x3C:0x40])[0]
        broken = exe[:pe + 0x60]
        w("broken.exe", broken)
        w("broken-exe.eml", mail("Broken executable", b"Tool attached.\n", ("tool.exe", broken)))
        w("clam-zip.eml", mail("Zipped test virus", b"Archive attached.\n",
                               ("clam.zip", open(os.path.join(TESTFILES, "clam.zip"), "rb").read())))
    w("gtube.eml", mail("GTUBE test", b"This is spam.\n" + GTUBE + b"\n"))
    w("phishing.eml", mail(
        "Your account is limited",
        b'<html><body><p>Please verify your account:</p>\n'
        b'<a href="http://evil.example.net/login">https://www.paypal.com/</a>\n</body></html>\n',
        sender="PayPal <service@paypal-security.example.net>", msgid="<phish1@example.net>", html=True))
    w("clean.eml", mail("Meeting notes",
                        b"Hi Bob,\n\nhere are the notes from today's meeting. See you tomorrow.\n\nAlice\n"))
    w("spf-fail.eml", mail("Invoice", b"Please pay the invoice.\n", sender="Carol <carol@example.net>",
                           msgid="<spf1@example.net>"))
    sig = base64.b64encode(os.urandom(128)).decode()
    w("dkim-fail.eml", mail(
        "Signed message", b"This message claims a DKIM signature.\n", sender="Carol <carol@example.net>",
        msgid="<dkim1@example.net>",
        extra_headers=["DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=mv;\r\n"
                       "\th=from:to:subject:date:message-id;\r\n"
                       "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\tb=" + sig]))


if __name__ == "__main__":
    main()
