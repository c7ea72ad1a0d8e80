#!/usr/bin/env bash
# docker/compose.yaml: checked by `docker compose config` (or Debian's
# docker-compose; neither needs an engine for it), then its shape: flareq
# built from docker/Dockerfile with its data in a volume at /data, on
# loopback's port 8789, and the example client started only once flareq's
# HEALTHCHECK passes, pointed at it. With neither command, the file's YAML
# alone is checked, and the test says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
file=docker/compose.yaml

if docker compose version >/dev/null 2>&1; then
  validator="docker compose"
elif command -v docker-compose >/dev/null 2>&1; then
  validator=docker-compose
else
  validator=''
fi
if [ -n "$validator" ]; then
  # A dependency on a missing service must fail, or the check proves nothing.
  broken=$(mktemp --suffix=.yaml)
  trap 'rm -f "$broken"' EXIT
  sed 's/^\(      \)flareq:$/\1no-such-service:/' "$file" >"$broken"
  if $validator -f "$broken" config >/dev/null 2>&1; then
    echo "FAIL: $validator accepts a dependency on a missing service"
    exit 1
  fi
  normalized=$($validator -f "$file" config) || {
    echo "FAIL: $validator -f $file config"
    exit 1
  }
  echo "ok: $validator -f $file config accepts it (and refuses a dependency on a missing service)"
else
  echo "note: neither 'docker compose' nor docker-compose is installed; checking the YAML alone"
  normalized=$(cat "$file")
fi

python3 - "$normalized" <<'PY'
import sys
import yaml

c = yaml.safe_load(sys.argv[1])
s = c["services"]
flareq, client = s["flareq"], s["client"]
checks = [
    ("flareq is built from docker/Dockerfile",
     flareq["build"]["dockerfile"] == "docker/Dockerfile"),
    ("flareq keeps its data in the volume flareq-data at /data",
     any(str(v).startswith("flareq-data:/data") or
         (isinstance(v, dict) and v.get("source") == "flareq-data" and v.get("target") == "/data")
         for v in flareq["volumes"]) and "flareq-data" in c.get("volumes", {})),
    ("flareq is published on 127.0.0.1:8789",
     any(str(p).startswith("127.0.0.1:8789:8789") or
         (isinstance(p, dict) and p.get("host_ip") == "127.0.0.1" and str(p.get("published")) == "8789")
         for p in flareq["ports"])),
    ("the client waits until flareq is healthy",
     client["depends_on"]["flareq"]["condition"] == "service_healthy"),
    ("the client's SDK points at flareq",
     client["environment"]["CLOUDFLARE_BASE_URL"] == "http://flareq:8789/client/v4"),
]
failed = 0
for what, good in checks:
    print(("ok: " if good else "FAIL: ") + what)
    failed += not good
print(f"{len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
