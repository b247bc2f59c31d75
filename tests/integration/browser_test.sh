#!/usr/bin/env bash
# The console in real headless Chromium (Debian's chromium driven by
# playwright-core, tests/browser/): a store with known copies, three
# accounts (administrator, helpdesk, auditor), mailvaultd serving the
# console, and an SMTP sink (aiosmtpd, keeps every byte) as the delivery
# relay. The node tests sign in, search by every filter, view, preview,
# deliver (the message must reach the sink), save (the downloaded bytes must
# equal `mailvault save`), delete with confirmation, change settings, check
# what each role sees, show a From, Subject and attachment name spoofed with
# U+202E as visible ⟨U+202E⟩ tokens with the attachment's real extension, and run the XSS corpus (tests/xss/corpus.txt) through
# the HTML preview asserting that no script runs and no request leaves the
# console. Screenshots go to $MV_SCREENSHOTS (default
# tests/browser/screenshots).
#
# Usage: browser_test.sh BIN_DIR
set -euo pipefail

bin=$(cd "${1:?usage: browser_test.sh BIN_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"
PY=/usr/bin/python3

for tool in node npm /usr/bin/chromium; do
  command -v "$tool" >/dev/null || { echo "browser_test: $tool is missing (scripts/deps.sh installs it)"; exit 1; }
done

T=$(mktemp -d /tmp/mailvault-browser-test.XXXXXX)
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
# The XSS corpus: one HTML message per vector, stored first so the named
# copies below are the newest (the first page of the list).
corpus="$root/tests/xss/corpus.txt"
"$PY" - "$corpus" "$T/xss" <<'PYEOF'
import os, sys
text = open(sys.argv[1], encoding="utf-8").read()
vectors = [v.strip("\n") for v in text.split("\n----\n") if v.strip()]
os.makedirs(sys.argv[2])
for i, v in enumerate(vectors):
    msg = ("From: x@xss.example\r\nTo: victim@example.org\r\nSubject: xss %d\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           "<p>vector %d</p>%s\r\n") % (i, i, v)
    open(os.path.join(sys.argv[2], "%03d.eml" % i), "w", encoding="utf-8", newline="").write(msg)
PYEOF
xss_ids=""
for f in "$T"/xss/*.eml; do
  id=$("$mv" put --data "$D" --rcpt victim@example.org --rule R-xss --status content-filtering=banned-file-format "$f")
  xss_ids="$xss_ids${xss_ids:+,}$id"
done
echo "browser_test: $(echo "$xss_ids" | tr ',' '\n' | wc -l) XSS vectors stored"

put() {  # put RULE STATUS RCPT < message: prints the id
  "$mv" put --data "$D" --mail-from sender@example.com --rcpt "$3" --rule "$1" --status "$2" -
}
ids_plain=$(printf 'From: Alice Example <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Quarterly invoice\r\nMessage-ID: <inv-1@example.com>\r\nDate: Mon, 07 Dec 2026 08:00:00 +0000\r\n\r\nPlease find the invoice.\r\nFrom the accounts team\r\n' |
  put R-spam anti-spam=spam bob@example.org)
ids_html=$(printf 'From: Mallory <mallory@evil.example>\r\nTo: carol@example.org\r\nSubject: You won a prize\r\nMessage-ID: <prize-7@evil.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYou won a prize!\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p onclick="x()">You <b>won</b> a prize!</p><script>alert(1)</script><img src="http://tracker.example/p.gif">\r\n--b--\r\n' |
  put R-phish anti-phishing=phishing carol@example.org)
pad=$(head -c 3000 /dev/zero | tr '\0' 'A')
ids_virus=$(printf 'From: Scanner <scan@bad.example>\r\nTo: dave@example.org\r\nSubject: Scanned document\r\nMessage-ID: <scan-3@bad.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--m\r\nContent-Type: application/octet-stream; name="doc.exe"\r\nContent-Disposition: attachment; filename="doc.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--m--\r\n' "$pad" |
  put R-av anti-virus=infected dave@example.org)
ids_junk=$(printf 'From: Bulk <offers@bulk.example>\r\nTo: erin@example.org\r\nSubject: Cheap watches\r\nMessage-ID: <bulk-9@bulk.example>\r\n\r\nBuy now.\r\n' |
  put R-spam anti-spam=spam erin@example.org)
# Issue 14 item 3: a sender spoofing with a right-to-left override, RFC
# 2047-encoded in From and Subject and RFC 2231-encoded in the attachment's
# file name, so only the decoded values hold U+202E. Raw, the name
# "report\u202Efdp.exe" would read "reportexe.pdf".
ids_spoof=$("$PY" - <<'PYEOF' | put R-spoof content-filtering=banned-file-name frank@example.org
import base64, sys, urllib.parse
def b(s):
    return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="
name = "report\u202efdp.exe"
msg = ("From: " + b("Billing \u202emoc.knab@gnillib") + " <attacker@spoof.example>\r\n"
       "To: frank@example.org\r\n"
       "Subject: " + b("Payment \u202efdp.exe due") + "\r\n"
       "Message-ID: <spoof-1@spoof.example>\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=s\r\n\r\n"
       "--s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease open the attachment.\r\n"
       "--s\r\nContent-Type: application/pdf; name*=UTF-8''" + urllib.parse.quote(name) + "\r\n"
       "Content-Disposition: attachment; filename*=UTF-8''" + urllib.parse.quote(name) + "\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--s--\r\n")
sys.stdout.write(msg)
PYEOF
)

PASSWORD="browser test password 1"
for a in "alice administrator" "hank helpdesk" "audrey auditor"; do
  set -- $a
  echo "$PASSWORD" | "$mv" user add "$1" --role "$2" --password-stdin --data "$D" >/dev/null
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
export MV_IDS="{\"plain\": $ids_plain, \"html\": $ids_html, \"virus\": $ids_virus, \"junk\": $ids_junk, \"spoof\": $ids_spoof}"
export MV_XSS_IDS="$xss_ids"
mkdir -p "$MV_SCREENSHOTS"
status=0
timeout 300 node --test --test-concurrency=1 console.test.mjs xss.test.mjs || status=$?
if [ "$status" -ne 0 ]; then echo "--- daemon log"; tail -40 "$T/daemon.log"; fi
exit "$status"
