#!/usr/bin/env bash
# Envelope and header bytes that are not UTF-8 (issue 14, item 0). One MAIL
# FROM with 0xFC once made mailvaultd throw while encoding the copy's
# metadata and die; Postfix's pickup retried it and the restarted daemon
# died again, while all mail was tempfailed. Here:
#   - `mailvault put` with such an envelope stores it, shows it (U+FFFD in
#     JSON), saves the exact bytes and verifies;
#   - through a private Postfix with mailvaultd as smtpd and non-smtpd
#     milter (as conf/postfix-main.cf.snippet sets it): `sendmail -f` with
#     0xFC, 0xFF and a CESU surrogate in the sender and a recipient is kept,
#     the daemon stays up and mail after it flows;
#   - the same bytes from a raw milter client (lib/milterclient.py), and the
#     daemon's log line shows them as tokens on one line.
#
# Usage: envelope_test.sh BIN_DIR.  Needs root (Postfix).
set -euo pipefail

bin=$(cd "${1:?usage: envelope_test.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"

T=$(mktemp -d /tmp/mailvault-envelope-test.XXXXXX)
D="$T/data"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
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
py() { /usr/bin/python3 "$@"; }

printf 'From: Alice <alice@example.org>\r\nTo: bob@keep.test\r\nSubject: envelope bytes\r\nMessage-ID: <env-1@example.org>\r\n\r\nhello\r\n' >"$T/msg.eml"

# ---- the CLI ------------------------------------------------------------
C="$T/cli"
"$mv" init --data "$C" >/dev/null
sender=$'m\xfcller@example.org'
rcpt=$'\xff\xed\xa0\x80@example.org'
id=$("$mv" put --data "$C" --mail-from "$sender" --rcpt "$rcpt" --rcpt plain@example.org \
  --status anti-spam=spam --reason $'why \xfc' "$T/msg.eml" 2>"$T/put.err") || true
check "put with a non-UTF-8 envelope prints the new id" test "$id" = 1
check "put printed no error" test ! -s "$T/put.err"
"$mv" show --data "$C" --json 1 >"$T/show.json"
check "show --json is valid JSON with U+FFFD for the bad bytes" py -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["mail_from"] == "m\ufffdller@example.org", m["mail_from"]
assert m["rcpt"][1] == "plain@example.org" and m["rcpt"][0].endswith("@example.org"), m["rcpt"]
assert "\ufffd" in m["reason"], m["reason"]' "$T/show.json"
"$mv" save --data "$C" 1 -o "$T/saved.eml"
check "save gives the exact bytes" cmp -s "$T/msg.eml" "$T/saved.eml"
check "verify: the index entry equals the record" "$mv" verify --data "$C"
check "search by the recipient's plain neighbour finds it" \
  bash -c "'$mv' search --data '$C' --to plain@example --json | grep -q '\"id\": *1'"
"$mv" rebuild-index --data "$C" >/dev/null
check "after rebuild-index the envelope reads the same" bash -c \
  "'$mv' show --data '$C' --json 1 | cmp -s - '$T/show.json'"

# ---- through Postfix ----------------------------------------------------
start_smtp_sink "$T"
MILTER_PORT=$(free_port)
cat >"$T/mv.toml" <<CONF
[store]
dir = "$D"
[api]
listen = "127.0.0.1:0"
[milter]
socket = "inet:127.0.0.1:$MILTER_PORT"
[engines.content]
banned_names = ["*.exe"]
[engines.lists]
blacklist = ["bad.example"]

[[rule]]
id = "keep"
recipients = ["@keep.test"]
engines = ["blacklist", "content-filtering"]
default = { action = "skip", copy = true }
CONF
"$mvd" --config "$T/mv.toml" >>"$T/daemon.log" 2>&1 &
daemon_pid=$!
wait_for 10 _svc_port_open "$MILTER_PORT" || { tail -20 "$T/daemon.log"; exit 1; }
start_postfix "$T" "inet:127.0.0.1:$MILTER_PORT"
postfix_set "$T" "non_smtpd_milters = inet:127.0.0.1:$MILTER_PORT"

# A blacklisted sender, so the rule keeps a copy: the local part is not UTF-8.
printf 'From: x@bad.example\r\nTo: bob@keep.test\r\nSubject: from pickup\r\nMessage-ID: <env-2@bad.example>\r\n\r\nvia sendmail\r\n' >"$T/pickup.eml"
sendmail -C "$(_svc_pf_conf "$T")" -f $'m\xfc\xff\xed\xa0\x80@bad.example' -- \
  bob@keep.test $'\xfcber@keep.test' <"$T/pickup.eml"
copy_for() {  # copy_for MESSAGE_ID: id of its copy, waiting up to 20 s
  local i
  for i in $(seq 200); do
    if out=$("$mv" search --data "$D" --message-id "$1" --json 2>/dev/null) &&
      id=$(printf '%s' "$out" | py -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])' 2>/dev/null); then
      echo "$id"; return 0
    fi
    sleep 0.1
  done
  return 1
}
pid_alive() { kill -0 "$daemon_pid" 2>/dev/null; }
kept=$(copy_for env-2@bad.example || true)
check "sendmail -f with 0xFC/0xFF/surrogate bytes: a copy is kept" test -n "$kept"
check "mailvaultd is still running" pid_alive
check "the daemon logged no exception" bash -c "! grep -qi 'terminate\|exception\|internal error' '$T/daemon.log'"
if [ -n "$kept" ]; then
  "$mv" show --data "$D" --json "$kept" >"$T/kept.json"
  check "the kept copy shows its envelope with U+FFFD" py -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["mail_from"].startswith("m\ufffd") and m["mail_from"].endswith("@bad.example"), m
