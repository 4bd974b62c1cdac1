#!/usr/bin/env bash
# The suite's main job, locally: installs what it needs, starts Kafka and PostgreSQL, creates a
# sample legacy CRM database (users holding the address, orders -> users) with change capture, and
# the sample new service's database; runs the four apps and the new service (examples/new-service)
# as separate processes; drives changes on both sides for DEMO_SECONDS (default 60) with live
# progress per entity and direction; then proves both sides agree with `sync-ctl verify`.
#   npm run demo                    (= scripts/demo.sh)
#   DEMO_SECONDS=20 npm run demo    shorter
#   DEMO_CAPTURE=logical npm run demo   capture by PostgreSQL logical decoding instead of triggers: the
#                                   legacy database then lives on a wal_level=logical cluster on
#                                   127.0.0.1:55452 that scripts/pg-logical.sh starts
# Interactive: keeps everything running after the verify until Ctrl-C. Not on a terminal (CI):
# exits after the verify with its exit code (0 = both sides agree).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,14p' "$0"; exit 0 ;; esac
seconds=${DEMO_SECONDS:-60}
capture=${DEMO_CAPTURE:-trigger}
case "$capture" in trigger|logical) ;; *) echo "DEMO_CAPTURE=$capture: use trigger or logical" >&2; exit 64 ;; esac

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
export KAFKA_BROKERS

# A fresh run id: its own system name, topics, consumer groups and databases on the shared broker.
run=$(printf '%x' "$(date +%s)")
dir=.run/demo
mkdir -p "$dir"
rm -f "$dir"/*.log
sed -e "s/\${RUN}/$run/g" -e "s/mode: trigger/mode: $capture/" examples/new-service/pipeline.demo.yaml >"$dir/pipeline.yaml"
pg() { PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
legacy_port=5432
if [ "$capture" = logical ]; then
  bash scripts/pg-logical.sh up
  legacy_port=55452
  # A database with a replication slot cannot be dropped: the previous run's slot goes first.
  pg -p "$legacy_port" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = 'legacy_demo' AND NOT active" >/dev/null
fi
for db in legacy_demo keymap_demo service_demo; do
  port=5432; if [ "$db" = legacy_demo ]; then port=$legacy_port; fi
  pg -p "$port" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
pg -p "$legacy_port" -d legacy_demo -f examples/new-service/legacy-crm.sql >/dev/null
export CRM_DATABASE_URL="postgres://postgres@127.0.0.1:$legacy_port/legacy_demo"
export KEYMAP_DATABASE_URL="postgres://postgres@127.0.0.1:5432/keymap_demo"
export SERVICE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/service_demo"
export PIPELINE_FILE="$PWD/$dir/pipeline.yaml"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
sync_ctl() { node dist/apps/sync-ctl/src/main.js "$@"; }
sync_ctl schema --apply >"$dir/capture-ddl.sql"
echo "Legacy database legacy_demo: 200 users, 300 orders, change capture ($capture mode) installed (DDL in $dir/capture-ddl.sql)"

apps=(legacy-import id-translation domain-transform legacy-writeback)
ports=(8081 8082 8083 8084)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "demo stopped (the Kafka broker keeps running: 'bash scripts/infra.sh down' stops it)"
}
trap stop_all EXIT
for i in "${!apps[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${ports[$i]}") 2>/dev/null; then echo "port ${ports[$i]} is in use (another demo running?)" >&2; exit 1; fi
  HTTP_PORT=${ports[$i]} HTTP_HOST=127.0.0.1 node dist/apps/${apps[$i]}/src/main.js >"$dir/${apps[$i]}.log" 2>&1 &
  pids+=($!)
done

status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1$2" || true; }
deadline=$((SECONDS + 120))
while :; do
  ready=0
  for i in "${!apps[@]}"; do [ "$(status "${ports[$i]}" /health/ready)" = 200 ] && ready=$((ready + 1)); done
  [ "$ready" = "${#apps[@]}" ] && break
  if [ $SECONDS -gt $deadline ]; then echo "apps not ready after 120 s; logs in $dir/" >&2; exit 1; fi
  sleep 1
done
printf '\n%-18s %-6s %-6s %-6s\n' app port live ready
for i in "${!apps[@]}"; do
  printf '%-18s %-6s %-6s %-6s\n' "${apps[$i]}" "${ports[$i]}" "$(status "${ports[$i]}" /health/live)" "$(status "${ports[$i]}" /health/ready)"
done

node dist/examples/new-service/src/main.js --brokers "$KAFKA_BROKERS" --database-url "$SERVICE_DATABASE_URL" \
  --user-aggregate "user_$run" --order-aggregate "order_$run" --port 8090 \
  --simulate-seconds "$seconds" --simulate-interval-ms 700 >"$dir/new-service.log" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 60))
until [ "$(status 8090 /health)" = 200 ]; do
  if [ $SECONDS -gt $deadline ]; then echo "the new service did not start; log in $dir/new-service.log" >&2; exit 1; fi
  sleep 0.5
done
echo "new-service        8090   (examples/new-service: users, addresses, orders in service_demo)"
echo

node dist/scripts/demo/demo-driver.js --legacy-url "$CRM_DATABASE_URL" --system "crm_$run" --seconds "$seconds" --service-port 8090

echo
echo "sync-ctl verify --all: the legacy tables against the new service's tables"
set +e
sync_ctl verify --all
verified=$?
set -e
echo
if [ "$verified" = 0 ]; then echo "Both sides agree."; else echo "verify found differences (exit $verified); logs in $dir/" >&2; fi
if [ -t 0 ] && [ -z "${DEMO_EXIT:-}" ]; then
  echo "Everything keeps running: metrics on http://127.0.0.1:8081/metrics (8082, 8083, 8084; the service on 8090),"
  echo "logs in $dir/. Try: PIPELINE_FILE=$dir/pipeline.yaml KEYMAP_DATABASE_URL=$KEYMAP_DATABASE_URL \\"
  echo "  CRM_DATABASE_URL=$CRM_DATABASE_URL SERVICE_DATABASE_URL=$SERVICE_DATABASE_URL npm run -s sync-ctl -- status"
  echo "Press Ctrl-C to stop the apps and the service."
  while :; do sleep 3600; done
fi
exit "$verified"
