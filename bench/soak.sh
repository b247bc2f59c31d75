#!/usr/bin/env bash
# Soak (issue 14, item 9): mailvaultd's memory over time. S sessions of the
# raw milter client (tests/integration/lib/milterclient.py) send messages
# straight to the milter for M minutes, each labelled by the stub engines
# (bench/stub_engines.py) and copied durably into the Backup, as in
# intake_bench.sh's configuration (c). Every 30 s it prints RSS, threads,
# descriptors and messages sent; at the end the RSS slope over the second
# half (after warm-up), in MB per minute.
#
# Usage: bench/soak.sh BIN_DIR [--minutes=M] [--sessions=S] [--per-connection=N]
#          [--index-cache=SIZE] [--env=VAR=VALUE]
# (--per-connection: messages per milter connection, default 50; Postfix opens
# one per SMTP session, so 1 is a gateway whose clients send one message
# each. --index-cache sets [store] index_cache, the index's page cache, the
# part of the daemon's memory that fills as the index grows: with a small one
# the curve is flat after the first minutes, so anything else that grows
# shows. --env passes an environment variable to mailvaultd, e.g. MALLOC_ARENA_MAX=2).
# Prints the command, the machine's load and every sample.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: bench/soak.sh BIN_DIR [--minutes=M] [--sessions=S] [--env=VAR=VALUE]" >&2; exit 2; }
cmdline="$0 $*"
bin=$(cd "$1" && pwd); shift
here=$(cd "$(dirname "$0")" && pwd)
lib="$here/../tests/integration/lib"
MINUTES=10; SESSIONS=4; PER_CONN=50; DENV=(); INDEX_CACHE=""
for a in "$@"; do
  case $a in
    --minutes=*) MINUTES=${a#*=} ;;
    --sessions=*) SESSIONS=${a#*=} ;;
    --per-connection=*) PER_CONN=${a#*=} ;;
    --env=*) DENV+=("${a#*=}") ;;
    --index-cache=*) INDEX_CACHE=${a#*=} ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
# shellcheck source=../tests/integration/lib/services.sh
. "$lib/services.sh"

T=$(mktemp -d "${MV_BENCH_TMP:-/tmp}/mailvault-soak.XXXXXX")
daemon_pid=""; stub_pid=""; load_pid=""
cleanup() {
  for p in $load_pid $daemon_pid $stub_pid; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $load_pid $daemon_pid $stub_pid; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

/usr/bin/python3 "$here/stub_engines.py" --clamd-socket "$T/clamd.sock" \
  --port-file "$T/stub.port" --mode labelled >"$T/stub.log" 2>&1 &
stub_pid=$!
wait_for 10 test -S "$T/clamd.sock" -a -s "$T/stub.port"
PORT=$(free_port)
index_cache_line=""
[ -z "$INDEX_CACHE" ] || index_cache_line="index_cache = \"$INDEX_CACHE\""
"$bin/mailvault" init --data "$T/data" >/dev/null
cat >"$T/mv.toml" <<EOF
[store]
dir = "$T/data"
$index_cache_line
[api]
listen = "127.0.0.1:0"
[milter]
socket = "inet:127.0.0.1:$PORT"
[engines.clamd]
address = "unix:$T/clamd.sock"
[engines.rspamd]
url = "http://127.0.0.1:$(cat "$T/stub.port")"
[[rule]]
id = "soak"
default = { action = "add-header", copy = true }
EOF
env "${DENV[@]}" "$bin/mailvaultd" --config "$T/mv.toml" >"$T/daemon.log" 2>&1 &
daemon_pid=$!
wait_for 30 _svc_port_open "$PORT"

# The load: SESSIONS threads, each a milter connection sending messages with
# an attachment, one after another, a new connection every PER_CONN messages.
/usr/bin/python3 - "$PORT" "$SESSIONS" "$lib" "$T/sent" "$PER_CONN" <<'PY' &
import sys, threading, time, os
sys.path.insert(0, sys.argv[3])
from milterclient import MilterClient
port, sessions, counter, per_conn = int(sys.argv[1]), int(sys.argv[2]), sys.argv[4], int(sys.argv[5])
att = os.urandom(30000).hex().encode()
sent = [0]
lock = threading.Lock()
def worker(n):
    i = 0
    while True:
        c = MilterClient("127.0.0.1", port, timeout=60)
        c.optneg(); c.connect(b"mx.example.org", b"203.0.113.5"); c.helo(b"mx.example.org")
        for _ in range(per_conn):
            i += 1
            raw = (b"From: Alice <alice@example.org>\r\nTo: bob%d@example.com\r\n"
                   b"Subject: soak %d/%d\r\nMessage-ID: <soak-%d-%d@example.org>\r\n"
                   b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                   b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
                   b"Content-Type: application/octet-stream; name=a.bin\r\n"
                   b"Content-Disposition: attachment; filename=a.bin\r\n\r\n" % (n, n, i, n, i)
                   + att + b"\r\n--b--\r\n")
            c.message(b"<alice@example.org>", [b"<bob%d@example.com>" % n], raw,
                      queue_id=b"Q%dN%d" % (n, i))
            with lock:
                sent[0] += 1
        c.quit()
for n in range(sessions):
    threading.Thread(target=worker, args=(n,), daemon=True).start()
while True:
    time.sleep(5)
    with lock:
        open(counter, "w").write(str(sent[0]))
PY
load_pid=$!

echo "## mailvaultd soak"
echo
echo "command: \`$cmdline\`; $(nproc) CPUs; load at start: $(cut -d' ' -f1-3 /proc/loadavg); daemon env: ${DENV[*]:-(none)}"
echo
echo "| minute | RSS MB | threads | fds | messages |"
echo "|---|---|---|---|---|"
: >"$T/samples"
start=$(date +%s)
end=$((start + MINUTES * 60))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 30
  kill -0 "$daemon_pid" 2>/dev/null || { echo "mailvaultd died"; tail -20 "$T/daemon.log"; exit 1; }
  kill -0 "$load_pid" 2>/dev/null || { echo "the load generator stopped"; exit 1; }
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status")
  thr=$(awk '/^Threads/ {print $2}' "/proc/$daemon_pid/status")
  fds=$(ls "/proc/$daemon_pid/fd" | wc -l)
  min=$(awk -v s="$start" -v n="$(date +%s)" 'BEGIN { printf "%.1f", (n - s) / 60 }')
  msgs=$(cat "$T/sent" 2>/dev/null || echo 0)
  echo "$min $rss" >>"$T/samples"
  printf '| %s | %.1f | %s | %s | %s |\n' "$min" "$(echo "$rss / 1024" | bc -l)" "$thr" "$fds" "$msgs"
done
echo
awk -v total="$MINUTES" '{ m[NR] = $1; r[NR] = $2 } END {
  n = 0; sx = sy = sxy = sxx = 0
  for (i = 1; i <= NR; i++) if (m[i] >= total / 2) { n++; sx += m[i]; sy += r[i]; sxy += m[i] * r[i]; sxx += m[i] * m[i] }
  if (n < 2) { print "too few samples for a slope"; exit }
  slope = (n * sxy - sx * sy) / (n * sxx - sx * sx) / 1024
  printf "RSS slope over the second half: %.2f MB/min (first sample %.1f MB, last %.1f MB)\n", slope, r[1] / 1024, r[NR] / 1024
}' "$T/samples"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
