#!/usr/bin/env bash
# The LDAP / AD cache against a real slapd (lib/slapd.sh: TLS from a test CA,
# the project's AD schema, the memberof overlay, 2,000 users, nested groups,
# three shared mailboxes, a size limit of 1,000): `mailvault ldap test`,
# `sync`, `show` and `auth`.
#   mapping   addresses (mail, proxyAddresses smtp:/SMTP: only, UPN,
#             mailAlternativeAddress), logins, nested groups, delegations
#             direct / through a nested group / none, paging past the limit
#   bad input a malformed proxyAddresses value, a user with no address and
#             a delegation to a missing DN are skipped and said
#   swap      a second sync replaces the cache whole
#   failures  a connection cut mid-sync, the server down, a server that never
#             answers, a wrong CA, a server without StartTLS: each fails
#             with a clear message, in bounded time, and the old cache stays
#   sign-in   right / wrong password, other login attributes, injection in
#             the login name, an empty password, the directory down
#
# Usage: ldap_test.sh BIN_DIR   (BIN_DIR holds mailvault)
# Needs: slapd, ldap-utils, openssl, python3 (scripts/deps.sh).
set -euo pipefail

bin=$(cd "${1:?usage: ldap_test.sh BIN_DIR}" && pwd)
mv="$bin/mailvault"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/services.sh"
. "$here/lib/slapd.sh"
T=$(mktemp -d /tmp/mailvault-ldap-test.XXXXXX)
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
# fails NAME PATTERN CMD...: CMD exits 1 with one "mailvault: " line matching
# PATTERN (grep -E) on stderr; kept in $T/err.
fails() {
  local name=$1 pattern=$2; shift 2
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -Eq "^mailvault: .*$pattern" "$T/err"; then
    ok "$name ($(cut -c1-160 "$T/err"))"
  else
    bad "$name (exit $rc, stderr: $(cat "$T/err"))"
  fi
}

# config FILE SERVER [KEY = VALUE lines...]: a config whose [ldap] points at
# SERVER with the test CA and lookup account.
config() {
  local file=$1 server=$2; shift 2
  {
    printf '[store]\ndir = "%s"\n[milter]\nenabled = false\n[ldap]\nenabled = true\n' "$D"
    printf 'servers = ["%s"]\n' "$server"
    printf 'bind_dn = "%s"\nbind_password_file = "%s"\nbase_dn = "%s"\n' \
      "$SLAPD_BIND_DN" "$SLAPD_BIND_PW_FILE" "$SLAPD_BASE"
    printf 'page_size = 300\ntimeout = "3s"\n'
    local has_ca=0 line
    for line in "$@"; do
      printf '%s\n' "$line"
      case "$line" in ca_file*) has_ca=1 ;; esac
    done
    [ "$has_ca" = 1 ] || printf 'ca_file = "%s"\n' "$SLAPD_CA"
  } >"$file"
}

# json FILE EXPR: evaluate a Python expression over the JSON in FILE (as j).
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
export -f json

# ---- the servers --------------------------------------------------------------
# A second slapd without any TLS, for "StartTLS required".
SLAPD_NO_TLS=1 start_slapd "$T/plain" 5
PLAIN_URL=$SLAPD_URL
start_slapd "$T/main" 2000
"$mv" init --data "$D" >/dev/null
C="$T/ldap.toml"
config "$C" "$SLAPD_URL"

# ---- ldap test ------------------------------------------------------------------
check "ldap test: connects with StartTLS, binds, counts every user past the size limit" \
  bash -c "'$mv' ldap test -c '$C' >'$T/test.out' && grep -q '^users: *2003 ' '$T/test.out' \
    && grep -q '^server: *ldap://127.0.0.1:$SLAPD_PORT (TLS' '$T/test.out'"
