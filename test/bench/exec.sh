#!/usr/bin/env bash
# Exec benchmark: `tsrun exec C true` in a detached tsrun container (`sleep 600`, no network)
# against `runc exec` in a runc container running the same image (unpacked by umoci from the
# same OCI layout, its own empty network namespace), with Node's own start (`node -e 1`) as the
# floor, all in the same hyperfine run. Prints medians and ratios.
# Needs root; installs hyperfine, runc and umoci from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
work=$(mktemp -d /tmp/tsrun-bench-exec.XXXXXX)
runc_name=tsrun-bench-exec-$$
tsrun=(./bin/tsrun.js --root "$work/store")
cleanup() {
  runc delete -f "$runc_name" >/dev/null 2>&1 || true
  local ids
  ids=$("${tsrun[@]}" ps -aq 2>/dev/null || true)
  if [ -n "$ids" ]; then "${tsrun[@]}" rm -f $ids >/dev/null || true; fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
bench_prepare hyperfine runc umoci

container=$("${tsrun[@]}" run -d --network none tsrun-demo sleep 600)

# The layout bench_prepare loaded into tsrun, unpacked as a runtime bundle with the same command.
umoci unpack --image "$work/image:latest" "$work/bundle" >/dev/null
node -e '
  const fs = require("fs"); const file = process.argv[1];
  const spec = JSON.parse(fs.readFileSync(file, "utf8"));
  spec.process.terminal = false; spec.process.args = ["sleep", "600"];
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
' "$work/bundle/config.json"
# Detached, runc hands the container its own standard streams: none to keep open but a file.
runc run -d --bundle "$work/bundle" "$runc_name" </dev/null >/dev/null 2>"$work/runc.log" || { cat "$work/runc.log" >&2; exit 1; }

hyperfine --warmup 3 --runs "${RUNS:-30}" --export-json "$work/results.json" \
  -n 'node -e 1' 'node -e 1' \
  -n 'tsrun exec' "${tsrun[*]} exec $container true" \
  -n 'runc exec' "runc exec $runc_name true"

node -e '
  const { results } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const median = Object.fromEntries(results.map((r) => [r.command, r.median * 1000]));
  const tsrun = median["tsrun exec"], runc = median["runc exec"], node = median["node -e 1"];
  console.log(`\nmedians: node -e 1 ${node.toFixed(1)} ms, tsrun exec ${tsrun.toFixed(1)} ms, runc exec ${runc.toFixed(1)} ms`);
  console.log(`tsrun exec / runc exec = ${(tsrun / runc).toFixed(2)}x`);
  console.log(`tsrun exec / node -e 1 = ${(tsrun / node).toFixed(2)}x (tsrun exec - node = ${(tsrun - node).toFixed(1)} ms)`);
' "$work/results.json"
