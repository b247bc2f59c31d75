#!/usr/bin/env bash
# LDAP sync benchmark (issue 16, performance): `mailvault ldap sync` of a
# private slapd (tests/integration/lib/slapd.sh, TLS through StartTLS)
# holding USERS users with 3 addresses each (mail, smtp:user.N, the UPN;
# the SMTP: primary repeats mail, x500:/sip: values are none) and GROUPS
# groups (GROUPS-4 leaf groups of 50, and 4 nested ones), paged at 500
# under a size limit of 1000. Each rep is a full sync: connect, three paged
# searches, the mapping (nested groups, delegations), and the swap of the
# encrypted cache in one transaction. Target: under 10 s for 10,000 users.
#
# Usage: bench/ldap_bench.sh BUILD_DIR [--users=N] [--groups=G] [--reps=R]
# Prints a markdown section on stdout, progress on stderr. Needs slapd and
# ldap-utils (scripts/deps.sh); without them prints a "skipped" section.
set -euo pipefail

usage() {
  echo "usage: bench/ldap_bench.sh BUILD_DIR [--users=N] [--groups=G] [--reps=R]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
cmdline="$0 $*"
build=$(cd "$1" && pwd) || usage
shift
USERS=10000
GROUPS_N=100
REPS=3
for arg in "$@"; do
  case $arg in
    --users=*) USERS=${arg#*=} ;;
    --groups=*) GROUPS_N=${arg#*=} ;;
    --reps=*) REPS=${arg#*=} ;;
    *) usage ;;
  esac
done
for v in "$USERS" "$GROUPS_N" "$REPS"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || usage; done
[ "$GROUPS_N" -gt 4 ] || usage
mv="$build/bin/mailvault"
[ -x "$mv" ] || { echo "ldap_bench: $mv is missing (make build)" >&2; exit 1; }
if ! command -v slapd >/dev/null && [ ! -x /usr/sbin/slapd ]; then
  # shellcheck disable=SC2016  # the backquotes are markdown
  printf '## LDAP sync\n\n`%s`\n\nSkipped: slapd is not installed.\n' "$cmdline"
  exit 0
fi
export PATH="$PATH:/usr/sbin"
here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/.." && pwd)
. "$ROOT/tests/integration/lib/services.sh"
. "$ROOT/tests/integration/lib/slapd.sh"
scratch=${MV_BENCH_TMP:-/tmp}
T=$(mktemp -d "$scratch/mailvault-ldap-bench.XXXXXX")
trap 'stop_services; rm -rf "$T"' EXIT
log() { echo "ldap_bench: $*" >&2; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
SLAPD_GROUPS=$((GROUPS_N - 4)) SLAPD_ADDRESSES=2 start_slapd "$T" "$USERS" >&2
D="$T/data"
"$mv" init --data "$D" >/dev/null
C="$T/ldap.toml"
cat >"$C" <<EOF
[store]
dir = "$D"
[milter]
enabled = false
[ldap]
enabled = true
servers = ["$SLAPD_URL"]
ca_file = "$SLAPD_CA"
bind_dn = "$SLAPD_BIND_DN"
bind_password_file = "$SLAPD_BIND_PW_FILE"
base_dn = "$SLAPD_BASE"
page_size = 500
timeout = "30s"
EOF

walls=()
inner=()
for r in $(seq "$REPS"); do
  s=$(date +%s%N)
  "$mv" ldap sync -c "$C" --json >"$T/sync.json"
  e=$(date +%s%N)
  walls+=("$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')")
  inner+=("$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["seconds"])' "$T/sync.json")")
  log "rep $r: ${walls[-1]} s"
done
counts=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["users"], j["groups"], j["mailboxes"], j["delegations"])' "$T/sync.json")
addrs=$("$mv" ldap show u0100 -c "$C" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["addresses"]))')
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
med=$(median "${walls[@]}")
verdict=$(awk -v m="$med" 'BEGIN { print (m < 10 ? "yes" : "NO") }')
read -r n_users n_groups n_mailboxes n_deleg <<<"$counts"

# shellcheck disable=SC2016  # the backquotes are markdown
printf '## LDAP sync: %s users, %s groups\n\n`%s`\n\n' "$USERS" "$GROUPS_N" "$cmdline"
printf 'A private slapd (StartTLS, test CA, memberof overlay, size limit 1000, pages of 500);\n'
printf 'each rep is one `mailvault ldap sync` process: connect, bind, three paged searches,\n'
printf 'the mapping and the swap of the encrypted cache. Load average at start: %s.\n\n' "$load_start"
printf '| entries cached | groups | addresses of a user | median sync | target | under target |\n'
printf '|---:|---:|---:|---:|---:|---|\n'
printf '| %s | %s | %s | **%s s** | 10 s | %s |\n\n' "$n_users" "$n_groups" "$addrs" "$med" "$verdict"
printf 'Per rep, wall clock of the command (seconds): %s; as measured inside the sync: %s\n' \
  "$(IFS=' '; echo "${walls[*]}")" "$(IFS=' '; echo "${inner[*]}")"
printf '_(took %s s, slapd set-up included)_\n' "$(( $(date +%s) - t0 ))"
