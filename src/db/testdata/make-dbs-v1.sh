#!/usr/bin/env bash
# Writes the database fixtures kept beside each domain with the mailvault
# build of commit ba8486a (before src/db/ existed: accounts schema 2, audit
# schema 1, queue schema 2, index schema 3, each checked by its own code):
#   src/directory/testdata/accounts-v2/  accounts.db + keys/
#   src/journal/testdata/audit-v1/       audit.db + keys/
#   src/delivery/testdata/queue-v2/      deliveries.db + keys/
# Kept for the record: a later build writes through src/db/'s migrations and
# would not show that today's files still open. The tests beside each
# fixture (*_fixture_test.cc) hold the same rows.
set -euo pipefail
bin=${1:?usage: make-dbs-v1.sh BIN_DIR SRC_DIR}
src=${2:?usage: make-dbs-v1.sh BIN_DIR SRC_DIR}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
d=$tmp/data
printf 'From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Fixture\r\nMessage-ID: <fx@example.com>\r\n\r\nbody\r\n' > "$tmp/m.eml"
"$bin/mailvault" init --data "$d" > /dev/null
"$bin/mailvault" put --data "$d" --mail-from alice@example.com --rcpt bob@example.org \
  --rule R1 --status anti-spam=spam --reason GTUBE "$tmp/m.eml" > /dev/null
echo fixture-password-1 | "$bin/mailvault" user add --data "$d" --role helpdesk --password-stdin Helen
echo fixture-password-2 | "$bin/mailvault" user add --data "$d" --role administrator --password-stdin ada
"$bin/mailvault" user disable --data "$d" helen
"$bin/mailvault" deliver --data "$d" --original --to carol@example.org 1 > /dev/null
copy() {  # copy DB DIR: the database (its WAL is checkpointed at close) and the key ring
  mkdir -p "$2"
  cp "$d/$1" "$2/"
  cp -r "$d/keys" "$2/"
}
copy accounts.db "$src/src/directory/testdata/accounts-v2"
copy audit.db "$src/src/journal/testdata/audit-v1"
copy deliveries.db "$src/src/delivery/testdata/queue-v2"
