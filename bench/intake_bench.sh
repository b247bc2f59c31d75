#!/usr/bin/env bash
# Intake benchmark (issue 3, performance): what mailvaultd costs a Postfix
# gateway. Postfix's smtp-source sends through a private Postfix whose next
# hop is smtp-sink, in three configurations, interleaved (a,b,c,a,b,c,...):
#   (a) Postfix without a milter;
#   (b) with mailvaultd, every message clean (no label, no copy);
#   (c) with mailvaultd, every message labelled by two engines, copied
#       durably into the Backup (fsync) and given a header.
# Throughput = messages / (start of smtp-source .. Postfix's queue empty,
# i.e. everything delivered to the sink). Added latency at end-of-message =
# the ms= mailvaultd logs per message (OnEom: decision, copy, replies).
# clamd and rspamd are stubbed (bench/stub_engines.py): the real engines
# would measure themselves, not mailvault.
#
# Usage: bench/intake_bench.sh BIN_DIR [--messages=N] [--reps=R]
#          [--sessions=S] [--size=BYTES] [--content=on|off]
#          [--baseline-bin=DIR]
# --content=off turns the built-in content filter off in (b) and (c) (to see
# its share; the reported numbers keep it on).
# --baseline-bin=DIR also runs (b) and (c) with DIR's mailvaultd (another
# build, e.g. before a change), interleaved with this one in every
# repetition (a, b', b, c', c, ...), and reports this build's mailvaultd CPU
# and throughput as ratios to the baseline's (medians of per-repetition
# ratios: the machine is shared and noisy).
# BIN_DIR holds mailvaultd. Prints a markdown section on stdout, progress on
# stderr. Scratch under $MV_BENCH_TMP (else /tmp). Needs root (Postfix).
set -euo pipefail

usage() {
  echo "usage: bench/intake_bench.sh BIN_DIR [--messages=N] [--reps=R] [--sessions=S] [--size=BYTES] [--content=on|off] [--baseline-bin=DIR]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
cmdline="$0 $*"
bin=$(cd "$1" && pwd) || usage
shift
N=3000
REPS=3
SESSIONS=20
SIZE=20480
CONTENT=on
BASE=""
for arg in "$@"; do
  case $arg in
    --messages=*) N=${arg#*=} ;;
    --reps=*) REPS=${arg#*=} ;;
    --sessions=*) SESSIONS=${arg#*=} ;;
    --size=*) SIZE=${arg#*=} ;;
    --content=on|--content=off) CONTENT=${arg#*=} ;;
    --baseline-bin=?*) BASE=$(cd "${arg#*=}" && pwd) || usage ;;
    *) usage ;;
  esac
done
for v in "$N" "$REPS" "$SESSIONS" "$SIZE"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || usage
done
mvd="$bin/mailvaultd"
[ -x "$mvd" ] || { echo "intake_bench: $mvd is missing (cmake --build BUILD --target mailvaultd)" >&2; exit 1; }
if [ -n "$BASE" ] && [ ! -x "$BASE/mailvaultd" ]; then
  echo "intake_bench: $BASE/mailvaultd is missing" >&2; exit 1
fi
skip() {  # a machine without Postfix or root gets a note, not a failed bench run
  # shellcheck disable=SC2016  # the backquotes are markdown
  printf '## Intake through Postfix (milter)\n\n`%s`\n\nSkipped: %s.\n' "$cmdline" "$1"
  exit 0
}
if ! command -v smtp-source >/dev/null || ! command -v smtp-sink >/dev/null \
    || [ ! -x /usr/lib/postfix/sbin/master ]; then
  skip "Postfix (with smtp-source and smtp-sink) is not installed"
fi
[ "$(id -u)" = 0 ] || skip "needs root (the private Postfix drops privileges to user postfix)"

here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/.." && pwd)
# shellcheck source=tests/integration/lib/services.sh
. "$ROOT/tests/integration/lib/services.sh"

scratch=${MV_BENCH_TMP:-/tmp}
T=$(mktemp -d "$scratch/mailvault-intake-bench.XXXXXX")
daemon_pid=""
stub_pid=""
log() { echo "intake_bench: $*" >&2; }

