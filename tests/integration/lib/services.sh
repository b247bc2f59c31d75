# shellcheck shell=bash
# Private mail services for the integration tests: Postfix, smtp-sink (or a
# Python sink that can refuse chosen recipients), clamd with a tiny private
# signature DB, rspamd, and a fake DNS for rspamd. Everything listens on
# 127.0.0.1 on ports picked at run time, keeps its state under a directory
# the test owns, and is stopped by stop_services. Nothing system-wide is used
# or touched (no /etc/postfix/main.cf, no system clamd/rspamd, no outside DNS).
# Needs root (Postfix and smtp-sink drop privileges to user postfix).
#
#   . "$(dirname "$0")/lib/services.sh"
#   T=$(mktemp -d /tmp/mailvault-x.XXXXXX)
#   trap 'stop_services; rm -rf "$T"' EXIT
#   start_smtp_sink "$T"                 # or: start_py_sink "$T" --reject-rcpt '^bad@'
#   start_postfix "$T" "unix:$T/milter.sock"   # or no milter: start_postfix "$T"
#   start_clamd "$T"; start_rspamd "$T"
#
# Functions and the variables they set (all exported globals):
#   free_port                      print a free TCP port on 127.0.0.1
#   wait_for SECS CMD...           retry CMD every 0.1 s until it succeeds (1 on timeout)
#   start_smtp_sink DIR [OPTS...]  Postfix's smtp-sink; OPTS go to smtp-sink, e.g.
#                                  -f RCPT (5xx every RCPT), -r RCPT (4xx every RCPT),
#                                  -f . (5xx after DATA), -r . (4xx after DATA),
#                                  -B '550 5.1.1 No such user' (text of hard replies),
#                                  -Q RCPT (421 and disconnect). It cannot refuse only
#                                  some addresses: use start_py_sink for that.
#                                  Sets SINK_PORT SINK_DIR(=DIR/sink) SINK_PID SINK_LOG
#                                  SINK_KIND=smtp-sink. Each message is one file in
#                                  SINK_DIR: smtp-sink's X-Client-Addr/X-Mail-Args/
#                                  X-Rcpt-Args/Received header lines, then the message
#                                  with LF line ends, then an empty line (sink_body strips
#                                  those additions).
#   start_py_sink DIR [--reject-rcpt RE] [--tempfail-rcpt RE] [--reject-data RE]
#                 [--tempfail-data RE] [--max-size BYTES]
#                                  aiosmtpd sink (lib/pysink.py): RCPT matching RE gets
#                                  550 / 450, DATA matching gets 554 / 451, SIZE limit
#                                  (552 above it). SINK_PORT_WANTED=PORT reuses the port
#                                  of a sink stopped before. Keeps each
#                                  message byte-exact (CRLF) as SINK_DIR/NNNNNN.eml plus
#                                  NNNNNN.json (mail_from, rcpt_tos, helo, peer).
#                                  Same variables, SINK_KIND=pysink.
#   sink_files / sink_count        message files in arrival order / how many
#   sink_wait N [SECS=20]          wait until SINK_DIR holds >= N complete messages
#   sink_find_rcpt RCPT [SECS=20]  newest complete message file for envelope recipient RCPT
#   sink_file_complete FILE        true once the sink finished writing FILE
#   sink_body FILE                 the message as received (smtp-sink additions removed,
#                                  CRLF for pysink files as received)
#   stop_sink                      stop the sink (next hop down: mail defers in Postfix)
#   start_postfix DIR [MILTER]     private Postfix in DIR/postfix: relays everything to
#                                  [127.0.0.1]:SINK_PORT (or $PF_RELAYHOST), MILTER is an
#                                  smtpd_milters value (unix:/path or inet:127.0.0.1:port).
#                                  smtpd runs as user postfix: a unix: milter socket must be
#                                  writable by it, its directories searchable (start_postfix
#                                  and start_smtp_sink add o+x to DIR and its ancestors).
#                                  Sets PF_PORT PF_CONF(config dir, for postfix -c /
#                                  postqueue -c / postconf -c) PF_LOG PF_DIR.
#                                  Env knobs: PF_MILTER_DEFAULT_ACTION (tempfail),
#                                  PF_MILTER_CONNECT_TIMEOUT (5s), PF_MILTER_COMMAND_TIMEOUT
#                                  (10s), PF_MILTER_CONTENT_TIMEOUT (30s),
#                                  PF_MESSAGE_SIZE_LIMIT (52428800), PF_EXTRA_MAIN_CF (lines).
#                                  XCLIENT is allowed from 127.0.0.0/8, so a test can pose
#                                  as any client IP/name (swaks --xclient-addr ...).
#   postfix_set DIR 'k = v'...     postconf -e into the instance and reload it (new SMTP
#                                  sessions and deliveries see the change)
#   postfix_flush DIR              postqueue -f (retry deferred mail now)
#   postfix_queue DIR              queue as JSON lines (postqueue -j), empty when empty
#   wait_queue_empty DIR [SECS=30] wait until the queue (incl. deferred/hold) is empty
#   stop_postfix DIR
#   start_fake_dns DIR             lib/fakedns.py on 127.0.0.1 (UDP+TCP), zone file
#                                  DNS_ZONE (=DIR/dns/zone, re-read on change: append
#                                  records with `echo 'name TYPE value' >> "$DNS_ZONE"`).
#                                  Sets DNS_PORT DNS_ZONE. start_rspamd starts it if needed.
#   start_clamd DIR                clamd on unix socket CLAMD_SOCK (=DIR/clamd/clamd.sock)
#                                  and TCP 127.0.0.1:CLAMD_PORT, DB = DIR/clamd/db only.
#                                  Sets CLAMD_SOCK CLAMD_PORT CLAMD_CONF CLAMD_LOG CLAMD_DB
#                                  CLAMD_PID. Env: CLAMD_EXTRA_CONF (lines appended to
#                                  clamd.conf), CLAMD_EXTRA_SIGS (dir of .hdb/.ndb/... files
#                                  added to the DB), CLAMD_DB_VERSION (27000).
#   clamd_cmd CMD                  send zCMD (PING, VERSION, RELOAD, ...) and print the reply
#   clamd_scan FILE                INSTREAM FILE, print the reply ("stream: OK",
#                                  "stream: NAME FOUND")
#   start_rspamd DIR               rspamd (normal worker only) on 127.0.0.1:RSPAMD_PORT,
#                                  config /etc/rspamd + overrides in DIR/rspamd/local.d,
#                                  DNS = the fake DNS. Sets RSPAMD_PORT RSPAMD_URL RSPAMD_LOG
#                                  RSPAMD_PID RSPAMD_LOCAL (the local.d dir: files put in
#                                  DIR/rspamd/local.d before the start are kept and used).
#                                  The public-suffix list is cut to ~70 TLDs (the full one
#                                  costs 15 s per start; RSPAMD_FULL_TLD=1), fuzzy_check is
#                                  off, Bayes/neural/ratelimit/greylist idle (no redis).
#   rspamd_check FILE [IP [FROM [RCPT [HELO [HOSTNAME]]]]]
#                                  POST FILE to /checkv2, print the JSON reply
#   smtp_send FROM RCPT[,RCPT..] FILE [XCLIENT]
#                                  send FILE byte-exact to 127.0.0.1:${SEND_PORT:-$PF_PORT}
#                                  (lib/smtpsend.py); XCLIENT e.g. 'ADDR=198.51.100.7
#                                  NAME=mx.bad.example'. Prints the deciding reply
#                                  ("250 2.0.0 Ok: queued as 3AEBCA7298B" or the refusal);
#                                  exit 0 = 2xx, 4 = 4xx, 5 = 5xx, 2 = connection failed.
#   make_samples OUTDIR            write the sample files/mails of lib/samples.py
#   stop_services                  stop everything started above (call from the EXIT trap)
#
# What the engines say about the samples (make_samples):
#   clamd: eicar.com, eicar.eml, eicar-inline.eml -> "Eicar-Signature.UNOFFICIAL FOUND"
#     (the exact 68-byte file alone also matches the .hdb sig Win.Test.EICAR_HDB-1, but
#     the body sig is reported first); Debian's clam.exe and everything in
#     /usr/share/clamav-testfiles that wraps it (clam.zip, clam.7z, clam.exe.mbox.base64,
#     clam.mail, clam.pdf, ...), clam-zip.eml -> "ClamAV-Test-File.UNOFFICIAL FOUND";
#     heuristic.txt/.eml -> "Heuristics.Test.ProbablyInfected.UNOFFICIAL FOUND" (private
#     .ndb sig on the string MAILVAULT-HEURISTIC-TEST); encrypted.zip/.eml ->
#     "Heuristics.Encrypted.Zip FOUND" (AlertEncrypted yes); broken.exe/broken-exe.eml ->
#     "Heuristics.Broken.Executable FOUND" (AlertBrokenExecutables yes); broken images
#     give Heuristics.Broken.Media.* (AlertBrokenMedia yes); clean.eml -> "stream: OK".
#     VERSION answers "ClamAV 1.4.6/27000/<DB build time>" (the DB is a daily.cud).
#   rspamd: gtube.eml -> action "reject", symbol GTUBE; phishing.eml -> symbol PHISHING;
#     clean.eml from 203.0.113.5 / alice@example.org / HELO mx.example.org -> "no action";
#     spf-fail.eml from 198.51.100.7, MAIL FROM carol@example.net -> R_SPF_FAIL,
#     DMARC_POLICY_REJECT; dkim-fail.eml -> R_DKIM_REJECT (key mv._domainkey.example.net
#     is in the fake zone). Unknown names answer NXDOMAIN at once, so RBL/URIBL checks are
#     "not listed" and a check takes ~10-20 ms; list an IP with e.g.
#     `echo '7.100.51.198.zen.spamhaus.org A 127.0.0.2' >> "$DNS_ZONE"` -> RBL_SPAMHAUS_SBL
#     for 198.51.100.7. No DKIM pass (nothing signs), no Bayes (no redis).
#
# Sending through the private Postfix with swaks (or smtp_send for exact bytes):
#   swaks --server 127.0.0.1:$PF_PORT --from alice@example.org --to bob@example.com \
#         --data @"$S/clean.eml"                       # a ready message ('-' = stdin);
#                    # swaks adds CRLF before the final dot: a file ending in CRLF
#                    # arrives with one empty line more (smtp_send does not do that)
#   swaks --server 127.0.0.1:$PF_PORT --from a@example.org --to b@example.com,c@example.com \
#         --header 'Subject: hi' --body 'text' --attach @"$S/eicar.com"    # built by swaks
#   swaks --server 127.0.0.1:$PF_PORT --xclient-addr 198.51.100.7 \
#         --xclient-name mx.bad.example --xclient-helo mx.bad.example \
#         --from carol@example.net --to bob@example.com --data @"$S/spf-fail.eml"
#                                                       # pose as another client (milter sees it)
#   Add --quit-after RCPT / --hide-all / --silent 2 as needed; swaks exits 0 only when all
#   went well
#   (exit 23 = MAIL refused, 24 = no RCPT accepted, 25 = DATA refused, 26 = refused after
#   the final dot, e.g. a milter reject/tempfail there; 2 = cannot connect).
#   Postfix bounces for mail the sink refuses with 5xx go to the sender's domain, i.e.
#   also to the sink (From: MAILER-DAEMON@gw.test).

