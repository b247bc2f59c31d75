#!/usr/bin/env bash
# End-to-end test of `mailvault user` (the console's local accounts) on a temp
# store: add/list/passwd/role/disable/enable/remove, names case-insensitive,
# the refusals (duplicate, bad name, short password, unknown role, unknown
# account, no terminal without --password-stdin), each a non-zero exit with
# one "mailvault: ..." line; list --json; the password prompt on a real
# pseudo-terminal (asked twice, never echoed, a mismatch changes nothing);
# DATA/accounts.db never holds a name or a password in clear; another
# store's keys and a dir that is no store fail cleanly. Personal accounts:
# --address (needed, normalised, refused on other roles), show, addresses,
# and `settings get|set personal.*` kept in accounts.db, not settings.json.
#
# Usage: user_test.sh BIN_DIR   (BIN_DIR holds mailvault)
# Needs: bash, python3, grep.
set -euo pipefail

bin=$(cd "${1:?usage: user_test.sh BIN_DIR}" && pwd)
mv="$bin/mailvault"
T=$(mktemp -d /tmp/mailvault-user-test.XXXXXX)
D="$T/data"
trap 'rm -rf "$T"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
# check NAME CMD...: passes when CMD succeeds.
check() {
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# expect_fail NAME WANT_RC CMD...: CMD must exit WANT_RC with exactly one
# "mailvault: " line on stderr (kept in $T/err).
expect_fail() {
  local name=$1 want=$2; shift 2
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -eq "$want" ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^mailvault: ' "$T/err"; then
    ok "$name (exit $rc: $(cat "$T/err"))"
  else
    bad "$name (exit $rc, want $want, stderr: $(cat "$T/err"))"
  fi
}
# add NAME ROLE PASSWORD: `user add` with the password on stdin.
add() { printf '%s\n' "$3" | "$mv" user add "$1" --role "$2" --password-stdin --data "$D"; }
# add_says NAME ROLE PASSWORD LINE: add prints exactly LINE.
add_says() { local out; out=$(add "$1" "$2" "$3") && [ "$out" = "$4" ]; }
# account NAME FIELD: FIELD of NAME in `user list --json` ("absent" if none).
account() {
  "$mv" user list --data "$D" --json | python3 -c '
import json, sys
for a in json.load(sys.stdin):
    if a["name"] == sys.argv[1]:
        v = a[sys.argv[2]]
        print(str(v).lower() if isinstance(v, bool) else v)
        break
else:
    print("absent")' "$1" "$2"
}
# no_clear_text FILE WORD: WORD does not occur in FILE (or FILE is absent).
no_clear_text() { [ ! -e "$1" ] || [ "$(grep -a -c -F -- "$2" "$1" || true)" -eq 0 ]; }

"$mv" init --data "$D" >/dev/null

# ---- add and list -----------------------------------------------------------
check "list before any account" bash -c "'$mv' user list --data '$D' | grep -qx 'no accounts'"
check "list --json before any account is []" \
  bash -c "'$mv' user list --data '$D' --json | python3 -c 'import json,sys; assert json.load(sys.stdin) == []'"
check "add alice (administrator)" \
  add_says alice administrator 'Alice-Secret-Pass-1' 'added account alice (administrator)'
check "add Bob: name stored lower case" \
  add_says Bob helpdesk 'Bob-Secret-Pass-22' 'added account bob (helpdesk)'
check "add carol with a CRLF line (auditor)" \
  bash -c "printf 'Carol-Secret-Pass-333\r\n' | '$mv' user add carol --role auditor --password-stdin --data '$D' >/dev/null"
check "list shows the three, by name" \
  bash -c "'$mv' user list --data '$D' | awk 'NR > 1 {print \$1}' | paste -sd, | grep -qx 'alice,bob,carol'"
check "list header" bash -c "'$mv' user list --data '$D' | head -1 | grep -q '^NAME *ROLE *DISABLED *CREATED (UTC) *PASSWORD CHANGED (UTC) *ADDRESSES$'"
check "list row of bob" bash -c "'$mv' user list --data '$D' | grep -Eq '^bob +helpdesk +no +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +[0-9-]{10}T[0-9:]{8}Z +-$'"
check "list --json parses and has every field" bash -c "'$mv' user list --data '$D' --json | python3 -c '
import json, sys, datetime
v = json.load(sys.stdin)
assert [a[\"name\"] for a in v] == [\"alice\", \"bob\", \"carol\"], v
for a in v:
    assert set(a) == {\"name\", \"role\", \"disabled\", \"created_at\", \"updated_at\", \"password_changed_at\", \"addresses\"}, a
    assert a[\"disabled\"] is False
    for k in (\"created_at\", \"updated_at\", \"password_changed_at\"):
        assert a[k].endswith(\"Z\"), a[k]
        datetime.datetime.fromisoformat(a[k][:-1])
assert [a[\"role\"] for a in v] == [\"administrator\", \"helpdesk\", \"auditor\"], v
'"

# ---- refusals of add ----------------------------------------------------------
expect_fail "duplicate add refused" 1 add alice auditor 'Another-Pass-4444'
check "duplicate message" grep -q "account 'alice' already exists" "$T/err"
expect_fail "duplicate add refused, other case" 1 add ALICE auditor 'Another-Pass-4444'
check "alice kept her role" test "$(account alice role)" = administrator
expect_fail "short password refused" 1 add dave auditor 'Tiny9'
check "short password message" grep -q 'too short: at least 10' "$T/err"
check "short password: no account made" test "$(account dave role)" = absent
check "short password not in the message" bash -c "! grep -q Tiny9 '$T/err'"
expect_fail "unknown role refused" 2 add dave admin 'Dave-Secret-Pass-55'
check "unknown role message names the roles" grep -q 'unknown role "admin": use administrator, helpdesk, auditor or personal' "$T/err"
check "unknown role: no account made" test "$(account dave role)" = absent
expect_fail "bad name refused" 1 add 'dave smith' auditor 'Dave-Secret-Pass-55'
check "bad name message" grep -q 'may hold only letters, digits' "$T/err"
expect_fail "name starting with a dot refused" 1 add '.dave' auditor 'Dave-Secret-Pass-55'
expect_fail "empty stdin refused" 1 bash -c "'$mv' user add dave --role auditor --password-stdin --data '$D' </dev/null"
expect_fail "add without --role is a usage error" 2 "$mv" user add dave --data "$D"
expect_fail "no terminal and no --password-stdin" 2 bash -c "'$mv' user add dave --role auditor --data '$D' </dev/null"
check "no terminal message" grep -q 'not a terminal.*--password-stdin' "$T/err"
check "still three accounts" test "$("$mv" user list --data "$D" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3

# ---- passwd -------------------------------------------------------------------
created=$(account bob created_at)
changed=$(account bob password_changed_at)
check "passwd bob" bash -c "printf 'Bob-New-Pass-7777\n' | '$mv' user passwd BOB --password-stdin --data '$D' | grep -qx 'changed the password of bob'"
check "passwd moved password_changed_at" test "$(account bob password_changed_at)" != "$changed"
check "passwd kept created_at" test "$(account bob created_at)" = "$created"
expect_fail "passwd short password refused" 1 bash -c "printf 'tiny\n' | '$mv' user passwd bob --password-stdin --data '$D'"
expect_fail "passwd unknown account" 1 bash -c "printf 'Whatever-Pass-999\n' | '$mv' user passwd nobody --password-stdin --data '$D'"
check "unknown account message" grep -q "no account 'nobody'" "$T/err"
expect_fail "passwd without terminal or --password-stdin" 2 bash -c "'$mv' user passwd bob --data '$D' </dev/null"

# ---- role, disable, enable ---------------------------------------------------------
check "role bob auditor" bash -c "'$mv' user role bob auditor --data '$D' | grep -qx 'bob is now auditor'"
check "bob is an auditor" test "$(account bob role)" = auditor
expect_fail "role: unknown role refused" 2 "$mv" user role bob superuser --data "$D"
check "bob still an auditor" test "$(account bob role)" = auditor
expect_fail "role: unknown account" 1 "$mv" user role nobody helpdesk --data "$D"
check "disable carol" bash -c "'$mv' user disable carol --data '$D' | grep -qx 'disabled carol; it can no longer log in'"
check "carol is disabled" test "$(account carol disabled)" = true
check "list shows carol disabled" bash -c "'$mv' user list --data '$D' | grep -Eq '^carol +auditor +yes '"
check "enable Carol" bash -c "'$mv' user enable Carol --data '$D' | grep -qx 'enabled carol'"
check "carol is enabled" test "$(account carol disabled)" = false
expect_fail "disable unknown account" 1 "$mv" user disable nobody --data "$D"
expect_fail "enable unknown account" 1 "$mv" user enable nobody --data "$D"

# ---- the terminal prompt --------------------------------------------------------
# tty_add NAME FIRST SECOND: runs `user add NAME --role auditor` on a new
# pseudo-terminal, types FIRST at the first prompt and SECOND at the
# second; prints the exit code, then everything the terminal showed.
tty_add() {
  python3 - "$mv" "$D" "$@" <<'EOF'
import os, pty, sys, time
mv, data, name, first, second = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.execv(mv, [mv, "user", "add", name, "--role", "auditor", "--data", data])
screen = b""
def until(want, timeout=30):
    global screen
    end = time.time() + timeout
    while want not in screen and time.time() < end:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    return want in screen
if until(b"New password for " + name.lower().encode() + b": "):
    os.write(fd, first.encode() + b"\n")
    if until(b"Repeat the password: "):
        os.write(fd, second.encode() + b"\n")
until(b"\0", timeout=30)  # read to the end
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
sys.stdout.write(screen.decode(errors="replace"))
EOF
}
tty_add erin 'Erin-Typed-Pass-1' 'Erin-Typed-Pass-1' >"$T/tty" 2>&1 || true
check "terminal: add with the password typed twice" test "$(head -1 "$T/tty")" = 0
check "terminal: confirmation shown" grep -q 'added account erin (auditor)' "$T/tty"
check "terminal: password never echoed" bash -c "! grep -q 'Erin-Typed' '$T/tty'"
check "terminal: erin exists" test "$(account erin role)" = auditor
tty_add frank 'Frank-Typed-Pass-1' 'Frank-Typo-Pass-1' >"$T/tty" 2>&1 || true
check "terminal: different passwords refused" test "$(head -1 "$T/tty")" = 1
check "terminal: mismatch message" grep -q 'the two passwords differ; nothing changed' "$T/tty"
check "terminal: mismatch made no account" test "$(account frank role)" = absent
check "terminal: mismatch echoed neither" bash -c "! grep -q 'Frank-Typ' '$T/tty'"
tty_add frank 'short' 'short' >"$T/tty" 2>&1 || true
check "terminal: short password refused at the first prompt" \
  bash -c "test \"\$(head -1 '$T/tty')\" = 1 && grep -q 'too short' '$T/tty' && ! grep -q 'Repeat' '$T/tty'"

# ---- nothing in clear on disk ---------------------------------------------------
for f in "$D/accounts.db" "$D/accounts.db-wal"; do
  for word in alice bob carol erin administrator helpdesk Alice-Secret-Pass-1 Bob-New-Pass-7777; do
    check "$(basename "$f") has no '$word' in clear" no_clear_text "$f" "$word"
  done
done

# ---- personal accounts and their settings ---------------------------------------
add_personal() {
  printf '%s\n' 'Pat-Secret-Pass-1' | "$mv" user add pat --role personal --password-stdin \
    --data "$D" "$@"
}
expect_fail "a personal account needs an address" 1 add_personal
check "no address message" grep -q 'needs at least one address' "$T/err"
expect_fail "a bad address is refused" 1 add_personal --address 'not an address'
expect_fail "an administrator has no addresses" 1 \
  bash -c "printf 'x-Secret-Pass-1\n' | '$mv' user add adm --role administrator --address a@example.com --password-stdin --data '$D'"
check "add pat (personal, two addresses)" bash -c \
  "printf 'Pat-Secret-Pass-1\n' | '$mv' user add pat --role personal --address Pat@Example.COM --address sales@example.com --password-stdin --data '$D' | grep -qx 'added account pat (personal)'"
check "list shows the addresses, lower case" bash -c \
  "'$mv' user list --data '$D' | grep -Eq '^pat +personal +no .* pat@example.com, sales@example.com$'"
check "list --json addresses" bash -c \
  "'$mv' user list --data '$D' --json | python3 -c 'import json,sys; a=[x for x in json.load(sys.stdin) if x[\"name\"]==\"pat\"][0]; sys.exit(a[\"addresses\"]!=[\"pat@example.com\",\"sales@example.com\"])'"
check "show pat" bash -c "'$mv' user show pat --data '$D' | grep -qx 'address:          sales@example.com'"
check "show --json" bash -c "'$mv' user show PAT --data '$D' --json | grep -q '\"role\": \"personal\"'"
check "replace the addresses" bash -c \
  "'$mv' user addresses pat --address pat@example.com --data '$D' | grep -qx 'pat now sees the copies addressed to pat@example.com'"
check "one address left" bash -c "'$mv' user show pat --data '$D' --json | grep -c '@example.com' | grep -qx 1"
expect_fail "addresses of an administrator" 1 "$mv" user addresses alice --address a@example.com --data "$D"
check "no address in clear in accounts.db" no_clear_text "$D/accounts.db" 'pat@example.com'
check "settings get personal.backup: no by default" bash -c \
  "'$mv' settings get personal.backup --data '$D' | grep -qx no"
check "settings set personal.backup yes" bash -c \
  "'$mv' settings set personal.backup yes --data '$D' | grep -qx 'personal.backup = yes'"
check "settings get personal.backup" bash -c "'$mv' settings get personal.backup --data '$D' | grep -qx yes"
check "settings set personal.delivery_format as-is" bash -c \
  "'$mv' settings set personal.delivery_format as-is --data '$D' | grep -qx 'personal.delivery_format = as-is'"
expect_fail "a bad personal value" 1 "$mv" settings set personal.send maybe --data "$D"
expect_fail "an unknown personal key" 1 "$mv" settings set personal.nope yes --data "$D"
check "remove_message_id warns about DKIM" bash -c \
  "'$mv' settings set personal.remove_message_id yes --data '$D' 2>&1 >/dev/null | grep -q DKIM"
check "the store's settings.json has no personal key" bash -c "! grep -q personal '$D/settings.json'"
check "remove pat" bash -c "'$mv' user remove pat --data '$D' | grep -qx 'removed account pat'"

# ---- remove ---------------------------------------------------------------------
check "remove bob" bash -c "'$mv' user remove bob --data '$D' | grep -qx 'removed account bob'"
check "bob is gone" test "$(account bob role)" = absent
expect_fail "remove bob again" 1 "$mv" user remove bob --data "$D"
check "second remove message" grep -q "no account 'bob'" "$T/err"
expect_fail "remove with a bad name" 1 "$mv" user remove 'bob/../x' --data "$D"
check "others kept" bash -c "'$mv' user list --data '$D' | awk 'NR > 1 {print \$1}' | paste -sd, | grep -qx 'alice,carol,erin'"

# ---- wrong keys, no store ---------------------------------------------------------
"$mv" init --data "$T/other" >/dev/null
mv "$D/keys" "$D/keys.own"
cp -a "$T/other/keys" "$D/keys"
expect_fail "another store's keys: list fails cleanly" 1 "$mv" user list --data "$D"
check "wrong keys message" grep -q 'wrong index key.*belong to the same store' "$T/err"
expect_fail "another store's keys: add fails cleanly" 1 add gina auditor 'Gina-Secret-Pass-1'
rm -rf "$D/keys"
expect_fail "no keys dir: list fails cleanly" 1 "$mv" user list --data "$D"
mv "$D/keys.own" "$D/keys"
check "own keys back: accounts readable again" test "$(account alice role)" = administrator
check "other store has no accounts" bash -c "'$mv' user list --data '$T/other' | grep -qx 'no accounts'"
check "listing did not create the other store's accounts.db" test ! -e "$T/other/accounts.db"
expect_fail "not a store" 1 "$mv" user list --data "$T/nowhere"
check "not a store message" grep -q 'is not a mailvault store' "$T/err"
check "no dir made for a store that is not there" test ! -e "$T/nowhere"

echo "user: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
