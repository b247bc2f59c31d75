#!/usr/bin/env bash
# Crash test with real processes (issue 2, "Tests"): several clients post
# copies to mailvaultd concurrently while the daemon is killed with SIGKILL
# at random moments and restarted. Afterwards `mailvault verify` must pass and
# every copy whose id a client received (HTTP 201) before a kill must be
# retrievable byte for byte with `mailvault save`.
#
# Usage: crash_test.sh BIN_DIR
set -euo pipefail

bin=$(cd "${1:?usage: crash_test.sh BIN_DIR}" && pwd)
mv="$bin/mailvault"
mvd="$bin/mailvaultd"
T=$(mktemp -d /tmp/mailvault-crash-test.XXXXXX)
D="$T/data"
ROUNDS=${CRASH_ROUNDS:-4}
CLIENTS=${CRASH_CLIENTS:-6}
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null || true
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/mailvault.toml" <<EOF
[store]
dir = "$D"
[api]
listen = "127.0.0.1:0"
token = "crash-test-token-0123456789"
[milter]
socket = "unix:$T/milter.sock"
EOF

start_daemon() {
  rm -f "$D/mailvaultd.port"
  "$mvd" --config "$T/mailvault.toml" >>"$T/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 1 200); do
    if [ -s "$D/mailvaultd.port" ] &&
       curl -fsS "http://127.0.0.1:$(cat "$D/mailvaultd.port")/api/v1/health" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.05
  done
  echo "daemon did not start"; tail -20 "$T/daemon.log"; exit 1
}