check "ldap test: a sample mapping" grep -q '^  addresses: u0001@example.com, user.0001@example.com, u0001@corp.example.com$' "$T/test.out"
check "the size limit is real: a search without paging is cut at 1000" \
  bash -c "LDAPTLS_CACERT='$SLAPD_CA' ldapsearch -x -ZZ -H '$SLAPD_URL' -D '$SLAPD_BIND_DN' \
    -y '$SLAPD_BIND_PW_FILE' -b '$SLAPD_BASE' '(objectClass=user)' dn 2>&1 | grep -q 'Size limit exceeded'"
check "ldap test --user: a live lookup finds one user" \
  bash -c "'$mv' ldap test -c '$C' --samples 0 --user U0007 | grep -c '^  dn: *uid=u0007,ou=people' | grep -qx 1"
"$mv" ldap test -c "$C" --samples 0 --user '*)(uid=*' >"$T/inj.out" 2>&1 || true
check "ldap test --user '*)(uid=*': escaped, finds nobody" \
  bash -c "grep -qF '(uid=\\2a\\29\\28uid=\\2a)' '$T/inj.out' && grep -q '^  no user found$' '$T/inj.out'"

# ---- sync and mapping -----------------------------------------------------------
fails "show before any sync" "no LDAP cache|no directory user" "$mv" ldap show u0001 -c "$C"
start=$(date +%s%N)
check "ldap sync" bash -c "'$mv' ldap sync -c '$C' --json >'$T/sync.json'"
echo "    sync of 2,003 entries took $(( ($(date +%s%N) - start) / 1000000 )) ms"
check "sync counts: 2003 users, 2 delegated mailboxes, 2 delegations through them + 1 direct" \
  bash -c "[ \"\$(json '$T/sync.json' 'j[\"users\"], j[\"mailboxes\"], j[\"delegations\"]')\" = '2003 2 3' ]"
check "sync counts the groups (20 leaves, team, all, helpdesk, support)" \
  bash -c "[ \"\$(json '$T/sync.json' 'j[\"groups\"]')\" = 24 ]"
"$mv" ldap show u0001 -c "$C" --json >"$T/u1.json"
check "u0001: addresses from mail, proxyAddresses (smtp only, no x500:/sip:), UPN" \
  bash -c "[ \"\$(json '$T/u1.json' '\",\".join(j[\"addresses\"])')\" = 'u0001@example.com,user.0001@example.com,u0001@corp.example.com' ]"
check "u0001: groups: g-leaf-01 direct, g-team and g-all nested" \
  bash -c "[ \"\$(json '$T/u1.json' '\",\".join(g[\"dn\"].split(\",\")[0] + (\"+\" if g[\"direct\"] else \"\") for g in j[\"groups\"])')\" = 'cn=g-leaf-01+,cn=g-team,cn=g-all' ]"
check "u0001: no delegated mailbox" bash -c "[ \"\$(json '$T/u1.json' 'len(j[\"delegated\"])')\" = 0 ]"
for login in u0001@corp.example.com U0001@EXAMPLE.com u0001; do
  check "show by login $login" bash -c "'$mv' ldap show '$login' -c '$C' | grep -q '^dn: *uid=u0001,ou=people'"
done
check "u0004: mailAlternativeAddress counts" \
  bash -c "'$mv' ldap show u0004 -c '$C' | grep -q '^addresses: .*alt.0004@example.org'"
check "u0002: the malformed proxyAddresses values are skipped, the good ones kept" \
  bash -c "'$mv' ldap show u0002 -c '$C' | grep -qx 'addresses: u0002@example.com, user.0002@example.com, u0002@corp.example.com'"
check "u0002: the skip is said" \
  bash -c "json '$T/sync.json' '\"\\n\".join(j[\"skip_reasons\"])' | grep -c 'uid=u0002.*proxyAddresses \"smtp:not an address\"' >/dev/null"
check "u0003: a user with no address is kept (may sign in, sees nothing) and said" \
  bash -c "'$mv' ldap show u0003 -c '$C' | grep -qx 'addresses: (none)' && json '$T/sync.json' '\"\\n\".join(j[\"skip_reasons\"])' | grep -c 'uid=u0003.*no address' >/dev/null"
