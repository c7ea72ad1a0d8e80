#!/usr/bin/env bash
# The real image, built from docker/Dockerfile by docker/image and run: with
# docker when an engine answers, else with `buildah run --isolation chroot`
# (the image's root file system and user, on this machine's network).
#   - the image: under 15 MB, no shell in it, user 10001, VOLUME /data, the
#     HEALTHCHECK `flareq healthcheck`
#   - its entrypoint started on /data (a folder of this test's), on loopback
#   - the image's HEALTHCHECK passes, the process' uid is 10001, not 0
#   - the SDK pushes two messages, pulls and acknowledges one
#   - SIGTERM stops it with exit code 0
#   - started again on the same /data, the SDK finds the other message
#   - on a read-only /data, start-up fails with exit code 2 and says why
# Exit code 77 (a skip, to ctest) when no engine can build here, saying why.
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly tag=localhost/flareq:test max_bytes=15000000 uid=10001
passed=0
ok() {
  echo "ok: $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $*"
  exit 1
}

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  engine=docker
elif ! command -v buildah >/dev/null 2>&1; then
  echo "SKIPPED: no Docker engine answers and buildah is not installed (./dev image installs it)"
  exit 77
elif [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: no Docker engine answers, and buildah's chroot isolation needs root"
  exit 77
else
  engine=buildah
  # Whether buildah can keep containers here at all (its storage driver on
  # this file system): if not, no image can be built, which is the machine's
  # limit, not the image's.
  if ! probe=$(buildah from scratch 2>/tmp/flareq-probe.$$); then
    echo "SKIPPED: buildah cannot keep containers on this machine: $(cat /tmp/flareq-probe.$$)"
    rm -f /tmp/flareq-probe.$$
    exit 77
  fi
  rm -f /tmp/flareq-probe.$$
  if ! why=$(buildah mount "$probe" 2>&1); then
    echo "SKIPPED: buildah cannot mount a container on this machine: $why"
    buildah rm "$probe" >/dev/null 2>&1 || true
    exit 77
  fi
  buildah umount "$probe" >/dev/null 2>&1 || true
  buildah rm "$probe" >/dev/null
fi

for need in node ss python3; do
  command -v "$need" >/dev/null 2>&1 ||
    fail "$need is missing (./dev test installs it)"
done
[ -d docker/example-client/node_modules/cloudflare ] ||
  fail "docker/example-client/node_modules lacks the SDK (./dev test installs it)"

# A run killed before its clean-up (ctest's timeout is a SIGKILL) left its
# image and the containers made from it: gone before this run builds anew.
if [ "$engine" = docker ]; then docker rmi -f "$tag" >/dev/null 2>&1 || true; else buildah rmi -f "$tag" >/dev/null 2>&1 || true; fi

data=$(mktemp -d) log=$(mktemp)
pid='' runner='' containers=()
# kill_tree PID: PID and every process under it (buildah run, its chroot
# helper, flareq).
kill_tree() {
  local child
  for child in $(pgrep -P "$1" || true); do kill_tree "$child"; done
  kill -9 "$1" 2>/dev/null || true
}
cleanup() {
  if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
  if [ -n "$runner" ]; then kill_tree "$runner"; fi
  for c in "${containers[@]}"; do
    if [ "$engine" = docker ]; then docker rm -f "$c" >/dev/null 2>&1 || true; else buildah rm "$c" >/dev/null 2>&1 || true; fi
  done
  # The image itself: each run builds it anew, and keeps no copy behind.
  if [ "$engine" = docker ]; then docker rmi -f "$tag" >/dev/null 2>&1 || true; else buildah rmi "$tag" >/dev/null 2>&1 || true; fi
  rm -rf "$data" "$log"
}
trap cleanup EXIT
# /data as the image's user finds it: its own (only root can give it away;
# a docker user who is not root lends the folder to everyone instead).
if [ "$(id -u)" -eq 0 ]; then chown "$uid:$uid" "$data"; else chmod 0777 "$data"; fi

# --- the image -------------------------------------------------------------
started=$SECONDS
docker/image "$tag" >"$log" 2>&1 || {
  tail -n 60 "$log"
  fail "docker/image could not build $tag"
}
size_line=$(tail -n 1 "$log")
bytes=$(awk '{print $3}' <<<"$size_line")
[ "$bytes" -lt "$max_bytes" ] || fail "$size_line: not under $max_bytes bytes"
ok "built with $engine in $((SECONDS - started)) s: $size_line"

if [ "$engine" = docker ]; then
  config=$(docker image inspect -f '{{json .Config}}' "$tag")
else
  config=$(buildah inspect --type image "$tag" |
    python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["Docker"]["config"]))')
fi
python3 - "$config" "$uid" <<'EOF' || fail "the image's configuration"
import json, sys
c, uid = json.loads(sys.argv[1]), sys.argv[2]
want = {
    "User": f"{uid}:{uid}",
    "Entrypoint": ["flareq"],
    "Volumes": {"/data": {}},
    "Healthcheck.Test": ["CMD", "flareq", "healthcheck"],
}
got = dict(c)
got["Healthcheck.Test"] = (c.get("Healthcheck") or {}).get("Test")
bad = {k: got.get(k) for k, v in want.items() if got.get(k) != v}
for k, v in bad.items():
    print(f"  {k}: {v!r}, not {want[k]!r}")
sys.exit(1 if bad else 0)
EOF
ok "user $uid:$uid, ENTRYPOINT flareq, VOLUME /data, HEALTHCHECK flareq healthcheck"

