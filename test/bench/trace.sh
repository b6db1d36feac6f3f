#!/usr/bin/env bash
# Tracing overhead: `tsrun run --rm --network none tsrun-demo true` with tracing off, with the
# file exporter (--trace), and with OTLP/HTTP to a receiver on 127.0.0.1, all
# in the same hyperfine run. Prints medians and ratios (target: file ≤ 5 % over off).
# Needs root; installs hyperfine from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
work=$(mktemp -d /tmp/tsrun-bench-trace.XXXXXX)
receiver=''
cleanup() {
  [ -n "$receiver" ] && kill "$receiver" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
bench_prepare hyperfine

# A collector stand-in on loopback: accepts OTLP/HTTP and answers 200, nothing more.
node -e '
  const server = require("http").createServer((req, res) => { req.resume(); req.on("end", () => res.end()); });
  server.listen(0, "127.0.0.1", () => require("fs").writeFileSync(process.argv[1], String(server.address().port)));
' "$work/port" &
receiver=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
endpoint="http://127.0.0.1:$(cat "$work/port")"

hyperfine --warmup 3 --runs "${RUNS:-30}" --export-json "$work/results.json" \
  -n 'off' "./bin/tsrun.js run --rm --network none tsrun-demo true" \
  -n 'file' "./bin/tsrun.js run --rm --network none --trace=$work/traces tsrun-demo true" \
  -n 'otlp' "env OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=$endpoint ./bin/tsrun.js run --rm --network none tsrun-demo true"

node -e '
  const { results } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const median = Object.fromEntries(results.map((r) => [r.command, r.median * 1000]));
  const { off, file, otlp } = median;
  console.log(`\nmedians: off ${off.toFixed(1)} ms, file ${file.toFixed(1)} ms, otlp ${otlp.toFixed(1)} ms`);
  console.log(`file / off = ${(file / off).toFixed(3)}x (${(100 * (file / off - 1)).toFixed(1)} %; target: at most 5 %)`);
  console.log(`otlp / off = ${(otlp / off).toFixed(3)}x`);
' "$work/results.json"
