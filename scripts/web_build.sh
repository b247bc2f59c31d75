#!/usr/bin/env bash
# The console front end's build steps, run by src/console/web_assets.cmake:
#   web_build.sh deps  WEB_DIR STAMP          npm ci (only when node_modules is stale)
#   web_build.sh build WEB_DIR OUT_DIR STAMP  type check, then vite build into OUT_DIR
#   web_build.sh test  WEB_DIR                the vitest unit tests
# Several build trees (build, build-asan, a developer's own) share one
# web/node_modules, so every step holds WEB_DIR/.npm.lock: `npm ci` empties
# node_modules first and must never run under another tree's vite or
# vitest. The tools are run from node_modules/.bin, never through npx, so a
# missing install fails instead of fetching packages.
set -euo pipefail

step=${1:?usage: web_build.sh deps|build|test WEB_DIR ...}
web=${2:?WEB_DIR}
cd "$web"
exec 9>.npm.lock
flock 9

bin=node_modules/.bin
case "$step" in
  deps)
    stamp=${3:?STAMP}
    # npm ci rewrites node_modules/.package-lock.json; when it is newer than
    # the lockfile another tree has already installed this lockfile.
    if [ -x "$bin/vite" ] && [ -x "$bin/vitest" ] && [ -x "$bin/tsc" ] &&
      [ node_modules/.package-lock.json -nt package-lock.json ] &&
      [ node_modules/.package-lock.json -nt package.json ]; then
      echo "web: node_modules is current"
    else
      npm ci --no-audit --no-fund --prefer-offline
    fi
    touch "$stamp"
    ;;
  build)
    out=${3:?OUT_DIR}
    stamp=${4:?STAMP}
    "$bin/tsc" --noEmit
    "$bin/vite" build --logLevel warn --outDir "$out" --emptyOutDir
    touch "$stamp"
    ;;
  test)
    "$bin/vitest" run
    ;;
  *)
    echo "web_build.sh: unknown step $step" >&2
    exit 2
    ;;
esac
