#!/usr/bin/env bash
# The suite's main job, locally: installs what it needs, starts Kafka and PostgreSQL, creates the
# demo database, runs the four apps as separate processes and shows their readiness until Ctrl-C.
#   scripts/demo.sh            run until Ctrl-C
#   DEMO_SECONDS=N scripts/demo.sh   stop by itself after N seconds once everything is ready
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,5p' "$0"; exit 0 ;; esac

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
export KAFKA_BROKERS

db=legacy_demo
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db"
export CRM_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
export KEYMAP_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
export PIPELINE_FILE="$PWD/examples/pipeline.demo.yaml"
export LOG_LEVEL="${LOG_LEVEL:-warn}"

run=.run/demo
mkdir -p "$run"
apps=(legacy-import id-translation domain-transform legacy-writeback)
ports=(8081 8082 8083 8084)
pids=()
stop_apps() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "demo stopped (the Kafka broker keeps running: 'bash scripts/infra.sh down' stops it)"
}
trap stop_apps EXIT
for i in "${!apps[@]}"; do
  HTTP_PORT=${ports[$i]} HTTP_HOST=127.0.0.1 node dist/apps/${apps[$i]}/src/main.js >"$run/${apps[$i]}.log" 2>&1 &
  pids+=($!)
done

status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1$2" || true; }
deadline=$((SECONDS + 120))
while :; do
  ready=0
  for i in "${!apps[@]}"; do [ "$(status "${ports[$i]}" /health/ready)" = 200 ] && ready=$((ready + 1)); done
  [ "$ready" = "${#apps[@]}" ] && break
  if [ $SECONDS -gt $deadline ]; then echo "apps not ready after 120 s; logs in $run/" >&2; exit 1; fi
  sleep 1
done
printf '\n%-18s %-6s %-6s %-6s\n' app port live ready
for i in "${!apps[@]}"; do
  printf '%-18s %-6s %-6s %-6s\n' "${apps[$i]}" "${ports[$i]}" "$(status "${ports[$i]}" /health/live)" "$(status "${ports[$i]}" /health/ready)"
done
echo
echo "All four apps are ready. Metrics: http://127.0.0.1:8081/metrics (8082, 8083, 8084). Logs: $run/"
if [ -n "${DEMO_SECONDS:-}" ]; then sleep "$DEMO_SECONDS"; exit 0; fi
echo "Press Ctrl-C to stop."
while :; do sleep 3600; done
