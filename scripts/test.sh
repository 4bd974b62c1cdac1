#!/usr/bin/env bash
# The project's test command (README quick start, and .ci/run): installs the npm packages, builds,
# starts the local infrastructure (Kafka assembled from Maven Central, PostgreSQL), runs the unit,
# integration and end-to-end tests on Node's test runner, then stops what it started.
#   scripts/test.sh            all tiers
#   scripts/test.sh unit       unit tests only (no Kafka, no database)
#   scripts/test.sh integration|e2e
# KEEP_INFRA=1 leaves the broker running afterwards; KAFKA_BROKERS points at an existing broker instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tier=${1:-all}
case "$tier" in all|unit|integration|e2e) ;; -h|--help) sed -n '2,9p' "$0"; exit 0 ;; *) echo "unknown tier '$tier' (all|unit|integration|e2e)" >&2; exit 64 ;; esac

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
if [ "$tier" = all ]; then npm run -s lint; fi
# The libs/kafka integration tests also run on Confluent's client (test/integration/kafka/confluent/),
# an optional dependency that `npm ci` cannot install here: build it (about 2 CPU-minutes once per
# machine, then cached). A failed build stops the run: those tests must not silently fall back.
if [ "$tier" = all ] || [ "$tier" = integration ]; then bash scripts/kafka-confluent.sh; fi

# The status page's browser test (test/e2e/status-page.test.ts) drives Debian's Chromium; a fresh
# machine gets it here, like the npm packages above. CHROMIUM_PATH points at another build instead.
if { [ "$tier" = all ] || [ "$tier" = e2e ]; } && [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "installing Chromium for the browser test (apt-get install chromium)" >&2
  sudo_cmd=(); if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null && "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || { echo "could not install Chromium: the e2e tier needs Debian's chromium package (or CHROMIUM_PATH)" >&2; exit 1; }
fi

started_kafka=0
if [ "$tier" != unit ]; then
  if [ -z "${KAFKA_BROKERS:-}" ] && ! bash scripts/infra.sh status >/dev/null 2>&1; then started_kafka=1; fi
  bash scripts/infra.sh up
  eval "$(bash scripts/infra.sh env)"
  export KAFKA_BROKERS
fi
# The logical-decoding capture tests need wal_level=logical: a throwaway cluster on 55452
# (scripts/pg-logical.sh); PG_LOGICAL_URL points at another such server instead.
started_pg_logical=0
if [ "$tier" = all ] || [ "$tier" = integration ]; then
  if [ -z "${PG_LOGICAL_URL:-}" ]; then
    if ! bash scripts/pg-logical.sh status; then started_pg_logical=1; fi
    bash scripts/pg-logical.sh up
    eval "$(bash scripts/pg-logical.sh env)"
  fi
  export PG_LOGICAL_URL
fi
cleanup() {
  if [ "$started_kafka" = 1 ] && [ -z "${KEEP_INFRA:-}" ]; then bash scripts/infra.sh down || true; fi
  if [ "$started_pg_logical" = 1 ] && [ -z "${KEEP_INFRA:-}" ]; then bash scripts/pg-logical.sh down || true; fi
}
trap cleanup EXIT

dirs=()
case "$tier" in
  all) dirs=(dist/test/unit dist/test/integration dist/test/e2e) ;;
  *) dirs=("dist/test/$tier") ;;
esac
mapfile -t files < <(find "${dirs[@]}" -name '*.test.js' 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found in ${dirs[*]}" >&2; exit 1; fi
start=$(date +%s)
# --test-force-exit: a test file's process ends once its tests are done, even if a client library
# left a socket open (kafkajs can reopen a heartbeat connection of a consumer stopped right after a
# broker restart); the apps themselves always exit explicitly.
node --enable-source-maps --test --test-force-exit --test-concurrency=1 --test-reporter=spec "${files[@]}"
echo "test command took $(( $(date +%s) - start )) s (tests only, tier: $tier)"