check "the delegation to a missing DN is skipped and said" \
  bash -c "json '$T/sync.json' '\"\\n\".join(j[\"skip_reasons\"])' | grep -c 'cn=sales.*delegated to \"uid=ghost,ou=people,dc=example,dc=com\", which is no user or group' >/dev/null"
"$mv" ldap show u0005 -c "$C" >"$T/u5.out"
check "u0005: sales delegated directly" grep -q '^  cn=sales,ou=people,dc=example,dc=com <sales@example.com> (direct)$' "$T/u5.out"
"$mv" ldap show u0010 -c "$C" --json >"$T/u10.json"
check "u0010: support through g-support (g-helpdesk nested in it)" \
  bash -c "[ \"\$(json '$T/u10.json' '[(d[\"dn\"], d[\"via\"]) for d in j[\"delegated\"]]')\" = \"[('cn=support,ou=people,dc=example,dc=com', ['cn=g-support,ou=groups,dc=example,dc=com'])]\" ]"
check "u0011 too; u0012 (no group) none; archive is delegated to nobody" \
  bash -c "'$mv' ldap show u0011 -c '$C' | grep -q 'cn=support,ou=people.*through cn=g-support' \
    && '$mv' ldap show u0012 -c '$C' | grep -qx 'delegated mailboxes: (none)' \
    && ! grep -rq archive <('$mv' ldap show u0005 -c '$C') <('$mv' ldap show u0010 -c '$C')"
check "ldap.db holds no address or DN in clear" \
  bash -c "! grep -a -q -e 'u0001@example.com' -e 'ou=people' '$D/ldap.db'"

# ---- swap -------------------------------------------------------------------------
slapd_admin ldapmodify >/dev/null <<EOF
dn: uid=u0001,ou=people,$SLAPD_BASE
changetype: modify
replace: mail
mail: renamed.0001@example.com

dn: uid=u0006,ou=people,$SLAPD_BASE
changetype: delete

dn: cn=sales,ou=people,$SLAPD_BASE
changetype: modify
add: msExchDelegateListLink
msExchDelegateListLink: cn=g-team,ou=groups,$SLAPD_BASE
EOF
check "second sync" bash -c "'$mv' ldap sync -c '$C' >/dev/null"
check "swap: the new mail is in, the old one gone" \
  bash -c "'$mv' ldap show u0001 -c '$C' | grep -q '^addresses: renamed.0001@example.com, u0001@example.com, user.0001' \
    && ! '$mv' ldap show u0001@example.com -c '$C' >/dev/null 2>&1"
fails "swap: a deleted user is gone" "no directory user" "$mv" ldap show u0006 -c "$C"
check "swap: sales now also through g-team (g-leaf-01 nested in it) for u0001" \
  bash -c "'$mv' ldap show u0001 -c '$C' | grep -q 'cn=sales,ou=people.*through cn=g-team'"
"$mv" ldap show -c "$C" --json >"$T/state1.json"

# ---- failures keep the old cache --------------------------------------------------
# A connection cut after 300 KB of answers: in the middle of the paged users.
python3 "$here/lib/cutproxy.py" "$T/cut.port" "$SLAPD_LDAPS_PORT" --cut-after 300000 &
_svc_track $!
wait_for 10 test -s "$T/cut.port"
config "$T/cut.toml" "ldaps://127.0.0.1:$(cat "$T/cut.port")"
fails "a connection cut mid-sync fails the sync" "cache in use is unchanged.*users: search" \
  "$mv" ldap sync -c "$T/cut.toml"
check "... and the old cache stays in use" \
  bash -c "'$mv' ldap show u0001 -c '$C' | grep -q '^addresses: renamed.0001@example.com' \
    && [ \"\$(json '$T/state1.json' 'j[\"last_success\"]')\" = \"\$('$mv' ldap show -c '$C' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"last_success\"])')\" ]"
