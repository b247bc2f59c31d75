#!/usr/bin/env bash
# Runs every fuzz target in BUILD_DIR for SECONDS each over a scratch copy of
# its seed corpus (so new inputs never land in the repository). Any crash,
# leak or sanitizer report fails the run; the reproducer is kept in
# BUILD_DIR/fuzz-artifacts.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/fuzz-artifacts"
status=0; passed=0; failed=0
for bin in "$build"/tests/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  work=$(mktemp -d)
  cp -r "$here/corpus/$name/." "$work/" 2>/dev/null || true
  echo "fuzz: $name for ${seconds}s"
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-artifacts/$name-" "$work" > "$build/fuzz-$name.log" 2>&1; then
    passed=$((passed + 1))
    grep -E "stat::number_of_executed_units|Done" "$build/fuzz-$name.log" | tail -2 || true
  else
    failed=$((failed + 1)); status=1
    tail -40 "$build/fuzz-$name.log"
  fi
  rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
exit $status
