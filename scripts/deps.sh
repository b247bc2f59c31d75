#!/usr/bin/env bash
# Installs every Debian package the build, the tests and `make run` need.
# Idempotent and non-interactive: packages already present are not touched,
# and apt-get runs only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libgmime-3.0-dev libsodium-dev libsqlite3-dev libcurl4-openssl-dev zlib1g-dev
  libcpp-httplib-dev nlohmann-json3-dev libarchive-dev libtomlplusplus-dev libcli11-dev
  libspdlog-dev libfmt-dev libmagic-dev libgumbo-dev libmilter-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev llvm-14
  notmuch curl python3 sqlite3 util-linux
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