check "... and the state says why" \
  bash -c "'$mv' ldap show -c '$C' | grep -q '^last attempt: .* FAILED: users: search'"

dead=$(free_port)
config "$T/down.toml" "ldap://127.0.0.1:$dead"
start=$(date +%s)
fails "the server down: the sync fails" "unchanged.*no LDAP server reachable.*127.0.0.1:$dead.*connect" \
  "$mv" ldap sync -c "$T/down.toml"
check "... at once, and the old cache stays" \
  bash -c "[ $(( $(date +%s) - start )) -lt 10 ] && '$mv' ldap show u0005 -c '$C' | grep -q 'cn=sales'"
mkdir -p "$T/fresh"
"$mv" init --data "$T/fresh/data" >/dev/null
fails "the server down at the first sync: no cache, a clear error" "no LDAP server reachable" \
  "$mv" ldap sync -c "$T/down.toml" --data "$T/fresh/data"
fails "... and no user is found" "no directory user" "$mv" ldap show u0001 -c "$T/down.toml" --data "$T/fresh/data"

python3 "$here/lib/cutproxy.py" "$T/silent.port" 0 --silent &
_svc_track $!
wait_for 10 test -s "$T/silent.port"
config "$T/silent.toml" "ldaps://127.0.0.1:$(cat "$T/silent.port")"
start=$(date +%s)
fails "a server that never answers: the sync times out" "unchanged.*no LDAP server reachable" \
  "$mv" ldap sync -c "$T/silent.toml"
took=$(( $(date +%s) - start ))
check "... within the timeout (3s), not a hang (took ${took}s)" test "$took" -lt 12
config "$T/silent-starttls.toml" "ldap://127.0.0.1:$(cat "$T/silent.port")"
start=$(date +%s)
fails "... also on ldap:// (StartTLS never answered)" "no LDAP server reachable" \
  "$mv" ldap sync -c "$T/silent-starttls.toml"
check "... within the timeout too" test "$(( $(date +%s) - start ))" -lt 12

config "$T/wrongca.toml" "$SLAPD_URL" "ca_file = \"$SLAPD_OTHER_CA\""
fails "a wrong CA is refused (StartTLS)" "unchanged.*StartTLS" "$mv" ldap sync -c "$T/wrongca.toml"
config "$T/wrongca-ldaps.toml" "$SLAPD_LDAPS_URL" "ca_file = \"$SLAPD_OTHER_CA\""
fails "a wrong CA is refused (ldaps)" "unchanged.*connect" "$mv" ldap sync -c "$T/wrongca-ldaps.toml"
config "$T/ldaps.toml" "$SLAPD_LDAPS_URL"
check "the right CA over ldaps:// works" bash -c "'$mv' ldap sync -c '$T/ldaps.toml' | grep -q 'synced from ldaps://127.0.0.1:$SLAPD_LDAPS_PORT'"

config "$T/plain.toml" "$PLAIN_URL"
fails "StartTLS required: a server without it is not used in clear" "unchanged.*StartTLS" \
  "$mv" ldap sync -c "$T/plain.toml"
printf '[ldap]\nservers = ["ldap://dc1.example.com"]\nstarttls = false\n' >"$T/clear.toml"
fails "config check refuses starttls = false off loopback" "ldap.starttls" "$mv" config check -c "$T/clear.toml"
check "state after the failures: last error shown, cache still the last good one" \
  bash -c "'$mv' ldap show -c '$C' | grep -q '^cache: *2002 users'"

# ---- sign-in ------------------------------------------------------------------------
auth() { printf '%s\n' "$2" | "$mv" ldap auth "$1" -c "${3:-$C}" --password-stdin; }
check "auth: right password" bash -c "$(declare -f auth); mv='$mv' C='$C'; auth u0007 pw-u0007 | grep -qx 'ok: uid=u0007,ou=people,dc=example,dc=com'"
check "auth: by userPrincipalName and by mail" \
  bash -c "$(declare -f auth); mv='$mv' C='$C'; auth u0007@corp.example.com pw-u0007 >/dev/null && auth U0007@example.com pw-u0007 >/dev/null"
