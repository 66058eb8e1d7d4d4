#!/bin/sh
# The console's overview with 100 stacks (200 environments): server time of GET / (rendered on the
# server), of the data the script refetches on each change (GET /api/v1/overview, as tiles and as
# JSON) and, as a baseline from the same run, of GET /api/v1/stacks (the plain list); then the
# page weight (the page, its script and its style). Server time is what the server logs as the
# request's duration_ms (routing to the last byte written), over REQUESTS sequential requests,
# and the server's CPU time per request over the same requests.
# Usage: bench/console.sh BUILD_DIR  (BUILD_DIR holds tests/server/server_bench_server; Release)
set -eu
build=${1:?usage: console.sh BUILD_DIR}
work=$(mktemp -d /tmp/obsforge-console.XXXXXX)
stacks=${STACKS:-100} requests=${REQUESTS:-300}

"$build/tests/server/server_bench_server" --data-dir "$work" --stacks "$stacks" > "$work/port" &
server=$!
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.1; done
base="http://127.0.0.1:$(cat "$work/port")"

# The server's CPU time (utime + stime, in clock ticks) from /proc: load-independent, unlike
# wall time on a shared machine.
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
tick=$(getconf CLK_TCK)
for path in / "/api/v1/overview?format=html" /api/v1/overview /api/v1/stacks; do
  curl -sf -o /dev/null "$base$path"  # warm: caches, first SQLite reads
  before=$(cpu)
  i=0
  while [ $i -lt "$requests" ]; do curl -sf -o /dev/null "$base$path"; i=$((i + 1)); done
  echo "$path $(( ($(cpu) - before) * 1000000 / tick / requests ))" >> "$work/cpu"
done
weight() { curl -sf -o /dev/null -w '%{size_download}' "$base$1"; }
page=$(weight /) js=$(weight /console/console.js) css=$(weight /console/console.css)
tiles=$(weight "/api/v1/overview?format=html")
kill $server; wait $server 2>/dev/null || true

echo "== page weight, $stacks stacks (bytes, uncompressed)"
echo "GET / (tiles rendered on the server): $page; console.js: $js; console.css: $css;" \
  "total: $((page + js + css)); each refresh (tiles): $tiles"
echo "== server time, $stacks stacks, $requests sequential requests each (ms)"
python3 - "$work/server.log" "$requests" <<'PY'
import json, statistics, sys
requests = int(sys.argv[2])
labels = ["GET /", "GET /api/v1/overview?format=html", "GET /api/v1/overview",
          "GET /api/v1/stacks (baseline)"]
ms = [float(e["duration_ms"]) for e in map(json.loads, open(sys.argv[1]))
      if e.get("msg") == "request"]
print(f"{'request':36} {'n':>5} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8}")
for k, label in enumerate(labels):
    run = sorted(ms[k * (requests + 1) + 1:(k + 1) * (requests + 1)])  # without the warm-up
    pick = lambda q: run[min(len(run) - 1, int(q * len(run)))]
    print(f"{label:36} {len(run):5} {statistics.median(run):8.2f} {pick(0.9):8.2f} "
          f"{pick(0.99):8.2f} {run[-1]:8.2f}")
PY
echo "== server CPU time per request (µs, utime + stime over the same requests)"
cat "$work/cpu"
