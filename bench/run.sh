#!/usr/bin/env bash
# Runs every benchmark in bench/ from an existing build and writes
# BENCHMARKS.md at the repository root. Called by `make bench` as
#   bench/run.sh BUILD_DIR
# It builds nothing. Scratch data lives under BUILD_DIR/bench-tmp (the
# repository's file system, like a real data dir) and is removed afterwards.
# Each program times its own loops and prints a markdown section; numbers
# are reported as medians and as ratios against baselines measured in the
# same run, because the machine may be shared and noisy. The intake bench
# (bench/intake_bench.sh) drives mailvaultd through a private Postfix: it
# needs root and Postfix, and prints a "skipped" section without them.
# The console benches (console_bench, bench/console_render.mjs) share one
# store of 1,000,000 copies kept in BUILD_DIR/bench-console between runs,
# because filling it takes minutes; it is refilled only when the generator
# or the count changes (remove the folder to force it). The Chromium one
# needs playwright-core in tests/browser/node_modules and prints a "skipped"
# section without it.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bench/run.sh BUILD_DIR" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(cd "$1" && pwd)"
BIN="$BUILD/bench"
for b in ingest_bench search_bench evict_bench memory_bench console_bench preview_bench; do
  if [ ! -x "$BIN/$b" ]; then
    echo "bench/run.sh: $BIN/$b is missing; build first (make build, MV_BENCH=ON)" >&2
    exit 1
  fi
done
if [ ! -x "$BUILD/bin/mailvaultd" ]; then
  echo "bench/run.sh: $BUILD/bin/mailvaultd is missing; build first (make build)" >&2
  exit 1
fi
if ! command -v node >/dev/null; then
  echo "bench/run.sh: node is missing (scripts/deps.sh installs it)" >&2
  exit 1
fi
CONSOLE_STORE="$BUILD/bench-console"

export MV_BENCH_TMP="$BUILD/bench-tmp"
rm -rf "$MV_BENCH_TMP"
mkdir -p "$MV_BENCH_TMP"
OUT="$(mktemp "$BUILD/BENCHMARKS.md.XXXXXX")"
cleanup() { rm -rf "$MV_BENCH_TMP"; rm -f "$OUT"; }
trap cleanup EXIT

# The command lines, exactly as run.
CMDS=(
  "$BIN/ingest_bench --messages=3000 --size=51200 --threads=1,8 --reps=3"
  "$BIN/search_bench --rows=1000000 --queries=200 --batch=5000 --notmuch_rows=20000"
  "$BIN/evict_bench --messages=3000 --size=20480 --threads=8 --cap_mb=64 --segment_mb=4 --reps=3"
  "$BIN/memory_bench --size=52428800 --reps=3"
  "$ROOT/bench/intake_bench.sh $BUILD/bin --messages=3000 --reps=3 --sessions=20 --size=20480"
  "$ROOT/bench/delivery_bench.sh $BUILD --copies=5000 --size=20480 --reps=3 --workers=4"
  "$ROOT/bench/ldap_bench.sh $BUILD --users=10000 --groups=100 --reps=3"
  "$BIN/console_bench --copies=1000000 --queries=200 --dir=$CONSOLE_STORE --keep"
  "node $ROOT/bench/console_render.mjs --bench=$BIN/console_bench --copies=1000000 --dir=$CONSOLE_STORE --keep --reps=30"
  "$BIN/preview_bench --size=102400 --runs=100 --rounds=3"
)

{
  echo "# mailvault benchmarks"
  echo
  echo "Reproduce with \`make bench\` (builds, then runs \`bench/run.sh BUILD_DIR\`)."
  echo "Each benchmark reports medians and ratios against a baseline measured in the"
  echo "same run on the same file system: on a shared, noisy machine the ratios are"
  echo "the numbers to read, not the absolute times."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  dirty=""
  if [ -n "$(git -C "$ROOT" status --porcelain -- src include CMakeLists.txt 2>/dev/null)" ]; then
    dirty=" (with uncommitted changes under src/ or include/)"
  fi
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$dirty"
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "- scratch file system (\`df -T $MV_BENCH_TMP\`): $(df -T "$MV_BENCH_TMP" | awk 'NR==2 {print $2 " on " $1 ", mounted on " $7}')"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- notmuch: $(notmuch --version 2>/dev/null || echo 'not installed')"
  echo "- build: $BUILD ($(grep -m1 '^CMAKE_BUILD_TYPE' "$BUILD/CMakeCache.txt" | cut -d= -f2))"
  echo
  echo "Command lines (paths relative to the repository root):"
  echo
  for c in "${CMDS[@]}"; do echo "    ${c//"$ROOT/"/}"; done
  echo
} >"$OUT"

start=$SECONDS
for c in "${CMDS[@]}"; do
  echo "bench: running ${c//"$ROOT/"/}" >&2
  t0=$SECONDS
  # shellcheck disable=SC2086  # the command line is split on purpose
  $c | sed "s|$ROOT/||g" >>"$OUT"
  echo "_(took $((SECONDS - t0)) s)_" >>"$OUT"
  echo >>"$OUT"
done
echo "Whole run: $((SECONDS - start)) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$OUT"
if [ -f "$ROOT/bench/notes.md" ]; then
  { echo; cat "$ROOT/bench/notes.md"; } >>"$OUT"
fi

mv "$OUT" "$ROOT/BENCHMARKS.md"
echo "bench: wrote $ROOT/BENCHMARKS.md" >&2
