#!/usr/bin/env bash
# A throwaway PostgreSQL cluster with wal_level=logical for the logical-decoding capture tests
# (test/integration/legacy-import/logical-*.test.ts); scripts/test.sh starts it for the
# integration tier. The machine's own cluster (5432) keeps wal_level=replica and is never touched.
#   scripts/pg-logical.sh up       initdb once into $SYNC_RUN_DIR/pg-logical-it, start on 127.0.0.1:$PG_LOGICAL_IT_PORT
#   scripts/pg-logical.sh stop     pg_ctl stop -m immediate (a crash; the tests restart it with up)
#   scripts/pg-logical.sh status   exit 0 if it runs, 3 if not
#   scripts/pg-logical.sh down     stop and delete the cluster
#   scripts/pg-logical.sh env      print PG_LOGICAL_URL=... for eval
# Environment: PG_LOGICAL_IT_PORT (55452), PG_BIN (newest installed), SYNC_RUN_DIR (.run).
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
log() { printf '[pg-logical] %s\n' "$*" >&2; }
die() { printf '[pg-logical] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/pg-cluster.sh
source "$SCRIPT_DIR/lib/pg-cluster.sh"
PORT="${PG_LOGICAL_IT_PORT:-55452}"
PG_BIN="${PG_BIN:-$(pgc_default_bin)}"
DIR="${SYNC_RUN_DIR:-$REPO_ROOT/.run}/pg-logical-it"
case "${1:-help}" in
  up) pgc_up "$PG_BIN" "$DIR" "$PORT" 60 "-c wal_level=logical -c max_replication_slots=20 -c max_wal_senders=20 -c max_connections=100 -c max_slot_wal_keep_size=1GB" ;;
  stop) pgc_stop "$PG_BIN" "$DIR" immediate 30 ;;
  down) pgc_remove "$PG_BIN" "$DIR" 30 ;;
  status) pgc_running "$PG_BIN" "$DIR" || exit 3 ;;
  env) printf 'PG_LOGICAL_URL=postgres://postgres@127.0.0.1:%s/postgres\n' "$PORT" ;;
  *) sed -n '2,10p' "$0"; exit 0 ;;
esac
