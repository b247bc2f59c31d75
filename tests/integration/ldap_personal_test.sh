#!/usr/bin/env bash
# Directory users in the console, against a real slapd (lib/slapd.sh) and a
# real mailvaultd: sign-in with the directory password over StartTLS (wrong
# password and LDAP injection in the name refused), the copies a user sees
# (their own addresses only), shared mailboxes (sales delegated to u0005
# directly, support to u0010 through nested groups, archive to no one) only
# while personal.group_mailboxes is on, the sync state in health, and a
# clear 503 (never a session) once the directory is down.
#
# Usage: ldap_personal_test.sh BIN_DIR   (BIN_DIR holds mailvault, mailvaultd)
set -euo pipefail

bin=$(cd "${1:?usage: ldap_personal_test.sh BIN_DIR}" && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/services.sh"
. "$here/lib/slapd.sh"
T=$(mktemp -d /tmp/mailvault-ldap-personal.XXXXXX)
D="$T/data"
trap 'stop_services; rm -rf "$T"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() {
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}

start_slapd "$T/main" 100
"$mv" init --data "$D" >/dev/null
cat >"$T/mv.toml" <<EOT
[store]
dir = "$D"
[api]
listen = "127.0.0.1:0"
[milter]
enabled = false
[ldap]
enabled = true
servers = ["$SLAPD_URL"]
ca_file = "$SLAPD_CA"
bind_dn = "$SLAPD_BIND_DN"
bind_password_file = "$SLAPD_BIND_PW_FILE"
base_dn = "$SLAPD_BASE"
timeout = "3s"
EOT

put() {  # put RCPT... : prints the id
  local args=()
  for r in "$@"; do args+=(--rcpt "$r"); done
  printf 'From: A <a@example.net>\r\nTo: x@example.com\r\nSubject: for %s\r\n\r\nHi.\r\n' "$*" |
    "$mv" put --data "$D" --mail-from sender@example.net "${args[@]}" --rule R1 --status anti-spam=spam -
}
id5=$(put u0005@example.com)
id5b=$(put bob@example.org User.0005@Example.com)   # a proxyAddresses alias, any case
id6=$(put u0006@example.com)
id_sales=$(put sales@example.com)
id_support=$(put support@example.com)
id_archive=$(put archive@example.com)
"$mv" settings set personal.backup yes --data "$D" >/dev/null

run_daemon() {  # run_daemon LOG: start mailvaultd, wait for its sync; sets port, DAEMON_PID
  rm -f "$D/mailvaultd.port"
  "$mvd" --config "$T/mv.toml" >"$1" 2>&1 &
  DAEMON_PID=$!
  _svc_track "$DAEMON_PID"
  wait_for 30 grep -q 'ldap sync: ' "$1" || { echo "no sync"; cat "$1"; exit 1; }
  wait_for 10 test -s "$D/mailvaultd.port"
  port=$(cat "$D/mailvaultd.port")
}
# login NAME PASSWORD: the HTTP status; the cookie jar in $T/jar.NAME
login() {
  python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "password": sys.argv[2]}))' "$1" "$2" >"$T/body"
  curl -s -o "$T/login.out" -w '%{http_code}' -c "$T/jar.$1" -H 'Content-Type: application/json' \
    --data-binary @"$T/body" "http://127.0.0.1:$port/api/v1/session"
}
# ids NAME: the ids NAME's list shows, sorted, space separated
ids() {
  curl -s -b "$T/jar.$1" "http://127.0.0.1:$port/api/v1/copies?limit=100" |
    python3 -c 'import json,sys; print(" ".join(str(i) for i in sorted(c["id"] for c in json.load(sys.stdin)["items"])))'
}
sorted() { printf '%s\n' "$@" | sort -n | tr '\n' ' ' | sed 's/ $//'; }

run_daemon "$T/d1.log"
code=$(login u0005 wrong-password); check "wrong directory password: 401 (got $code)" [ "$code" = 401 ]
code=$(login '*)(uid=*' pw-u0005); check "injection in the name: 401 (got $code)" [ "$code" = 401 ]
code=$(login 'u0005*' pw-u0005); check "wildcard in the name: 401 (got $code)" [ "$code" = 401 ]
code=$(login u0005 pw-u0005); check "u0005 signs in with the directory password (got $code)" [ "$code" = 200 ]
check "... as a personal user" grep -q '"role":"personal"' "$T/login.out"
got=$(ids u0005); want=$(sorted "$id5" "$id5b")
check "u0005 sees only its own copies, group mailboxes off ($got; want $want)" [ "$got" = "$want" ]
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar.u0005" "http://127.0.0.1:$port/api/v1/copies/$id_sales")
check "... sales by id: 404 (got $code)" [ "$code" = 404 ]
code=$(login u0010 pw-u0010); check "u0010 signs in (got $code)" [ "$code" = 200 ]
got=$(ids u0010); check "u0010 sees nothing with group mailboxes off ($got)" [ -z "$got" ]
curl -s "http://127.0.0.1:$port/api/v1/health" >"$T/health.json"
check "health shows the LDAP sync state" python3 -c "
import json; j=json.load(open('$T/health.json'))['ldap']
assert j['last_success'] and j['last_error'] is None and j['users'] > 100, j"
_svc_kill_wait "$DAEMON_PID"

"$mv" settings set personal.group_mailboxes yes --data "$D" >/dev/null
run_daemon "$T/d2.log"
login u0005 pw-u0005 >/dev/null
got=$(ids u0005); want=$(sorted "$id5" "$id5b" "$id_sales")
check "group mailboxes on: u0005 sees sales (delegated directly) ($got; want $want)" [ "$got" = "$want" ]
login u0010 pw-u0010 >/dev/null
got=$(ids u0010); want=$(sorted "$id_support")
check "... u0010 sees support (through nested groups) ($got; want $want)" [ "$got" = "$want" ]
login u0006 pw-u0006 >/dev/null
got=$(ids u0006); want=$(sorted "$id6")
check "... u0006 (no delegation) sees only its own ($got; want $want)" [ "$got" = "$want" ]
check "archive (delegated to no one) is visible to none of them" \
  bash -c "! echo '$(ids u0005) $(ids u0010) $(ids u0006)' | grep -qw '$id_archive'"
# The directory down: a clear 503 within the timeout (3 s), never a session.
stop_slapd
rm -f "$T/jar.u0005"
start=$(date +%s)
code=$(login u0005 pw-u0005)
took=$(( $(date +%s) - start ))
check "LDAP down: sign-in answers 503 in ${took}s (got $code)" test "$code" = 503 -a "$took" -lt 15
check "... says the directory cannot be reached" grep -q 'directory (LDAP) cannot be reached' "$T/login.out"
check "... and sets no session" bash -c "! grep -q mv_session '$T/jar.u0005'"
_svc_kill_wait "$DAEMON_PID"

echo "ldap_personal_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
