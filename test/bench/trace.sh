#!/usr/bin/env bash
# Tracing overhead: `tsrun run --rm --network none tsrun-demo true` with tracing off, with the
# file exporter (--trace), and with OTLP/HTTP to a receiver on 127.0.0.1, all
# in rounds of the three. Prints medians and ratios (target: file ≤ 5 % over off).
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

# In rounds: hyperfine measures one command's runs, then the next's, so a load that comes and goes
# (other builds and tests on the machine) would land on one of them. Within a round of a few seconds
# the three see the same load; the ratio reported is the median of the rounds' ratios.
for round in $(seq "${ROUNDS:-16}"); do
  hyperfine --style none --warmup 1 --runs "${RUNS:-5}" --export-json "$work/round-$round.json" \
    -n 'off' "./bin/tsrun.js run --rm --network none tsrun-demo true" \
    -n 'file' "./bin/tsrun.js run --rm --network none --trace=$work/traces tsrun-demo true" \
    -n 'otlp' "env OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=$endpoint ./bin/tsrun.js run --rm --network none tsrun-demo true"
done

node -e '
  const fs = require("fs");
  const median = (values) => { const sorted = [...values].sort((a, b) => a - b); const mid = sorted.length >> 1; return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2; };
  const rounds = process.argv.slice(1).map((file) => Object.fromEntries(JSON.parse(fs.readFileSync(file, "utf8")).results.map((r) => [r.command, r.median * 1000])));
  rounds.forEach((r, i) => console.log(`round ${i + 1}: off ${r.off.toFixed(1)} ms, file ${r.file.toFixed(1)} ms, otlp ${r.otlp.toFixed(1)} ms`));
  const off = median(rounds.map((r) => r.off)), file = median(rounds.map((r) => r.file)), otlp = median(rounds.map((r) => r.otlp));
  const fileRatio = median(rounds.map((r) => r.file / r.off)), otlpRatio = median(rounds.map((r) => r.otlp / r.off));
  const fileAdds = median(rounds.map((r) => r.file - r.off));
  console.log(`\nmedians: off ${off.toFixed(1)} ms, file ${file.toFixed(1)} ms, otlp ${otlp.toFixed(1)} ms`);
  console.log(`file / off = ${fileRatio.toFixed(3)}x (${(100 * (fileRatio - 1)).toFixed(1)} %; target: at most 5 %), median of ${rounds.length} rounds`);
  console.log(`file - off = ${fileAdds.toFixed(1)} ms, median of the rounds`);
  console.log(`otlp / off = ${otlpRatio.toFixed(3)}x`);
' "$work"/round-*.json
