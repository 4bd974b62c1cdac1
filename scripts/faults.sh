#!/usr/bin/env bash
# Fault-injection suite (npm run test:faults; docs/faults.md). A two-way workload of tens of
# thousands of changes (legacy SQL inserts/updates/deletes of users and orders, and the sample new
# service's own changes flowing back into legacy) while faults are injected at seeded random
# moments: kill -9 of each of the four apps (restarted after a pause), a Kafka broker restart, and
# PostgreSQL stopped for 20 s. Then, once drained: sync-ctl verify must find no difference, no
# legacy row may have been written twice, and no change may be missing in either direction.
# Everything runs on its own throwaway PostgreSQL cluster (127.0.0.1:$FAULTS_PG_PORT) and its own
# broker (127.0.0.1:$FAULTS_KAFKA_PORT), never the shared ones; both are removed at the end.
#   npm run test:faults                       20,000 changes (about 10-15 minutes)
#   npm run test:faults -- --ci               the CI size: 2,000 changes, each app killed once
#   npm run test:faults -- --replicas         two replicas of each consumer app, 4 partitions: kill -9 and
#                                             SIGTERM of single replicas, a scale cycle 2→1→2→1→2, replicas
#                                             paused 40 s (SIGSTOP) then resumed, a rolling restart; 2,000 changes
#   FAULTS_SEED=1234 npm run test:faults      repeat a run (the seed is printed at the start)
# Settings (environment): FAULTS_CHANGES (20000), FAULTS_SEED (random), FAULTS_RATE (40 changes/s),
#   FAULTS_NEW_SHARE (0.5), FAULTS_SEED_USERS (200), FAULTS_KILLS_PER_APP (2), FAULTS_BROKER_RESTARTS (1),
#   FAULTS_PG_STOPS (1), FAULTS_PG_DOWN_SECONDS (20), FAULTS_DRAIN_SECONDS (600), FAULTS_PG_PORT (55433),
#   FAULTS_KAFKA_PORT (19192; the controller uses the next port), FAULTS_RUN_DIR (.run/faults, or
#   $SYNC_RUN_DIR/faults), FAULTS_SUMMARY_FILE (<run dir>/faults-summary-<seed>.json), PG_BIN.
# Scenarios (0 turns one off): FAULTS_ROLLING_RESTARTS (2, --ci 1), FAULTS_ADD_COLUMNS (1),
#   FAULTS_DROP_COLUMNS (1), FAULTS_DROP_COLUMN_SECONDS (10), FAULTS_REVOKES (1),
#   FAULTS_REVOKE_SECONDS (10), FAULTS_READ_ONLY (1), FAULTS_READ_ONLY_SECONDS (10), FAULTS_HOSTILE (1).
# Replicas (docs/scaling.md): FAULTS_REPLICAS (app=n,...; 1 each), FAULTS_PARTITIONS (1, or 4 with replicas),
#   FAULTS_REPLICA_KILLS (0), FAULTS_REPLICA_STOPS (0), FAULTS_SCALE_CYCLES (0), FAULTS_REPLICA_PAUSES (0),
#   FAULTS_PAUSE_SECONDS (40; the consumers' session timeout is 30 s).
# Exit code: 0 all checks passed, 1 a difference, duplicate or missing change (or the run aborted),
# 2 bad settings. Logs of every process: <run dir>/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
# shellcheck source=lib/pg-cluster.sh
source scripts/lib/pg-cluster.sh

log() { printf '[faults] %s\n' "$*" >&2; }
die() { printf '[faults] ERROR: %s\n' "$*" >&2; exit 2; }

FAULTS_RUN_DIR="${FAULTS_RUN_DIR:-${SYNC_RUN_DIR:-$REPO/.run}/faults}"
FAULTS_PG_PORT="${FAULTS_PG_PORT:-55433}"
FAULTS_KAFKA_PORT="${FAULTS_KAFKA_PORT:-19192}"
PG_BIN="${PG_BIN:-$(pgc_default_bin)}"
PG_DIR="$FAULTS_RUN_DIR/pg"
PG_DEADLINE=60

# The run's own broker: infra.sh with the run's directory and ports (never KAFKA_BROKERS from outside).
infra() {
  env -u KAFKA_BROKERS SYNC_RUN_DIR="$FAULTS_RUN_DIR" KAFKA_PORT="$FAULTS_KAFKA_PORT" \
    KAFKA_CONTROLLER_PORT="$((FAULTS_KAFKA_PORT + 1))" SKIP_PG=1 bash scripts/infra.sh "$@"
}

pg_start() { pgc_up "$PG_BIN" "$PG_DIR" "$FAULTS_PG_PORT" "$PG_DEADLINE" "-c max_connections=100"; }

