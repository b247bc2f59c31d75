#!/usr/bin/env bash
# End-to-end test of the `mailvault` CLI and of `mailvaultd` (issue 2,
# sections 3 and 4), driving the real binaries on a temp data dir:
# init permissions, put, every search filter, show --json, save (exact bytes
# and mboxrd), delete, stats, verify, settings, keys, bad input (each a
# non-zero exit with one "mailvault: ..." line on stderr), and the daemon:
# API with token, read-only CLI while it runs, CLI writer refused plainly,
# clean SIGTERM.
#
# Usage: cli_test.sh BIN_DIR   (BIN_DIR holds mailvault and mailvaultd)
# Needs: bash, python3, curl, cmp, stat.
set -euo pipefail

bin=$(cd "${1:?usage: cli_test.sh BIN_DIR}" && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
T=$(mktemp -d /tmp/mailvault-cli-test.XXXXXX)
D="$T/data"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -KILL "$daemon_pid" || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
# check NAME CMD...: passes when CMD succeeds.
check() {
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# expect_fail NAME CMD...: CMD must exit non-zero with exactly one
# "mailvault: " line on stderr.
expect_fail() {
  local name=$1; shift
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^mailvault: ' "$T/err"; then
    ok "$name (exit $rc: $(cat "$T/err"))"
  else
    bad "$name (exit $rc, stderr: $(cat "$T/err"))"
  fi
}
# JSON helpers over stdin.
ids() { python3 -c 'import json,sys; print(" ".join(str(i["id"]) for i in json.load(sys.stdin)["items"]))'; }
field() { python3 -c 'import json,sys; v=json.load(sys.stdin); exec("for k in sys.argv[1].split(\".\"): v = v[int(k)] if isinstance(v, list) else v[k]"); print(v if not isinstance(v,(dict,list)) else json.dumps(v, sort_keys=True))' "$1"; }
# search_ids ARGS...: ids (newest first) that `search --json ARGS` returns.
search_ids() { "$mv" search --data "$D" --json "$@" | ids; }

# ---- fixtures -------------------------------------------------------------
cat >"$T/m1.eml" <<'EOF'
From: Alice <alice@example.com>
To: Bob <bob@example.org>
Subject: Quarterly invoice
Message-ID: <m1-invoice@example.com>
Date: Thu, 01 Jan 2026 00:00:00 +0000

Please find the invoice.
EOF
{
  printf 'From: carol@other.test\r\nTo: dave@corp.test\r\nCc: erin@corp.test\r\n'
  printf 'Subject: Cheap pills\r\nMessage-ID: <m2-spam@other.test>\r\nMIME-Version: 1.0\r\n'
  printf 'Content-Type: multipart/mixed; boundary="BB"\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\nBuy now\r\n'
  printf -- '--BB\r\nContent-Type: application/pdf; name="offer.pdf"\r\n'
  printf 'Content-Disposition: attachment; filename="offer.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  head -c 6000 /dev/urandom | base64
  printf -- '--BB--\r\n'
} >"$T/m2.eml"
# Malformed: 8-bit header bytes, no Message-ID, no Date, broken MIME.
printf 'From: \xe9ric <eric@weird.test>\nSubject: caf\xe9 \xff\nContent-Type: multipart/mixed; boundary=\n\nno end\n' >"$T/m3.eml"
cat >"$T/m4.eml" <<'EOF'
From: frank@example.com
To: bob@example.org
Subject: From lines inside

From here on, mbox readers would split.
>From quoted already
EOF
: >"$T/empty.eml"

# ---- init -----------------------------------------------------------------
check "init" "$mv" init --data "$D" >/dev/null
check "data dir is 0700" test "$(stat -c %a "$D")" = 700
check "every dir 0700" test -z "$(find "$D" -type d ! -perm 700)"
check "every file 0600" test -z "$(find "$D" -type f ! -perm 600)"
expect_fail "init twice" "$mv" init --data "$D"

# ---- put ------------------------------------------------------------------
id1=$("$mv" put --data "$D" --mail-from alice@example.com --rcpt bob@example.org --rule R1 \
  --status anti-virus=infected --reason "virus found" --queue-id Q1 \
  --received 2026-01-01T00:00:00Z "$T/m1.eml")
id2=$("$mv" put --data "$D" --mail-from carol@other.test --rcpt dave@corp.test --rcpt hidden@corp.test \
  --rule R2 --status anti-spam=spam "$T/m2.eml")
id3=$(MAILVAULT_DATA="$D" "$mv" put --status external=sandbox-malware - <"$T/m3.eml")
id4=$("$mv" put --data "$D" --mail-from frank@example.com --rcpt bob@example.org \
  --status content-filtering=banned-file-name <"$T/m4.eml")
check "put prints numeric ids" grep -Eqx '[0-9]+ [0-9]+ [0-9]+ [0-9]+' <<<"$id1 $id2 $id3 $id4"
check "ids grow" test "$id1" -lt "$id2" -a "$id2" -lt "$id3" -a "$id3" -lt "$id4"
expect_fail "put bad status label" "$mv" put --data "$D" --status anti-virus=spam "$T/m1.eml"
expect_fail "put unknown engine" "$mv" put --data "$D" --status antivirus=infected "$T/m1.eml"
expect_fail "put bad --received" "$mv" put --data "$D" --received yesterday "$T/m1.eml"
expect_fail "put empty file" "$mv" put --data "$D" "$T/empty.eml"
expect_fail "put missing file" "$mv" put --data "$D" "$T/nope.eml"

# ---- no clear text at rest ------------------------------------------------
check "no subject or body in clear under the data dir" \
  bash -c "! grep -rqa -e 'Quarterly invoice' -e 'Please find the invoice' -e 'alice@example.com' '$D'"

# ---- search ---------------------------------------------------------------
check "search all, newest first" test "$(search_ids)" = "$id4 $id3 $id2 $id1"
check "search --from substring 'exa'" test "$(search_ids --from exa)" = "$id4 $id1"
check "search --from envelope sender" test "$(search_ids --from carol@other)" = "$id2"
check "search --to header Cc" test "$(search_ids --to erin@)" = "$id2"
check "search --to envelope (bcc)" test "$(search_ids --to hidden@corp)" = "$id2"
check "search --subject case-insensitive" test "$(search_ids --subject INVOICE)" = "$id1"
check "search --message-id" test "$(search_ids --message-id m2-spam@)" = "$id2"
check "search --rule" test "$(search_ids --rule R2)" = "$id2"
check "search --engine" test "$(search_ids --engine anti-spam)" = "$id2"
check "search --engine x2 (any)" test "$(search_ids --engine anti-virus --engine external)" = "$id3 $id1"
check "search --size-ge KB" test "$(search_ids --size-ge 4)" = "$id2"
check "search --size-le KB" test "$(search_ids --size-le 1)" = "$id4 $id3 $id1"
check "search --period hour" test "$(search_ids --period hour)" = "$id4 $id3 $id2 $id1"
check "search --since/--until in the past" \
  test -z "$(search_ids --since 2000-01-01T00:00:00Z --until 2001-01-01T00:00:00Z)"
check "search --since 2000" test "$(search_ids --since 2000-01-01T00:00:00Z)" = "$id4 $id3 $id2 $id1"
check "search combined filters" test "$(search_ids --to bob@ --subject inside)" = "$id4"
"$mv" search --data "$D" --limit 2 >"$T/page1"
check "search table has header and rows" grep -q 'Quarterly invoice\|From lines inside' "$T/page1"
cursor=$(sed -n 's/^next: --after \([0-9]*\)$/\1/p' "$T/page1")
check "search page 1 ends with 'next: --after N'" test -n "$cursor"
check "search --after gives page 2" test "$(search_ids --limit 2 --after "$cursor")" = "$id2 $id1"
check "last page has next null" \
  test "$("$mv" search --data "$D" --json --limit 5 | field next)" = "None"
expect_fail "search bad period" "$mv" search --data "$D" --period fortnight
check "bad period message lists valid ones" grep -q 'hour, day, week, 2weeks, month, 3months, year' "$T/err"
expect_fail "search bad --since" "$mv" search --data "$D" --since yesterday
expect_fail "search bad engine" "$mv" search --data "$D" --engine antivirus
expect_fail "search refuses a control character in a filter" \
  "$mv" search --data "$D" --subject $'Quarterly\x01'
check "... naming the flag" grep -q -- '--subject: the control character U+0001' "$T/err"

# ---- show -----------------------------------------------------------------
"$mv" show --data "$D" --json "$id1" >"$T/show1.json"
check "show --json id" test "$(field id <"$T/show1.json")" = "$id1"
check "show --json subject" test "$(field subject <"$T/show1.json")" = "Quarterly invoice"
check "show --json from" test "$(field from <"$T/show1.json")" = "Alice <alice@example.com>"
check "show --json mail_from" test "$(field mail_from <"$T/show1.json")" = "alice@example.com"
check "show --json rcpt" test "$(field rcpt <"$T/show1.json")" = '["bob@example.org"]'
check "show --json statuses" test "$(field statuses <"$T/show1.json")" = '{"anti-virus": "infected"}'
check "show --json rule_id/reason/queue_id" \
  test "$(field rule_id <"$T/show1.json")/$(field reason <"$T/show1.json")/$(field queue_id <"$T/show1.json")" = "R1/virus found/Q1"
check "show --json message_id" test "$(field message_id <"$T/show1.json")" = "m1-invoice@example.com"
check "show --json received_at" test "$(field received_at <"$T/show1.json")" = "2026-01-01T00:00:00Z"
check "show --json sent_at" test "$(field sent_at <"$T/show1.json")" = "2026-01-01T00:00:00Z"
check "show --json size" test "$(field size <"$T/show1.json")" = "$(stat -c %s "$T/m1.eml")"
check "show --json has every field" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
need={"id","placed_at","received_at","sent_at","mail_from","rcpt","from","to","cc","bcc","subject",
      "message_id","queue_id","size","rule_id","statuses","reason","attachments"}
sys.exit(0 if need <= d.keys() else 1)' "$T/show1.json"
check "show --json attachment name" \
  test "$("$mv" show --data "$D" --json "$id2" | field attachments.0.name)" = "offer.pdf"
check "show --json bcc from envelope" \
  test "$("$mv" show --data "$D" --json "$id2" | field bcc)" = "hidden@corp.test"
check "show human" bash -c "'$mv' show --data '$D' '$id1' | grep -q '^subject: *Quarterly invoice'"
check "show malformed message" bash -c "'$mv' show --data '$D' '$id3' >/dev/null"

# ---- save -----------------------------------------------------------------
"$mv" save --data "$D" "$id2" -o "$T/out2.eml" >/dev/null
check "save one: exact bytes" cmp -s "$T/m2.eml" "$T/out2.eml"
check "save one: mode 0600" test "$(stat -c %a "$T/out2.eml")" = 600
"$mv" save --data "$D" "$id3" -o - >"$T/out3.eml"
check "save one to stdout: exact bytes (8-bit, malformed)" cmp -s "$T/m3.eml" "$T/out3.eml"
"$mv" save --data "$D" "$id1" "$id4" -o "$T/two.mbox" >"$T/save.out"
check "save several: says mbox" grep -q 'mbox' "$T/save.out"
check "save several: two From separators" test "$(grep -c '^From ' "$T/two.mbox")" = 2
check "save several: mboxrd quoting" grep -q '^>From here on' "$T/two.mbox"
check "save several: mboxrd round trip" python3 -c '
import re,sys
data=open(sys.argv[1],"rb").read()
parts=re.split(rb"(?m)^From [^\n]*\n", data)[1:]
for part, orig in zip(parts, sys.argv[2:]):
    body=re.sub(rb"(?m)^>(>*From )", rb"\1", part)[:-1]   # drop the closing empty line
    if body != open(orig,"rb").read(): sys.exit(1)
sys.exit(0 if len(parts) == 2 else 1)' "$T/two.mbox" "$T/m1.eml" "$T/m4.eml"
expect_fail "save bad id" "$mv" save --data "$D" "$id1" 999999 -o "$T/bad.mbox"
check "save bad id: nothing written" test ! -e "$T/bad.mbox" -a ! -e "$T/bad.mbox.tmp"
expect_fail "save without -o" "$mv" save --data "$D" "$id1"

# ---- keys -----------------------------------------------------------------
check "keys add" bash -c "'$mv' keys add --data '$D' >/dev/null"
check "keys list --json has 2 keys" \
  test "$("$mv" keys list --data "$D" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2
"$mv" save --data "$D" "$id1" -o "$T/after-key.eml" >/dev/null
check "old copy readable after keys add" cmp -s "$T/m1.eml" "$T/after-key.eml"
id5=$("$mv" put --data "$D" "$T/m1.eml")
"$mv" save --data "$D" "$id5" -o "$T/new-key.eml" >/dev/null
check "new copy readable under the new key" cmp -s "$T/m1.eml" "$T/new-key.eml"

# ---- delete, stats, verify, rebuild-index ----------------------------------
check "delete" bash -c "'$mv' delete --data '$D' '$id4' '$id5' >/dev/null"
expect_fail "deleted copy is gone" "$mv" show --data "$D" "$id4"
expect_fail "delete non-existent id" "$mv" delete --data "$D" 999999
check "stats --json count" test "$("$mv" stats --data "$D" --json | field count)" = 3
check "stats --json max_bytes" test "$("$mv" stats --data "$D" --json | field max_bytes)" -gt 0
check "stats human" bash -c "'$mv' stats --data '$D' | grep -q '^copies: *3'"
check "verify" bash -c "'$mv' verify --data '$D' | grep -qx '3 copies verified'"
check "rebuild-index" bash -c "'$mv' rebuild-index --data '$D' >/dev/null"
check "search after rebuild-index" test "$(search_ids)" = "$id3 $id2 $id1"

# ---- settings -------------------------------------------------------------
check "settings get lists all" test "$("$mv" settings get --data "$D" | wc -l)" -ge 4
check "settings set max_size" bash -c "'$mv' settings set --data '$D' max_size 5GB >/dev/null"
check "settings get max_size" bash -c "'$mv' settings get --data '$D' max_size | grep -q '5'"
check "settings set unavailable_action" bash -c "'$mv' settings set --data '$D' unavailable_action reject >/dev/null"
check "settings get unavailable_action" test "$("$mv" settings get --data "$D" unavailable_action)" = reject
"$mv" settings set --data "$D" max_size 50MB >/dev/null 2>"$T/warn"
check "settings small max_size warns" grep -q 'warning' "$T/warn"
expect_fail "settings bad value" "$mv" settings set --data "$D" max_size lots
expect_fail "settings bad action" "$mv" settings set --data "$D" unavailable_action maybe
expect_fail "settings unknown key" "$mv" settings set --data "$D" colour blue
expect_fail "settings get unknown key" "$mv" settings get --data "$D" colour

# ---- bad input ------------------------------------------------------------
mkdir -p "$T/notastore"
expect_fail "show non-existent id" "$mv" show --data "$D" 999999
expect_fail "--data not a store (read)" "$mv" search --data "$T/notastore"
expect_fail "--data not a store (write)" "$mv" put --data "$T/notastore" "$T/m1.eml"
expect_fail "--data missing dir" "$mv" stats --data "$T/missing"
expect_fail "usage: id not a number" "$mv" show --data "$D" abc
check "usage error exits 2" bash -c "'$mv' show --data '$D' abc 2>/dev/null; test \$? -eq 2"
expect_fail "usage: unknown command" "$mv" frobnicate
repo=$(cd "$(dirname "$0")/../.." && pwd)
check "config check accepts the shipped config" bash -c "'$mv' config check -c '$repo/conf/mailvault.toml' >/dev/null"
printf '[api]\nlisten = "127.0.0.1:99999"\n' >"$T/bad.toml"
expect_fail "config check refuses a bad port" "$mv" config check -c "$T/bad.toml"
printf '[stor]\ndir = "x"\n' >"$T/typo.toml"
expect_fail "config check refuses an unknown table" "$mv" config check -c "$T/typo.toml"
check "config check lists the shipped rule and engines" \
  bash -c "'$mv' config check -c '$repo/conf/mailvault.toml' | grep -q '^    default ' && '$mv' config check -c '$repo/conf/mailvault.toml' | grep -q 'clamd: *unix:/run/clamav/clamd.ctl'"
printf '[[rule]]\nid = "r1"\n[rule.actions]\n"anti-virus:infectd" = "reject"\n' >"$T/badrule.toml"
expect_fail "config check refuses a rule with an unknown label" "$mv" config check -c "$T/badrule.toml"
check "the rule error names file, line and label" grep -q 'badrule.toml:4.*infectd' "$T/err"

# ---- tamper, large and odd messages ----------------------------------------
TD="$T/tamper"
"$mv" init --data "$TD" >/dev/null
t1=$("$mv" put --data "$TD" "$T/m1.eml"); t2=$("$mv" put --data "$TD" "$T/m2.eml"); t3=$("$mv" put --data "$TD" "$T/m3.eml")
# Flip one byte inside the second record's payload.
python3 - "$TD/segments/0000000000000001.seg" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
second = b.find(b'MVR1', b.find(b'MVR1') + 1)
b[second + 300] ^= 0x01
open(p, 'wb').write(bytes(b))
PY
check "verify fails on a flipped byte" bash -c "! '$mv' verify --data '$TD' >'$T/verify.out' 2>&1"
check "verify names the damaged copy" grep -q "copy $t2" "$T/verify.out"
expect_fail "save of the damaged copy is an error" "$mv" save --data "$TD" "$t2" -o "$T/t2.eml"
check "nothing written for the damaged copy" test ! -e "$T/t2.eml" -a ! -e "$T/t2.eml.tmp"
"$mv" save --data "$TD" "$t1" -o "$T/t1.eml" >/dev/null; "$mv" save --data "$TD" "$t3" -o "$T/t3.eml" >/dev/null
check "the other copies stay readable" bash -c "cmp -s '$T/m1.eml' '$T/t1.eml' && cmp -s '$T/m3.eml' '$T/t3.eml'"

# Accepting the loss (issue 14, item 8): verify is green again, the lost id
# is named and audited, the other copies are untouched.
expect_fail "repair without --accept-loss changes nothing" "$mv" repair --data "$TD"
check "repair --accept-loss names the lost copy" \
  bash -c "'$mv' repair --data '$TD' --accept-loss 2>'$T/repair.err' | grep -qx 'accepted the loss of 1 copy: $t2'"
check "the loss is reported as an event" grep -q "event loss_accepted:.*copies $t2 to damage" "$T/repair.err"
check "verify passes after the loss was accepted" bash -c "'$mv' verify --data '$TD' | grep -qx '2 copies verified'"
check "the audit log records the repair and the lost id" \
  bash -c "'$mv' audit --data '$TD' --json | python3 -c 'import json,sys; r=[e for e in json.load(sys.stdin)[\"items\"] if e[\"action\"]==\"repair\"]; sys.exit(0 if r and r[0][\"copy_ids\"]==[$t2] else 1)'"
"$mv" save --data "$TD" "$t3" -o "$T/t3b.eml" >/dev/null
check "the other copies stay readable after the repair" cmp -s "$T/m3.eml" "$T/t3b.eml"
# A segment cut inside its last indexed record: reported and cut at the next
# open, so the next copy is not appended after damaged bytes; verify lists
# the lost id until the loss is accepted.
t4=$("$mv" put --data "$TD" "$T/m2.eml")
seg="$TD/segments/0000000000000001.seg"
truncate -s $(( $(stat -c %s "$seg") - 100 )) "$seg"
t5=$("$mv" put --data "$TD" "$T/m1.eml" 2>"$T/cut.err")
check "the cut segment is reported with the lost id" grep -q "event copies_lost:.*copies $t4 lost" "$T/cut.err"
"$mv" save --data "$TD" "$t5" -o "$T/t5.eml" >/dev/null
check "the next copy is written after the cut, intact" cmp -s "$T/m1.eml" "$T/t5.eml"
check "verify keeps naming the lost copy" \
  bash -c "! '$mv' verify --data '$TD' >'$T/verify2.out' 2>&1 && grep -q 'copy $t4 was lost to damage' '$T/verify2.out'"
check "repair --accept-loss names it" \
  bash -c "'$mv' repair --data '$TD' --accept-loss 2>/dev/null | grep -qx 'accepted the loss of 1 copy: $t4'"
check "verify passes again" bash -c "'$mv' verify --data '$TD' >/dev/null"

# Reading a copy out while the audit log cannot be written (issue 14, item
# 8): the CLI still serves the administrator, says so on stderr, keeps the
# record aside and adds it to the log at the next command that can.
mv "$TD/audit.db" "$TD/audit.db.aside"; mkdir "$TD/audit.db"
check "save works while the audit log cannot be written" \
  bash -c "'$mv' save --data '$TD' '$t1' -o '$T/t1c.eml' >/dev/null 2>'$T/defer.err' && cmp -s '$T/m1.eml' '$T/t1c.eml'"
check "save says the access is kept aside" grep -q "audit log cannot be written.*kept in $TD/audit-pending.jsonl" "$T/defer.err"
rmdir "$TD/audit.db"; mv "$TD/audit.db.aside" "$TD/audit.db"
"$mv" show --data "$TD" "$t1" >/dev/null
check "the deferred save entered the audit log" \
  bash -c "'$mv' audit --data '$TD' --json | python3 -c 'import json,sys; r=[e for e in json.load(sys.stdin)[\"items\"] if e[\"action\"]==\"save\" and e[\"copy_ids\"]==[$t1] and \"recorded late\" in e[\"detail\"]]; sys.exit(0 if r else 1)'"
check "and the pending file is gone" test ! -e "$TD/audit-pending.jsonl"

# A 50 MB message, 8-bit headers, no headers at all, a broken MIME structure:
# all stored faithfully and given back byte for byte.
{ printf 'From: big@example.com\r\nSubject: fifty megabytes\r\n\r\n'; head -c 38000000 /dev/urandom | base64 -w 76; } >"$T/big.eml"
printf 'From: J\xf6rg <joerg@example.de>\r\nSubject: Gr\xfc\xdfe \xe2\x82\xac\r\n\r\nbody\r\n' >"$T/8bit.eml"
printf 'no header line here, just text\r\n' >"$T/noheaders.eml"
printf 'Content-Type: multipart/mixed; boundary="b"\r\nSubject: broken\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nunterminated part' >"$T/broken.eml"
for f in big 8bit noheaders broken; do
  id=$("$mv" put --data "$D" "$T/$f.eml")
  "$mv" save --data "$D" "$id" -o "$T/$f.out" >/dev/null
  check "$f message stored and saved byte for byte" cmp -s "$T/$f.eml" "$T/$f.out"
done
check "8-bit subject decoded for search" test -n "$(search_ids --subject 'Gr')"

# ---- daemon ---------------------------------------------------------------
DD="$T/daemon-data"
cat >"$T/mailvaultd.toml" <<EOF
[store]
dir = "$DD"
[api]
listen = "127.0.0.1:0"
max_message_size = "1MB"
[milter]
socket = "unix:$T/milter.sock"
EOF
"$mvd" --config "$T/mailvaultd.toml" >"$T/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -s "$DD/mailvaultd.port" ] && break; sleep 0.1; done
check "daemon writes its port" test -s "$DD/mailvaultd.port"
port=$(cat "$DD/mailvaultd.port")
token=$(cat "$DD/api.token")
check "daemon created the token 0600" test "$(stat -c %a "$DD/api.token")" = 600
url="http://127.0.0.1:$port/api/v1"
check "health" bash -c "curl -sf '$url/health' | grep -q '\"status\":\"ok\"'"
check "POST without token is 401" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -F "message=@$T/m1.eml" "$url/messages")" = 401
code=$(curl -s -o "$T/post.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
  -F "message=@$T/m1.eml" \
  -F 'meta={"mail_from":"alice@example.com","rcpt":["bob@example.org"],"rule_id":"API","statuses":{"anti-virus":"infected"}};type=application/json' \
  "$url/messages")
check "POST with token is 201" test "$code" = 201
api_id=$(field id <"$T/post.json")
check "POST bad meta is 400" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  -F "message=@$T/m1.eml" -F 'meta={oops' "$url/messages")" = 400
# A second daemon (its own store) on the same API address must not start:
# sharing the port would split the requests between two stores.
cat >"$T/second.toml" <<EOF
[store]
dir = "$T/second-data"
[api]
listen = "127.0.0.1:$port"
[milter]
socket = "unix:$T/milter2.sock"
EOF
rc=0
timeout 20 "$mvd" --config "$T/second.toml" >"$T/second.log" 2>&1 || rc=$?
check "a second daemon on the same API address exits at once, non-zero (exit $rc)" \
  test "$rc" -ne 0 -a "$rc" -ne 124