proc_cpu_ticks() {  # user + system clock ticks of PID so far
  awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
stop_pid() {  # stop_pid PID: TERM, wait up to 10 s, then KILL
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$daemon_pid"
  stop_pid "$stub_pid"
  stop_services
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# The next hop: smtp-sink discarding everything (start_smtp_sink would
# write each message to a file: disk work that is not Postfix's nor ours).
_svc_open_path "$T"
SINK_PORT=$(free_port)
smtp-sink -u postfix -4 -h sink.test "127.0.0.1:$SINK_PORT" 256 >"$T/sink.log" 2>&1 &
SINK_PID=$!
_svc_track "$SINK_PID"
_svc_wait_up 10 "$SINK_PID" _svc_port_open "$SINK_PORT" || { _svc_fail smtp-sink "$T/sink.log"; exit 1; }
export SINK_PORT SINK_PID
start_postfix "$T" >&2
MILTER_PORT=$(free_port)

start_stubs() {  # start_stubs clean|labelled
  rm -f "$T/stub.port" "$T/clamd.sock"
  /usr/bin/python3 "$here/stub_engines.py" --clamd-socket "$T/clamd.sock" \
    --port-file "$T/stub.port" --mode "$1" >>"$T/stub.log" 2>&1 &
  stub_pid=$!
  _svc_wait_up 10 "$stub_pid" test -S "$T/clamd.sock" -a -s "$T/stub.port" \
    || { _svc_fail stub_engines "$T/stub.log"; exit 1; }
}

start_daemon() {  # start_daemon DATA_DIR LOG MAILVAULTD
  local data=$1 dlog=$2 daemon=$3
  cat >"$T/mv.toml" <<EOF
[store]
dir = "$data"
[api]
listen = "127.0.0.1:0"
[milter]
socket = "inet:127.0.0.1:$MILTER_PORT"
[engines.clamd]
address = "unix:$T/clamd.sock"
[engines.rspamd]
url = "http://127.0.0.1:$(cat "$T/stub.port")"
[engines.content]
enabled = $([ "$CONTENT" = on ] && echo true || echo false)
[engines.lists]
blacklist = []
whitelist = []

[[rule]]
id = "bench"
default = { action = "add-header", copy = true }
EOF
  "$daemon" --config "$T/mv.toml" >"$dlog" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 300); do
    if [ -s "$data/mailvaultd.port" ] && _svc_port_open "$MILTER_PORT"; then return 0; fi
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.05
  done
  log "mailvaultd did not start:"; tail -20 "$dlog" >&2; exit 1
}

set_milter() {  # set_milter VALUE: smtpd_milters, then wait for the reload
  postfix_set "$T" "smtpd_milters = $1"
  sleep 1  # master restarts its children on the reload signal, asynchronously
}

cpu_stat() {  # busy and total jiffies of the whole machine so far
  awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

pct() {  # pct P FILE: the P-th percentile (nearest rank) of the numbers in FILE
  sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; print v[r] }'
}

RES="$T/results.tsv"  # cfg rep secs submit_secs ms_p50 ms_p99 pfa_p50 pfa_p99 mvd_cpu stub_cpu busy%
: >"$RES"
TICK=$(getconf CLK_TCK)

run_one() {  # run_one CFG REP; CFG b0/c0: (b)/(c) with the baseline build
  local cfg=$1 rep=$2 data="$T/data-$1-$2" dlog="$T/daemon-$1-$2.log"
  local daemon=$mvd kind=${cfg:0:1}
  [ "${cfg:1:1}" = 0 ] && daemon=$BASE/mailvaultd
  case $kind in
    a) set_milter "" ;;
    b|c)
      start_stubs "$([ "$kind" = b ] && echo clean || echo labelled)"
      start_daemon "$data" "$dlog" "$daemon"
      set_milter "inet:127.0.0.1:$MILTER_PORT" ;;
  esac
  local off; off=$(stat -c %s "$PF_LOG")
  local t0 t1 t2 c0 c1
  c0=$(cpu_stat)
  t0=$(date +%s.%N)
  smtp-source -4 -s "$SESSIONS" -m "$N" -l "$SIZE" -f a@example.org -t b@example.com \
    "127.0.0.1:$PF_PORT" >"$T/source-$cfg-$rep.log" 2>&1 \
    || { log "smtp-source failed ($cfg $rep):"; tail -5 "$T/source-$cfg-$rep.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  wait_queue_empty "$T" 600 || { log "queue not empty ($cfg $rep)"; exit 1; }
  t2=$(date +%s.%N)
  c1=$(cpu_stat)

  # Everything must have gone through, and (b)/(c) through mailvaultd as intended.
  tail -c +"$((off + 1))" "$PF_LOG" >"$T/pf-$cfg-$rep.log"
  local sent; sent=$(grep -c 'status=sent' "$T/pf-$cfg-$rep.log" || true)
  [ "$sent" = "$N" ] || { log "($cfg $rep) Postfix delivered $sent of $N"; exit 1; }
  grep -o 'delays=[0-9.]*' "$T/pf-$cfg-$rep.log" | cut -d= -f2 >"$T/pfa-$cfg-$rep"
  local mvd_cpu=0 stub_cpu=0 p50=nan p99=nan
  if [ "$cfg" != a ]; then
    mvd_cpu=$(proc_cpu_ticks "$daemon_pid"); stub_cpu=$(proc_cpu_ticks "$stub_pid")
    stop_pid "$daemon_pid"; daemon_pid=""
    stop_pid "$stub_pid"; stub_pid=""
    grep -E 'milter [0-9A-Za-z]+: from=' "$dlog" | grep -o ' ms=[0-9.]*$' | cut -d= -f2 >"$T/ms-$cfg-$rep"
    local lines want bad_lines
    lines=$(wc -l <"$T/ms-$cfg-$rep")
    if [ "$kind" = b ]; then want=': clean ms='; else want='; copies [0-9]'; fi
    bad_lines=$(grep -E 'milter [0-9A-Za-z]+: from=' "$dlog" | grep -cv -- "$want" || true)
    if [ "$lines" != "$N" ] || [ "$bad_lines" != 0 ]; then
      log "($cfg $rep) mailvaultd logged $lines messages, $bad_lines not as expected ($want):"
      grep -E 'milter [0-9A-Za-z]+: from=' "$dlog" | grep -v -- "$want" | head -3 >&2
      exit 1
    fi
    p50=$(pct 50 "$T/ms-$cfg-$rep"); p99=$(pct 99 "$T/ms-$cfg-$rep")
    rm -rf "$data"
  fi
  local row
  row=$(awk -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v tk="$TICK" -v m="$mvd_cpu" -v s="$stub_cpu" \
    'BEGIN { printf "%.3f\t%.3f\t%.3f\t%.3f", t2 - t0, t1 - t0, m / tk * 1000 / n, s / tk * 1000 / n }')
  local busy
  busy=$(awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.0f", (y[2] > x[2]) ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0 }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$rep" "$(cut -f1-2 <<<"$row")" "$p50" "$p99" \
    "$(pct 50 "$T/pfa-$cfg-$rep")" "$(pct 99 "$T/pfa-$cfg-$rep")" "$(cut -f3-4 <<<"$row")" "$busy" \
    >>"$RES"
  log "($cfg rep $rep) $(tail -1 "$RES")"
}

start=$SECONDS
# Warm-up (not counted): Postfix's processes, caches and queue files.
log "warm-up: $((N / 10 + 1)) messages without milter"
smtp-source -4 -s "$SESSIONS" -m "$((N / 10 + 1))" -l "$SIZE" -f a@example.org -t b@example.com \
  "127.0.0.1:$PF_PORT" >/dev/null 2>&1
wait_queue_empty "$T" 120
CFGS="a b c"
[ -n "$BASE" ] && CFGS="a b0 b c0 c"
for rep in $(seq "$REPS"); do
  for cfg in $CFGS; do run_one "$cfg" "$rep"; done
done
took=$((SECONDS - start))

/usr/bin/python3 - "$RES" "$N" "$REPS" "$SESSIONS" "$SIZE" "$took" "$CONTENT" "$(nproc)" "$cmdline" \
  "$BASE" <<'PY'
import statistics as st
import sys

res, content, ncpu, cmdline, base = sys.argv[1], sys.argv[7], sys.argv[8], sys.argv[9], sys.argv[10]
n, reps, sessions, size, took = map(int, sys.argv[2:7])
rows = {}
for line in open(res):
    f = line.rstrip("\n").split("\t")
    rows.setdefault(f[0], {})[int(f[1])] = {
        "secs": float(f[2]), "submit": float(f[3]), "p50": float(f[4]), "p99": float(f[5]),
        "pfa50": float(f[6]), "pfa99": float(f[7]), "mvd": float(f[8]), "stub": float(f[9]),
        "busy": float(f[10])}

def med(cfg, key):
    return st.median(r[key] for r in rows[cfg].values())

def rate(r):
    return n / r["secs"]

def ratio(cfg):  # median of the per-repetition ratios against (a)
    return st.median(rate(rows[cfg][i]) / rate(rows["a"][i]) for i in rows[cfg])

names = {"a": "(a) Postfix, no milter",
         "b0": "(b) + mailvault, all clean: baseline build",
         "b": "(b) + mailvault, all clean",
         "c0": "(c) + mailvault, all labelled + copied: baseline build",
         "c": "(c) + mailvault, all labelled + copied"}
target = {"a": "", "b0": "", "b": ">= 85 %", "c0": "", "c": ">= 70 %"}
order = ["a", "b0", "b", "c0", "c"]
print("## Intake through Postfix (milter)")
print()
print(f"`{cmdline}`")
print()
print(f"`smtp-source -4 -s {sessions} -m {n} -l {size} -f a@example.org -t b@example.com "
      f"127.0.0.1:PORT` (one message per SMTP session, "
      f"{sessions} in parallel) into a private Postfix whose next hop is smtp-sink "
      f"(discarding); {reps} repetitions of (a), (b), (c), interleaved; medians. "
      "msgs/s = messages / (start of smtp-source until Postfix's queue is empty, i.e. all "
      "delivered); submit = smtp-source's own run time. "
      "EOM ms = what mailvaultd adds at end-of-message (its `ms=` log field: engines, rules, "
      "durable copy, replies to Postfix), p50/p99 over all messages of a run. Postfix "
      "`delays=a` = Postfix's own \"time before queue manager\" (from the start of the mail "
      "transaction: receiving the message, the milter, cleanup), 10 ms resolution. "
      "CPU ms/msg = user + system time of the "
      f"process over the run / messages; machine busy = share of all {ncpu} CPUs busy during "
      "the run (anyone's work: near 100 % means the run was CPU-bound).")
print()
print("**Engines are stubbed** (`bench/stub_engines.py`: answers clamd INSTREAM and rspamd "
      "/checkv2 with a fixed verdict after reading the whole message): real clamd/rspamd "
      "would measure themselves (a real rspamd check alone takes 10-20 ms here), not mailvault; "
      "the real engines are exercised in `tests/integration/milter_test.sh`. The stubs run on "
      "the same 2 CPUs, so (b) and (c) also pay their CPU (column \"stub CPU\"). (c): every "
      "message gets anti-virus=infected and anti-spam=spam, the rule `bench` "
      "(`default = { action = \"add-header\", copy = true }`) keeps a durable copy "
      "(group-committed fsync) and adds a header; content filter and address lists run "
      "with their defaults in (b) and (c)."
      + ("" if content == "on" else " **This run: content filter OFF (--content=off).**"))
print()
print("| configuration | msgs/s | vs (a) | target | submit s | EOM ms p50 | EOM ms p99 "
      "| Postfix delays=a p50 / p99 s | mailvaultd CPU ms/msg | stub CPU ms/msg | machine busy |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for cfg in order:
    if cfg not in rows:
        continue
    r = st.median(rate(x) for x in rows[cfg].values())
    vs = "1.00" if cfg == "a" else f"{ratio(cfg):.2f}"
    ms = ("-", "-") if cfg == "a" else (f"{med(cfg, 'p50'):.2f}", f"{med(cfg, 'p99'):.2f}")
    cpu = ("-", "-") if cfg == "a" else (f"{med(cfg, 'mvd'):.2f}", f"{med(cfg, 'stub'):.2f}")
    print(f"| {names[cfg]} | {r:.0f} | {vs} | {target[cfg]} | {med(cfg, 'submit'):.1f} "
          f"| {ms[0]} | {ms[1]} | {med(cfg, 'pfa50'):.2f} / {med(cfg, 'pfa99'):.2f} "
          f"| {cpu[0]} | {cpu[1]} | {med(cfg, 'busy'):.0f} % |")
print()
per = "; ".join(
    f"({c}) " + ", ".join(f"{rate(rows[c][i]):.0f}" for i in sorted(rows[c])) for c in order if c in rows)
print(f"Per repetition, msgs/s: {per}.")
if base:
    print()
    print(f"**This build against the baseline** (`--baseline-bin={base}`), medians of the "
          "per-repetition ratios this/baseline (each pair ran back to back):")
    print()
    print("| configuration | mailvaultd CPU ms/msg, this / baseline | msgs/s, this / baseline "
          "| EOM ms p50, this / baseline | per repetition, CPU ratio |")
    print("|---|---:|---:|---:|---|")
    for cfg in "bc":
        if cfg not in rows or cfg + "0" not in rows:
            continue
        new, old = rows[cfg], rows[cfg + "0"]
        reps_ = sorted(set(new) & set(old))
        cpu = [new[i]["mvd"] / old[i]["mvd"] for i in reps_ if old[i]["mvd"] > 0]
        thr = [rate(new[i]) / rate(old[i]) for i in reps_]
        eom = [new[i]["p50"] / old[i]["p50"] for i in reps_ if old[i]["p50"] > 0]
        r = st.median(cpu)
        change = f"{(1 - r) * 100:.0f} % less" if r <= 1 else f"{(r - 1) * 100:.0f} % more"
        print(f"| ({cfg}) | {r:.2f} ({change}) "
              f"| {st.median(thr):.2f} | {st.median(eom):.2f} "
              f"| {', '.join(f'{x:.2f}' for x in cpu)} |")
verdict = []
for cfg, want in (("b", 0.85), ("c", 0.70)):
    if cfg in rows:
        got = ratio(cfg)
        verdict.append(f"({cfg}) {got * 100:.0f} % of (a), target {want * 100:.0f} %: "
                       + ("met" if got >= want else "**not met**"))
print("Targets: " + "; ".join(verdict) + f". Whole intake bench: {took} s.")
PY
