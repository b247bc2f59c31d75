#!/usr/bin/env bash
# Self-check of lib/services.sh (not a suite: run.sh runs only *_test.sh).
# Starts every private service in a temp dir, pushes mail through Postfix to
# both sinks, scans the samples with clamd, checks them with rspamd, stops
# everything and verifies nothing is left running. Needs root.
#
# Usage: bash tests/integration/lib/selftest.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=services.sh
. "$here/services.sh"

T=$(mktemp -d /tmp/mailvault-svc-selftest.XXXXXX)
keep=${KEEP:-0}
cleanup() {
  stop_services
  if [ "$keep" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
timed() {   # timed LABEL CMD...: run CMD, record its duration
  local t0; t0=$(date +%s.%N)
  "$@"
  timings+=("$1 $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2fs", b - a }')")
}
timings=()

S="$T/samples"
make_samples "$S"

# ---- Postfix -> smtp-sink ------------------------------------------------------
timed start_smtp_sink "$T"
timed start_postfix "$T"
pf1_conf=$PF_CONF; pf1_port=$PF_PORT; pf1_log=$PF_LOG; pf1_dir=$PF_DIR

check "swaks: clean mail accepted by postfix" \
  swaks --server "127.0.0.1:$PF_PORT" --from alice@example.org --to bob@example.com \
        --data @"$S/clean.eml" --hide-all
check "smtp-sink got it" sink_wait 1 20
f=$(sink_files | head -1)
check "sink file has the envelope" grep -q '^X-Rcpt-Args: <bob@example.com>' "$f"
check "sink file has the Subject" grep -q '^Subject: Meeting notes' "$f"
check "sink file shows postfix's Received header" grep -q 'by gw.test (Postfix)' "$f"
r=$(smtp_send alice@example.org bob@example.com "$S/clean.eml") || true
check "smtp_send: accepted ($r)" eval '[[ "$r" == "250 2.0.0 Ok: queued as "* ]]'
check "smtp-sink got the second one" sink_wait 2 20
f=$(sink_files | tail -1)
# Body as sent (LF) == body as received (after the header block).
body_of() { awk 'found { print } /^\r?$/ && !found { found = 1 }' | tr -d '\r'; }
check "body arrives unchanged" cmp <(body_of <"$S/clean.eml") <(sink_body "$f" | body_of)
check "sink file carries postfix's queue id" grep -q "id ${r##* }" "$f"
check "sink_find_rcpt finds it" test "$(sink_find_rcpt BOB@example.com 5)" = "$f"
check "queue empty afterwards" wait_queue_empty "$T" 20
check "postfix log written" grep -q 'status=sent' "$PF_LOG"

# A second instance beside the first.
mkdir -p "$T/second"
timed start_postfix "$T/second"
check "second postfix has its own port" test "$PF_PORT" != "$pf1_port"
check "second postfix relays too" \
  swaks --server "127.0.0.1:$PF_PORT" --from alice@example.org --to carol@example.com \
        --header 'Subject: via second' --body 'second instance' --hide-all
check "sink got mail from the second instance" sink_wait 3 20
check "first instance still answers" _svc_smtp_banner "$pf1_port"
stop_postfix "$T/second"
check "second instance stopped, first still up" _svc_smtp_banner "$pf1_port"
PF_CONF=$pf1_conf; PF_PORT=$pf1_port; PF_LOG=$pf1_log; PF_DIR=$pf1_dir

# ---- Postfix -> pysink refusing one recipient ------------------------------------
stop_sink
timed start_py_sink "$T/py" --reject-rcpt '^bad@' --tempfail-rcpt '^later@'
postfix_set "$T" "relayhost = [127.0.0.1]:$SINK_PORT"
r=$(smtp_send alice@example.org good@example.com,bad@example.com "$S/eicar.eml" \
      'ADDR=198.51.100.7 NAME=mx.other.example') || true
check "smtp_send with XCLIENT: mail to good+bad recipients accepted ($r)" eval '[[ "$r" == 250* ]]'
check "pysink kept the message for good@ and the bounce for bad@" sink_wait 2 20
first=$(sink_files | head -1)
check "pysink: message for good@ only" \
  grep -q '"rcpt_tos": \["good@example.com"\]' "${first%.eml}.json"
check "pysink: sink_find_rcpt finds it" test "$(sink_find_rcpt good@example.com 5)" = "$first"
check "pysink: bytes as sent after postfix's Received header" \
  cmp <(cat "$S/eicar.eml") <(awk 'p || /^From: /{ p = 1 } p' "$first")
check "postfix saw the XCLIENT address" grep -q '(mx.other.example \[198.51.100.7\])' "$first"
# shellcheck disable=SC2046  # file names without blanks
check "bounce for bad@ came back to the sender" \
  grep -l -q 'bad@example.com' $(sink_files | tail -n +2)
check "postfix logged the 550" wait_for 10 grep -q 'to=<bad@example.com>.*status=bounced.*550 5.1.1' "$PF_LOG"
check "swaks: mail to later@ accepted" \
  swaks --server "127.0.0.1:$PF_PORT" --from alice@example.org --to later@example.com \
        --header 'Subject: later' --body 'deferred' --hide-all
check "later@ is deferred (450 from the sink)" \
  wait_for 10 grep -q 'to=<later@example.com>.*status=deferred.*450 4.2.0' "$PF_LOG"
check "queue holds it" test -n "$(postfix_queue "$T")"

# ---- clamd ---------------------------------------------------------------------
timed start_clamd "$T"
expect_av() {   # expect_av FILE SUBSTRING
  local r; r=$(clamd_scan "$1")
  if [[ "$r" == *"$2"* ]]; then ok "clamd: $(basename "$1") -> $r"; else bad "clamd: $(basename "$1") -> $r (want $2)"; fi
}
expect_av "$S/eicar.com" "Eicar-Signature.UNOFFICIAL FOUND"
expect_av "$S/eicar.eml" "Eicar-Signature.UNOFFICIAL FOUND"
expect_av "$S/eicar-inline.eml" "Eicar-Signature.UNOFFICIAL FOUND"
expect_av /usr/share/clamav-testfiles/clam.exe "ClamAV-Test-File.UNOFFICIAL FOUND"
expect_av /usr/share/clamav-testfiles/clam.zip "ClamAV-Test-File.UNOFFICIAL FOUND"
expect_av /usr/share/clamav-testfiles/clam.exe.mbox.base64 "ClamAV-Test-File.UNOFFICIAL FOUND"
expect_av "$S/clam-zip.eml" "ClamAV-Test-File.UNOFFICIAL FOUND"
expect_av "$S/heuristic.eml" "Heuristics.Test.ProbablyInfected.UNOFFICIAL FOUND"
expect_av "$S/encrypted.eml" "Heuristics.Encrypted.Zip FOUND"
expect_av "$S/broken-exe.eml" "Heuristics.Broken.Executable FOUND"
expect_av "$S/clean.eml" "stream: OK"
v=$(clamd_cmd VERSION)
check "clamd VERSION has DB version and date ($v)" eval '[[ "$v" == ClamAV\ */27000/* ]]'
check "clamd TCP socket answers" eval \
  '[ "$(printf "zPING\0" | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$CLAMD_PORT; cat >&3; timeout 2 cat <&3" | tr -d "\0")" = PONG ]'
t0=$(date +%s%N); for _ in 1 2 3 4 5 6 7 8 9 10; do clamd_scan "$S/eicar.eml" >/dev/null; done
timings+=("clamd-scan(avg-of-10-incl-python) $(( ($(date +%s%N) - t0) / 10000000 ))ms")

# ---- rspamd ----------------------------------------------------------------------
timed start_rspamd "$T"
jq_py() { "$MV_SVC_PY" -c "import json,sys; r=json.load(sys.stdin); $1"; }
expect_rs() {   # expect_rs NAME FILE IP FROM PYTHON-CONDITION-ON-r
  local name=$1 file=$2 ip=$3 from=$4 cond=$5 out
  out=$(rspamd_check "$file" "$ip" "$from") || { bad "rspamd: $name (no reply)"; return; }
  local summary; summary=$(jq_py 'print(r["action"], round(r["score"],1), " ".join(sorted(r["symbols"])))' <<<"$out")
  if jq_py "sys.exit(0 if ($cond) else 1)" <<<"$out"; then ok "rspamd: $name -> ${summary:0:160}"
  else bad "rspamd: $name -> $summary"; fi
}
expect_rs "GTUBE rejected" "$S/gtube.eml" 203.0.113.5 alice@example.org \
  'r["action"] == "reject" and "GTUBE" in r["symbols"]'
expect_rs "phishing" "$S/phishing.eml" 203.0.113.5 service@paypal-security.example.net \
  '"PHISHING" in r["symbols"]'
expect_rs "clean -> no action" "$S/clean.eml" 203.0.113.5 alice@example.org \
  'r["action"] == "no action" and "R_SPF_ALLOW" in r["symbols"]'
expect_rs "SPF fail + DMARC reject" "$S/spf-fail.eml" 198.51.100.7 carol@example.net \
  '"R_SPF_FAIL" in r["symbols"] and "DMARC_POLICY_REJECT" in r["symbols"]'
expect_rs "DKIM reject" "$S/dkim-fail.eml" 192.0.2.10 carol@example.net \
  '"R_DKIM_REJECT" in r["symbols"] and "R_SPF_ALLOW" in r["symbols"]'
t0=$(date +%s%N); for _ in 1 2 3 4 5 6 7 8 9 10; do rspamd_check "$S/phishing.eml" >/dev/null; done
timings+=("rspamd-check(avg-of-10-incl-curl) $(( ($(date +%s%N) - t0) / 10000000 ))ms")

# ---- teardown ----------------------------------------------------------------------
pids=("${MV_SVC_PIDS[@]}")
master=$(tr -d ' ' <"$T/postfix/queue/pid/master.pid")
# Children of postfix's master and of rspamd's main process, before the stop.
kids=$(for p in "$master" "$RSPAMD_PID"; do ps -o pid= --ppid "$p" || true; done | tr '\n' ' ')
stop_services
alive=""
for p in "${pids[@]}" "$master" $kids; do _svc_gone "$p" || alive="$alive $p"; done
check "every started process and child is gone (${#pids[@]} + master + $(wc -w <<<"$kids") children)" test -z "$alive"
[ -z "$alive" ] || ps -o pid,stat,user,args -p "${alive# }" || true
# Anything else still running that mentions our dir?
leftover=$(ps -eo pid=,stat=,args= | awk -v d="$T" 'index($0, d) && $2 !~ /^Z/ && $0 !~ /awk/' || true)
check "no process mentions $T any more" test -z "$leftover"
[ -z "$leftover" ] || echo "$leftover"

echo "timings: ${timings[*]}"
echo "selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