assert m["statuses"].get("blacklist") == "blacklisted", m["statuses"]
assert any(r.endswith("ber@keep.test") and r != "ber@keep.test" for r in m["rcpt"]), m["rcpt"]' "$T/kept.json"
fi
check "the pickup message left the queue (accepted, not retried)" wait_queue_empty "$T" 30

# A raw milter client (what Postfix with smtputf8_enable = no, or any other
# MTA, may pass): the same bytes straight in the milter protocol.
printf 'From: y@bad.example\r\nTo: carol@keep.test\r\nSubject: raw milter\r\nMessage-ID: <env-3@bad.example>\r\n\r\nraw\r\n' >"$T/raw.eml"
out=$(py "$here/lib/milterclient.py" "127.0.0.1:$MILTER_PORT" message \
  'r\xfc\xff\xed\xa0\x80\x0d\x0aX@bad.example' '\xfccarol@keep.test' "$T/raw.eml" 2>&1 || true)
check "raw milter MAIL FROM with 0xFC/0xFF/surrogate/CRLF: answered (final reply: $(tail -1 <<<"$out"))" \
  bash -c "tail -1 <<<'$out' | grep -q '^c'"
check "raw milter: a copy is kept" test -n "$(copy_for env-3@bad.example || true)"
check "mailvaultd is still running after the raw client" pid_alive
check "its log line shows the bytes as tokens, on one line" \
  grep -aq 'from=<r⟨0xFC⟩⟨0xFF⟩⟨0xED⟩⟨0xA0⟩⟨0x80⟩⟨U+000D⟩⟨U+000A⟩X@bad.example>' "$T/daemon.log"

# Mail after it flows, over SMTP too.
swaks --server "127.0.0.1:$PF_PORT" --from alice@example.org --to carol@example.com \
  --header "Subject: after" --body "after" >"$T/swaks.after" 2>&1 || true
check "a message after it is accepted over SMTP" grep -q '<- *250 .*queued' "$T/swaks.after"
check "the daemon is still up after it" pid_alive
check "verify passes on the daemon's store" "$mv" verify --data "$D"

echo "envelope: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
