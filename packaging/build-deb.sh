#!/usr/bin/env bash
# Packages the programs in BIN_DIR as OUT_DIR/mailvault_VERSION_amd64.deb
# (packaging/CMakeLists.txt says how and why CPack). Builds nothing: the
# programs must be there (`make deb` builds them first; package_test.sh
# packages the ones `make test` built). Prints the .deb's path.
#
#   packaging/build-deb.sh BIN_DIR OUT_DIR [VERSION]
set -euo pipefail
bin=$(cd "${1:?usage: build-deb.sh BIN_DIR OUT_DIR [VERSION]}" && pwd)
out=$(mkdir -p "${2:?usage: build-deb.sh BIN_DIR OUT_DIR [VERSION]}" && cd "$2" && pwd)
version=${3:-0.1.0}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mailvault-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake -S "$here" -B "$work" -DMV_BIN_DIR="$bin" -DMV_VERSION="$version" >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log" >&2; exit 1; }
(cd "$work" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; exit 1; }
deb="mailvault_${version}_amd64.deb"
[ -f "$work/$deb" ] || { echo "build-deb: cpack made no $deb" >&2; cat "$work/cpack.log" >&2; exit 1; }
mv "$work/$deb" "$out/$deb"
echo "$out/$deb"