# Processes the driver started, by the pid files it keeps (only ours: the command line must be this checkout's).
kill_leftovers() {
  local f pid
  for f in "$FAULTS_RUN_DIR"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(tr -dc '0-9' <"$f")"
    if [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$REPO/dist/"; then
      log "stopping leftover process $pid ($(basename "$f" .pid))"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

teardown() {
  kill_leftovers
  infra down >/dev/null 2>&1 || true
  rm -rf "$FAULTS_RUN_DIR/kafka"
  pgc_remove "$PG_BIN" "$PG_DIR" 30
}

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; }

# Replicas of the --replicas run. legacy-import stays at 1 until it runs as several replicas with a
# lease and fencing (issue 19); then set it to 2 here.
FAULTS_REPLICAS_PRESET="legacy-import=2,id-translation=2,domain-transform=2,legacy-writeback=2"

run() {
  if [[ "${1:-}" == "--ci" ]]; then
    export FAULTS_CHANGES="${FAULTS_CHANGES:-2000}" FAULTS_KILLS_PER_APP="${FAULTS_KILLS_PER_APP:-1}" FAULTS_ROLLING_RESTARTS="${FAULTS_ROLLING_RESTARTS:-1}" FAULTS_DRAIN_SECONDS="${FAULTS_DRAIN_SECONDS:-300}"
  elif [[ "${1:-}" == "--replicas" ]]; then
    # The replica scenarios alone (each one 0 to leave it out; the others can be added back by setting them).
    export FAULTS_REPLICAS="${FAULTS_REPLICAS:-$FAULTS_REPLICAS_PRESET}" FAULTS_CHANGES="${FAULTS_CHANGES:-2000}" \
      FAULTS_REPLICA_KILLS="${FAULTS_REPLICA_KILLS:-1}" FAULTS_REPLICA_STOPS="${FAULTS_REPLICA_STOPS:-1}" \
      FAULTS_SCALE_CYCLES="${FAULTS_SCALE_CYCLES:-1}" FAULTS_REPLICA_PAUSES="${FAULTS_REPLICA_PAUSES:-1}" \
      FAULTS_ROLLING_RESTARTS="${FAULTS_ROLLING_RESTARTS:-1}" FAULTS_KILLS_PER_APP="${FAULTS_KILLS_PER_APP:-0}" \
      FAULTS_BROKER_RESTARTS="${FAULTS_BROKER_RESTARTS:-0}" FAULTS_PG_STOPS="${FAULTS_PG_STOPS:-0}" \
      FAULTS_ADD_COLUMNS="${FAULTS_ADD_COLUMNS:-0}" FAULTS_DROP_COLUMNS="${FAULTS_DROP_COLUMNS:-0}" \
      FAULTS_REVOKES="${FAULTS_REVOKES:-0}" FAULTS_READ_ONLY="${FAULTS_READ_ONLY:-0}" FAULTS_HOSTILE="${FAULTS_HOSTILE:-0}" \
      FAULTS_DRAIN_SECONDS="${FAULTS_DRAIN_SECONDS:-300}"
  elif [[ -n "${1:-}" ]]; then
    usage >&2
    die "unknown argument: $1"
  fi
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  npm run -s build
  mkdir -p "$FAULTS_RUN_DIR"
  # A previous run that was killed may have left its cluster or broker: ours by directory, removed.
  teardown
  DRIVER_PID=""
  cleanup() {
    local rc=$?
    if [[ -n "$DRIVER_PID" ]] && kill -0 "$DRIVER_PID" 2>/dev/null; then
      kill -TERM "$DRIVER_PID" 2>/dev/null || true
      sleep 2
      kill -KILL "$DRIVER_PID" 2>/dev/null || true
    fi
    teardown
    exit "$rc"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  pg_start
  infra kafka-start
  export FAULTS_RUN_DIR FAULTS_PG_PORT FAULTS_KAFKA_PORT PG_BIN
  export FAULTS_PG_URL="postgres://postgres@127.0.0.1:$FAULTS_PG_PORT/postgres"
  export KAFKA_BROKERS="127.0.0.1:$FAULTS_KAFKA_PORT"
  node --enable-source-maps dist/scripts/faults/faults.main.js &
  DRIVER_PID=$!
  local rc=0
  wait "$DRIVER_PID" || rc=$?
  DRIVER_PID=""
  return "$rc"
}

case "${1:-run}" in
  -h | --help | help) usage ;;
  run) shift || true; run "$@" ;;
  --ci) run --ci ;;
  --replicas) run --replicas ;;
  # Used by the driver to inject faults (same environment as the run):
  kafka-stop) infra down ;;
  kafka-start) infra kafka-start ;;
  pg-stop) pgc_stop "$PG_BIN" "$PG_DIR" immediate 30 ;;
  pg-start) pg_start ;;
  down) teardown ;;
  *) usage >&2; die "unknown command: $1" ;;
esac
