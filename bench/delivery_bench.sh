#!/usr/bin/env bash
# Delivery benchmark (issue 4, performance): how fast mailvaultd empties its
# delivery queue into a relay, against the SMTP limit of this machine.
#   (a) Postfix's smtp-source sends N messages of SIZE bytes to smtp-sink,
#       over as many parallel connections as mailvaultd has workers, each
#       connection reused for many messages (-d): the baseline;
#   (b) mailvaultd delivers N copies of SIZE bytes from its Backup to the
#       same smtp-sink: one `mailvault deliver` request for all N copies
#       (through the API), timed until the queue shows all N delivered.
#       Each delivery reads and decrypts the copy, signs the release header,
#       sends it through libcurl and records the outcome in the queue.
# Interleaved a, b, a, b, ...; medians; the ratio b/a is the figure to read
# (target: at least 0.50). smtp-sink discards what it gets.
#
# Usage: bench/delivery_bench.sh BUILD_DIR [--copies=N] [--size=BYTES]
#          [--reps=R] [--workers=W]
# BUILD_DIR holds bin/mailvaultd, bin/mailvault and bench/fill_store.
# Prints a markdown section on stdout, progress on stderr. Scratch under
# $MV_BENCH_TMP (else /tmp).
set -euo pipefail

usage() {
  echo "usage: bench/delivery_bench.sh BUILD_DIR [--copies=N] [--size=BYTES] [--reps=R] [--workers=W]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
cmdline="$0 $*"
build=$(cd "$1" && pwd) || usage
shift
N=5000
SIZE=20480
REPS=3
WORKERS=4
for arg in "$@"; do
  case $arg in
    --copies=*) N=${arg#*=} ;;
    --size=*) SIZE=${arg#*=} ;;
    --reps=*) REPS=${arg#*=} ;;
    --workers=*) WORKERS=${arg#*=} ;;
    *) usage ;;
  esac
done
for v in "$N" "$SIZE" "$REPS" "$WORKERS"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || usage
done
mv="$build/bin/mailvault"
mvd="$build/bin/mailvaultd"
fill="$build/bench/fill_store"
for f in "$mv" "$mvd" "$fill"; do
  [ -x "$f" ] || { echo "delivery_bench: $f is missing (make build)" >&2; exit 1; }
done
if ! command -v smtp-source >/dev/null || ! command -v smtp-sink >/dev/null; then
  # shellcheck disable=SC2016  # the backquotes are markdown
  printf '## Delivery from the Backup\n\n`%s`\n\nSkipped: Postfix (smtp-source, smtp-sink) is not installed.\n' "$cmdline"
  exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/.." && pwd)
# shellcheck source=tests/integration/lib/services.sh
. "$ROOT/tests/integration/lib/services.sh"

scratch=${MV_BENCH_TMP:-/tmp}
T=$(mktemp -d "$scratch/mailvault-delivery-bench.XXXXXX")
D="$T/data"
daemon_pid=""
log() { echo "delivery_bench: $*" >&2; }
stop_daemon() {
  [ -n "$daemon_pid" ] || return 0
  kill -TERM "$daemon_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
cleanup() {
  stop_daemon
  stop_services
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

_svc_open_path "$T"
SINK_PORT=$(free_port)
smtp-sink -u postfix -4 -h sink.test "127.0.0.1:$SINK_PORT" 256 >"$T/sink.log" 2>&1 &
SINK_PID=$!
_svc_track "$SINK_PID"
_svc_wait_up 10 "$SINK_PID" _svc_port_open "$SINK_PORT" || { _svc_fail smtp-sink "$T/sink.log"; exit 1; }

log "filling a store with $N copies of $SIZE bytes"
"$fill" "$D" "$N" "$SIZE" rcpt@dest.test
cat >"$T/mv.toml" <<EOF
[store]
dir = "$D"
[api]
listen = "127.0.0.1:0"
[milter]
enabled = false
[delivery]
relay = "127.0.0.1:$SINK_PORT"
workers = $WORKERS
EOF
"$mvd" --config "$T/mv.toml" >"$T/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 300); do
  [ -s "$D/mailvaultd.port" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { tail "$T/daemon.log" >&2; exit 1; }
  sleep 0.05
done
ids=$(seq -s ' ' 1 "$N")
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

RES="$T/results.tsv"  # cfg rep secs cpu_ticks
: >"$RES"
for rep in $(seq "$REPS"); do
  log "rep $rep: (a) smtp-source"
  t0=$(date +%s.%N)
  smtp-source -4 -d -s "$WORKERS" -m "$N" -l "$SIZE" -f sender@example.org -t rcpt@dest.test \
    "127.0.0.1:$SINK_PORT" >"$T/source.log" 2>&1 || { tail "$T/source.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "a $rep $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') 0" >>"$RES"

  log "rep $rep: (b) mailvaultd"
  before=$(grep -c ': delivered: ' "$T/daemon.log" || true)
  c0=$(cpu_ticks "$daemon_pid")
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$mv" deliver --data "$D" $ids --original --again >/dev/null
  want=$((before + N))
  # Watch the daemon's log (one line per delivered entry) rather than run
  # `mailvault queue` in a loop: that costs CPU the daemon would miss.
  while :; do
    got=$(grep -c ': delivered: ' "$T/daemon.log" || true)
    [ "$got" -ge "$want" ] && break
    if ! kill -0 "$daemon_pid" 2>/dev/null; then log "mailvaultd died"; tail "$T/daemon.log" >&2; exit 1; fi
    sleep 0.02
  done
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$daemon_pid")
  failed=$("$mv" queue --data "$D" --state failed --limit 1 --json | /usr/bin/python3 -c \
    'import json, sys; print(json.load(sys.stdin)["counts"]["failed"])')
  [ "$failed" = 0 ] || { log "$failed deliveries failed"; exit 1; }
  echo "b $rep $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $((c1 - c0))" >>"$RES"
done

median() {  # median CFG COLUMN
  awk -v c="$1" -v k="$2" '$1 == c { print $k }' "$RES" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
a_secs=$(median a 3)
b_secs=$(median b 3)
b_cpu=$(median b 4)
# shellcheck disable=SC2016  # the backquotes are markdown
printf '## Delivery from the Backup to smtp-sink\n\n`%s`\n\n' "$cmdline"
echo "$N messages of $SIZE bytes, $WORKERS parallel connections, $REPS interleaved reps, medians."
echo "(a) is Postfix's smtp-source sending to the same smtp-sink (the SMTP limit here);"
echo "(b) is one \`mailvault deliver\` request for $N copies, until all are delivered."
echo
echo "| | msgs/s | vs (a) | target | mailvaultd CPU/msg |"
echo "|---|---:|---:|---:|---:|"
awk -v n="$N" -v a="$a_secs" -v b="$b_secs" -v cpu="$b_cpu" -v tick="$TICK" 'BEGIN {
  printf "| (a) smtp-source | %.0f | 1.00 | | – |\n", n / a
  printf "| (b) mailvaultd delivery | %.0f | **%.2f** | 0.50 | %.2f ms |\n", n / b, a / b, cpu / tick / n * 1000
}'
echo
echo "Per rep (seconds): $(awk '{ printf "%s%s=%.2f", (NR > 1 ? ", " : ""), $1 $2, $3 }' "$RES")"
