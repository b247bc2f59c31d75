#!/usr/bin/env bash
# End-to-end test of the intake (issue 3): a private Postfix hands every
# message to mailvaultd's milter; mailvaultd asks a real clamd (private
# signature DB) and a real rspamd (fake DNS, so SPF/DKIM/DMARC work offline),
# applies the rules, keeps a copy and tells Postfix what to do; smtp-sink is
# the next hop. For each engine and label: the copy is in the Backup with the
# right engine, label, rule id and envelope, and Postfix did what the rule
# says (from Postfix's log and what the sink received). Then: clean mail
# passes unchanged without a copy; engines down or hanging give not-scanned
# and an event within the timeouts; a full disk under each unavailable_action;
# kill -9 of mailvaultd while Postfix sends.
#
# Usage: milter_test.sh BIN_DIR.  Needs root (Postfix, mount of a small tmpfs).
set -euo pipefail

bin=$(cd "${1:?usage: milter_test.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"

T=$(mktemp -d /tmp/mailvault-milter-test.XXXXXX)
D="$T/data"
S="$T/samples"
daemon_pid=""
stop_daemon() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  daemon_pid=""
}
cleanup() {
  stop_daemon
  stop_services
  if mountpoint -q "$T/small" 2>/dev/null; then umount "$T/small" || true; fi
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

make_samples "$S"
start_smtp_sink "$T"
start_clamd "$T"
start_rspamd "$T"
MILTER_PORT=$(free_port)

# The config: one rule per action, chosen by recipient domain, each running
# every engine and giving every label the same action; a bypass rule for
# the kill -9 phase.
write_config() {  # write_config FILE DATA_DIR CLAMD_ADDRESS RSPAMD_URL
  cat >"$1" <<EOF
[store]
dir = "$2"
[api]
listen = "127.0.0.1:0"
[milter]
socket = "inet:127.0.0.1:$MILTER_PORT"
timeout = "60s"
[engines.clamd]
address = "$3"
timeout = "3s"
[engines.rspamd]
url = "$4"
timeout = "3s"
malicious_hosts = ["malware-host.example"]
[engines.content]
banned_names = ["*.exe", "*.scr"]
# banned_formats left out: the built-in default, which is the shipped list.
max_message_size = "300KB"
[engines.lists]
blacklist = ["spammer@bad.example"]
whitelist = ["friend@good.example"]

[[rule]]
id = "reject-all"
recipients = ["@reject.test"]
default = { action = "reject", copy = true }
[[rule]]
id = "discard-all"
recipients = ["@discard.test"]
default = { action = "delete-message", copy = true }
[[rule]]
id = "strip"
recipients = ["@strip.test"]
engines = ["anti-virus", "content-filtering"]
default = { action = "delete-attachment", copy = true }
[[rule]]
id = "tag"
recipients = ["@tag.test"]
default = { action = "tag-subject", copy = true }
[[rule]]
id = "header"
recipients = ["@header.test"]
default = { action = "add-header", copy = true }
[rule.actions]
"anti-virus:not-scanned" = { action = "add-header", copy = false }
"anti-spam:not-scanned" = { action = "add-header", copy = false }
EOF
}

start_daemon() {  # start_daemon CONFIG
  rm -f "$D/mailvaultd.port"
  "$mvd" --config "$1" >>"$T/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 200); do
    if [ -s "$D/mailvaultd.port" ] && _svc_port_open "$MILTER_PORT"; then return 0; fi
    sleep 0.05
  done
  echo "mailvaultd did not start:"; tail -20 "$T/daemon.log"; return 1
}

write_config "$T/mv.toml" "$D" "unix:$CLAMD_SOCK" "$RSPAMD_URL"
start_daemon "$T/mv.toml"
start_postfix "$T" "inet:127.0.0.1:$MILTER_PORT"

# send NAME FROM TO FILE [swaks options...]: sends through Postfix; the
# swaks transcript goes to $T/swaks.NAME; returns swaks' exit code.
send() {
  local name=$1 from=$2 to=$3 file=$4; shift 4
  swaks --server "127.0.0.1:$PF_PORT" --from "$from" --to "$to" --data "$file" \
    --xclient-addr 203.0.113.5 --xclient-name mx.example.org --xclient-helo mx.example.org \
    "$@" >"$T/swaks.$name" 2>&1
}
# copy_field RCPT FIELD: FIELD of the newest copy for envelope recipient
# RCPT ("" if none); statuses.ENGINE reads one label. Waits up to 5 s for
# the index of the daemon's store to show it.
copy_field() {
  local rcpt=$1 field=$2 out
  for _ in $(seq 50); do
    out=$("$mv" search --data "$D" --to "$rcpt" --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
rcpt, field = sys.argv[1], sys.argv[2]
items = [i for i in items if rcpt in i["rcpt"]]
if not items:
    sys.exit(1)
v = items[0]
for k in field.split("."):
    v = v.get(k, "") if isinstance(v, dict) else ""
print(v if not isinstance(v, list) else " ".join(v))
' "$rcpt" "$field") && { echo "$out"; return 0; }
    sleep 0.1
  done
  echo ""
}
copies_for() { "$mv" search --data "$D" --to "$1" --json | /usr/bin/python3 -c '
import json, sys; print(len([i for i in json.load(sys.stdin)["items"] if sys.argv[1] in i["rcpt"]]))' "$1"; }
# sink_for RCPT: the sink file of the newest message for RCPT.
sink_for() { sink_find_rcpt "$1" 10; }
pf_logged() { grep -q "$1" "$PF_LOG"; }
# expect_copy NAME RCPT ENGINE LABEL RULE: one copy with that label and rule.
expect_copy() {
  local name=$1 rcpt=$2 engine=$3 label=$4 rule=$5
  local got_label got_rule got_from
  got_label=$(copy_field "$rcpt" "statuses.$engine")
  got_rule=$(copy_field "$rcpt" rule_id)
  got_from=$(copy_field "$rcpt" mail_from)
  if [ "$got_label" = "$label" ] && [ "$got_rule" = "$rule" ] && [ -n "$got_from" ]; then
    ok "$name: copy $engine=$label rule=$rule from=<$got_from>"
  else
    bad "$name: copy $engine=<$got_label> rule=<$got_rule> from=<$got_from>, want $engine=$label rule=$rule"
  fi
}

# A mail with an attachment, built here.
attach_mail() {  # attach_mail FILE NAME CONTENT_FILE
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import base64, sys
out, name, content = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read()
b64 = base64.encodebytes(content).decode().replace("\n", "\r\n")
msg = ("From: Alice <alice@example.org>\r\nTo: bob@example.com\r\n"
       "Subject: attachment " + name + "\r\nMessage-ID: <att-" + name + "@example.org>\r\n"
       "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
       "--XX\r\nContent-Type: text/plain\r\n\r\nPlease see the attachment.\r\n"
       "--XX\r\nContent-Type: application/octet-stream\r\n"
       "Content-Disposition: attachment; filename=\"" + name + "\"\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "--XX--\r\n")
open(out, "wb").write(msg.encode())
PY
}

# ---- anti-virus --------------------------------------------------------
rc=0; send eicar-reject alice@example.org v1@reject.test "$S/eicar.eml" || rc=$?
check "EICAR to a reject rule: the client gets 5xx" grep -q '<\*\* *550 5.7.1' "$T/swaks.eicar-reject"
check "Postfix logged the milter reject" pf_logged "milter-reject: END-OF-MESSAGE.*5.7.1"
expect_copy "EICAR rejected" v1@reject.test anti-virus infected reject-all
check "the copy records the signature and database date" \
  bash -c "'$mv' search --data '$D' --to v1@reject.test --json | grep -q 'Eicar-Signature.*database'"
check "the copy keeps the envelope recipient" test "$(copy_field v1@reject.test rcpt)" = v1@reject.test
check "the copy has Postfix's queue id" test -n "$(copy_field v1@reject.test queue_id)"
qid=$(copy_field v1@reject.test queue_id)
check "that queue id is in Postfix's log" pf_logged "$qid"

send heuristic alice@example.org v2@header.test "$S/heuristic.eml" || true
expect_copy "heuristic signature" v2@header.test anti-virus probably-infected header
send encrypted alice@example.org v3@header.test "$S/encrypted.eml" || true
expect_copy "encrypted zip" v3@header.test anti-virus encrypted header
if [ -f "$S/broken-exe.eml" ]; then
  send broken alice@example.org v4@header.test "$S/broken-exe.eml" || true
  expect_copy "broken executable" v4@header.test anti-virus corrupted header
fi

# ---- actions: discard, strip attachment, tag subject, add header -----------
send eicar-discard alice@example.org v5@discard.test "$S/eicar.eml" || true
check "discard: the client was told 250" grep -q '<- *250' "$T/swaks.eicar-discard"
check "Postfix logged the milter discard" pf_logged "milter-discard: END-OF-MESSAGE"
expect_copy "EICAR discarded" v5@discard.test anti-virus infected discard-all
check "discard: nothing reached the sink" bash -c "! grep -qil '^X-Rcpt-Args: <v5@discard.test>' $SINK_DIR/* 2>/dev/null"

printf 'just some text, not a program\r\n' >"$T/notes.txt"
attach_mail "$T/banned-name.eml" invoice.exe "$T/notes.txt"
# smtp_send keeps the bytes exactly (swaks may add a line before the dot).
smtp_send alice@example.org v6@strip.test "$T/banned-name.eml" >"$T/swaks.banned-name" 2>&1
expect_copy "banned file name" v6@strip.test content-filtering banned-file-name strip
f=$(sink_for v6@strip.test) || f=/dev/null
check "strip: the message arrived without the attachment" bash -c "! grep -q 'anVzdCBzb21l' '$f'"
check "strip: a note names the removed file" grep -q 'invoice.exe' "$f"
check "strip: the text part is still there" grep -q 'Please see the attachment' "$f"
id=$("$mv" search --data "$D" --to v6@strip.test --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
"$mv" save --data "$D" "$id" -o "$T/v6.saved" >/dev/null
check "strip: the copy in the Backup is the original, attachment included" grep -q 'anVzdCBzb21l' "$T/v6.saved"
# Postfix hands milters the message as it will queue it: the headers sent
# (plus a Date: its cleanup adds when missing), the body byte for byte.
check "strip: the copy is what was sent (same header lines in order, same body bytes)" \
  /usr/bin/python3 -c '
import sys
sent, saved = (open(p, "rb").read() for p in sys.argv[1:3])
sh, sb = sent.split(b"\r\n\r\n", 1)
ch, cb = saved.split(b"\r\n\r\n", 1)
lines = ch.split(b"\r\n")
pos = [lines.index(l) for l in sh.split(b"\r\n")]
sys.exit(0 if sb == cb and pos == sorted(pos) else 1)' "$T/banned-name.eml" "$T/v6.saved"

printf 'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00' >"$T/fake.bin"
head -c 200 /dev/zero >>"$T/fake.bin"
printf 'PE\x00\x00' >>"$T/fake.bin"
attach_mail "$T/banned-format.eml" readme.txt "$T/fake.bin"
send banned-format alice@example.org v7@header.test "$T/banned-format.eml" || true
expect_copy "banned file format (an executable named .txt)" v7@header.test content-filtering banned-file-format header
# A real program of this machine under an innocent name (issue 14: /bin/ls,
# a PIE executable, passed the shipped list).
attach_mail "$T/banned-elf.eml" tool.txt /bin/ls
send banned-elf alice@example.org v7b@header.test "$T/banned-elf.eml" || true
expect_copy "banned file format (/bin/ls named tool.txt)" v7b@header.test content-filtering banned-file-format header
check "the copy names the ELF format" \
  bash -c "'$mv' search --data '$D' --to v7b@header.test --json | grep -q 'application/x-\\(sharedlib\\|pie-executable\\) (tool.txt)'"

head -c 400000 /dev/zero | tr '\0' 'a' | fold -w 76 | sed 's/$/\r/' >"$T/big.txt"
{ printf 'From: alice@example.org\r\nTo: v8@reject.test\r\nSubject: big\r\n\r\n'; cat "$T/big.txt"; } >"$T/big.eml"
send big alice@example.org v8@reject.test "$T/big.eml" || true
expect_copy "size exceeded" v8@reject.test content-filtering size-exceeded reject-all
check "size exceeded: rejected" grep -q '<\*\* *550' "$T/swaks.big"

# ---- anti-spam, anti-phishing, sender authentication, lists ----------------
send gtube alice@example.org v9@tag.test "$S/gtube.eml"
expect_copy "GTUBE" v9@tag.test anti-spam spam tag
f=$(sink_for v9@tag.test) || f=/dev/null
check "tag: the subject carries the tag" grep -qi '^Subject: \[spam\]' "$f"

send phishing alice@example.org v10@header.test "$S/phishing.eml"
expect_copy "phishing" v10@header.test anti-phishing phishing header
f=$(sink_for v10@header.test) || f=/dev/null
check "add-header: the message carries X-Mailvault-Status" grep -qi '^X-Mailvault-Status:.*anti-phishing=phishing' "$f"

{ printf 'From: alice@example.org\r\nTo: v11@header.test\r\nSubject: link\r\nContent-Type: text/plain\r\n\r\n'
  printf 'Download here: http://malware-host.example/payload\r\n'; } >"$T/badlink.eml"
send badlink alice@example.org v11@header.test "$T/badlink.eml"
expect_copy "link to a host on the site's list" v11@header.test anti-phishing malicious-link header

send spf carol@example.net v12@header.test "$S/spf-fail.eml" --xclient-addr 198.51.100.7 \
  --xclient-name mx.bad.example --xclient-helo mx.bad.example || true
spf_label=$(copy_field v12@header.test statuses.sender-auth)
check "SPF failure (with DMARC reject): sender-auth=$spf_label" \
  bash -c "[ '$spf_label' = dmarc-fail ] || [ '$spf_label' = spf-fail ]"
send dkim carol@example.net v13@header.test "$S/dkim-fail.eml" || true
dkim_label=$(copy_field v13@header.test statuses.sender-auth)
check "DKIM failure: sender-auth=$dkim_label" \
  bash -c "[ '$dkim_label' = dkim-fail ] || [ '$dkim_label' = dmarc-fail ]"

send blacklisted spammer@bad.example v14@reject.test "$S/clean.eml" || true
expect_copy "black-listed sender" v14@reject.test blacklist blacklisted reject-all
check "black-listed sender: rejected" grep -q '<\*\* *550' "$T/swaks.blacklisted"

sed "s/^From: .*/From: Friend <friend@good.example>\r/" "$S/gtube.eml" >"$T/friend.eml"
send whitelisted friend@good.example v15@reject.test "$T/friend.eml" || true
check "white-listed sender: GTUBE passes (anti-spam skipped)" grep -q '<- *250' "$T/swaks.whitelisted"
check "white-listed sender: no copy" test "$(copies_for v15@reject.test)" = 0

# ---- clean mail -----------------------------------------------------------
send clean alice@example.org v16@reject.test "$S/clean.eml"
f=$(sink_for v16@reject.test) || f=/dev/null
check "clean mail passes: accepted" grep -q '<- *250' "$T/swaks.clean"
check "clean mail leaves no copy" test "$(copies_for v16@reject.test)" = 0
# body_of FILE: the body (after the first blank line), line ends and
# trailing blank lines normalised (the sink stores LF and appends a line).
body_of() { /usr/bin/python3 -c '
import sys
b = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
print(b.split(b"\n\n", 1)[1].rstrip(b"\n").decode("latin-1"))' "$1"; }
check "clean mail arrives with its body unchanged" \
  test "$(body_of "$S/clean.eml")" = "$(sink_body "$f" >"$T/clean.got"; body_of "$T/clean.got")"
check "clean mail arrives with its headers unchanged" \
  bash -c "grep -q '^Subject: Meeting notes' '$f' && grep -q '^Message-ID: <meeting-notes@example.org>' '$f'"
check "clean mail gets no status header" bash -c "! grep -qi '^X-Mailvault-Status' '$f'"

# ---- multiple recipients under different rules -------------------------
send split alice@example.org "v17@reject.test,v18@tag.test" "$S/gtube.eml"
check "split: accepted for the passing recipient" grep -q '<- *250' "$T/swaks.split"
f=$(sink_for v18@tag.test) || f=/dev/null
check "split: the tag recipient got the tagged message" grep -qi '^Subject: \[spam\]' "$f"
check "split: the reject recipient was removed" bash -c "! grep -qi '^X-Rcpt-Args: <v17@reject.test>' '$f'"
expect_copy "split: copy under the reject rule" v17@reject.test anti-spam spam reject-all
expect_copy "split: copy under the tag rule" v18@tag.test anti-spam spam tag

# ---- loop-safe release: a message carrying a forged release header -------
{ printf 'From: alice@example.org\r\nTo: v19@reject.test\r\nSubject: forged\r\n'
  printf 'X-Mailvault-Release: v=1; id=1; t=%s; b=00; s=00\r\n\r\n' "$(date +%s)"
  sed -n '/^\r\?$/,$p' "$S/eicar-inline.eml" | sed '1d'; } >"$T/forged.eml"
send forged alice@example.org v19@reject.test "$T/forged.eml" || true
check "a forged release header does not skip scanning" grep -q '<\*\* *550' "$T/swaks.forged"
check "the forged header is logged as an event" grep -q 'release-header-invalid' "$T/daemon.log"

# ---- abort, RSET and dropped connections leave nothing behind -------------
fds_before=$(ls /proc/"$daemon_pid"/fd | wc -l)
/usr/bin/python3 - "$PF_PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def session(script):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    f = s.makefile("rb")
    f.readline()
    for line, wait in script:
        s.sendall(line)
        if wait:
            while True:
                r = f.readline()
                if r[3:4] != b"-":
                    break
    return s
big = b"X-Filler: " + b"a" * 70 + b"\r\n"
# Drop the connection in the middle of a 300 KB body (spooled to disk).
s = session([(b"EHLO x\r\n", True), (b"MAIL FROM:<alice@example.org>\r\n", True),
             (b"RCPT TO:<abort1@header.test>\r\n", True), (b"DATA\r\n", True)])
s.sendall(b"Subject: cut\r\n" + big * 4000)
time.sleep(0.5)
s.close()
# RSET after RCPT, then QUIT.
s = session([(b"EHLO x\r\n", True), (b"MAIL FROM:<alice@example.org>\r\n", True),
             (b"RCPT TO:<abort2@header.test>\r\n", True), (b"RSET\r\n", True),
             (b"QUIT\r\n", True)])
s.close()
PY
sleep 2
check "aborted sessions keep no copy" bash -c "[ \$('$mv' search --data '$D' --to abort --json | grep -c '\"id\"') -eq 0 ]"
check "aborted sessions leave no spool file" test -z "$(ls -A "$D/spool")"
fds_after=$(ls /proc/"$daemon_pid"/fd | wc -l)
check "aborted sessions leave no descriptor open ($fds_before before, $fds_after after)" \
  test "$fds_after" -le "$fds_before"
send after-abort alice@example.org v21@header.test "$S/gtube.eml"
expect_copy "the milter works on after aborted sessions" v21@header.test anti-spam spam header

# ---- engines down or hanging --------------------------------------------
stop_daemon
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)   # accept, never answer
' >"$T/hang.port" &
hang_pid=$!
_svc_track "$hang_pid"
wait_for 5 test -s "$T/hang.port"
write_config "$T/down.toml" "$D" "unix:$T/no-clamd.sock" "http://127.0.0.1:$(cat "$T/hang.port")"
start_daemon "$T/down.toml"
start=$(date +%s)
send down alice@example.org v20@header.test "$S/eicar.eml" || true
took=$(( $(date +%s) - start ))
check "engines down/hanging: the message is still processed (250)" grep -q '<- *250' "$T/swaks.down"
check "engines down/hanging: answered within the engine timeouts (${took}s < 30s)" test "$took" -lt 30
f=$(sink_for v20@header.test) || f=/dev/null
check "engines down: the header says not-scanned" grep -qi '^X-Mailvault-Status:.*anti-virus=not-scanned' "$f"
check "engines down: anti-spam not-scanned too (rspamd timed out)" grep -qi '^X-Mailvault-Status:.*anti-spam=not-scanned' "$f"
check "engines down: an event names clamd" grep -q 'event engine-error: anti-virus' "$T/daemon.log"
check "engines down: an event names the rspamd timeout" grep -q 'event engine-error: anti-spam' "$T/daemon.log"
check "engines down: no copy (the rule keeps none for not-scanned)" test "$(copies_for v20@header.test)" = 0
stop_daemon

# ---- the Backup unavailable: a full disk under each unavailable_action -----
mkdir -p "$T/small"
mount -t tmpfs -o size=24m tmpfs "$T/small"
SD="$T/small/data"
"$mv" init --data "$SD" >/dev/null
write_config "$T/small.toml" "$SD" "unix:$CLAMD_SOCK" "$RSPAMD_URL"
# Large enough to need new blocks on the full file system.
{ printf 'From: alice@example.org\r\nTo: w@header.test\r\nSubject: big eicar\r\n\r\n'
  head -c 150000 "$T/big.txt"; sed -n '/^\r\?$/,$p' "$S/eicar-inline.eml" | sed '1d'; } >"$T/eicar-big.eml"
for action in process tempfail reject; do
  rm -f "$T/small/fill"
  "$mv" settings set --data "$SD" unavailable_action "$action" >/dev/null
  D_SAVE=$D; D=$SD
  start_daemon "$T/small.toml"
  D=$D_SAVE
  dd if=/dev/zero of="$T/small/fill" bs=1M count=64 >/dev/null 2>&1 || true
  send "full-$action" alice@example.org "w-$action@header.test" "$T/eicar-big.eml" || true
  case $action in
    process) check "disk full, process: the message is accepted" grep -q '<- *250' "$T/swaks.full-$action"
             f=$(sink_for "w-$action@header.test") || f=/dev/null
             check "disk full, process: the rule's action still applied" grep -qi '^X-Mailvault-Status' "$f" ;;
    tempfail) check "disk full, tempfail: 451 4.3.0" grep -q '<\*\* *451 4.3.0' "$T/swaks.full-$action" ;;
    reject) check "disk full, reject: 550 5.3.0" grep -q '<\*\* *550 5.3.0' "$T/swaks.full-$action" ;;
  esac
  check "disk full, $action: the event is logged" grep -q 'event backup-unavailable' "$T/daemon.log"
  stop_daemon
done
umount "$T/small"

# ---- kill -9 while Postfix sends -----------------------------------------
start_daemon "$T/mv.toml"
n=120
for i in $(seq "$n"); do
  { printf 'From: alice@example.org\r\nTo: k%d@header.test\r\nSubject: load %d\r\nMessage-ID: <kill-%d@example.org>\r\n\r\n' "$i" "$i" "$i"
    sed -n '/^\r\?$/,$p' "$S/gtube.eml" | sed '1d'; } >"$T/k$i.eml"
done
( for i in $(seq "$n"); do
    swaks --server "127.0.0.1:$PF_PORT" --from alice@example.org --to "k$i@header.test" \
      --data "$T/k$i.eml" >"$T/swaks.k$i" 2>&1 || true
  done ) &
sender=$!
for round in 1 2; do
  sleep 1.5
  kill -KILL "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
  sleep 0.5
  start_daemon "$T/mv.toml"
done
wait "$sender"
accepted=0; lost=0; tempfailed=0
copies=$("$mv" search --data "$D" --to "@header.test" --subject "load " --limit 1000 --json)
for i in $(seq "$n"); do
  if grep -q '<- *250.*queued as' "$T/swaks.k$i"; then
    accepted=$((accepted + 1))
    # Accepted mail went through the milter (default action tempfail), so
    # its copy must be in the Backup.
    echo "$copies" | grep -q "\"k$i@header.test\"" || { lost=$((lost + 1)); echo "lost: k$i"; }
  else
    tempfailed=$((tempfailed + 1))
  fi
done
echo "kill -9: $accepted accepted, $tempfailed refused by milter_default_action"
check "kill -9: some messages went through ($accepted)" test "$accepted" -gt 0
check "kill -9: every accepted message has its copy ($lost missing)" test "$lost" -eq 0
check "kill -9: Postfix's milter_default_action answered while mailvaultd was down" \
  bash -c "[ $tempfailed -eq 0 ] || grep -q 'connect to Milter service.*refused' '$PF_LOG'"
stop_daemon
check "verify after kill -9 (daemon stopped)" bash -c "'$mv' verify --data '$D' >/dev/null"

echo "milter: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
