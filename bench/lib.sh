# shellcheck shell=bash
# Shared by the bench scripts, which source it (after `cd` to the
# repository's root). Each script keeps the pid of the server it runs in
# $pid, for its EXIT trap to stop.

# wait_port LOG PID: waits (up to 30 s, and while PID lives) for the line
# "listening on http://127.0.0.1:PORT" that flareq or the peer writes to
# LOG, and prints PORT; else prints LOG to stderr and fails.
wait_port() {
  local port='' _
  for _ in $(seq 3000); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$2" 2>/dev/null || break
    sleep 0.01
  done
  cat "$1" >&2
  return 1
}

# stop_pid: stops the server $pid (SIGTERM) and waits for it.
stop_pid() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  pid=''
}

# callgrind_pushes OUT N BINARY [FLAGS...]: BINARY (with FLAGS) under
# callgrind, on :memory: with the manual clock so that no timer adds
# instructions, answers N single small pushes from one curl client
# (keep-alive) and stops; its profile is OUT, and OUT.log its output.
# Fails when a push is refused; the server is stopped either way (this may
# run in a subshell, where the caller's EXIT trap does not see $pid).
callgrind_pushes() {
  local out=$1 n=$2 binary=$3 port url i args=()
  shift 3
  valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" --lenient --port 0 \
    --db :memory: --clock manual --log-level warn --threads 1 "$@" >/dev/null 2>"$out.log" &
  pid=$!
  port=$(wait_port "$out.log" "$pid") || { stop_pid; return 1; }
  url="http://127.0.0.1:$port/client/v4/accounts/a/queues/q/messages"
  for i in $(seq "$n"); do
    args+=(-X POST -H 'Authorization: Bearer bench' -H 'Content-Type: application/json'
      -d '{"body":"hello","content_type":"text"}' "$url" -o /dev/null -w '%{http_code}\n')
    [ "$i" -lt "$n" ] && args+=(--next)
  done
  if [ "$n" -gt 0 ]; then
    curl -s "${args[@]}" >"$out.codes"
    if grep -qv '^200$' "$out.codes"; then
      echo "${0##*/}: pushes were refused:" >&2
      sort "$out.codes" | uniq -c >&2
      stop_pid
      return 1
    fi
  fi
  stop_pid
}
