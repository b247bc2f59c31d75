#!/usr/bin/env bash
# Runs every integration suite (tests/integration/*_test.sh) against the
# binaries in BIN_DIR. Each suite is a bash script that exits non-zero on
# failure; this prints one line per suite and a closing count.
set -uo pipefail
bin=$(cd "${1:?usage: run.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
passed=0; failed=0
for suite in "$here"/*_test.sh; do
  name=$(basename "$suite" .sh)
  start=$(date +%s)
  if timeout 900 bash "$suite" "$bin" > "/tmp/mailvault-$name.log" 2>&1; then
    passed=$((passed + 1)); echo "integration: $name ok ($(( $(date +%s) - start ))s)"
  else
    failed=$((failed + 1)); echo "integration: $name FAILED ($(( $(date +%s) - start ))s)"
    tail -60 "/tmp/mailvault-$name.log"
  fi
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
