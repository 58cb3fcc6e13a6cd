#!/usr/bin/env bash
# Measures the API's tail and its CPU per request on PostgreSQL + Redis:
# loadgen drives GET /auth/me and the care-recipient list with WORKERS
# keep-alive connections, and the server's own CPU time (utime + stime from
# /proc) is divided by the requests it answered. The other reads an app
# makes when it opens (families, medications, today's schedule) follow, each
# alone, then app-open: all five in turn.
#
#   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
#   BENCH_REDIS_PORT=6492 bash scripts/bench-api-cpu.sh
#
# It starts its own redis-server on BENCH_REDIS_PORT and a fresh database,
# and removes both at the end. DURATION (default 15s), WORKERS (default 32),
# SCENARIOS (default: all of the above, in that order).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
WORKERS=${WORKERS:-32}
PORT=${PORT:-4110}
RPORT=${BENCH_REDIS_PORT:-6492}
SCENARIOS=${SCENARIOS:-me list-care-recipients list-families list-medications schedule-today app-open}
: "${BENCH_POSTGRES_URL:?set BENCH_POSTGRES_URL}"
work=$(mktemp -d)
db="carecircle_cpu_$$"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1 || true
  psql "$BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/carecircle" ./cmd/carecircle
go build -o "$work/loadgen" ./cmd/loadgen
redis-server --port "$RPORT" --save '' --appendonly no --daemonize yes >/dev/null
psql "$BENCH_POSTGRES_URL" -qc "CREATE DATABASE $db"
dburl=$(echo "$BENCH_POSTGRES_URL" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")

DATA_DIR=$work/data DATABASE_URL=$dburl REDIS_URL=redis://127.0.0.1:$RPORT/0 PORT=$PORT \
  RATE_LIMIT_ENABLED=false LOG_LEVEL=warn "$work/carecircle" serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 1000); do
  curl -fs "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1 && break
  sleep 0.02
done

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
echo "| scenario | workers | requests | req/s | p50 ms | p99 ms | server CPU ms/request | requests per CPU-second |"
echo "|---|---|---|---|---|---|---|---|"
for scenario in $SCENARIOS; do
  t0=$(ticks)
  out=$("$work/loadgen" -target "http://127.0.0.1:$PORT" -outbox "$work/data/outbox" -scenario "$scenario" \
    -workers "$WORKERS" -duration "$DURATION" -format markdown)
  t1=$(ticks)
  # loadgen's row: | label | scenario | workers | requests | req/s | p50 | p99 | max | success |
  echo "$out" | awk -F'|' -v cpu="$(( t1 - t0 ))" -v hz="$hz" '/\|/ {
    gsub(/ /, "", $3); gsub(/ /, "", $4); gsub(/ /, "", $5); gsub(/ /, "", $6); gsub(/ /, "", $7); gsub(/ /, "", $8)
    ms = cpu * 1000 / hz / $5
    printf "| %s | %s | %s | %s | %s | %s | %.3f | %.0f |\n", $3, $4, $5, $6, $7, $8, ms, 1000 / ms
  }'
done
