#!/usr/bin/env bash
# Max /v1/check throughput with wrk (a C load generator, Debian's `wrk` package) as the
# client: the Python client of bench_http.py costs ~0.3 ms of CPU per request on the
# same 2 cores, about what the server spends, so it caps what it can show.
# Usage: bench/wrk/run.sh STORE WORKERS [SECONDS] [CONNECTIONS]
#   e.g. bench/wrk/run.sh memory 1; bench/wrk/run.sh sqlite 2; bench/wrk/run.sh redis://127.0.0.1:6379/9 2
# wrk is pinned to core 0; the server may use both. Prints wrk's summary and the server's
# CPU seconds (utime+stime of the uvicorn processes) during the run. SPAM_SHARE (default
# 0.05) sets the share of spam in the traffic, as in bench_http.py.
set -euo pipefail
STORE=$1; WORKERS=$2; SECS=${3:-15}; CONNS=${4:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
DIR=$(mktemp -d); PORT=$(python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
export BODIES=$DIR/bodies.txt
python - "$BODIES" <<'PY'
import sys
sys.path.insert(0, __import__("os").path.join(__import__("os").getcwd(), "bench"))
from bench_http import Traffic
t = Traffic("wrk", spam_share=float(__import__("os").environ.get("SPAM_SHARE", "0.05")))
with open(sys.argv[1], "w") as f:
    for _ in range(200_000):
        f.write(t.next().decode() + "\n")
PY
python -c "from spimguard.interfaces.cli import main; main()" serve --port "$PORT" --store "$STORE" \
    --workers "$WORKERS" --data-dir "$DIR/data" > "$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
TOKEN=$(python -c "from spimguard.interfaces.cli import main; main()" keys create wrk --scope check \
    --data-dir "$DIR/data" | tail -1 | python -c "import sys, json; print(json.load(sys.stdin)['token'])")
export TOKEN
taskset -c 0 wrk -t1 -c8 -d3s -s "$HERE/check.lua" "http://127.0.0.1:$PORT/v1/check" >/dev/null
PIDS="$SERVER $( (pgrep -P $SERVER || true) | tr "\n" " ")"
cpu() { local t=0; for p in $PIDS; do [ -r /proc/$p/stat ] && t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
A=$(cpu)
taskset -c 0 wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$HERE/check.lua" "http://127.0.0.1:$PORT/v1/check"
B=$(cpu)
echo "store=$STORE workers=$WORKERS server_cpu_s=$(python -c "print(($B-$A)/$(getconf CLK_TCK))")"
