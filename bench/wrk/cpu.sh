#!/bin/sh
# CPU time the obsforge server spends per GET /api/v1/stacks/{name}: utime + stime of the server
# process around one wrk run, divided by the requests served. Less sensitive to other load on the
# machine than requests/s. Usage: bench/wrk/cpu.sh BUILD_DIR (holds tests/server/server_bench_server)
set -eu
build=${1:?usage: cpu.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/obsforge-cpu.XXXXXX)
"$build/tests/server/server_bench_server" --data-dir "$work" --stacks "${STACKS:-100}" > "$work/port" &
server=$!
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  [ -s "$work/port" ] && break
  sleep 0.1
done
port=$(cat "$work/port")
curl -sf "http://127.0.0.1:$port/api/v1/stacks/shop" > /dev/null
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
before=$(ticks)
requests=$(wrk -c "${CONNS:-16}" -t 2 -d "${DURATION:-8s}" -s "$here/get_stack.lua" \
  "http://127.0.0.1:$port" | awk '/requests in/ {print $1}')
after=$(ticks)
hz=$(getconf CLK_TCK)
awk -v r="$requests" -v t="$((after - before))" -v hz="$hz" \
  'BEGIN { printf "%d requests, %.1f us CPU per request\n", r, t * 1000000 / hz / r }'
