#!/usr/bin/env bash
# End-to-end test of the audit log through the real `mailvault` binary
# (docs/audit.md): show, save (file, stdout, mbox), delete and a direct
# deliver each leave one record naming the user, the copies and the
# result; `audit` filters, pages with --before, prints JSON and exports
# JSON lines that parse; CLI processes recording at once lose nothing; and
# audit.db and its WAL hold none of it in clear.
#
# Usage: audit_test.sh BIN_DIR   (BIN_DIR holds mailvault)
# Needs: bash, python3, grep.
set -euo pipefail

bin=$(cd "${1:?usage: audit_test.sh BIN_DIR}" && pwd)
mv="$bin/mailvault"
T=$(mktemp -d /tmp/mailvault-audit-test.XXXXXX)
D="$T/data"
trap 'rm -rf "$T"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() {
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
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
# The records `audit --json ARGS` lists, one "action result copy,ids" per line.
records() {
  "$mv" audit --data "$D" --json "$@" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    print(e["action"], e["result"], ",".join(str(i) for i in e["copy_ids"]))'
}

# Every record names this user: unusual enough to grep the raw files for.
export USER=zebra-auditor-7781
unset SUDO_USER

printf 'From: alice@example.com\nTo: bob@example.org\nSubject: audit me\n\nbody one\n' >"$T/m1.eml"
printf 'From: carol@example.com\nTo: dave@example.org\nSubject: audit too\n\nbody two\n' >"$T/m2.eml"

"$mv" init --data "$D" >/dev/null
id1=$("$mv" put --data "$D" --rcpt bob@example.org "$T/m1.eml")
id2=$("$mv" put --data "$D" --rcpt dave@example.org "$T/m2.eml")
id3=$("$mv" put --data "$D" --rcpt dave@example.org "$T/m2.eml")

check "a new store has an empty audit log" \
  bash -c "'$mv' audit --data '$D' | grep -qx 'no audit records'"
check "and exports nothing" test -z "$("$mv" audit --data "$D" --export)"

# ---- accesses -------------------------------------------------------------
"$mv" show --data "$D" "$id1" >/dev/null
expect_fail "show of a missing copy" "$mv" show --data "$D" 999
"$mv" save --data "$D" "$id2" -o "$T/saved.eml" >/dev/null
check "save wrote the copy" cmp -s "$T/m2.eml" "$T/saved.eml"
"$mv" save --data "$D" "$id1" "$id2" -o - >/dev/null
"$mv" delete --data "$D" "$id3" >/dev/null
"$mv" deliver --data "$D" "$id1" --to someone@example.net >/dev/null

want="deliver ok $id1
delete ok $id3
save ok $id1,$id2
save ok $id2
view failed 999
view ok $id1"
got=$(records)
check "audit --json lists every access, newest first" test "$got" = "$want"
[ "$got" = "$want" ] || { echo "want:"; echo "$want"; echo "got:"; echo "$got"; }

"$mv" audit --data "$D" --json --limit 1 >"$T/one.json"
check "each record names the CLI user, role and client" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["items"][0]
assert e["account"] == "cli:zebra-auditor-7781", e
assert e["role"] == "cli" and e["client"] == "local", e
assert e["at"].endswith("Z") and len(e["at"]) == 27, e["at"]
assert isinstance(e["id"], int) and e["id"] > 0
assert "someone@example.net" in e["detail"], e["detail"]
assert set(e) == {"id", "at", "account", "role", "client", "action", "copy_ids", "result", "detail"}
' "$T/one.json"
check "the missing copy's record says why" \
  bash -c "'$mv' audit --data '$D' --result failed --json | grep -q 'no copy with id 999'"

# ---- filters and paging ---------------------------------------------------
check "--action save" test "$(records --action save | wc -l)" = 2
check "--copy" test "$(records --copy "$id1")" = "deliver ok $id1
save ok $id1,$id2
view ok $id1"
check "--result failed" test "$(records --result failed)" = "view failed 999"
check "--account" test "$(records --account cli:zebra-auditor-7781 | wc -l)" = 6
check "--account of nobody" test -z "$(records --account cli:nobody)"
check "--since in the future" test -z "$(records --since 2999-01-01T00:00:00Z)"
check "--until in the past" test -z "$(records --until 2000-01-01T00:00:00Z)"
check "--since in the past" test "$(records --since 2000-01-01T00:00:00Z | wc -l)" = 6
all=$(records)
paged=""
before=""
for _ in $(seq 10); do
  page=$("$mv" audit --data "$D" --limit 4 ${before:+--before "$before"})
  paged+=$(grep -Ev '^(ID|next:)' <<<"$page" | awk '{print $1}')$'\n'
  before=$(sed -n 's/^next: --before //p' <<<"$page")
  [ -n "$before" ] || break
done
check "table pages with --before cover every record once" \
  test "$(grep -c . <<<"$paged")" = 6 -a "$(sort -u <<<"$paged" | grep -c .)" = 6
check "table shows the user" bash -c "'$mv' audit --data '$D' | grep -q 'cli:zebra-auditor-7781'"

# ---- export ---------------------------------------------------------------
"$mv" audit --data "$D" --export --limit 1 >"$T/export.jsonl"
check "--export writes every record (ignoring --limit)" test "$(wc -l <"$T/export.jsonl")" = 6
check "every exported line parses as JSON, newest first" python3 -c '
import json, sys
ids = [json.loads(line)["id"] for line in open(sys.argv[1])]
assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids), ids
' "$T/export.jsonl"
check "--export --action view" test "$("$mv" audit --data "$D" --export --action view | wc -l)" = 2

# ---- several CLI processes recording at once ------------------------------
for _ in $(seq 12); do "$mv" show --data "$D" "$id2" >/dev/null & done
"$mv" audit --data "$D" >/dev/null  # a reader beside the writers
wait
check "12 concurrent shows: 12 records" test "$(records --action view --copy "$id2" | wc -l)" = 12
check "ids stay unique" test "$("$mv" audit --data "$D" --export | python3 -c '
import json, sys
ids = [json.loads(l)["id"] for l in sys.stdin]
print(len(ids) == len(set(ids)) == 18)')" = True

# ---- bad input ------------------------------------------------------------
expect_fail "--result not a result" "$mv" audit --data "$D" --result success
expect_fail "--since not a time" "$mv" audit --data "$D" --since yesterday
expect_fail "--json with --export" "$mv" audit --data "$D" --json --export
expect_fail "--limit 0" "$mv" audit --data "$D" --limit 0
expect_fail "not a store" "$mv" audit --data "$T/nope"

# ---- no clear text at rest ------------------------------------------------
check "audit.db exists" test -s "$D/audit.db"
check "audit.db is 0600" test "$(stat -c %a "$D/audit.db")" = 600
check "no account, detail or path in clear in audit.db*" \
  bash -c "! cat '$D'/audit.db* | grep -qa -e zebra-auditor -e someone@example.net -e saved.eml -e 'no copy with id'"

echo "audit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