MV_SVC_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MV_SVC_PY=/usr/bin/python3   # Debian's python: has python3-aiosmtpd, unlike a pyenv one
[ -x "$MV_SVC_PY" ] || MV_SVC_PY=python3
MV_SVC_PIDS=()        # processes we started, killed by stop_services
MV_SVC_POSTFIX=()     # postfix config dirs to stop

_svc_log() { echo "services: $*" >&2; }
_svc_now() { date +%s.%N; }
_svc_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

free_port() {
  "$MV_SVC_PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for() {
  local secs=$1; shift
  local deadline=$(( $(date +%s%N) + ${secs%.*} * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# _svc_wait_up SECS PID CMD...: like wait_for, but gives up at once when PID
# has exited (a daemon that died will not come up).
_svc_wait_up() {
  local secs=$1 pid=$2; shift 2
  local deadline=$(( $(date +%s%N) + ${secs%.*} * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    if _svc_gone "$pid"; then _svc_log "process $pid exited"; return 1; fi
    [ "$(date +%s%N)" -lt "$deadline" ] || { _svc_log "not up after ${secs}s"; return 1; }
    sleep 0.1
  done
}

_svc_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# _svc_open_path DIR: let unprivileged daemons (user postfix) traverse DIR and
# its ancestors: a mktemp -d dir is 0700. Adds o+x where it is missing.
_svc_open_path() {
  local d
  d=$(cd "$1" && pwd)
  while [ -n "$d" ] && [ "$d" != / ]; do
    if [ "$(( 0$(stat -c %a "$d") & 1 ))" -eq 0 ]; then chmod o+x "$d"; fi
    d=$(dirname "$d")
  done
}

_svc_track() { MV_SVC_PIDS+=("$1"); }

_svc_fail() {   # _svc_fail WHAT LOGFILE...
  local what=$1; shift
  _svc_log "$what failed to start"
  local f
  for f in "$@"; do
    [ -f "$f" ] && { echo "---- tail $f" >&2; tail -30 "$f" >&2; }
  done
  return 1
}

# ---- next hop ---------------------------------------------------------------

start_smtp_sink() {
  local dir=$1; shift
  local t0; t0=$(_svc_now)
  _svc_open_path "$dir"
  SINK_DIR="$dir/sink"; SINK_LOG="$dir/sink.log"; SINK_KIND=smtp-sink
  mkdir -p "$SINK_DIR"
  chown postfix "$SINK_DIR"
  SINK_PORT=$(free_port)
  smtp-sink -u postfix -4 -h sink.test -d "$SINK_DIR/%Y%m%d%H%M%S." "$@" \
    "127.0.0.1:$SINK_PORT" 64 >"$SINK_LOG" 2>&1 &
  SINK_PID=$!
  _svc_track "$SINK_PID"
  _svc_wait_up 10 "$SINK_PID" _svc_port_open "$SINK_PORT" || { _svc_fail smtp-sink "$SINK_LOG"; return 1; }
  export SINK_DIR SINK_LOG SINK_KIND SINK_PORT SINK_PID
  _svc_log "smtp-sink on 127.0.0.1:$SINK_PORT ($(_svc_since "$t0")s)"
}

start_py_sink() {
  local dir=$1; shift
  local t0; t0=$(_svc_now)
  SINK_DIR="$dir/sink"; SINK_LOG="$dir/sink.log"; SINK_KIND=pysink
  mkdir -p "$SINK_DIR"
  # SINK_PORT_WANTED: come back on the port of a sink stopped before.
  SINK_PORT=${SINK_PORT_WANTED:-$(free_port)}
  "$MV_SVC_PY" "$MV_SVC_LIB/pysink.py" --port "$SINK_PORT" --dir "$SINK_DIR" "$@" >"$SINK_LOG" 2>&1 &
  SINK_PID=$!
  _svc_track "$SINK_PID"
  _svc_wait_up 15 "$SINK_PID" _svc_port_open "$SINK_PORT" || { _svc_fail pysink "$SINK_LOG"; return 1; }
  export SINK_DIR SINK_LOG SINK_KIND SINK_PORT SINK_PID
  _svc_log "pysink on 127.0.0.1:$SINK_PORT ($(_svc_since "$t0")s)"
}

sink_files() {
  if [ "${SINK_KIND:-}" = pysink ]; then
    find "$SINK_DIR" -maxdepth 1 -name '[0-9]*.eml' | sort
  else
    # smtp-sink names files by time + random suffix: order by mtime.
    find "$SINK_DIR" -type f ! -name '.*' -printf '%T@ %p\n' | sort -n | cut -d' ' -f2-
  fi
}

sink_count() { sink_files | wc -l; }

# sink_file_complete FILE: true once FILE holds a whole message. pysink
# renames finished files into place; smtp-sink writes its file while DATA
# streams in, and it is whole once it ends with the empty line smtp-sink
# appends and its size holds still.
sink_file_complete() {
  local f=$1 a b
  [ -s "$f" ] || return 1
  [[ "$f" == *.eml ]] && return 0
  a=$(stat -c %s "$f")
  [ "$(tail -c 2 "$f" | od -An -c | tr -d ' ')" = '\n\n' ] || return 1
  sleep 0.1
  b=$(stat -c %s "$f")
  [ "$a" = "$b" ]
}

# _svc_sink_complete N: at least N messages, all complete (also accepts a
# file name, as sink_file_complete).
_svc_sink_complete() {
  local n=$1 f
  if ! [[ "$n" =~ ^[0-9]+$ ]]; then sink_file_complete "$n"; return; fi
  [ "$(sink_count)" -ge "$n" ] || return 1
  for f in $(sink_files); do
    sink_file_complete "$f" || return 1
  done
}

# sink_find_rcpt RCPT [SECS=20]: print the newest complete message file whose
# envelope has recipient RCPT (case-insensitive), waiting up to SECS for one.
sink_find_rcpt() {
  local rcpt=$1 secs=${2:-20} f last deadline
  deadline=$(( $(date +%s) + secs ))
  while :; do
    last=""
    for f in $(sink_files); do
      if [ "${SINK_KIND:-}" = pysink ]; then
        grep -qiF "\"$rcpt\"" "${f%.eml}.json" 2>/dev/null || continue
      else
        grep -qiF "X-Rcpt-Args: <$rcpt>" "$f" || continue
      fi
      sink_file_complete "$f" && last=$f
    done
    [ -n "$last" ] && { echo "$last"; return 0; }
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

sink_wait() {
  local n=$1 secs=${2:-20}
  wait_for "$secs" _svc_sink_complete "$n" && return 0
  _svc_log "sink: wanted $n messages, have $(sink_count) after ${secs}s"
  return 1
}

sink_body() {
  local f=$1
  if [ "${SINK_KIND:-}" = pysink ] || [[ "$f" == *.eml ]]; then
    cat "$f"
  else
    # Drop smtp-sink's X-* lines and its 3-line Received header, and the
    # empty line it appends.
    awk 'BEGIN { skip = 1 }
         skip && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): / { next }
         skip && /^Received: .*\(\[/ { rcv = 2; next }
         rcv > 0 { rcv--; if (rcv == 0) skip = 0; next }
         { skip = 0; lines[++n] = $0 }
         END { if (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }' "$f"
  fi
}

stop_sink() {
  [ -n "${SINK_PID:-}" ] || return 0
  _svc_kill_wait "$SINK_PID"
  SINK_PID=""
}

# ---- Postfix ----------------------------------------------------------------

start_postfix() {
  local dir=$1 milter=${2:-}
  local t0; t0=$(_svc_now)
  local relay=${PF_RELAYHOST:-}
  if [ -z "$relay" ]; then
    [ -n "${SINK_PORT:-}" ] || { _svc_log "start_postfix: start a sink first (or set PF_RELAYHOST)"; return 1; }
    relay="[127.0.0.1]:$SINK_PORT"
  fi
  _svc_open_path "$dir"
  PF_DIR="$dir/postfix"; PF_CONF="$PF_DIR/etc"; PF_LOG="$PF_DIR/postfix.log"
  mkdir -p "$PF_CONF" "$PF_DIR/queue" "$PF_DIR/data"
  chmod 755 "$PF_DIR" "$PF_CONF" "$PF_DIR/queue"
  chown root:root "$PF_DIR/queue"
  chown postfix "$PF_DIR/data"
  PF_PORT=$(free_port)
  cat >"$PF_CONF/main.cf" <<EOF
# Private test instance written by tests/integration/lib/services.sh
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = gw.test
mydomain = test
myorigin = gw.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
# Loopback only, and XCLIENT may pose as any address: relay every domain
# (static:ALL makes each one a relay domain, so reject_unauth_destination,
# which Postfix insists on, never fires).
relay_domains = static:ALL
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_authorized_xclient_hosts = 127.0.0.0/8
relayhost = $relay
smtp_dns_support_level = disabled
smtp_connect_timeout = 5s
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
append_dot_mydomain = no
readme_directory = no
maillog_file = $PF_LOG
maillog_file_prefixes = $PF_DIR
smtpd_milters = $milter
milter_default_action = ${PF_MILTER_DEFAULT_ACTION:-tempfail}
milter_protocol = 6
milter_connect_timeout = ${PF_MILTER_CONNECT_TIMEOUT:-5s}
milter_command_timeout = ${PF_MILTER_COMMAND_TIMEOUT:-10s}
milter_content_timeout = ${PF_MILTER_CONTENT_TIMEOUT:-30s}
message_size_limit = ${PF_MESSAGE_SIZE_LIMIT:-52428800}
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
in_flow_delay = 0
delay_warning_time = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
${PF_EXTRA_MAIN_CF:-}
EOF
  # chroot column "n" everywhere; postlog feeds maillog_file.
  cat >"$PF_CONF/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  # `postfix start` spends 2-3 s in its postfix-script checks and in
  # `master -w`; laying out the queue as those checks would and running master
  # in the background (it stays in the foreground without -w) takes 0.1 s.
  # If that fails, or PF_FULL_START=1, use `postfix start`.
  # Postfix waits until a config file is a second or two old before it reads
  # it (it may still be being written): backdate ours.
  touch -d '-1 minute' "$PF_CONF/main.cf" "$PF_CONF/master.cf"
  local q
  for q in active bounce corrupt defer deferred flush hold incoming private saved trace; do
    install -d -o postfix -g root -m 700 "$PF_DIR/queue/$q"
  done
  install -d -o postfix -g postdrop -m 730 "$PF_DIR/queue/maildrop"
  install -d -o postfix -g postdrop -m 710 "$PF_DIR/queue/public"
  install -d -o root -g root -m 755 "$PF_DIR/queue/pid"
  local started=0
  if [ "${PF_FULL_START:-0}" != 1 ]; then
    /usr/lib/postfix/sbin/master -c "$PF_CONF" </dev/null >"$PF_DIR/start.out" 2>&1 &
    local master=$!
    _svc_track "$master"
    MV_SVC_POSTFIX+=("$PF_CONF")
    if _svc_wait_up 15 "$master" _svc_smtp_banner "$PF_PORT"; then started=1; fi
  fi
  if [ "$started" = 0 ]; then
    # postfix(1) prints errors only to a terminal (else to syslog, absent
    # here): run it under script(1) so a failure shows why.
    if [ -n "${master:-}" ]; then _svc_kill_wait "$master"; fi
    stop_postfix "$PF_CONF" || true
    if ! script -qec "postfix -c '$PF_CONF' start" /dev/null </dev/null >>"$PF_DIR/start.out" 2>&1; then
      _svc_fail postfix "$PF_DIR/start.out" "$PF_LOG"; return 1
    fi
    MV_SVC_POSTFIX+=("$PF_CONF")
    wait_for 15 _svc_smtp_banner "$PF_PORT" || { _svc_fail "postfix smtpd" "$PF_LOG"; return 1; }
  fi
  export PF_DIR PF_CONF PF_LOG PF_PORT
  _svc_log "postfix on 127.0.0.1:$PF_PORT, conf $PF_CONF ($(_svc_since "$t0")s)"
}

_svc_smtp_banner() {
  "$MV_SVC_PY" - "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
ok = s.recv(512).startswith(b"220")
s.sendall(b"QUIT\r\n"); s.close()
sys.exit(0 if ok else 1)
EOF
}

_svc_pf_conf() { if [ -d "$1/postfix/etc" ]; then echo "$1/postfix/etc"; else echo "$1"; fi; }

postfix_set() {
  local conf; conf=$(_svc_pf_conf "$1"); shift
  postconf -c "$conf" -e "$@"
  touch -d '-1 minute' "$conf/main.cf"   # else Postfix waits for it to settle
  postfix -c "$conf" reload >/dev/null 2>&1
}

postfix_flush() { postqueue -c "$(_svc_pf_conf "$1")" -f; }

postfix_queue() { postqueue -c "$(_svc_pf_conf "$1")" -j; }

wait_queue_empty() {
  local conf; conf=$(_svc_pf_conf "$1")
  local secs=${2:-30}
  wait_for "$secs" _svc_queue_is_empty "$conf" && return 0
  _svc_log "postfix queue not empty after ${secs}s:"
  postqueue -c "$conf" -p >&2 || true
  return 1
}

_svc_queue_is_empty() { [ -z "$(postqueue -c "$1" -j 2>/dev/null)" ]; }

stop_postfix() {
  local conf; conf=$(_svc_pf_conf "$1")
  local qdir pidf master kids
  qdir=$(postconf -c "$conf" -h queue_directory 2>/dev/null) || return 0
  pidf="$qdir/pid/master.pid"
  master=$(tr -d ' \n' 2>/dev/null <"$pidf" || true)
  if [ -z "$master" ] || ! kill -0 "$master" 2>/dev/null; then return 0; fi
  kids=$(ps -o pid= --ppid "$master" 2>/dev/null | tr "\n" " " || true)
  postfix -c "$conf" stop >/dev/null 2>&1 || true
  wait_for 10 _svc_gone "$master" || kill -KILL "$master" 2>/dev/null || true
  local k
  for k in $kids; do
    wait_for 3 _svc_gone "$k" || kill -KILL "$k" 2>/dev/null || true
  done
}

# ---- fake DNS -----------------------------------------------------------------

# A 1024-bit RSA public key (test only) published as mv._domainkey.example.net.
MV_SVC_DKIM_P="MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDWVuoSocC6xeCDuSftXnf6282p7Xe7hrqFbxohqHmC/EdkHo0/xyBUOzEvLIlqT+S7icyJckKObBGsbc+WaCb0q/Po4qaPorSt9Kc5icEXAab2NVCrAIXMbu8g/sBmm8nyBgGwAlnEEW6hwZ2ZiLcT2y3EbUvjvCbhNqOh3f7g6wIDAQAB"

start_fake_dns() {
  local dir=$1
  local t0; t0=$(_svc_now)
  mkdir -p "$dir/dns"
  DNS_ZONE="$dir/dns/zone"
  if [ ! -f "$DNS_ZONE" ]; then
    cat >"$DNS_ZONE" <<EOF
# example.org: the well-behaved sender domain, its MX is 203.0.113.5
example.org TXT "v=spf1 ip4:203.0.113.0/24 -all"
_dmarc.example.org TXT "v=DMARC1; p=none"
example.org MX 10 mx.example.org
mx.example.org A 203.0.113.5
5.113.0.203.in-addr.arpa PTR mx.example.org
# example.net: strict: SPF allows only 192.0.2.0/24, DMARC p=reject, DKIM key s=mv
example.net TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.example.net TXT "v=DMARC1; p=reject"
mv._domainkey.example.net TXT "v=DKIM1; k=rsa; p=$MV_SVC_DKIM_P"
example.net MX 10 mx.example.net
mx.example.net A 192.0.2.10
10.2.0.192.in-addr.arpa PTR mx.example.net
# example.com: recipients' domain
example.com MX 10 mx.example.com
mx.example.com A 192.0.2.20
gw.test A 127.0.0.1
EOF
  fi
  rm -f "$dir/dns/port"
  "$MV_SVC_PY" "$MV_SVC_LIB/fakedns.py" "$DNS_ZONE" "$dir/dns/port" >"$dir/dns/log" 2>&1 &
  DNS_PID=$!
  _svc_track "$DNS_PID"
  _svc_wait_up 10 "$DNS_PID" test -s "$dir/dns/port" || { _svc_fail fakedns "$dir/dns/log"; return 1; }
  DNS_PORT=$(cat "$dir/dns/port")
  export DNS_ZONE DNS_PORT DNS_PID
  _svc_log "fake DNS on 127.0.0.1:$DNS_PORT ($(_svc_since "$t0")s)"
}

# ---- clamd ------------------------------------------------------------------

start_clamd() {
  local dir=$1
  local t0; t0=$(_svc_now)
  local cd="$dir/clamd"
  CLAMD_DB="$cd/db"; CLAMD_SOCK="$cd/clamd.sock"; CLAMD_CONF="$cd/clamd.conf"; CLAMD_LOG="$cd/clamd.log"
  mkdir -p "$CLAMD_DB" "$cd/sigs" "$cd/tmp"
  local eicar_hex marker_hex
  eicar_hex=$(printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' | od -An -tx1 -v | tr -d ' \n')
  marker_hex=$(printf '%s' 'MAILVAULT-HEURISTIC-TEST' | od -An -tx1 -v | tr -d ' \n')
  # Hash sigs (md5:size:name) for the exact files; body sigs (.ndb,
  # name:target:offset:hex) match the string anywhere, also inside mail.
  {
    echo "44d88612fea8a8f36de82e1278abb02f:68:Win.Test.EICAR_HDB-1"
    echo "aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File"
  } >"$cd/sigs/daily.hdb"
  {
    echo "Eicar-Signature:0:*:$eicar_hex"
    echo "Heuristics.Test.ProbablyInfected:0:*:$marker_hex"
  } >"$cd/sigs/daily.ndb"
  if [ -n "${CLAMD_EXTRA_SIGS:-}" ]; then cp "$CLAMD_EXTRA_SIGS"/* "$cd/sigs/"; fi
  # Pack them as an unsigned daily.cud so VERSION reports a DB version and
  # build date like a real install ("ClamAV 1.4.6/27000/<date>"); fall back
  # to the loose files.
  echo "mailvault integration test signatures" >"$cd/sigs/COPYING"
  if (cd "$cd/sigs" && printf 'mailvault-tests\n' | sigtool --datadir="$cd/sigs" --build=daily.cud --unsigned \
        --cvd-version="${CLAMD_DB_VERSION:-27000}" --no-cdiff --max-bad-sigs=0 >"$cd/sigtool.log" 2>&1) \
      && [ -s "$cd/sigs/daily.cud" ]; then
    cp "$cd/sigs/daily.cud" "$CLAMD_DB/"
  else
    _svc_log "clamd: sigtool --build failed (see $cd/sigtool.log); using loose .hdb/.ndb"
    find "$cd/sigs" -maxdepth 1 -type f ! -name COPYING ! -name '*.cud' -exec cp {} "$CLAMD_DB/" \;
  fi
  CLAMD_PORT=$(free_port)
  cat >"$CLAMD_CONF" <<EOF
# Private test clamd written by tests/integration/lib/services.sh
LocalSocket $CLAMD_SOCK
LocalSocketMode 666
TCPSocket $CLAMD_PORT
TCPAddr 127.0.0.1
Foreground yes
DatabaseDirectory $CLAMD_DB
TemporaryDirectory $cd/tmp
LogFile $CLAMD_LOG
LogTime yes
PidFile $cd/clamd.pid
StreamMaxLength 25M
MaxThreads 4
SelfCheck 3600
AlertEncrypted yes
AlertBrokenExecutables yes
AlertBrokenMedia yes
${CLAMD_EXTRA_CONF:-}
EOF
  clamd --config-file="$CLAMD_CONF" >"$cd/stdout" 2>&1 &
  CLAMD_PID=$!
  _svc_track "$CLAMD_PID"
  export CLAMD_DB CLAMD_SOCK CLAMD_CONF CLAMD_LOG CLAMD_PORT CLAMD_PID
  _svc_wait_up 60 "$CLAMD_PID" _svc_clamd_pong || { _svc_fail clamd "$cd/stdout" "$CLAMD_LOG"; return 1; }
  _svc_log "clamd on $CLAMD_SOCK and 127.0.0.1:$CLAMD_PORT ($(_svc_since "$t0")s)"
}

_svc_clamd_pong() { [ "$(clamd_cmd PING 2>/dev/null)" = PONG ]; }

clamd_cmd() {
  "$MV_SVC_PY" - "$CLAMD_SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
s.sendall(b"z" + sys.argv[2].encode() + b"\0")
r = b""
while not r.endswith(b"\0"):
    d = s.recv(4096)
    if not d:
        break
    r += d
print(r.rstrip(b"\0").decode())
EOF
}

clamd_scan() {
  "$MV_SVC_PY" - "$CLAMD_SOCK" "$1" <<'EOF'
import socket, struct, sys
data = open(sys.argv[2], "rb").read()
s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(sys.argv[1])
s.sendall(b"zINSTREAM\0")
for i in range(0, len(data), 65536):
    c = data[i:i + 65536]
    s.sendall(struct.pack("!I", len(c)) + c)
s.sendall(struct.pack("!I", 0))
r = b""
while not r.endswith(b"\0"):
    d = s.recv(4096)
    if not d:
        break
    r += d
print(r.rstrip(b"\0").decode())
EOF
}

# ---- rspamd -----------------------------------------------------------------

start_rspamd() {
  local dir=$1
  local t0; t0=$(_svc_now)
  [ -n "${DNS_PORT:-}" ] || start_fake_dns "$dir" || return 1
  local rd="$dir/rspamd"
  RSPAMD_LOCAL="$rd/local.d"
  mkdir -p "$RSPAMD_LOCAL" "$rd/db" "$rd/run" "$rd/log" "$rd/tmp"
  RSPAMD_PORT=$(free_port)
  RSPAMD_LOG="$rd/log/rspamd.log"
  # Compiling the full public-suffix list (9,600 entries) takes rspamd 15 s
  # at every start, all single-label TLDs still 2-3 s; the test mail needs
  # only a few: a short list. RSPAMD_FULL_TLD=1 keeps the full one.
  local tld=/usr/share/rspamd/effective_tld_names.dat
  if [ "${RSPAMD_FULL_TLD:-0}" != 1 ]; then
    local tlds="com net org edu gov mil int info biz name pro mobi app dev io co me tv cc
      ws xyz top online site shop club email link click live
      test example invalid localhost local arpa
      de uk fr it es nl be ch at se no dk fi pl cz ru ua cn jp kr in au nz ca us br mx za
      eu asia tk ml ga cf gq
      co.uk org.uk ac.uk gov.uk com.au co.jp com.br co.nz co.za com.cn"
    # shellcheck disable=SC2086  # one TLD per word
    printf '%s\n' $tlds >"$rd/tld.dat"
    tld="$rd/tld.dat"
  fi
  # Top-level config: the system's modules and scores, one normal worker on
  # a free loopback port, no controller/proxy/fuzzy workers.
  cat >"$rd/rspamd.conf" <<'EOF'
.include "$CONFDIR/common.conf"
options {
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    .include "$CONFDIR/logging.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/logging.inc"
}
worker "normal" {
    .include "$CONFDIR/worker-normal.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/worker-normal.inc"
}
EOF
  cat >"$RSPAMD_LOCAL/worker-normal.inc" <<EOF
bind_socket = "127.0.0.1:$RSPAMD_PORT";
count = 1;
EOF
  cat >"$RSPAMD_LOCAL/options.inc" <<EOF
# Only the private fake DNS: nothing leaves the machine, no lookup waits.
dns {
  nameserver = ["127.0.0.1:$DNS_PORT"];
  timeout = 1s;
  retransmits = 1;
}
url_tld = "$tld";
tempdir = "$rd/tmp";
EOF
  # fuzzy_check resolves rspamd.com's servers with the system resolver at
  # start: off.
  echo 'enabled = false;' >"$RSPAMD_LOCAL/fuzzy_check.conf"
  rspamd -f -i -c "$rd/rspamd.conf" --var=LOCAL_CONFDIR="$rd" --var=DBDIR="$rd/db" \
    --var=RUNDIR="$rd/run" --var=LOGDIR="$rd/log" >"$rd/stdout" 2>&1 &
  RSPAMD_PID=$!
  _svc_track "$RSPAMD_PID"
  RSPAMD_URL="http://127.0.0.1:$RSPAMD_PORT"
  export RSPAMD_LOCAL RSPAMD_PORT RSPAMD_LOG RSPAMD_PID RSPAMD_URL
  _svc_wait_up 90 "$RSPAMD_PID" _svc_rspamd_ping || { _svc_fail rspamd "$rd/stdout" "$RSPAMD_LOG"; return 1; }
  _svc_log "rspamd on $RSPAMD_URL ($(_svc_since "$t0")s)"
}

_svc_rspamd_ping() {
  curl -sf --max-time 2 "$RSPAMD_URL/ping" 2>/dev/null | grep -q pong
}

rspamd_check() {
  local f=$1 ip=${2:-203.0.113.5} from=${3:-alice@example.org} rcpt=${4:-bob@example.com}
  local helo=${5:-mx.example.org} host=${6:-mx.example.org}
  curl -sf --max-time 20 --data-binary @"$f" -H "IP: $ip" -H "From: $from" -H "Rcpt: $rcpt" \
    -H "Helo: $helo" -H "Hostname: $host" "$RSPAMD_URL/checkv2"
}

# ---- sending ------------------------------------------------------------------

smtp_send() {
  "$MV_SVC_PY" "$MV_SVC_LIB/smtpsend.py" "${SEND_PORT:-$PF_PORT}" "$@"
}

# ---- samples ------------------------------------------------------------------

make_samples() { "$MV_SVC_PY" "$MV_SVC_LIB/samples.py" "$1"; }

# ---- teardown -----------------------------------------------------------------

_svc_gone() {   # true when PID no longer runs (a zombie counts as gone)
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ') || return 0
  [ -z "$st" ] || [[ "$st" == Z* ]]
}

_svc_kill_wait() {
  local pid=$1
  _svc_gone "$pid" && return 0
  local kids
  kids=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr "\n" " " || true)
  kill -TERM "$pid" 2>/dev/null || true
  wait_for 10 _svc_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  local k
  for k in $kids; do
    wait_for 3 _svc_gone "$k" || kill -KILL "$k" 2>/dev/null || true
  done
  wait "$pid" 2>/dev/null || true
}

stop_services() {
  local c p
  for c in "${MV_SVC_POSTFIX[@]+"${MV_SVC_POSTFIX[@]}"}"; do stop_postfix "$c" || true; done
  MV_SVC_POSTFIX=()
  for p in "${MV_SVC_PIDS[@]+"${MV_SVC_PIDS[@]}"}"; do _svc_kill_wait "$p" || true; done
  MV_SVC_PIDS=()
  return 0
}
