#!/usr/bin/env python3
"""Sends one message file over SMTP byte-exact (stdlib only).

Usage: smtpsend.py PORT FROM RCPT[,RCPT...] FILE [XCLIENT-ATTRS]

Unlike swaks, which appends CRLF before the final dot, the DATA is the file's
bytes (dot-stuffed; CRLF added only when the file does not end with one).
XCLIENT-ATTRS, e.g. "ADDR=198.51.100.7 NAME=mx.bad.example HELO=mx.bad.example",
makes Postfix (and its milters) see that client instead of 127.0.0.1.

Prints one line, the reply that decided the outcome ("250 2.0.0 Ok: queued as
ABC", or the first refusal: "550 5.7.1 ..." at RCPT or after DATA), and exits
0 for 2xx, 4 for 4xx, 5 for 5xx, 2 when the connection failed or broke.
Refused recipients are reported on stderr; the message still goes to the others.
"""
import smtplib
import sys


def out(code, msg):
    print(code, msg.decode(errors="replace") if isinstance(msg, bytes) else msg, flush=True)
    return 0 if 200 <= code < 300 else 5 if code >= 500 else 4


def main():
    port, sender, rcpts, path = sys.argv[1:5]
    xclient = sys.argv[5] if len(sys.argv) > 5 else ""
    data = open(path, "rb").read()
    try:
        s = smtplib.SMTP("127.0.0.1", int(port), timeout=120)
        code, msg = s.ehlo("client.test")
        if code != 250:
            return out(code, msg)
        if xclient:
            code, msg = s.docmd("XCLIENT", xclient)
            if code != 220:
                return out(code, msg)
            code, msg = s.ehlo("client.test")
            if code != 250:
                return out(code, msg)
        code, msg = s.mail(sender)
        if code != 250:
            return out(code, msg)
        first_refusal, accepted = None, 0
        for r in rcpts.split(","):
            code, msg = s.rcpt(r)
            if code in (250, 251):
                accepted += 1
            else:
                print("refused %s: %d %s" % (r, code, msg.decode(errors="replace")), file=sys.stderr)
                first_refusal = first_refusal or (code, msg)
        if not accepted:
            return out(*first_refusal)
        code, msg = s.data(data)
        rc = out(code, msg)
        try:
            s.quit()
        except (OSError, smtplib.SMTPException):
            pass
        return rc
    except smtplib.SMTPResponseException as e:
        return out(e.smtp_code, e.smtp_error)
    except (OSError, smtplib.SMTPException) as e:
        print("000", e, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