# client N: posts distinct messages until $T/stop exists; logs "id file" for
# every 201 it received.
client() {
  local n=$1 i=0
  mkdir -p "$T/msgs/$n"
  while [ ! -e "$T/stop" ]; do
    i=$((i + 1))
    local f="$T/msgs/$n/$i.eml"
    {
      printf 'From: client%s@example.com\r\nTo: victim@example.org\r\n' "$n"
      printf 'Subject: crash test %s-%s\r\nMessage-ID: <%s.%s@crash.test>\r\n\r\n' "$n" "$i" "$n" "$i"
      head -c $(( (RANDOM % 40 + 1) * 1024 )) /dev/urandom | base64
    } >"$f"
    local port
    port=$(cat "$D/mailvaultd.port" 2>/dev/null) || { sleep 0.05; continue; }
    local out
    if out=$(curl -sS --max-time 10 -o - -w '\n%{http_code}' \
               -H "Authorization: Bearer crash-test-token-0123456789" \
               -F "message=@$f;type=message/rfc822" \
               -F 'meta={"mail_from":"c@example.com","rcpt":["victim@example.org"],"statuses":{"anti-spam":"spam"}};type=application/json' \
               "http://127.0.0.1:$port/api/v1/messages" 2>/dev/null); then
      if [ "$(tail -n1 <<<"$out")" = "201" ]; then
        local id
        id=$(head -n1 <<<"$out" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p')
        echo "$id $f" >>"$T/acked.$n"
      fi
    fi
  done
}

"$mv" init --data "$D" >/dev/null
start_daemon
for n in $(seq 1 "$CLIENTS"); do client "$n" & done

for round in $(seq 1 "$ROUNDS"); do
  sleep "$(python3 -c 'import random; print(round(random.uniform(1.0, 3.0), 2))')"
  kill -KILL "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null || true
  echo "round $round: killed mailvaultd; $(cat "$T"/acked.* 2>/dev/null | wc -l) copies acknowledged so far"
  start_daemon
done
sleep 1
touch "$T/stop"
wait $(jobs -p | grep -v "^$daemon_pid$") 2>/dev/null || true
kill -TERM "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=""

acked=$(cat "$T"/acked.* | wc -l)
[ "$acked" -gt 100 ] || { echo "too few acknowledged copies ($acked) to prove anything"; exit 1; }
echo "verifying $acked acknowledged copies"
"$mv" verify --data "$D"
lost=0
while read -r id f; do
  if ! "$mv" save "$id" --data "$D" -o "$T/out.eml" >/dev/null 2>"$T/err" || ! cmp -s "$T/out.eml" "$f"; then
    echo "LOST or altered: copy $id ($f): $(cat "$T/err")"; lost=$((lost + 1))
  fi
done < <(cat "$T"/acked.*)
ids=$(cat "$T"/acked.* | cut -d' ' -f1 | sort -n | uniq -d | wc -l)
[ "$ids" -eq 0 ] || { echo "$ids ids were handed out twice"; exit 1; }
grep -E "recovery|torn" "$T/daemon.log" | tail -5 || true
if [ "$lost" -ne 0 ]; then echo "crash: $lost of $acked acknowledged copies lost"; exit 1; fi
echo "crash: $acked acknowledged copies all intact after $ROUNDS kill -9 rounds"

# ---- a damaged index (issue 14, item 8) -------------------------------------
# One page in the middle of index.db overwritten with the daemon stopped:
# `rebuild-index` replaces it from the segments alone, and a daemon started
# on a damaged index finds the damage by itself, says so and rebuilds.
damage_index_page() {
  python3 - "$D/index.db" <<'PY'
import os, sys
p = sys.argv[1]
pages = os.path.getsize(p) // 4096
assert pages > 8, pages
with open(p, 'r+b') as f:
    f.seek((pages // 2) * 4096)
    f.write(bytes((i * 13) & 0xff for i in range(4096)))
PY
}
count=$("$mv" stats --data "$D" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
damage_index_page
"$mv" rebuild-index --data "$D" >"$T/rebuild.out" 2>"$T/rebuild.err" ||
  { echo "rebuild-index failed on a damaged index: $(cat "$T/rebuild.err")"; exit 1; }
grep -q "index rebuilt: $count copies" "$T/rebuild.out" || { echo "rebuild-index: $(cat "$T/rebuild.out")"; exit 1; }
grep -q "index_rebuilt.*set aside as .*index.db.damaged-" "$T/rebuild.err" ||
  { echo "rebuild-index did not set the damaged index aside: $(cat "$T/rebuild.err")"; exit 1; }
ls "$D"/index.db.damaged-* >/dev/null
"$mv" verify --data "$D" >/dev/null
echo "index: rebuild-index replaced an index with an overwritten page ($count copies)"

damage_index_page
start_daemon
# The daemon's background check finds the damage; a search that meets the
# damaged page first does too. Either way it reports it and rebuilds.
port=$(cat "$D/mailvaultd.port")
for _ in $(seq 1 600); do
  grep -q "index_rebuilt" "$T/daemon.log" && break
  curl -s -o /dev/null -H "Authorization: Bearer crash-test-token-0123456789" \
    "http://127.0.0.1:$port/api/v1/copies?subject=crash&limit=1000" || true
  sleep 0.1
done
grep -q "store event index_damaged" "$T/daemon.log" || { echo "the daemon did not report the damage"; tail -5 "$T/daemon.log"; exit 1; }
grep -q "store event index_rebuilt" "$T/daemon.log" || { echo "the daemon did not rebuild the index"; tail -5 "$T/daemon.log"; exit 1; }
port=$(cat "$D/mailvaultd.port")
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/api/v1/health" 2>/dev/null | grep -q '"status":"ok"' && break
  sleep 0.1
done
"$mv" verify --data "$D" >/dev/null || { echo "verify failed after the daemon's rebuild"; exit 1; }
found=$("$mv" search --data "$D" --subject "crash test" --limit 10000 --json |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$found" -eq "$count" ] || { echo "search found $found of $count copies after the rebuild"; exit 1; }
kill -TERM "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=""
echo "index: the daemon found a damaged index, rebuilt it, and verify and search work ($found copies)"
