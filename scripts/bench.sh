#!/usr/bin/env bash
# npm run bench: every benchmark, in sequence, on this machine. Installs what it needs first
# (npm packages, the build, Kafka + PostgreSQL via scripts/infra.sh; the Debezium comparison
# brings up its own Connect worker and logical-decoding cluster and removes them afterwards).
#   bash scripts/bench.sh                      all of them
#   bash scripts/bench.sh compare legacy-import  only these, in this order
# Not part of npm test or CI: a full run takes 10 to 15 minutes. Results: bench-results/*.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ALL=(legacy-import domain-transform id-translation legacy-writeback two-way verify compare pipeline)
if (($# > 0)); then BENCHES=("$@"); else BENCHES=("${ALL[@]}"); fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Others' half-written files may not type-check; tsc still emits, and the benchmarks run.
npx tsc -p tsconfig.build.json >&2 || echo "[bench] tsc reported errors (see above); running the emitted JavaScript" >&2
bash scripts/infra.sh up >&2
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:19092}"

failed=()
for b in "${BENCHES[@]}"; do
  js="dist/scripts/bench/$b.bench.js"
  if [ ! -f "$js" ]; then
    echo "[bench] $b: no $js, skipped" >&2
    continue
  fi
  echo "[bench] ===== $b =====" >&2
  node --enable-source-maps "$js" || failed+=("$b")
done
if ((${#failed[@]} > 0)); then
  echo "[bench] failed: ${failed[*]}" >&2
  exit 1
fi
