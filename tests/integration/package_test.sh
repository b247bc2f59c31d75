#!/usr/bin/env bash
# The Debian package end to end (issue 17 §1): build mailvault_VERSION_amd64.deb
# from BIN_DIR (the programs `make test` just built; packaging/build-deb.sh),
# `dpkg -i` it, check the unit (`systemd-analyze verify`, `security
# --offline=true` at 2.0 or below), start mailvaultd the way the unit does
# (systemd need not be PID 1 here: the unit's ExecStart under its User,
# Group, UMask and LimitCORE through setpriv, no capabilities, no new
# privileges, empty environment, cwd /, and its SystemCallFilter and
# MemoryDenyWriteExecute through lib/unit_seccomp.c; the namespace
# settings (ProtectSystem, PrivateTmp, ...) are checked only by
# systemd-analyze), send mail through a private Postfix
# to its milter, preview a copy through the installed helper, check owners
# and modes of data, logs and config, run the CLI as root against the
# service's data (no root-owned file may appear), take a backup (keys export
# + segments) and restore it elsewhere, upgrade to a newer version (config
# edits, data, user and modes kept), then `dpkg -r` (data kept) and
# `dpkg -P` (data, config, user gone; nothing of the package left).
#
# Usage: package_test.sh BIN_DIR.  Needs root. Refuses to run where a
# mailvault package or a _mailvault user already exists (it would purge
# them). Whatever happens, the EXIT trap purges what it installed.
set -euo pipefail

