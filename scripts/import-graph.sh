#!/usr/bin/env bash
# The import graph of apps/ and libs/ as text, for docs/architecture.md (npm run -s graph).
# One line per room: the rooms it imports. Then libs/legacy-db inside: one line per folder (or
# loose file) of its src/. Boundaries are checked by test/unit/lint/import-graph.test.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
cruise() { npx --no-install depcruise apps libs --config .dependency-cruiser.cjs --output-type text --collapse "$1"; }
# "a → b" lines to "a → b, c, ..." (self-edges dropped).
group() { sort -u | awk -F' → ' '$1 != $2 { a[$1] = a[$1] (a[$1] ? ", " : "") $2 } END { for (k in a) print k " → " a[k] }' | sort; }
echo 'Rooms (apps/*, libs/*):'
cruise '^(apps|libs)/[^/]+' | group | sed 's/^/  /'
echo 'Inside libs/legacy-db/src:'
cruise '^libs/legacy-db/src/[^/]+' | grep '^libs/legacy-db/src/.* → libs/legacy-db/src/' | sed 's#libs/legacy-db/src/##g' | group | sed 's/^/  /'
