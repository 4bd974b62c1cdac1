#!/usr/bin/env bash
# Runs the integration and end-to-end tiers once per supported Kafka line, each on its own broker
# (own run folder and ports, so the default broker on 19092 is left alone), and prints one line per
# version. Kafka 4.1 is the default everywhere (scripts/infra.sh, CI); this is how 3.9 stays tested.
#   bash scripts/test-matrix.sh [VERSION...]     default: 4.1.1 3.9.1
#   MATRIX_TIERS="integration"                   tiers to run (default: "integration e2e")
# Exit code: 0 if every version passed, 1 otherwise. Each broker is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,7p' "$0"; exit 0 ;; esac
versions=("$@"); [ "${#versions[@]}" -gt 0 ] || versions=(4.1.1 3.9.1)
read -r -a tiers <<<"${MATRIX_TIERS:-integration e2e}"
port=29292
failed=0
summary=()
for v in "${versions[@]}"; do
  [[ "$v" =~ ^[34]\.[0-9]+\.[0-9]+$ ]] || { echo "bad version '$v' (want e.g. 4.1.1 or 3.9.1)" >&2; exit 64; }
  export KAFKA_VERSION="$v" SYNC_RUN_DIR=".run/matrix-$v" KAFKA_PORT="$port" KAFKA_CONTROLLER_PORT="$((port + 1))"
  unset KAFKA_BROKERS
  for tier in "${tiers[@]}"; do
    echo "== Kafka $v, tier $tier (broker 127.0.0.1:$port)" >&2
    start=$(date +%s)
    if bash scripts/test.sh "$tier"; then result=pass; else result=FAIL; failed=1; fi
    summary+=("Kafka $v  $tier  $result  $(( $(date +%s) - start )) s")
  done
  bash scripts/infra.sh down >/dev/null 2>&1 || true
  port=$((port + 10))
done
printf '%s\n' "${summary[@]}"
exit "$failed"
