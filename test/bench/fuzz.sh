#!/usr/bin/env bash
# The long fuzz run: every property of test/unit/fuzz/ (image references, the flags that are small
# languages, the confinement flags and seccomp profiles, layer tars, image documents through pull and
# load) with FUZZ_RUNS runs each instead of the unit suite's few hundred. The default, 10000, takes
# about four minutes on a small VM; give more for a night:  FUZZ_RUNS=200000 test/bench/fuzz.sh
#
# A failing property prints fast-check's seed and its shrunk counterexample. FUZZ_SEED=<seed>, with the
# same FUZZ_RUNS, runs the same inputs again. Arguments, if any, go to vitest instead of test/unit/fuzz:
# a fuzz file, and -t to pick one of its tests:
#   FUZZ_SEED=-1210677675 test/bench/fuzz.sh test/unit/fuzz/unpack.test.ts -t damaged
#
# As root, layers also hold whiteouts, opaque markers, devices and other owners; as another user those
# cases are skipped. Builds the native module first if it is missing (unpacking makes nodes through it).
set -euo pipefail
cd "$(dirname "$0")/../.."
export FUZZ_RUNS=${FUZZ_RUNS:-10000}
[ -f native/build/Release/tsrun_native.node ] || npm run build --silent
# Each property gets as long as it needs: vitest's usual 60 s per test is for the short runs.
exec npx vitest run --testTimeout=$((6 * 60 * 60 * 1000)) "${@:-test/unit/fuzz}"
