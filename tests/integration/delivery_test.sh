#!/usr/bin/env bash
# End-to-end test of delivery from the Backup (issue 4) against real SMTP
# servers on loopback: an aiosmtpd sink that keeps every message byte for
# byte and can refuse chosen recipients, a private Postfix whose milter is
# mailvaultd itself (loop-safe release), and Postfix's smtp-sink (kill -9
# while the queue drains).
#
# Checked: as-is arrives byte-identical to the stored copy plus the release
# header (and without Message-ID when asked); as-attachment parses back to a
# message/rfc822 part equal to the copy; a request queued with the daemon
# down is sent when it starts; the infected policy, the --again rule,
# invalid input; per-recipient results (550 and 450 from the relay); a relay
# that is down and comes back; a message too large for the relay; the API;
# a released message passes the gateway's own milter unscanned and is not
# copied again, while the same message replayed (to another recipient, or
# to the same one after its use) is scanned, rejected and copied; kill -9
# of the daemon mid-queue loses nothing.
#
# Usage: delivery_test.sh BIN_DIR.  Needs root (Postfix).
set -euo pipefail

bin=$(cd "${1:?usage: delivery_test.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"
PY=/usr/bin/python3

T=$(mktemp -d /tmp/mailvault-delivery-test.XXXXXX)
D="$T/data"
daemon_pid=""
stop_daemon() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  [ -z "$daemon_pid" ] || wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
cleanup() {
  stop_daemon
  stop_services
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() {
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}

MILTER_PORT=$(free_port)
# write_config RELAY_PORT [MILTER(true|false)]
write_config() {
  cat >"$T/mv.toml" <<EOF
[store]
dir = "$D"
[api]
listen = "127.0.0.1:0"
[milter]
enabled = ${2:-false}
socket = "inet:127.0.0.1:$MILTER_PORT"
[engines.clamd]
enabled = false
[engines.rspamd]
enabled = false
[engines.content]
banned_names = ["*.exe"]
[delivery]
relay = "127.0.0.1:$1"
workers = 4
retry_min = "1s"
retry_max = "2s"
connect_timeout = "2s"
timeout = "20s"
from = "Test gateway <postmaster@gw.test>"
[[rule]]
id = "gateway"
engines = ["content-filtering"]
[rule.actions]
"content-filtering:banned-file-name" = { action = "reject", copy = true }
EOF
}
start_daemon() {
  rm -f "$D/mailvaultd.port"
  "$mvd" --config "$T/mv.toml" >>"$T/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 200); do
    [ -s "$D/mailvaultd.port" ] && return 0
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "mailvaultd did not start:"; tail -20 "$T/daemon.log"; return 1
}
api() {  # api METHOD PATH [JSON]: prints the body, then the HTTP status on its own line
  local port; port=$(cat "$D/mailvaultd.port")
  curl -s -X "$1" -H "Authorization: Bearer $(cat "$D/api.token")" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} -w '\n%{http_code}\n' \
    "http://127.0.0.1:$port$2"
}
# entry_field ID FIELD: a field of delivery entry ID from `mailvault queue --json`.
entry_field() {
  "$mv" queue --data "$D" --limit 1000 --json | $PY -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    if e["id"] == int(sys.argv[1]):
        print(e[sys.argv[2]]); break' "$1" "$2"
}
# wait_entry ID STATE [SECS]: waits until the entry is in STATE.
wait_entry() {
  local id=$1 state=$2 secs=${3:-20} deadline
  deadline=$(( $(date +%s) + secs ))
  while [ "$(entry_field "$id" state)" != "$state" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
# Entry ids printed by `mailvault deliver`: "  delivery N: copy ..." lines.
entry_ids() { sed -n 's/^  delivery \([0-9]*\): .*/\1/p'; }
# without_release FILE: FILE minus its first header field (with its folded
# continuation lines), which must be the release header.
without_release() {
  $PY - "$1" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read()
m = re.match(rb"X-Mailvault-Release: v=2; id=[^\r]*\r\n(?:[ \t][^\r]*\r\n)*", raw)
if not m:
    sys.exit(1)
sys.stdout.buffer.write(raw[m.end():])
PY
}
same_bytes() { cmp -s "$1" "$2"; }
# refused RC OUTPUT PATTERN: the command failed (exit 1) saying PATTERN.
refused() { [ "$1" = 1 ] && grep -qi -- "$3" <<<"$2"; }

# ---- the copies ---------------------------------------------------------
mkdir -p "$T/msgs"
printf 'From: Alice <alice@example.org>\r\nTo: Bob <bob@dest.test>, carol@dest.test\r\nSubject: quarterly report\r\nMessage-ID: <report-1@example.org>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\r\nHello Bob,\r\n.a line that starts with a dot\r\n\r\nregards\r\n' >"$T/msgs/report.eml"
printf 'From: x@bad.example\r\nTo: bob@dest.test\r\nSubject: invoice\r\n\r\nX5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\r\n' >"$T/msgs/infected.eml"
printf 'From: Alice <alice@example.org>\r\nTo: many@dest.test\r\nSubject: to many\r\nMessage-ID: <many@example.org>\r\n\r\nbody\r\n' >"$T/msgs/many.eml"
$PY - "$T/msgs/big.eml" <<'PY'
import sys
line = b"x" * 76 + b"\r\n"
open(sys.argv[1], "wb").write(b"From: a@example.org\r\nTo: big@dest.test\r\nSubject: big\r\n\r\n" + line * 3000)
PY
"$mv" init --data "$D" >/dev/null
put() { "$mv" put --data "$D" --mail-from alice@example.org "$@"; }
REPORT=$(put --rcpt bob@dest.test --rcpt carol@dest.test --status anti-spam=spam "$T/msgs/report.eml")
INFECTED=$(put --rcpt bob@dest.test --status anti-virus=infected "$T/msgs/infected.eml")
MANY=$(put --rcpt ok@dest.test --rcpt refused@dest.test --rcpt later@dest.test --status anti-spam=spam "$T/msgs/many.eml")
BIG=$(put --rcpt big@dest.test --status content-filtering=size-exceeded "$T/msgs/big.eml")
"$mv" save --data "$D" "$REPORT" -o "$T/report.stored"
check "the stored copy is the file" same_bytes "$T/report.stored" "$T/msgs/report.eml"

# ---- queued while the daemon is down -------------------------------------
out=$("$mv" deliver --data "$D" "$REPORT" --original 2>&1)
check "deliver without a daemon queues" grep -q "placed in the queue for delivery" <<<"$out"
check "and says it waits for the daemon" grep -q "sent when it starts" <<<"$out"
first_ids=$(entry_ids <<<"$out")
check "one entry per original recipient" test "$(wc -w <<<"$first_ids")" = 2
check "mailvault queue shows them queued" \
  bash -c "'$mv' queue --data '$D' | grep -q 'queued 2, sending 0'"

start_py_sink "$T" --reject-rcpt 'refused@' --tempfail-rcpt 'later@' --max-size 100000
write_config "$SINK_PORT"
start_daemon
for id in $first_ids; do
  check "entry $id delivered after the daemon started" wait_entry "$id" delivered
done
f=$(sink_find_rcpt carol@dest.test 10 || true)
check "the sink got one message for both recipients" \
  bash -c "[ -n '$f' ] && grep -q 'bob@dest.test' '${f%.eml}.json'"
if [ -n "$f" ]; then
  without_release "$f" >"$T/got.eml" || true
  check "as-is: byte-identical to the stored copy after the release header" \
    same_bytes "$T/got.eml" "$T/report.stored"
  check "the envelope sender is the original" grep -q '"mail_from": "alice@example.org"' "${f%.eml}.json"
fi
check "the queue records the relay's reply" \
  bash -c "'$mv' queue --data '$D' --json | grep -q '250 2.0.0 Ok: queued as sink'"

# ---- --again --------------------------------------------------------------
rc=0; out=$("$mv" deliver --data "$D" "$REPORT" --original 2>&1) || rc=$?
check "a second delivery is refused (exit 1)" test "$rc" = 1
check "naming --again" grep -q "already delivered to bob@dest.test.*--again" <<<"$out"
out=$("$mv" deliver --data "$D" "$REPORT" --to dave@dest.test --remove-message-id 2>&1)
check "a new recipient needs no --again (through the running daemon)" \
  grep -q "placed in the queue" <<<"$out"
id=$(entry_ids <<<"$out")
check "delivered to dave" wait_entry "$id" delivered
f=$(sink_find_rcpt dave@dest.test 10 || true)
grep -v '^Message-ID: <report-1@example.org>' "$T/report.stored" >"$T/report.nomid" || true
without_release "$f" >"$T/got.eml" || true
check "--remove-message-id: the copy minus its Message-ID line" same_bytes "$T/got.eml" "$T/report.nomid"
out=$("$mv" deliver --data "$D" "$REPORT" --to dave@dest.test --again --format as-attachment 2>&1)
id=$(entry_ids <<<"$out")
check "--again delivers once more" wait_entry "$id" delivered
f=$(sink_find_rcpt dave@dest.test 10 || true)
check "as-attachment: a MIME message with the copy as message/rfc822, byte for byte" \
  $PY - "$f" "$T/report.stored" <<'PY'
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
orig = open(sys.argv[2], "rb").read()
assert raw.startswith(b"X-Mailvault-Release: v=2; id="), raw[:80]
msg = email.message_from_bytes(raw, policy=email.policy.default)
assert msg.get_content_type() == "multipart/mixed", msg.get_content_type()
parts = msg.get_payload()
assert parts[0].get_content_type() == "text/plain"
assert "released" in parts[0].get_content(), parts[0].get_content()
assert parts[1].get_content_type() == "message/rfc822"
assert "Test gateway <postmaster@gw.test>" in msg["From"], msg["From"]
assert "quarterly report" in msg["Subject"], msg["Subject"]
# The attached message's bytes, as they lie between the part's headers and
# the closing boundary.
boundary = msg.get_boundary().encode()
chunks = raw.split(b"--" + boundary)
att = chunks[2]
body = att[att.index(b"\r\n\r\n") + 4:]
assert body[:-2] == orig or body == orig, (body[:200], orig[:200])
PY

# ---- policy and bad input --------------------------------------------------
rc=0; out=$("$mv" deliver --data "$D" "$INFECTED" --original 2>&1) || rc=$?
check "an infected copy is refused (exit 1)" test "$rc" = 1
check "with the reason" grep -q "anti-virus: infected.*allow_infected_delivery" <<<"$out"
rc=0; out=$("$mv" deliver --data "$D" 99999 --original 2>&1) || rc=$?
check "an unknown id is refused" refused "$rc" "$out" 'no copy with id 99999'
rc=0; out=$("$mv" deliver --data "$D" "$REPORT" 2>&1) || rc=$?
check "no target is refused" refused "$rc" "$out" 'no target'
rc=0; out=$("$mv" deliver --data "$D" "$REPORT" --to 'bob@exa mple.com' 2>&1) || rc=$?
check "an invalid address is refused" refused "$rc" "$out" 'is not an address'
rc=0; out=$("$mv" deliver --data "$D" "$REPORT" --to $'x@dest.test\r\nRCPT TO:<evil@dest.test>' 2>&1) || rc=$?
check "an address with CRLF is refused" test "$rc" = 1
rc=0; "$mv" deliver --data "$D" "$REPORT" --to x@dest.test --format mime >/dev/null 2>&1 || rc=$?
check "an unknown format is a usage error" test "$rc" = 2

# ---- per-recipient results -------------------------------------------------
out=$("$mv" deliver --data "$D" "$MANY" --original 2>&1)
read -r ok_id refused_id later_id <<<"$(entry_ids <<<"$out" | tr '\n' ' ')"
check "the accepted recipient is delivered" wait_entry "$ok_id" delivered
check "the refused recipient failed" wait_entry "$refused_id" failed
check "with the relay's 550 reply" \
  bash -c "'$mv' queue --data '$D' --json | grep -q '550 5.1.1 <refused@dest.test>: Recipient address rejected'"
check "the 450 recipient is deferred" wait_entry "$later_id" deferred 10
check "with the relay's 450 reply" \
  bash -c "'$mv' queue --data '$D' --state deferred | grep -q '450 4.2.0'"
f=$(sink_find_rcpt ok@dest.test 10 || true)
check "the message went to the accepted recipient only" \
  bash -c "[ -n '$f' ] && ! grep -q 'refused@' '${f%.eml}.json'"

# ---- too large for the relay -------------------------------------------------
out=$("$mv" deliver --data "$D" "$BIG" --original 2>&1)
id=$(entry_ids <<<"$out")
check "a message over the relay's SIZE fails" wait_entry "$id" failed
check "with the relay's 552 reply" bash -c "[[ \"\$('$mv' queue --data '$D' --copy $BIG --json)\" == *552* ]]"

# ---- the API -----------------------------------------------------------------
resp=$(api POST /api/v1/deliveries "{\"ids\": [$REPORT], \"to\": [\"erin@dest.test\"]}")
check "POST /api/v1/deliveries answers 202" test "$(tail -1 <<<"$resp")" = 202
check "with the banner text" grep -q "The message has been placed in the queue for delivery" <<<"$resp"
resp=$(api POST /api/v1/deliveries "{\"ids\": [$INFECTED], \"original\": true}")
check "an infected copy: 403" test "$(tail -1 <<<"$resp")" = 403
resp=$(api POST /api/v1/deliveries "{\"ids\": [$REPORT], \"original\": true}")
check "a repeat without again: 409" test "$(tail -1 <<<"$resp")" = 409
resp=$(api POST /api/v1/deliveries "{\"ids\": [424242], \"original\": true}")
check "an unknown copy: 404" test "$(tail -1 <<<"$resp")" = 404
resp=$(api POST /api/v1/deliveries '{"ids": "x"}')
check "bad JSON fields: 400" test "$(tail -1 <<<"$resp")" = 400
resp=$(api GET "/api/v1/deliveries?state=delivered&limit=2")
check "GET /api/v1/deliveries pages the queue" \
  bash -c "[ \"\$(tail -1 <<<'$resp')\" = 200 ] && grep -q '\"next\":[0-9]' <<<'$resp' && grep -q '\"counts\"' <<<'$resp'"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$D/mailvaultd.port")/api/v1/deliveries")
check "without the token: 401" test "$code" = 401

# ---- relay down, then up -------------------------------------------------------
sink_port=$SINK_PORT
stop_sink
out=$("$mv" deliver --data "$D" "$REPORT" --to frank@dest.test 2>&1)
id=$(entry_ids <<<"$out")
check "relay down: the entry is deferred" wait_entry "$id" deferred 10
check "with why" bash -c "'$mv' queue --data '$D' --state deferred | grep -q \"onnect\""
sleep 1.5  # at least one retry finds the relay down
SINK_PORT_WANTED=$sink_port start_py_sink "$T/back"
check "relay up: the entry is delivered after a retry" wait_entry "$id" delivered 20
attempts=$(entry_field "$id" attempts)
check "after more than one attempt ($attempts)" test "${attempts:-0}" -ge 2

# ---- loop-safe release through the gateway's own Postfix and milter ------------
stop_daemon
PF_RELAYHOST="[127.0.0.1]:$sink_port" start_postfix "$T" "inet:127.0.0.1:$MILTER_PORT"
write_config "$PF_PORT" true
start_daemon
for _ in $(seq 100); do _svc_port_open "$MILTER_PORT" && break; sleep 0.05; done
# An attachment the gateway's rule rejects.
$PY - "$T/msgs/exe.eml" <<'PY'
import sys
open(sys.argv[1], "wb").write(
    b"From: Alice <alice@example.org>\r\nTo: gina@dest.test\r\nSubject: tool\r\n"
    b"Message-ID: <exe@example.org>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
    b"see attached\r\n--B\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Disposition: attachment; filename=\"tool.exe\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--B--\r\n")
PY
rc=0; smtp_send alice@example.org gina@dest.test "$T/msgs/exe.eml" >"$T/send.out" 2>&1 || rc=$?
check "through the gateway, the .exe mail is rejected" grep -q "550" "$T/send.out"
copies_before=$("$mv" stats --data "$D" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])')
EXE=$("$mv" search --data "$D" --to gina@dest.test --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
out=$("$mv" deliver --data "$D" "$EXE" --original 2>&1)
id=$(entry_ids <<<"$out")
check "the released copy is accepted by the gateway" wait_entry "$id" delivered 20
f=$(sink_find_rcpt gina@dest.test 20 || true)
check "and arrives behind it with its attachment" bash -c "[ -n '$f' ] && grep -q 'tool.exe' '$f'"
check "the milter let the release through unscanned" \
  grep -q "released copy $EXE: accepted unscanned" "$T/daemon.log"
count_copies() { "$mv" stats --data "$D" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
copies_after=$(count_copies)
check "and kept no second copy" test "$copies_before" = "$copies_after"
# Replays of the released message as it arrived (release header included),
# by an outside client through the gateway: the header is bound to gina and
# to one use, so each replay is scanned (the rule rejects the .exe) and
# copied like any other mail.
if [ -n "$f" ]; then
  rc=0; smtp_send alice@example.org henry@dest.test "$f" >"$T/replay1.out" 2>&1 || rc=$?
  check "a replay to another recipient is scanned and rejected" grep -q "550" "$T/replay1.out"
  check "and copied" test "$(count_copies)" = $((copies_after + 1))
  check "saying why the release was not honoured" \
    grep -q "release-header-invalid: .*not made for recipient <henry@dest.test>" "$T/daemon.log"
  rc=0; smtp_send alice@example.org gina@dest.test "$f" >"$T/replay2.out" 2>&1 || rc=$?
  check "a replay to the same recipient after its use is scanned and rejected" \
    grep -q "550" "$T/replay2.out"
  check "and copied" test "$(count_copies)" = $((copies_after + 2))
  check "saying the release was used before" \
    grep -q "release-header-invalid: .*used before" "$T/daemon.log"
  check "the sink got neither replay" \
    bash -c "! grep -l 'henry@dest.test' '$(dirname "$f")'/*.json >/dev/null 2>&1"
else
  bad "no released message to replay"
fi
# ---- start-up order: a release queued while the daemon was down --------------
# The milter must listen before the sender sends: otherwise Postfix applies
# milter_default_action to the release and the retry waits a minute.
stop_daemon
out=$("$mv" deliver --data "$D" "$EXE" --original --again 2>&1)
id=$(entry_ids <<<"$out")
start_daemon
check "a release queued before start is delivered after it" wait_entry "$id" delivered 20
attempts=$(entry_field "$id" attempts)
check "at the first attempt: the milter listened before delivery began ($attempts)" \
  test "${attempts:-0}" = 1
check "delivery started after the milter listened" bash -c \
  "grep -n 'milter listening\\|delivery: .* workers' '$T/daemon.log' | tail -2 | head -1 | grep -q 'milter listening'"
stop_postfix "$PF_CONF" || true

# ---- kill -9 while the queue drains ----------------------------------------------
stop_daemon
stop_sink
mkdir -p "$T/kill"
# One DATA in ten waits a second, so the kill finds transactions in flight
# however fast this machine is.
start_smtp_sink "$T/kill" -W data:1:10
write_config "$SINK_PORT"
N=150
ids=""
for i in $(seq $N); do
  printf 'From: a@example.org\r\nTo: k%s@dest.test\r\nSubject: k %s\r\n\r\nbody %s\r\n' "$i" "$i" "$i" >"$T/k.eml"
  ids+=" $(put --rcpt "k$i@dest.test" "$T/k.eml")"
done
# shellcheck disable=SC2086
"$mv" deliver --data "$D" $ids --original >/dev/null
failed_before=$("$mv" queue --data "$D" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["counts"]["failed"])')
start_daemon
for _ in $(seq 200); do
  [ "$(sink_count)" -ge 10 ] && break
  sleep 0.02
done
kill -KILL "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=""
mid=$(sink_count)
echo "# killed mailvaultd after $mid of $N messages reached the sink"
check "the kill came mid-queue" test "$mid" -lt "$N"
start_daemon
for _ in $(seq 300); do
  left=$("$mv" queue --data "$D" --json | $PY -c 'import json,sys; c=json.load(sys.stdin)["counts"]; print(c["queued"]+c["sending"]+c["deferred"])')
  [ "$left" = 0 ] && break
  sleep 0.1
done
check "after the restart every entry ended (none queued, sending or deferred)" test "$left" = 0
failed_after=$("$mv" queue --data "$D" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["counts"]["failed"])')
check "none failed" test "$failed_before" = "$failed_after"
got=$(for f in $(sink_files); do grep -o '^X-Rcpt-Args: <k[0-9]*@dest.test>' "$f" || true; done | sort -u | wc -l)
check "every one of the $N messages reached the sink" test "$got" = "$N"
total=$(sink_count)
echo "# the sink got $total messages for $N entries ($((total - N)) sent twice around the kill)"
check "duplicates only for the transactions in flight (at most 4 workers)" test $((total - N)) -le 4
"$mv" verify --data "$D" >/dev/null 2>&1 || true

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
