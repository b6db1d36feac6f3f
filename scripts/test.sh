#!/usr/bin/env bash
# The test suite: build, then every vitest test, then one closing line that
# CI can read: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
npm run build --silent || exit 1
report=$(mktemp /tmp/tsrun-vitest.XXXXXX.json)
trap 'rm -f "$report"' EXIT
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  // A file whose hooks failed counts too, even when none of its tests did.
  const failed = Math.max(r.numFailedTests, r.numFailedTestSuites);
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" || exit 1
exit $status
