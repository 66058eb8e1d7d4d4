#!/bin/sh
# Runs the GET /api/v1/stacks/{name} benchmark and Prometheus's /-/healthy baseline with the
# same wrk settings, one after the other. Usage: bench/wrk/run.sh BUILD_DIR
# (BUILD_DIR holds tests/server/server_bench_server; use a Release build).
set -eu
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/obsforge-wrk.XXXXXX)
conns=${CONNS:-64} threads=${THREADS:-2} duration=${DURATION:-10s}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$build/tests/server/server_bench_server" --data-dir "$work/obsforge" --stacks "${STACKS:-100}" > "$work/port" &
server=$!
prom_port=$(free_port)
prometheus --config.file=/dev/null --storage.tsdb.path="$work/prom" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
prom=$!
trap 'kill $server $prom 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  [ -s "$work/port" ] && curl -sf "http://127.0.0.1:$prom_port/-/healthy" >/dev/null && break
  sleep 0.1
done
port=$(cat "$work/port")
curl -sf "http://127.0.0.1:$port/api/v1/stacks/shop" > /dev/null
echo "== obsforge RSS idle, ${STACKS:-100} stacks stored: $(ps -o rss= -p $server) KiB"

echo "== obsforge GET /api/v1/stacks/shop ($conns connections, $threads threads, $duration)"
wrk -c "$conns" -t "$threads" -d "$duration" --latency -s "$here/get_stack.lua" "http://127.0.0.1:$port"
echo "== prometheus GET /-/healthy ($conns connections, $threads threads, $duration)"
wrk -c "$conns" -t "$threads" -d "$duration" --latency -s "$here/healthy.lua" "http://127.0.0.1:$prom_port"
echo "== obsforge RSS after the run: $(ps -o rss= -p $server) KiB"
