#!/usr/bin/env bash
# Installs every Debian package the build, the tests and `make run` need.
# Idempotent and non-interactive: packages already present are not touched,
# and apt-get runs only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libgmime-3.0-dev libsodium-dev libsqlite3-dev libcurl4-openssl-dev zlib1g-dev
  libcpp-httplib-dev nlohmann-json3-dev libarchive-dev libtomlplusplus-dev libcli11-dev
  libspdlog-dev libfmt-dev libmagic-dev libgumbo-dev libseccomp-dev
  libldap-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev llvm-14 clang-format
  notmuch curl python3 sqlite3 util-linux
  # Integration tests: private Postfix/clamd/rspamd instances started by
  # tests/integration/lib/services.sh (never the system services).
  postfix clamav clamav-daemon clamav-testfiles rspamd swaks python3-aiosmtpd
  # ... and a private slapd with a test CA (tests/integration/lib/slapd.sh).
  slapd ldap-utils openssl
  # Console browser tests: Debian's Chromium, driven by playwright-core.
  chromium
  # `make deb` and package_test.sh: CPack (in cmake) calls dpkg-shlibdeps
  # (dpkg-dev); the test checks the unit with systemd-analyze (systemd,
  # not run as PID 1) and installs the package (adduser, init-system-helpers
  # for its maintainer scripts).
  dpkg-dev systemd adduser init-system-helpers
)
# The console's front end (web/) is built with Node.js 18 or newer and npm.
# A node already on PATH (nvm, NodeSource, a newer Debian) is used as it is;
# Debian 12's nodejs 18 works with the versions web/package-lock.json pins.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

# One dpkg-query for all (fast when everything is there); it exits non-zero
# when some package is unknown to dpkg, which just means "missing".
installed=" $(dpkg-query -W -f='${Package}:${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null \
  | awk -F: '$NF ~ /^ii/ { printf "%s ", $1 }' || true)"
missing=()
for p in "${PACKAGES[@]}"; do
  case "$installed" in *" $p "*) ;; *) missing+=("$p") ;; esac
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# Postfix: install without asking and without writing /etc/postfix/main.cf.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# slapd: no system directory (the tests run their own private slapd).
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections

# Keep package scripts from starting system-wide daemons (postfix, clamd,
# freshclam, rspamd): the tests run their own private instances. A
# policy-rc.d that exits 101 forbids invoke-rc.d/deb-systemd-invoke starts;
# one already present is left alone, ours is removed again afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# added by mailvault scripts/deps.sh during apt-get\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  own_policy=1
fi
drop_policy() { if [ "$own_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap drop_policy EXIT

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