bin=$(cd "${1:?usage: package_test.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"

[ "$(id -u)" = 0 ] || { echo "package_test: needs root (dpkg -i)"; exit 1; }
# One package test at a time on a machine (dpkg's lock would make a second
# one fail in odd places).
exec 9>/run/lock/mailvault-package-test.lock
flock -w 600 9 || { echo "package_test: another package test holds the lock"; exit 1; }
if dpkg-query -W -f='${Status}' mailvault 2>/dev/null | grep -q installed ||
  getent passwd _mailvault >/dev/null; then
  echo "package_test: a mailvault package or user _mailvault is already on this machine;"
  echo "  this test would purge it, so it stops here"
  exit 1
fi

T=$(mktemp -d /tmp/mailvault-package-test.XXXXXX)
DATA=/var/lib/mailvault
CONF=/etc/mailvault/mailvault.toml
UNIT=/lib/systemd/system/mailvault.service
daemon_pid=""
installed=0
own_policy=0
stop_daemon() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  [ -z "$daemon_pid" ] || wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
cleanup() {
  stop_daemon
  stop_services
  if [ "$installed" = 1 ] && dpkg-query -W mailvault >/dev/null 2>&1; then
    dpkg -P mailvault >"$T/cleanup-purge.log" 2>&1 || cat "$T/cleanup-purge.log"
  fi
  [ "$own_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
# timeout(1) in run.sh sends TERM: clean up then too.
trap 'exit 143' TERM INT HUP

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() {
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# mode_owner PATH: "MODE USER:GROUP"
mode_owner() { stat -c '%a %U:%G' "$1"; }
is() { [ "$1" = "$2" ] || { echo "  got '$1', want '$2'"; return 1; }; }

# ---- build and install --------------------------------------------------------
deb=$("$top/packaging/build-deb.sh" "$bin" "$T" 0.1.0)
check "deb is named mailvault_0.1.0_amd64.deb" is "$(basename "$deb")" mailvault_0.1.0_amd64.deb
check "config is a conffile" bash -c "dpkg-deb -I '$deb' conffiles | grep -qx '$CONF'"
# On a machine where systemd runs, postinst would start the service on the
# standard ports; a policy-rc.d that forbids starts keeps the test private.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# added by mailvault package_test.sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  own_policy=1
fi
installed=1
dpkg -i "$deb" >"$T/dpkg-i.log" 2>&1 || { cat "$T/dpkg-i.log"; exit 1; }
ok "dpkg -i"
uid=$(id -u _mailvault)
check "system user _mailvault (system uid, nologin)" \
  bash -c "[ $uid -lt 1000 ] && getent passwd _mailvault | grep -q ':/usr/sbin/nologin$'"
check "group _mailvault" bash -c "getent group _mailvault >/dev/null"
check "data dir 0700 _mailvault" is "$(mode_owner $DATA)" "700 _mailvault:_mailvault"
check "log dir 0700 _mailvault" is "$(mode_owner /var/log/mailvault)" "700 _mailvault:_mailvault"
check "config 0640 root:_mailvault" is "$(mode_owner $CONF)" "640 root:_mailvault"
check "config dir 0750 root:_mailvault" is "$(mode_owner /etc/mailvault)" "750 root:_mailvault"
check "config points at /var/lib/mailvault" grep -qx 'dir = "/var/lib/mailvault"' "$CONF"
check "preview helper beside the daemon" test -x /usr/lib/mailvault/mailvault-preview
check "mailvaultd on /usr/sbin" test -x /usr/sbin/mailvaultd

# ---- the unit -----------------------------------------------------------------
check "systemd-analyze verify" systemd-analyze verify "$UNIT"
systemd-analyze security --offline=true "$UNIT" >"$T/security.txt" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for mailvault.service: \([0-9.]*\).*/\1/p' "$T/security.txt")
echo "  exposure: $exposure"
check "security exposure <= 2.0" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'
for setting in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
  PrivateDevices=yes CapabilityBoundingSet= MemoryDenyWriteExecute=yes LimitCORE=0 UMask=0077 \
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' User=_mailvault; do
  check "unit has $setting" grep -qx "$setting" "$UNIT"
done
check "unit may write its own dirs only" grep -qx 'ReadWritePaths=/var/lib/mailvault /var/log/mailvault' "$UNIT"

# unit_value KEY: the unit's value of KEY (the last one, as systemd reads it).
unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
exec_start=$(unit_value ExecStart)
unit_user=$(unit_value User)
unit_group=$(unit_value Group)
unit_umask=$(unit_value UMask)
unit_core=$(unit_value LimitCORE)

# ---- run it as the unit does --------------------------------------------------
# The site's settings, as an administrator would edit them: free ports, no
# clamd/rspamd here (the built-in content filter and address lists label
# the test mail), a blacklisted sender.
API_PORT=$(free_port)
MILTER_PORT=$(free_port)
sed -i -e "s/^listen = \"127.0.0.1:8025\"/listen = \"127.0.0.1:$API_PORT\"/" \
  -e "s/^socket = \"inet:127.0.0.1:10025\"/socket = \"inet:127.0.0.1:$MILTER_PORT\"/" \
  -e '/^\[engines.clamd\]/,/^enabled/ s/^enabled = true/enabled = false/' \
  -e '/^\[engines.rspamd\]/,/^enabled/ s/^enabled = true/enabled = false/' \
  -e 's/^blacklist = \[\]/blacklist = ["spammer@bad.example"]/' "$CONF"
check "config edited in place keeps 0640 root:_mailvault" is "$(mode_owner $CONF)" "640 root:_mailvault"
read -r -a argv <<<"$exec_start"

# The unit's SystemCallFilter= and MemoryDenyWriteExecute=, which setpriv
# cannot give: lib/unit_seccomp.c loads them as systemd would, from the
# unit's own filter lines expanded by systemd-analyze.
PUB="$T/pub"
mkdir -p "$PUB"
cc -O1 -o "$PUB/unit-seccomp" "$here/lib/unit_seccomp.c" -lseccomp
expand_filter() {  # expand_filter ITEM...: system call names of the items, groups expanded
  local item
  for item in "$@"; do
    case $item in
      @*) systemd-analyze syscall-filter "$item" | sed -n '2,$p' | sed 's/^ *//; /^#/d; /^$/d' |
            while read -r n; do expand_filter "$n"; done ;;
      *) echo "$item" ;;
    esac
  done
}
: >"$T/allow"; : >"$T/deny"
while read -r line; do
  line=${line#SystemCallFilter=}
  if [ "${line#\~}" != "$line" ]; then
    read -r -a items <<<"${line#\~}"; expand_filter "${items[@]}" >>"$T/deny"
  else
    read -r -a items <<<"$line"; expand_filter "${items[@]}" >>"$T/allow"
  fi
done < <(grep '^SystemCallFilter=' "$UNIT")
comm -23 <(sort -u "$T/allow") <(sort -u "$T/deny") >"$PUB/syscalls"
chmod 755 "$PUB" "$PUB/unit-seccomp"; chmod 644 "$PUB/syscalls"
_svc_open_path "$PUB"
check "unit's filter allows seccomp(2) (for the preview helper's own filter)" grep -qx seccomp "$PUB/syscalls"
check "unit's filter emulation refuses a privileged call (chroot, as root)" \
  bash -c "! '$PUB/unit-seccomp' '$PUB/syscalls' /usr/sbin/chroot / /bin/true 2>/dev/null"
check "unit's filter emulation refuses writable+executable memory" \
  bash -c "! '$PUB/unit-seccomp' '$PUB/syscalls' /usr/bin/python3 -c 'import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)' 2>/dev/null"
# start_unit_daemon UMASK READY_CMD: ExecStart as the unit runs it (the
# umask is the unit's, or a drop-in's).
start_unit_daemon() {
  local umask_value=$1 ready=$2
  rm -f $DATA/mailvaultd.port
  (
    cd /
    umask "$umask_value"
    ulimit -c "$unit_core"
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
      setpriv --reuid="$unit_user" --regid="$unit_group" --init-groups --no-new-privs \
      --inh-caps=-all --bounding-set=-all -- "$PUB/unit-seccomp" "$PUB/syscalls" "${argv[@]}"
  ) >>"$T/daemon.log" 2>&1 &
  daemon_pid=$!
  if ! _svc_wait_up 30 "$daemon_pid" "$ready"; then
    echo "mailvaultd did not start:"; tail -30 "$T/daemon.log"; exit 1
  fi
}
started() { [ -s $DATA/mailvaultd.port ] && _svc_port_open "$MILTER_PORT" && _svc_port_open "$API_PORT"; }
start_unit_daemon "$unit_umask" started
ok "mailvaultd started from the unit's ExecStart as $unit_user, under its system call filter"
# The subshell exec'd env, setpriv and mailvaultd in turn: the same pid.
runs_confined() {
  local st=/proc/$daemon_pid/status
  [ "$(cat /proc/$daemon_pid/comm)" = mailvaultd ] &&
    grep -Eq "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" $st &&
    grep -Eq "^Gid:\s+$(getent group _mailvault | cut -d: -f3)\s" $st &&
    grep -Eq '^CapEff:\s+0+$' $st && grep -Eq '^CapBnd:\s+0+$' $st &&
    grep -Eq '^NoNewPrivs:\s+1$' $st
}
check "daemon runs as _mailvault, no capabilities, no new privileges" runs_confined

start_smtp_sink "$T"
start_postfix "$T" "inet:127.0.0.1:$MILTER_PORT"
cat >"$T/html.eml" <<'MAIL'
From: spammer@bad.example
To: bob@example.com
Subject: html from a blacklisted sender
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p onclick="x()">Hello <b>bob</b><script>alert(1)</script><img src="http://tracker.example/p.gif"></p>
MAIL
set +e
swaks --server "127.0.0.1:$PF_PORT" --from spammer@bad.example --to bob@example.com \
  --data @"$T/html.eml" >"$T/swaks.1" 2>&1
rc1=$?
swaks --server "127.0.0.1:$PF_PORT" --from alice@example.org --to carol@example.com \
  --header 'Subject: invoice' --body 'see attachment' --attach-name invoice.exe \
  --attach-type application/octet-stream --attach @/bin/true >"$T/swaks.2" 2>&1
rc2=$?
set -e
check "blacklisted sender rejected by the milter (5xx after DATA)" is "$rc1" 26
check "mail with a banned attachment accepted" is "$rc2" 0
mvcli=/usr/bin/mailvault
copies() { $mvcli search --data $DATA --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'; }
two_copies() { [ "$(copies)" = 2 ]; }
check "both copies in the Backup (CLI as root, installed)" wait_for 20 two_copies
# The rule deleted the banned part: the text reached the sink, the program
# (base64 of an ELF file starts f0VMRg) did not.
stripped() {
  sink_wait 1 20 || return 1
  local f; f=$(sink_files | tail -1)
  grep -q 'see attachment' "$f" && ! grep -q 'f0VMRg' "$f"
}
check "banned attachment deleted on the way to the sink" stripped

# The HTML preview spawns the installed helper, which confines itself with
# its own seccomp filter, all under the service's account and filter.
html_id=$($mvcli search --data $DATA --from spammer@bad.example --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
token=$(cat $DATA/api.token)
code=$(curl -s -o "$T/preview.html" -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$API_PORT/api/v1/copies/$html_id/html")
check "HTML preview answered 200 through the installed helper" is "$code" 200
check "preview is sanitized (no script, no remote image)" \
  bash -c "grep -q 'bob' '$T/preview.html' && ! grep -qi '<script\|tracker.example\|onclick' '$T/preview.html'"

# ---- milter on a Unix socket (docs/install.md, section 3) ---------------------
# A setgid directory of group postfix and the drop-in's UMask=0007 make the
# socket srwxrwx--- _mailvault:postfix, which Postfix's smtpd (user
# postfix) can connect to.
stop_daemon
SOCKDIR="$T/pfmilter"
install -d -o _mailvault -g postfix -m 2750 "$SOCKDIR"
_svc_open_path "$T"
sed -i "s|^socket = \"inet:127.0.0.1:$MILTER_PORT\"|socket = \"unix:$SOCKDIR/milter.sock\"|" "$CONF"
sock_ready() { [ -S "$SOCKDIR/milter.sock" ] && [ -s $DATA/mailvaultd.port ]; }
start_unit_daemon 0007 sock_ready
check "milter socket is 0770 _mailvault:postfix" \
  is "$(stat -c '%a %U:%G' "$SOCKDIR/milter.sock")" "770 _mailvault:postfix"
postfix_set "$T" "smtpd_milters = unix:$SOCKDIR/milter.sock"
set +e
swaks --server "127.0.0.1:$PF_PORT" --from spammer@bad.example --to dave@example.com \
  --data @"$T/html.eml" >"$T/swaks.3" 2>&1
rc3=$?
set -e
check "Postfix reaches the milter on the Unix socket (reject with 5xx)" \
  bash -c "[ $rc3 = 26 ] && grep -q '<\*\* *5[0-9][0-9]' '$T/swaks.3'"
three_copies() { [ "$(copies)" = 3 ]; }
check "third copy in the Backup" wait_for 20 three_copies

# ---- the CLI as root on the service's data ------------------------------------
echo 'an administrator password' | $mvcli user add admin --role administrator --password-stdin --data $DATA >/dev/null
check "CLI as root: user add worked" bash -c "$mvcli user list --data $DATA | grep -q admin"
$mvcli show "$html_id" --data $DATA >/dev/null
$mvcli save "$html_id" --data $DATA -o - >"$T/copy.eml"
printf 'the backup passphrase\n' >"$T/pass"
chmod 600 "$T/pass"
# Root's own files (the passphrase in root's 0700 temp dir, the export
# through a redirection) work although the command runs as _mailvault.
$mvcli keys export - --data $DATA --passphrase-file "$T/pass" >"$T/keys.mvk"
check "keys export to root's file" test -s "$T/keys.mvk"
mkdir "$T/backup"
cp -a $DATA/store.json $DATA/segments "$T/backup/"
# settings.json holds the policy; it exists once a policy setting was changed.
if [ -e $DATA/settings.json ]; then cp -a $DATA/settings.json "$T/backup/"; fi
stop_daemon
$mvcli settings set max_size 2GB --data $DATA >/dev/null
$mvcli verify --data $DATA >/dev/null
root_owned=$(find $DATA /var/log/mailvault -user root)
check "no root-owned file in the data or log dir" is "$root_owned" ""
check "everything in the data dir is _mailvault's" is "$(find $DATA ! -user _mailvault)" ""
check "no file in the data dir readable by others (files 0600, dirs 0700)" \
  is "$(find $DATA \( -type f ! -perm 600 \) -o \( -type d ! -perm 700 \))" ""
check "no core limit in the unit" is "$unit_core" 0

# ---- restore the backup elsewhere -----------------------------------------------
R="$T/restored"
"$bin/mailvault" keys import --data "$R" --passphrase-file "$T/pass" "$T/keys.mvk" >/dev/null
cp -a "$T/backup/store.json" "$T/backup/segments" "$R/"
if [ -e "$T/backup/settings.json" ]; then cp -a "$T/backup/settings.json" "$R/"; fi
"$bin/mailvault" rebuild-index --data "$R" >/dev/null 2>&1
"$bin/mailvault" save "$html_id" --data "$R" -o "$T/restored.eml" >/dev/null
check "restored copy is byte for byte the installed store's" cmp -s "$T/restored.eml" "$T/copy.eml"

# ---- upgrade ------------------------------------------------------------------
# A newer version over the running install: the edited conffile, the data
# and the user stay, the modes too.
deb2=$("$top/packaging/build-deb.sh" "$bin" "$T/next" 0.1.1)
conf_before=$(sha256sum <"$CONF")
dpkg -i "$deb2" >"$T/dpkg-upgrade.log" 2>&1 || { cat "$T/dpkg-upgrade.log"; exit 1; }
check "upgrade to 0.1.1" is "$(dpkg-query -W -f='${Version}' mailvault)" 0.1.1
check "upgrade keeps the edited config" is "$(sha256sum <"$CONF")" "$conf_before"
check "upgrade keeps config 0640 root:_mailvault" is "$(mode_owner $CONF)" "640 root:_mailvault"
check "upgrade keeps the user" is "$(id -u _mailvault)" "$uid"
check "upgrade keeps the data" bash -c "$mvcli verify --data $DATA >/dev/null"
check "upgrade keeps data dir 0700 _mailvault" is "$(mode_owner $DATA)" "700 _mailvault:_mailvault"

# ---- remove, purge ------------------------------------------------------------
dpkg -r mailvault >"$T/dpkg-r.log" 2>&1 || { cat "$T/dpkg-r.log"; exit 1; }
check "dpkg -r removes the programs" bash -c "! test -e /usr/bin/mailvault && ! test -e /usr/lib/mailvault"
check "dpkg -r keeps the data and keys" bash -c "test -f $DATA/store.json && test -f $DATA/keys/index.key"
check "dpkg -r keeps the config and the user" bash -c "test -f $CONF && getent passwd _mailvault >/dev/null"
check "dpkg -r says where the data is" grep -q "dpkg --purge mailvault" "$T/dpkg-r.log"
dpkg -P mailvault >"$T/dpkg-p.log" 2>&1 || { cat "$T/dpkg-p.log"; exit 1; }
installed=0
check "dpkg -P says what it deletes" grep -q "purge: deleting /var/lib/mailvault" "$T/dpkg-p.log"
check "dpkg -P deletes data, logs and config" \
  bash -c "! test -e $DATA && ! test -e /var/log/mailvault && ! test -e /etc/mailvault"
check "dpkg -P deletes the user and group" \
  bash -c "! getent passwd _mailvault >/dev/null && ! getent group _mailvault >/dev/null"
left=$(
  ls -d /usr/lib/mailvault /usr/sbin/mailvaultd /usr/bin/mailvault /usr/share/doc/mailvault \
    "$UNIT" /etc/systemd/system/mailvault.service \
    /etc/systemd/system/multi-user.target.wants/mailvault.service 2>/dev/null || true
  find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
    -name '*mailvault*' 2>/dev/null || true
  find /etc /var /run -xdev -uid "$uid" 2>/dev/null || true
)
check "nothing of the package left behind" is "$left" ""
check "dpkg knows no mailvault" bash -c "! dpkg-query -W mailvault >/dev/null 2>&1"

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