check "its error names the address" grep -q "cannot listen on 127.0.0.1:$port (api.listen)" "$T/second.log"
check "the first daemon still answers" bash -c "curl -sf '$url/health' | grep -q '\"status\":\"ok\"'"
check "CLI search while the daemon runs" test "$("$mv" search --data "$DD" --json --rule API | ids)" = "$api_id"
"$mv" save --data "$DD" "$api_id" -o "$T/api.eml" >/dev/null
check "CLI save of the posted copy: exact bytes" cmp -s "$T/m1.eml" "$T/api.eml"
expect_fail "CLI put while the daemon holds the lock" "$mv" put --data "$DD" "$T/m1.eml"
check "lock message is plain" grep -q 'in use by another process (mailvaultd?).*POST /api/v1/messages' "$T/err"
kill -TERM "$daemon_pid"
rc=0
for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
wait "$daemon_pid" || rc=$?
check "daemon stops on SIGTERM with exit 0" test "$rc" = 0
daemon_pid=""
check "daemon logged where it listens" grep -q "listening on http://127.0.0.1:$port" "$T/daemon.log"
check "CLI put works after the daemon stopped" bash -c "'$mv' put --data '$DD' '$T/m1.eml' >/dev/null"
check "verify daemon store" bash -c "'$mv' verify --data '$DD' | grep -qx '2 copies verified'"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
