#!/usr/bin/env bash
# The "backup of the Backup" (docs/install.md, "Backup and restore"): a
# store with copies sealed to two keys is backed up as `mailvault keys
# export` + a copy of store.json, settings.json and segments/, restored on
# another data dir with `keys import` + the copy + `rebuild-index`, and
# every copy reads back byte for byte (hostile bytes included). Also: the
# wrong passphrase, an altered export and an import over existing keys are
# refused, and the export is 0600 and holds no key in clear.
#
# Usage: backup_restore_test.sh BIN_DIR.  No root, no services.
set -euo pipefail
bin=$(cd "${1:?usage: backup_restore_test.sh BIN_DIR}" && pwd)
mv="$bin/mailvault"
T=$(mktemp -d /tmp/mailvault-backup-test.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

A="$T/a"; B="$T/b"
"$mv" init --data "$A" >/dev/null
# Messages as senders send them: NUL, invalid UTF-8, bare CR/LF, bidi, binary.
printf 'From: a@example.org\r\nSubject: =?utf-8?q?=E2=80=AEfdp.exe?=\r\n\r\nbody\x00\xff\xfe\rbare\n\xe2\x80\xae\r\n' >"$T/m1"
head -c 400000 /dev/urandom >"$T/m2"
printf 'Subject: after the new key\n\nplain\n' >"$T/m3"
"$mv" put --data "$A" --mail-from a@example.org --rcpt b@example.com --status anti-spam=spam "$T/m1" >/dev/null
"$mv" put --data "$A" --mail-from a@example.org --rcpt b@example.com --status anti-virus=infected "$T/m2" >/dev/null
"$mv" keys add --data "$A" >/dev/null
"$mv" put --data "$A" --rcpt c@example.com --status anti-spam=spam "$T/m3" >/dev/null
# A deleted copy stays deleted in the restore.
"$mv" put --data "$A" --rcpt d@example.com --status anti-spam=spam "$T/m3" >/dev/null
"$mv" delete --data "$A" 4 >/dev/null

printf 'a passphrase for the backup\n' >"$T/pass"
"$mv" keys export --data "$A" --passphrase-file "$T/pass" "$T/keys.mvk" 2>/dev/null
check "export is 0600" [ "$(stat -c %a "$T/keys.mvk")" = 600 ]
check "export starts with its magic and version 1" \
  [ "$(head -c 9 "$T/keys.mvk" | od -An -c | tr -d ' \n')" = 'MVKEYEXP001' ]
no_clear_key() {
  local f hex
  for f in "$A"/keys/*.sec "$A/keys/index.key"; do
    hex=$(od -An -tx1 "$f" | tr -d ' \n')
    od -An -tx1 "$T/keys.mvk" | tr -d ' \n' | grep -q "$hex" && return 1
  done
  return 0
}
check "no key file appears in clear in the export" no_clear_key
check "export refuses to overwrite a file" \
  bash -c "! '$mv' keys export --data '$A' --passphrase-file '$T/pass' '$T/keys.mvk' 2>/dev/null"

# The backup of the data: what is not rebuilt (the index is).
mkdir "$T/backup"
cp -a "$A/store.json" "$A/segments" "$T/backup/"
# settings.json holds the policy; it exists once a policy setting was changed.
if [ -e "$A/settings.json" ]; then cp -a "$A/settings.json" "$T/backup/"; fi

printf 'not the passphrase\n' >"$T/wrong"
check "wrong passphrase is refused" \
  bash -c "! '$mv' keys import --data '$T/w' --passphrase-file '$T/wrong' '$T/keys.mvk' 2>'$T/wrong.err'"
check "... saying so" grep -q "wrong passphrase" "$T/wrong.err"
cp "$T/keys.mvk" "$T/altered.mvk"
printf '\x00' | dd of="$T/altered.mvk" bs=1 seek=100 conv=notrunc 2>/dev/null
check "altered export is refused" \
  bash -c "! '$mv' keys import --data '$T/x' --passphrase-file '$T/pass' '$T/altered.mvk' 2>/dev/null"
check "import over existing keys is refused" \
  bash -c "! '$mv' keys import --data '$A' --passphrase-file '$T/pass' '$T/keys.mvk' 2>/dev/null"

# Restore on another data dir, the export coming on stdin.
"$mv" keys import --data "$B" --passphrase-file "$T/pass" - <"$T/keys.mvk" >/dev/null
cp -a "$T/backup/store.json" "$T/backup/segments" "$B/"
if [ -e "$T/backup/settings.json" ]; then cp -a "$T/backup/settings.json" "$B/"; fi
"$mv" rebuild-index --data "$B" >/dev/null 2>&1
check "restored store verifies" "$mv" verify --data "$B"
check "restored keys are the same ring" \
  [ "$("$mv" keys list --data "$B" --json)" = "$("$mv" keys list --data "$A" --json)" ]
for i in 1 2 3; do
  "$mv" save "$i" --data "$B" -o "$T/r$i" >/dev/null
done
check "copy 1 (hostile bytes) byte for byte" cmp -s "$T/r1" "$T/m1"
check "copy 2 (binary, key 1) byte for byte" cmp -s "$T/r2" "$T/m2"
check "copy 3 (key 2) byte for byte" cmp -s "$T/r3" "$T/m3"
check "deleted copy stays deleted" bash -c "! '$mv' save 4 --data '$B' -o '$T/r4' 2>/dev/null"
check "restored data dir is 0700, keys 0600" \
  bash -c "[ \$(stat -c %a '$B') = 700 ] && [ \$(stat -c %a '$B'/keys/1.sec) = 600 ]"

echo "backup_restore: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
