#!/usr/bin/env bash
# The container, without a Docker engine: the Dockerfile's promises, then
# its build and run steps (docker/stage) on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0

expect() {
  if grep -Eq -- "$2" docker/Dockerfile; then
    echo "ok: Dockerfile $1"; passed=$((passed + 1))
  else
    echo "FAIL: Dockerfile $1 (no line matching '$2')"; failed=$((failed + 1))
  fi
}
expect "builds with docker/stage" '^RUN .*docker/stage build /stage'
expect "checks the staged root with docker/stage" 'docker/stage check /stage'
expect "ships a slim runtime" '^FROM debian:12-slim'
expect "copies only the staged root into it" '^COPY --from=build /stage/ /'
expect "creates a non-root user" 'useradd .*flareq'
expect "runs as that user" '^USER flareq'
expect "keeps its database in the volume /data" '^VOLUME \["/data"\]'
expect "puts the database there" 'FLAREQ_DB=/data/flareq.db'
expect "listens on 0.0.0.0:8789" 'FLAREQ_HOST=0.0.0.0'
expect "declares a HEALTHCHECK that needs no curl" '^HEALTHCHECK .*CMD \["flareq", "healthcheck"\]'
expect "starts flareq" '^ENTRYPOINT \["flareq"\]'

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
docker/stage build "$root" >/dev/null
if out=$(docker/stage check "$root"); then
  n=${out%% passed*}
  passed=$((passed + n))
  echo "ok: staged root passes docker/stage check ($out)"
else
  echo "FAIL: docker/stage check"; failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
