#!/usr/bin/env bash
# Operations (issue 17 §2, §5) against the real daemon:
#  1. engines at start: with no clamd and no rspamd, mailvaultd says so once
#     for each, plainly, and /api/v1/health and /metrics show them down;
#  2. /metrics after mail went through a private Postfix, real clamd and
#     rspamd: parsed by a strict parser (below) and the figures checked
#     against what was sent; who may scrape;
#  3. the trace log: rotated at a small trace_max_size, trace_files kept,
#     files 0600 in a 0700 dir;
#  4. temporary files only until restart: a file left in the spool is gone
#     after a kill -9 and a restart, and the daemon wrote nothing to its
#     TMPDIR nor anywhere outside its data dir (strace of every file it
#     creates);
#  5. crash dumps: killed with SIGSEGV, no core by default (limits 0),
#     a core with [debug] core_dumps = true where core_pattern writes files.
#
# Usage: ops_test.sh BIN_DIR.  Needs root (Postfix), python3, curl, strace.
set -euo pipefail

bin=$(cd "${1:?usage: ops_test.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mvd="$bin/mailvaultd"
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"

T=$(mktemp -d /tmp/mailvault-ops-test.XXXXXX)
D="$T/data"
S="$T/samples"
mkdir -p "$T/tmpdir"
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
write_config() {  # write_config FILE CLAMD_ADDRESS RSPAMD_URL [EXTRA_TOML]
  cat >"$1" <<EOF
[store]
dir = "$D"
[api]
listen = "127.0.0.1:0"
[log]
level = "debug"
trace_max_size = "64KB"
trace_files = 2
[milter]
socket = "inet:127.0.0.1:$MILTER_PORT"
[engines.clamd]
address = "$2"
timeout = "3s"
[engines.rspamd]
url = "$3"
timeout = "3s"
${4:-}
[[rule]]
id = "reject-all"
recipients = ["@reject.test"]
default = { action = "reject", copy = true }
[[rule]]
id = "tag"
recipients = ["@tag.test"]
default = { action = "tag-subject", copy = true }
[[rule]]
id = "default"
EOF
}

# start_daemon CONFIG [CWD]: in CWD (default $T), TMPDIR an empty dir of
# its own, every file it creates or renames traced by strace when TRACE=1.
start_daemon() {
  rm -f "$D/mailvaultd.port"
  local cwd=${2:-$T}
  if [ "${TRACE:-0}" = 1 ]; then
    (cd "$cwd" && exec env TMPDIR="$T/tmpdir" strace -f -qq -o "$T/strace.log" \
      -e trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink \
      "$mvd" --config "$1") >>"$T/daemon.log" 2>&1 &
  else
    (cd "$cwd" && exec env TMPDIR="$T/tmpdir" "$mvd" --config "$1") >>"$T/daemon.log" 2>&1 &
  fi
  daemon_pid=$!
  for _ in $(seq 300); do
    if [ -s "$D/mailvaultd.port" ] && _svc_port_open "$MILTER_PORT"; then
      API="http://127.0.0.1:$(cat "$D/mailvaultd.port")"
      return 0
    fi
    sleep 0.05
  done
  echo "mailvaultd did not start:"; tail -20 "$T/daemon.log"; return 1
}
# The pid of mailvaultd itself (under strace, its child).
mvd_pid() { pgrep -P "$daemon_pid" -x mailvaultd || echo "$daemon_pid"; }

# ---- 1. engines at start ----------------------------------------------------
: >"$T/daemon.log"
write_config "$T/down.toml" "unix:$T/no-clamd.sock" "http://127.0.0.1:$(free_port)"
start_daemon "$T/down.toml"
check "start: clamd down is said once, plainly" \
  test "$(grep -c 'clamd is not reachable at unix:.*mail will pass WITHOUT anti-virus scanning' "$T/daemon.log")" = 1
check "start: rspamd down is said once, with the key to set" \
  test "$(grep -c 'rspamd is not reachable at http://127.0.0.1:.*WITHOUT anti-spam, anti-phishing, sender-auth scanning.*\[engines.rspamd\] url' "$T/daemon.log")" = 1
check "health lists both engines as unreachable" /usr/bin/python3 -c '
import json, sys, urllib.request
h = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/health"))
e = {x["engine"]: x for x in h["engines"]}
assert h["status"] == "ok", h
assert not e["clamd"]["reachable"] and e["clamd"]["error"], e
assert not e["rspamd"]["reachable"] and e["rspamd"]["error"], e
' "$API"
check "metrics: mailvault_engine_up 0 for both" bash -c "
  curl -sf '$API/metrics' | grep -qx 'mailvault_engine_up{engine=\"clamd\"} 0' &&
  curl -sf '$API/metrics' | grep -qx 'mailvault_engine_up{engine=\"rspamd\"} 0'"
stop_daemon

# ---- 2. /metrics after mail through Postfix ---------------------------------
make_samples "$S"
start_smtp_sink "$T"
start_clamd "$T"
start_rspamd "$T"
write_config "$T/mv.toml" "unix:$CLAMD_SOCK" "$RSPAMD_URL"
: >"$T/daemon.log"
TRACE=1 start_daemon "$T/mv.toml"
check "start: both engines answer, no warning" bash -c "
  grep -q 'clamd answers at unix:' '$T/daemon.log' && grep -q 'rspamd answers at http' '$T/daemon.log' &&
  ! grep -q 'is not reachable' '$T/daemon.log'"
start_postfix "$T" "inet:127.0.0.1:$MILTER_PORT"
send() {  # send NAME TO FILE
  swaks --server "127.0.0.1:$PF_PORT" --from alice@example.org --to "$2" --data "$3" \
    >"$T/swaks.$1" 2>&1 || true
}
send clean c1@pass.test "$S/clean.eml"
send eicar v1@reject.test "$S/eicar.eml"
send gtube v2@tag.test "$S/gtube.eml"
send clean2 c2@pass.test "$S/clean.eml"
check "Postfix rejected the EICAR mail" grep -q '<\*\* *550' "$T/swaks.eicar"
sink_find_rcpt c2@pass.test 10 >/dev/null && sink_find_rcpt v2@tag.test 10 >/dev/null
check "the clean and the tagged mail reached the sink" test $? = 0
# A wrong password, counted where it happens.
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
  -d '{"name":"nobody","password":"wrong"}' "$API/api/v1/session"
curl -sf "$API/metrics" >"$T/metrics.txt"

# A strict parser of the text exposition format 0.0.4: every line a HELP,
# a TYPE or a sample of the family declared last; names and labels as the
# format allows, label values with only \\ \" \n escapes, no duplicate
# family or series, counters named _total, histograms with increasing le,
# cumulative buckets, +Inf last and equal to _count. Then the figures.
cat >"$T/check_metrics.py" <<'PY'
import math, re, sys
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
sample_re = re.compile(r"^(" + NAME + r")(\{(.*)\})? (\S+)$")
def parse_labels(text, line):
    labels, i = {}, 0
    while i < len(text):
        m = re.match(LABEL + r'="', text[i:])
        if not m: raise ValueError("bad label at %r" % line)
        name = m.group(0)[:-2]; i += len(m.group(0)); value = ""
        while True:
            if i >= len(text): raise ValueError("unterminated value in %r" % line)
            c = text[i]
            if c == "\\":
                nxt = text[i + 1]
                if nxt not in '\\"n': raise ValueError("bad escape in %r" % line)
                value += {"\\": "\\", '"': '"', "n": "\n"}[nxt]; i += 2; continue
            if c == '"': i += 1; break
            if c == "\n": raise ValueError("raw newline")
            value += c; i += 1
        if name in labels: raise ValueError("label twice in %r" % line)
        labels[name] = value
        if i < len(text):
            if text[i] != ",": raise ValueError("expected , in %r" % line)
            i += 1
    return labels
def parse_value(v, line):
    if v in ("+Inf", "-Inf", "NaN"): return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", v): raise ValueError("bad value %r" % line)
    return float(v)
def parse(text):
    assert text.endswith("\n"), "no final newline"
    families, series, current = {}, {}, None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert re.fullmatch(NAME, name), line
            assert name not in families, "family twice: " + name
            families[name] = {"type": None, "samples": []}; current = name
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            assert name == current and families[name]["type"] is None, line
            assert typ in ("counter", "gauge", "histogram"), line
            families[name]["type"] = typ
        elif line.startswith("#") or not line:
            raise AssertionError("unexpected line %r" % line)
        else:
            m = sample_re.match(line)
            assert m, "bad sample %r" % line
            name, labels = m.group(1), parse_labels(m.group(3) or "", line)
            value = parse_value(m.group(4), line)
            fam = families[current]
            assert fam["type"], "sample before TYPE: " + line
            allowed = [current] if fam["type"] != "histogram" else [current + s for s in ("_bucket", "_sum", "_count")]
            assert name in allowed, "%s outside its family %s" % (name, current)
            key = (name, tuple(sorted(labels.items())))
            assert key not in series, "series twice: " + line
            series[key] = value
            fam["samples"].append((name, labels, value))
    for name, fam in families.items():
        if fam["type"] == "counter": assert name.endswith("_total"), name
        if fam["type"] == "histogram":
            groups = {}
            for n, l, v in fam["samples"]:
                base = tuple(sorted((k, x) for k, x in l.items() if k != "le"))
                groups.setdefault(base, {"buckets": [], "sum": None, "count": None})
                g = groups[base]
                if n.endswith("_bucket"): g["buckets"].append((parse_value(l["le"], n), v))
                elif n.endswith("_sum"): g["sum"] = v
                else: g["count"] = v
            for base, g in groups.items():
                les = [le for le, _ in g["buckets"]]
                assert les == sorted(les) and len(set(les)) == len(les), (name, les)
                assert les[-1] == math.inf, (name, "no +Inf")
                counts = [c for _, c in g["buckets"]]
                assert counts == sorted(counts), (name, "not cumulative", counts)
                assert counts[-1] == g["count"], (name, "+Inf != _count")
                assert g["sum"] is not None, name
    return families, series
families, series = parse(open(sys.argv[1]).read())
def get(name, **labels):
    return series.get((name, tuple(sorted(labels.items()))), 0.0)
problems = []
def expect(what, got, want):
    if got != want: problems.append("%s: %r, want %r" % (what, got, want))
expect("messages accepted", get("mailvault_intake_messages_total", outcome="accept"), 3)
expect("messages rejected", get("mailvault_intake_messages_total", outcome="reject"), 1)
expect("anti-virus infected", get("mailvault_intake_verdicts_total", engine="anti-virus", label="infected"), 1)
expect("anti-spam spam", get("mailvault_intake_verdicts_total", engine="anti-spam", label="spam"), 1)
# Each label gets its rule's action: the GTUBE mail's under "tag", every
# label of the EICAR mail (rspamd may add one) under "reject-all".
labels = sum(v for (n, l), v in series.items() if n == "mailvault_intake_verdicts_total" and dict(l)["label"] != "clean")
expect("action tag-subject", get("mailvault_intake_actions_total", action="tag-subject"), 1)
expect("actions: one per label", get("mailvault_intake_actions_total", action="reject") + 1, labels)
if get("mailvault_intake_actions_total", action="reject") < 1: problems.append("no reject action")
expect("end-of-message latencies", get("mailvault_intake_eom_duration_seconds_count"), 4)
expect("clamd scans", get("mailvault_engine_scan_duration_seconds_count", engine="clamd"), 4)
expect("rspamd scans", get("mailvault_engine_scan_duration_seconds_count", engine="rspamd"), 4)
expect("clamd errors", get("mailvault_engine_errors_total", engine="clamd"), 0)
expect("copies", get("mailvault_store_copies"), 2)
expect("copies committed", get("mailvault_store_commit_batch_copies_sum"), 2)
expect("engine up clamd", get("mailvault_engine_up", engine="clamd"), 1)
expect("engine up rspamd", get("mailvault_engine_up", engine="rspamd"), 1)
expect("sign-in failures", get("mailvault_console_signin_failures_total", reason="wrong_password"), 1)
expect("queue", get("mailvault_delivery_queue", state="queued"), 0)
if not get("mailvault_store_bytes") > 0: problems.append("store bytes 0")
if not get("mailvault_store_free_bytes") > 0: problems.append("free bytes 0")
if get("mailvault_store_max_bytes") != 7320000000: problems.append("cap %r" % get("mailvault_store_max_bytes"))
if not get("mailvault_audit_records_total", result="denied") >= 1: problems.append("audit records")
for p in problems: print("metrics:", p)
if problems:
    for (n, l), v in sorted(series.items()):
        if n.startswith("mailvault_intake_"): print("  ", n, dict(l), v)
sys.exit(1 if problems else 0)
PY
check "/metrics parses strictly and matches what was sent" /usr/bin/python3 "$T/check_metrics.py" "$T/metrics.txt"
check "the parser itself refuses a broken exposition" bash -c "
  { cat '$T/metrics.txt'; echo 'mailvault_store_copies 3'; } >'$T/bad1.txt'
  sed 's/^\(mailvault_intake_eom_duration_seconds_bucket{le=\"+Inf\"}\) .*/\1 0/' '$T/metrics.txt' >'$T/bad2.txt'
  ! /usr/bin/python3 '$T/check_metrics.py' '$T/bad1.txt' >/dev/null 2>&1 &&
  ! /usr/bin/python3 '$T/check_metrics.py' '$T/bad2.txt' >/dev/null 2>&1"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
token=$(cat "$D/api.token")
check "metrics: a browser without the token gets 401" \
  test "$(code -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Site: none' "$API/metrics")" = 401
check "metrics: a wrong token gets 401" test "$(code -H 'Authorization: Bearer nope' "$API/metrics")" = 401
check "metrics: the token works" test "$(code -H "Authorization: Bearer $token" "$API/metrics")" = 200

# ---- 3. the trace log -------------------------------------------------------
# Enough requests for debug lines past 2 x 64KB.
/usr/bin/python3 - "$(cat "$D/mailvaultd.port")" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(2500):
    c.request("GET", "/api/v1/health?pad=" + "x" * 40)
    c.getresponse().read()
PY
sleep 1.5  # flushed every second
L="$D/log"
mode() { stat -c %a "$1"; }
check "trace log dir 0700" test "$(mode "$L")" = 700
check "trace log rotated: trace.log, trace.1.log, trace.2.log, no more" bash -c "
  test -f '$L/trace.log' && test -f '$L/trace.1.log' && test -f '$L/trace.2.log' &&
  test \$(ls '$L' | wc -l) = 3"
check "trace log files are 0600 and at most 64KB" bash -c "
  for f in '$L'/*; do [ \$(stat -c %a \"\$f\") = 600 ] && [ \$(stat -c %s \"\$f\") -le 64000 ] || exit 1; done"
check "stderr still gets info, not debug" bash -c "
  grep -q '\[info\] milter listening' '$T/daemon.log' && ! grep -q '\[debug\]' '$T/daemon.log'"

# ---- 4. temporary files only until restart ----------------------------------
pid=$(mvd_pid)
echo "sealed bytes from before the crash" >"$D/spool/left-behind"
kill -KILL "$pid"
stop_daemon
start_daemon "$T/mv.toml"
check "after kill -9 and a restart the spool is empty" test -z "$(ls -A "$D/spool")"
check "the start says what it removed" grep -q "spool .*: removed 1 files" "$T/daemon.log"
send after c3@pass.test "$S/clean.eml"
sink_find_rcpt c3@pass.test 10 >/dev/null
check "mail passes after the restart" test $? = 0
stop_daemon
check "nothing was written to the daemon's TMPDIR" test -z "$(ls -A "$T/tmpdir")"
# Every path the first run (strace) created, opened for writing or renamed:
# inside the data dir only (the clamd/rspamd sockets are connected, not
# opened).
/usr/bin/python3 - "$T/strace.log" "$D" >"$T/outside.txt" <<'PY'
import re, sys
data = sys.argv[2].rstrip("/") + "/"
for line in open(sys.argv[1]):
    if "= -1" in line: continue
    m = re.search(r'(open|openat|creat|mkdir|mkdirat|rename|renameat2?|link|linkat|symlink)\((?:AT_FDCWD, |\d+, )?"([^"]*)"(.*)', line)
    if not m: continue
    call, path, rest = m.groups()
    writes = call not in ("open", "openat") or re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TMPFILE", rest)
    if not writes: continue
    if path.startswith(data) or path == data.rstrip("/"): continue
    if path.startswith("/dev/") or path.startswith("/proc/"): continue
    print(call, path)
PY
check "strace saw the daemon write its files" grep -q "\"$D/log/trace.log\", O_WRONLY" "$T/strace.log"
check "nothing written outside the data dir (strace)" test ! -s "$T/outside.txt"
[ ! -s "$T/outside.txt" ] || head "$T/outside.txt"

# ---- 5. crash dumps ----------------------------------------------------------
mkdir -p "$T/cores-off" "$T/cores-on"
chmod 777 "$T/cores-off" "$T/cores-on"
start_daemon "$T/mv.toml" "$T/cores-off"
pid=$(mvd_pid)
check "default: core size limit 0 0" bash -c "grep -Eq '^Max core file size +0 +0 ' /proc/$pid/limits"
kill -SEGV "$pid"
stop_daemon
check "default: killed by SIGSEGV, no core written" test -z "$(ls -A "$T/cores-off")"
write_config "$T/cores.toml" "unix:$CLAMD_SOCK" "$RSPAMD_URL" "[debug]
core_dumps = true"
hard=$(ulimit -Hc)
start_daemon "$T/cores.toml" "$T/cores-on"
pid=$(mvd_pid)
check "core_dumps = true: soft limit raised to the hard one ($hard)" bash -c "
  grep -Eq '^Max core file size +$hard +$hard ' /proc/$pid/limits"
pattern=$(cat /proc/sys/kernel/core_pattern)
if [ "$hard" != 0 ] && [ "${pattern:0:1}" != "|" ] && [ "${pattern:0:1}" != "/" ]; then
  kill -SEGV "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  stop_daemon
  check "core_dumps = true: SIGSEGV writes a core (core_pattern '$pattern')" \
    test -n "$(ls -A "$T/cores-on")"
else
  echo "skip - core file check: core_pattern '$pattern' or hard limit $hard writes no file here"
  stop_daemon
fi

echo "ops_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