fails "auth: wrong password" "wrong login or password" auth u0007 pw-u0008
fails "auth: another user's password" "wrong login or password" auth u0008 pw-u0007
fails "auth: empty password (would be an anonymous bind)" "wrong login or password" auth u0007 ''
fails "auth: '*)(uid=*' is no login" "wrong login or password" auth '*)(uid=*' pw-u0007
fails "auth: '*' is no login" "wrong login or password" auth '*' pw-u0007
fails "auth: a login with a control character" "wrong login or password" auth $'u0007\x01' pw-u0007
fails "auth: a shared mailbox (no password of its own)" "wrong login or password" auth sales@example.com x
fails "auth: the directory down is not 'wrong password'" "no LDAP server reachable" \
  auth u0007 pw-u0007 "$T/down.toml"
start=$(date +%s)
fails "auth: a server that never answers" "no LDAP server reachable" auth u0007 pw-u0007 "$T/silent.toml"
check "... gives up within the timeout" test "$(( $(date +%s) - start ))" -lt 12
fails "auth: a wrong CA" "StartTLS" auth u0007 pw-u0007 "$T/wrongca.toml"

# ---- the daemon -------------------------------------------------------------------------
# mailvaultd syncs at start in the background: with a directory that never
# answers, the console and the milter are up at once, and the failure is
# logged when the timeout ends; with the real one, the cache is refreshed.
mvd="$bin/mailvaultd"
daemon_conf() {   # daemon_conf FILE LDAP_CONFIG: the LDAP config plus API and milter
  sed 's/^enabled = false$/enabled = true/; s|^\[milter\]$|[api]\nlisten = "127.0.0.1:0"\n[milter]\nsocket = "unix:'"$T"'/milter.sock"|' "$2" >"$1"
}
run_daemon() {   # run_daemon CONFIG LOG: start mailvaultd, set DAEMON_PID
  rm -f "$D/mailvaultd.port"
  "$mvd" --config "$1" >"$2" 2>&1 &
  DAEMON_PID=$!
  _svc_track "$DAEMON_PID"
}
daemon_conf "$T/d-silent.toml" "$T/silent.toml"
start=$(date +%s%N)
run_daemon "$T/d-silent.toml" "$T/d-silent.log"
check "daemon with a silent directory: console and milter up without waiting for it" \
  bash -c "for _ in \$(seq 50); do [ -s '$D/mailvaultd.port' ] && [ -S '$T/milter.sock' ] && exit 0; sleep 0.1; done; exit 1"
echo "    up after $(( ($(date +%s%N) - start) / 1000000 )) ms (the LDAP timeout is 3 s)"
check "... and it logs the failed sync, keeping the cache" \
  wait_for 20 grep -q 'ldap sync failed, keeping the cache of 20.*no LDAP server reachable' "$T/d-silent.log"
_svc_kill_wait "$DAEMON_PID"
before=$("$mv" ldap show -c "$C" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_success"])')
daemon_conf "$T/d-good.toml" "$C"
run_daemon "$T/d-good.toml" "$T/d-good.log"
check "daemon with the directory: syncs at start and logs it" \
  wait_for 30 grep -q 'ldap sync: 2002 users, 2 shared mailboxes, 24 groups, .* from ldap://127.0.0.1:' "$T/d-good.log"
check "... the skips are logged as warnings" grep -q 'ldap sync skipped: .*uid=u0003.*no address' "$T/d-good.log"
check "... and the cache the CLI reads is the daemon's new one" \
  bash -c "[ \"\$('$mv' ldap show -c '$C' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"last_success\"])')\" -gt '$before' ]"
_svc_kill_wait "$DAEMON_PID"

echo "ldap_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
