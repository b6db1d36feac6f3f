#!/usr/bin/env bash
# Start-up benchmark: `tsrun run --rm --network none tsrun-demo true` against
# Node's own start (`node -e 1`) and against runc running the same root
# filesystem (runc's default spec has no network either), and the same run on
# the default bridge, all measured in the same hyperfine run. Prints medians and ratios.
# Needs root; installs hyperfine and runc from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
work=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
cleanup() {
  runc delete -f tsrun-bench >/dev/null 2>&1 || true
  ./bin/tsrun.js network prune >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
bench_prepare hyperfine runc

# runc gets the very same files: the demo image's single layer, copied.
layer=$(ls -d "$TSRUN_ROOT"/layers/sha256/* | head -n 1)
mkdir -p "$work/bundle"
cp -a "$layer" "$work/bundle/rootfs"
(cd "$work/bundle" && runc spec)
node -e '
  const fs = require("fs"); const file = process.argv[1];
  const spec = JSON.parse(fs.readFileSync(file, "utf8"));
  spec.process.terminal = false; spec.process.args = ["true"]; spec.root.readonly = false;
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
' "$work/bundle/config.json"

hyperfine --warmup 3 --runs "${RUNS:-30}" --export-json "$work/results.json" \
  -n 'node -e 1' 'node -e 1' \
  -n 'tsrun run --rm' "./bin/tsrun.js run --rm --network none tsrun-demo true" \
  -n 'tsrun run --rm (bridge)' "./bin/tsrun.js run --rm tsrun-demo true" \
  -n 'runc run' "runc run --bundle $work/bundle tsrun-bench"

node -e '
  const { results } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const median = Object.fromEntries(results.map((r) => [r.command, r.median * 1000]));
  const tsrun = median["tsrun run --rm"], bridged = median["tsrun run --rm (bridge)"], node = median["node -e 1"], runc = median["runc run"];
  console.log(`\nmedians: node -e 1 ${node.toFixed(1)} ms, tsrun ${tsrun.toFixed(1)} ms, runc ${runc.toFixed(1)} ms`);
  console.log(`tsrun / node -e 1 = ${(tsrun / node).toFixed(2)}x (tsrun - node = ${(tsrun - node).toFixed(1)} ms; target: within 70 ms)`);
  console.log(`tsrun / runc run  = ${(tsrun / runc).toFixed(2)}x (both without a network of their own beyond loopback)`);
  console.log(`the default bridge network (veth, address, route) adds ${(bridged - tsrun).toFixed(1)} ms: ${(bridged / node).toFixed(2)}x node -e 1`);
' "$work/results.json"