if [ "$engine" = docker ]; then
  c=$(docker create "$tag")
  containers+=("$c")
  files=$(docker export "$c" | tar -t | sed 's|/$||')
else
  c=$(buildah from "$tag")
  containers+=("$c")
  files=$(cd "$(buildah mount "$c")" && find . | sed 's|^\./||')
  buildah umount "$c" >/dev/null
fi
if grep -Eq '^(usr/)?bin/(sh|bash|dash)$' <<<"$files"; then fail "the image holds a shell"; fi
grep -qx 'usr/local/bin/flareq' <<<"$files" || fail "no usr/local/bin/flareq in the image"
ok "no shell and no distribution: $(grep -c . <<<"$files") paths, flareq among them"

# --- running it --------------------------------------------------------------
# start: the image's entrypoint on $data, on loopback and a free port; sets
# $pid (the flareq process), $port and $runner (what waits for its exit).
if [ "$engine" = buildah ]; then
  ctr=$(buildah from "$tag")
  containers+=("$ctr")
  # As `docker run -v DIR:/data`: the image's declared volume gives way to
  # the folder bound there (buildah would mount its own otherwise).
  buildah config --volume /data- "$ctr"
fi
start() {
  : >"$log"
  if [ "$engine" = docker ]; then
    name=flareq-test-$$-$1
    containers+=("$name")
    docker run -d --name "$name" -p 127.0.0.1::8789 -v "$data:/data" "$tag" >/dev/null
    port=$(docker port "$name" 8789/tcp | head -n 1 | sed 's/.*://')
    pid=''
    return 0
  fi
  buildah run --isolation chroot -v "$data:/data" "$ctr" -- flareq --host 127.0.0.1 --port 0 \
    >"$log" 2>&1 &
  runner=$!
  port=''
  for _ in $(seq 300); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    kill -0 "$runner" 2>/dev/null || { cat "$log"; fail "the container exited at start-up"; }
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$log"; fail "no start-up line"; }
  pid=$(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
  [ -n "$pid" ] || fail "no process listens on port $port"
}

# healthy: the image's HEALTHCHECK, as the engine runs it.
healthy() {
  local status
  if [ "$engine" = docker ]; then
    for _ in $(seq 60); do
      status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
      [ "$status" = healthy ] && return 0
      sleep 0.5
    done
    fail "docker says the container is $status"
  fi
  local check
  check=$(buildah from "$tag")
  containers+=("$check")
  for _ in $(seq 100); do
    if buildah run --isolation chroot -e "FLAREQ_PORT=$port" "$check" -- flareq healthcheck \
      >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  fail "flareq healthcheck never passed inside the image"
}

# stop: SIGTERM to flareq; the container's exit code must be 0.
stop() {
  local code=0
  if [ "$engine" = docker ]; then
    docker stop -t 30 "$name" >/dev/null
    code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
    docker logs "$name" >"$log" 2>&1
  else
    kill -TERM "$pid"
    wait "$runner" || code=$?
    runner=''
  fi
  pid=''
  [ "$code" -eq 0 ] || { cat "$log"; fail "exit code $code after SIGTERM"; }
  grep -q 'stopped cleanly' "$log" || { cat "$log"; fail "no 'stopped cleanly' after SIGTERM"; }
}

# sdk STEP: tests/container/sdk.mjs against the container; what it printed
# counts as a check passed.
sdk() {
  local out
  out=$(CLOUDFLARE_BASE_URL="http://127.0.0.1:$port/client/v4" node tests/container/sdk.mjs \
    "$1" 2>&1) || { echo "$out"; cat "$log"; fail "the SDK's $1 step"; }
  ok "$out"
}

start 1
healthy
ok "started on port $port; the image's HEALTHCHECK passed"
if [ "$engine" = docker ]; then
  running_uid=$(docker top "$name" -eo pid,uid,comm | awk '$3 == "flareq" {print $2}')
else
  running_uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
fi
[ "$running_uid" = "$uid" ] || fail "flareq runs as uid $running_uid, not $uid"
ok "flareq runs as uid $running_uid"
sdk push
stop
ok "SIGTERM: exit code 0, stopped cleanly"
owner=$(stat -c %u "$data/flareq.db")
[ "$owner" = "$uid" ] || fail "the database belongs to uid $owner"
ok "the database is in the volume, owned by uid $owner"

start 2
healthy
sdk check
stop
ok "started again on the same /data; stopped again with exit code 0"

code=0
if [ "$engine" = docker ]; then
  # Named, so that the clean-up removes it should it hang (timeout stops
  # only the client).
  containers+=("flareq-test-$$-ro")
  timeout 60 docker run --rm --name "flareq-test-$$-ro" -v "$data:/data:ro" "$tag" >"$log" 2>&1 ||
    code=$?
else
  timeout -k 5 60 buildah run --isolation chroot -v "$data:/data:ro" "$ctr" -- flareq --host 127.0.0.1 --port 0 \
    >"$log" 2>&1 || code=$?
fi
[ "$code" -eq 2 ] || { cat "$log"; fail "exit code $code on a read-only /data, not 2"; }
grep -q 'mounted read-only' "$log" || { cat "$log"; fail "no word of the read-only mount"; }
ok "read-only /data: exit code 2, $(grep -m 1 -o 'flareq: .*read-only[^;]*' "$log")"

echo "$passed passed, 0 failed"
