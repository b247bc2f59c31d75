#!/usr/bin/env bash
# The milter protocol under bad input (issue 14, item 9): a raw milter client
# (lib/milterclient.py) sends what Postfix never would, straight to
# mailvaultd's milter socket. For each protocol error (a zero-length or
# oversized packet, an unknown command, an unsupported protocol version, a
# malformed payload, a command out of order such as end-of-message or body
# before MAIL) the session is closed within a few seconds and the log says
# so; a packet that stalls half-way, and a session that never negotiates,
# are dropped after their timeout; sessions beyond [milter] max_connections
# are closed and logged; and after all of it a normal message is still
# served and kept.
#
# Usage: milter_proto_test.sh BIN_DIR.  Needs no Postfix, clamd or rspamd.
set -euo pipefail

bin=$(cd "${1:?usage: milter_proto_test.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"

T=$(mktemp -d /tmp/mailvault-milter-proto-test.XXXXXX)
D="$T/data"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

PORT=$(free_port)
"$mv" init --data "$D" >/dev/null
cat >"$T/mv.toml" <<EOF
[store]
dir = "$D"
[api]
listen = "127.0.0.1:0"
[milter]
socket = "inet:127.0.0.1:$PORT"
timeout = "2s"
max_connections = 4
[engines.clamd]
enabled = false
[engines.rspamd]
enabled = false
[engines.lists]
blacklist = ["spammer@bad.example"]
[[rule]]
id = "keep"
recipients = ["*"]
default = { action = "add-header", copy = true }
EOF
"$mvd" --config "$T/mv.toml" >"$T/daemon.log" 2>&1 &
daemon_pid=$!
wait_for 10 test -s "$D/mailvaultd.port"
wait_for 10 _svc_port_open "$PORT"
sleep 0.5
: >"$T/daemon.log.mark"
logged_since() {  # logged_since LINE_COUNT PATTERN: PATTERN in the log after line LINE_COUNT
  tail -n +"$(($1 + 1))" "$T/daemon.log" | grep -aq "$2"
}

# proto NAME PYTHON: runs PYTHON with a MilterClient `c` connected and
# PORT set; it prints "closed" or "open" as its last line.
proto() {
  /usr/bin/python3 - "$PORT" "$here/lib" <<PY
import struct, sys, time
sys.path.insert(0, sys.argv[2])
from milterclient import *
PORT = int(sys.argv[1])
c = MilterClient("127.0.0.1", PORT)
$1
PY
}

# expect_closed NAME SECONDS PYTHON: the session is closed within SECONDS
# and a milter-protocol-error or session event is logged.
expect_closed() {
  local name=$1 secs=$2 code=$3 lines out
  lines=$(wc -l <"$T/daemon.log")
  out=$(proto "$code
print('closed' if c.closed_within($secs) else 'open')" 2>&1 | tail -1)
  check "$name: closed within ${secs}s ($out)" test "$out" = closed
  check "$name: logged" bash -c "for _ in \$(seq 20); do tail -n +$((lines + 1)) '$T/daemon.log' | grep -aq 'event milter-' && exit 0; sleep 0.1; done; exit 1"
}

expect_closed "protocol version 1 (below libmilter's minimum)" 3 \
  'c.send(OPTNEG, struct.pack(">III", 1, 0x1ff, 0))'
expect_closed "protocol version 0" 3 \
  'c.send(OPTNEG, struct.pack(">III", 0, 0x1ff, 0))'
expect_closed "option negotiation too short" 3 \
  'c.send(OPTNEG, b"\0\0\0\6")'
expect_closed "zero-length packet with a NUL command" 3 \
  'c.send_raw(b"\0\0\0\0\0")'
expect_closed "a connect without a word, then a zero-length packet alone" 5 \
  'c.send_raw(b"\0\0\0\0")'

# A version above libmilter's (6) is negotiated down, as the protocol says.
out=$(proto 'r = c.optneg(version=99)
print(r[0].decode(), struct.unpack(">I", r[1][:4])[0])' | tail -1)
check "protocol version 99 is answered with version 6 ($out)" test "$out" = "O 6"

# After negotiation: a packet that stalls half-way is dropped after
# [milter] timeout (2s here).
for raw in 'b"\0\0\0\0"' 'b"\0\0"' 'b"\0\0\0\x10M<a@b>"'; do
  out=$(proto "c.optneg()
c.send_raw($raw)
print('closed' if c.closed_within(5) else 'open')" | tail -1)
  check "after negotiation, stalled packet $raw: closed within 5s ($out)" test "$out" = closed
done

# Commands out of order, after a proper start: closed at once, and logged.
for case in 'EOM before MAIL:c.send(EOM)' 'BODY before MAIL:c.send(BODY, b"abc\r\n")' \
    'header before MAIL:c.send(HEADER, b"Subject\0x\0")' \
    'RCPT before MAIL:c.send(RCPT, b"<b@x>\0")' \
    'a second CONNECT:c.send(CONNECT, b"h\0U")' \
    'an unknown command:c.send(b"Z", b"")' \
    'a malformed MAIL (no NUL):c.send(MAIL, b"<a@b>")' \
    'an oversized packet:c.send_raw(struct.pack(">I", 2 << 20) + b"B" + b"x" * 100)'; do
  name=${case%%:*}; code=${case#*:}
  expect_closed "$name" 3 "c.optneg(); c.connect(); c.helo(b'x')
$code"
done

# A session that never negotiates is closed after min([milter] timeout,
# 10s): 2s here.
expect_closed "connected, silent" 5 'pass'

# An idle session (negotiated, between messages) is closed after [milter]
# timeout; a message in progress is not closed while commands keep coming.
expect_closed "idle after HELO" 5 "c.optneg(); c.connect(); c.helo(b'x')"
out=$(proto "c.optneg(); c.connect(); c.helo(b'x')
c.mail(b'<a@example.org>')
for i in range(4):
    time.sleep(1)
    c.rcpt(b'<r%d@example.com>' % i)
print('open')" | tail -1)
check "a session whose commands keep coming within the timeout stays open ($out)" test "$out" = open

# max_connections = 4: four sessions held open, a fifth is closed and logged,
# and once one of the four quits a new session is served.
lines=$(wc -l <"$T/daemon.log")
out=$(proto '
held = [c] + [MilterClient("127.0.0.1", PORT) for _ in range(3)]
for h in held:
    assert h.optneg()[0] == b"O"
extra = MilterClient("127.0.0.1", PORT)
extra.send(OPTNEG, struct.pack(">III", 6, 0x1ff, 0))
print("fifth", "closed" if extra.closed_within(3) else "open")
held[0].quit()
time.sleep(0.5)
again = MilterClient("127.0.0.1", PORT)
print("again", again.optneg()[0].decode())' 2>&1)
check "max_connections: the fifth session is closed" grep -q "fifth closed" <<<"$out"
check "max_connections: the refusal is logged" \
  bash -c "tail -n +$((lines + 1)) '$T/daemon.log' | grep -aq 'event milter-session-refused'"
check "max_connections: a new session is served once one has quit" grep -q "again O" <<<"$out"

# After all of that, a normal message is served and kept (a black-listed
# sender, so the rule keeps a copy).
printf 'From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: after the errors\r\nMessage-ID: <proto-after@example.org>\r\n\r\nhello\r\n' >"$T/m.eml"
out=$(/usr/bin/python3 "$here/lib/milterclient.py" "127.0.0.1:$PORT" message \
  'spammer@bad.example' 'bob@example.com' "$T/m.eml" 2>&1 || true)
check "a normal message is still served (final reply: $(tail -1 <<<"$out"))" \
  bash -c "tail -1 <<<'$out' | grep -q '^c'"
check "and it was kept" bash -c "'$mv' search --data '$D' --subject 'after the errors' --json | grep -q proto-after"
check "the daemon is still running" kill -0 "$daemon_pid"

echo "milter_proto: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
