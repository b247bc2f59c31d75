#!/usr/bin/env bash
# Personal mode of the console in real headless Chromium (as
# browser_test.sh, bounded to ~2 min): a store with copies for pat (plain,
# HTML with a clean Anti-Virus verdict, HTML labelled infected, one to pat
# and bob) and for others; pat is a local personal account; mailvaultd
# serves the console with an SMTP sink as relay. tests/browser/
# personal.test.mjs signs pat in and checks: only pat's copies are listed,
# filters work inside them, the admin pages are absent and refused, the
# text/HTML preview rules, deliver to self (the message reaches the sink
# for pat only), delete, and the Backup-off notice. Screenshots go to
# $MV_SCREENSHOTS (default tests/browser/screenshots/personal-*).
#
# Usage: personal_browser_test.sh BIN_DIR
set -euo pipefail

bin=$(cd "${1:?usage: personal_browser_test.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"

for tool in node npm /usr/bin/chromium; do
  command -v "$tool" >/dev/null || { echo "personal_browser_test: $tool is missing (scripts/deps.sh)"; exit 1; }
done

T=$(mktemp -d /tmp/mailvault-personal-browser.XXXXXX)
D="$T/data"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  stop_services
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

start_py_sink "$T"
cat >"$T/mv.toml" <<EOT
[store]
dir = "$D"
[api]
listen = "127.0.0.1:0"
[milter]
enabled = false
[delivery]
relay = "127.0.0.1:$SINK_PORT"
workers = 2
retry_min = "1s"
retry_max = "2s"
EOT

"$mv" init --data "$D" >/dev/null
put() {  # put STATUS RCPT... < message: prints the id
  local status=$1; shift
  local args=()
  for r in "$@"; do args+=(--rcpt "$r"); done
  "$mv" put --data "$D" --mail-from sender@example.com "${args[@]}" --rule R1 --status "$status" -
}
html_msg() {
  printf 'From: Shop <shop@example.net>\r\nTo: pat@example.com\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nShipped today\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Shipped <b>today</b></p>\r\n--b--\r\n' "$1"
}
id_other=$(printf 'From: A <a@example.com>\r\nTo: bob@example.org\r\nSubject: Board minutes\r\n\r\nFor bob only.\r\n' | put anti-spam=spam bob@example.org)
id_plain=$(printf 'From: Alice <alice@example.com>\r\nTo: pat@example.com\r\nSubject: Quarterly invoice\r\nMessage-ID: <inv-p@example.com>\r\n\r\nPlease pay.\r\n' | put anti-spam=spam Pat@Example.com)
id_html=$(html_msg 'Your order' | put anti-virus=not-detected pat@example.com)
id_virus=$(html_msg 'Order scan' | put anti-virus=infected pat@example.com)
id_shared=$(printf 'From: Team <team@example.com>\r\nTo: pat@example.com, bob@example.org\r\nSubject: Team lunch\r\n\r\nFriday.\r\n' | put anti-spam=probable-spam bob@example.org pat@example.com)

PASSWORD="browser test password 1"
echo "$PASSWORD" | "$mv" user add pat --role personal --address pat@example.com --password-stdin --data "$D" >/dev/null
for kv in backup=yes preview=yes send=yes delete=yes delivery_format=as-is; do
  "$mv" settings set "personal.${kv%%=*}" "${kv#*=}" --data "$D" >/dev/null
done

"$mvd" --config "$T/mv.toml" >"$T/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 200); do [ -s "$D/mailvaultd.port" ] && break; sleep 0.05; done
[ -s "$D/mailvaultd.port" ] || { echo "mailvaultd did not start"; cat "$T/daemon.log"; exit 1; }
port=$(cat "$D/mailvaultd.port")

cd "$root/tests/browser"
if [ ! -d node_modules/playwright-core ]; then npm ci --no-audit --no-fund >/dev/null; fi
export MV_URL="http://127.0.0.1:$port" MV_PASSWORD="$PASSWORD" MV_DATA="$D" MV_BIN="$bin"
export MV_SINK_DIR="$SINK_DIR" MV_TMP="$T"
export MV_SCREENSHOTS="${MV_SCREENSHOTS:-$root/tests/browser/screenshots}"
export MV_IDS="{\"other\": $id_other, \"plain\": $id_plain, \"html\": $id_html, \"virus\": $id_virus, \"shared\": $id_shared}"
mkdir -p "$MV_SCREENSHOTS"
status=0
timeout 150 node --test --test-concurrency=1 personal.test.mjs || status=$?
if [ "$status" -ne 0 ]; then echo "--- daemon log"; tail -40 "$T/daemon.log"; fi
exit "$status"
