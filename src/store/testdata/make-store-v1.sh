#!/usr/bin/env bash
# Made src/store/testdata/store-v1/ with the mailvault build of commit
# ae64574, the last whose records held version-1 (JSON) metadata. Kept for
# the record: a build after that commit writes version 2 and cannot remake
# this fixture. store_fixture_test.cc holds the same two messages.
set -euo pipefail
bin=${1:?usage: make-store-v1.sh BIN_DIR OUT_DIR}
out=${2:?usage: make-store-v1.sh BIN_DIR OUT_DIR}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Quarterly report\r\nMessage-ID: <v1-first@example.com>\r\nDate: Sun, 22 Nov 2026 08:00:00 +0000\r\n\r\nFirst message, stored with version-1 metadata.\r\n' > "$tmp/first.eml"
printf 'From: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= <g@example.net>\r\nTo: carol@example.org\r\nSubject: Invoice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=invoice.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n' > "$tmp/second.eml"
"$bin/mailvault" init --data "$out"
"$bin/mailvault" put --data "$out" --mail-from alice@example.com --rcpt bob@example.org \
  --rule R1 --status anti-spam=spam --reason GTUBE "$tmp/first.eml"
"$bin/mailvault" put --data "$out" --mail-from g@example.net --rcpt carol@example.org \
  --rule R2 --status content-filtering=banned-file-name --reason "banned name" "$tmp/second.eml"
rm -f "$out/LOCK"
