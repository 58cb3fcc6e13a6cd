#!/usr/bin/env bash
# Reproduces the HTTP figures in docs/BENCHMARKS.md: binary size, start-up
# time, idle memory, and loadgen runs of GET /auth/me and of creating a care
# recipient, on SQLite and (when BENCH_POSTGRES_URL is set) on PostgreSQL.
#
#   bash scripts/bench-http.sh                 # SQLite only
#   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
#     bash scripts/bench-http.sh               # both
#
# DURATION (default 20s) and WORKERS (default 16) tune each run.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
WORKERS=${WORKERS:-16}
PORT=${PORT:-4100}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/carecircle" ./cmd/carecircle
go build -o "$work/loadgen" ./cmd/loadgen
echo "binary size: $(du -h "$work/carecircle" | cut -f1) ($(stat -c %s "$work/carecircle") bytes)"

now_ms() { date +%s%3N; }

# start_server DATA_DIR [DATABASE_URL]: starts the binary, waits for /health/live,
# and prints the start-up time.
start_server() {
  local dir=$1 db=${2:-}
  local t0; t0=$(now_ms)
  DATA_DIR=$dir DATABASE_URL=$db PORT=$PORT RATE_LIMIT_ENABLED=false LOG_LEVEL=warn \
    "$work/carecircle" serve >"$dir.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 2000); do
    if curl -fs "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1; then
      echo "start-up to first answer: $(( $(now_ms) - t0 )) ms"
      return 0
    fi
    sleep 0.01
  done
  echo "server did not start:"; cat "$dir.log"; return 1
}

rss() { awk '/VmRSS/ {print $2/1024 " MiB"}' "/proc/$1/status"; }

bench() {
  local label=$1 db=${2:-}
  local dir="$work/$label"
  mkdir -p "$dir"
  echo
  echo "## $label"
  start_server "$dir" "$db"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  start_server "$dir" "$db"         # second start: database already migrated
  sleep 2
  echo "idle RSS: $(rss "$SERVER_PID")"
  echo "| backend | scenario | workers | requests | req/s | p50 ms | p99 ms | max ms | success |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for scenario in me create-care-recipient; do
    "$work/loadgen" -target "http://127.0.0.1:$PORT" -outbox "$dir/outbox" -scenario "$scenario" \
      -workers "$WORKERS" -duration "$DURATION" -label "$label" -format markdown
  done
  echo "RSS after load: $(rss "$SERVER_PID")"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
}

bench sqlite
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  db="carecircle_bench_$$"
  psql "$BENCH_POSTGRES_URL" -qc "CREATE DATABASE $db"
  trap 'kill $(jobs -p) 2>/dev/null || true; psql "$BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS '"$db"'" >/dev/null; rm -rf "$work"' EXIT
  bench postgres "$(echo "$BENCH_POSTGRES_URL" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")"
fi
