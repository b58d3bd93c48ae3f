#!/usr/bin/env bash
# npm run test:faults: what is too slow for the default `npm test`.
#  - every spec file named *.faults.spec.ts (multi-process soaks, long fault runs), which
#    `npm run spec` leaves out, at FAULT_ROUNDS rounds where a spec reads it;
#  - the crash soak and append fuzz that `npm test` also runs, here with many more rounds;
#  - the spec variants `npm test` leaves out to stay within its time (SPEC_VARIANTS=extra,
#    spec/support/variants.ts): the multi-process specs on the store servers given, the PgStore
#    contract without prepared statements.
# FAULT_ROUNDS (default 40) and FUZZ_RUNS (default 1000) shorten or lengthen a run.
# PostgreSQL specs need PG_URL: bash scripts/with-postgres.sh npm run test:faults
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
mapfile -t files < <(find spec examples -name '*.faults.spec.ts' -not -path '*/node_modules/*' | sort)
if [ "${#files[@]}" -gt 0 ]; then
  FAULT_ROUNDS="${FAULT_ROUNDS:-40}" npx mocha "${files[@]}" || status=1
fi
FAULT_ROUNDS="${FAULT_ROUNDS:-40}" npx mocha spec/store/SqliteStore.processes.spec.ts || status=1
SPEC_VARIANTS=extra npx mocha 'spec/actors/*.processes.spec.ts' spec/store/PgStore.contract.spec.ts || status=1
FUZZ_RUNS="${FUZZ_RUNS:-1000}" npx mocha -g fuzz spec/store/MemoryStore.spec.ts spec/store/SqliteStore.contract.spec.ts spec/store/PgStore.contract.spec.ts || status=1
exit "$status"
