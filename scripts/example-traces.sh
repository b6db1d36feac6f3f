#!/usr/bin/env bash
# Regenerates the example traces in traces/examples/: the demo run, and a run whose
# command does not exist. Never edit them by hand; test/integration/example-traces.test.ts
# checks that their shape (span names and nesting) still matches what tsrun does.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
store=$(mktemp -d /tmp/tsrun-example-traces.XXXXXX)
trap './bin/tsrun.js network prune >/dev/null 2>&1 || true; rm -rf "$store"' EXIT
export TSRUN_ROOT="$store/store"
./bin/tsrun.js make-demo-image "$store/image" >/dev/null
./bin/tsrun.js load -i "$store/image" >/dev/null
rm -f traces/examples/*
# The bridge made beforehand, as it is for every run but the first: no tsrun.network.nat in the examples.
./bin/tsrun.js run --rm tsrun-demo true
./bin/tsrun.js run --rm --trace=traces/examples/demo-run.json tsrun-demo sh -c 'echo hello from the demo' || true
./bin/tsrun.js run --rm --trace=traces/examples/command-not-found.json tsrun-demo no-such-command || true
