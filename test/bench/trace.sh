#!/usr/bin/env bash
# Tracing overhead: `tsrun run --rm --network none tsrun-demo true` with tracing off, with the
# file exporter (--trace), and with OTLP/HTTP to a receiver on 127.0.0.1, all
# in short rounds of the three. Prints medians and paired ratios (targets: --trace to files adds at most 8 ms, OTLP export to a loopback receiver 20 ms).
# NETWORK=bridge measures the run on the default bridge instead (veth, address, NAT: more spans).
# Needs root; installs hyperfine from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
work=$(mktemp -d /tmp/tsrun-bench-trace.XXXXXX)
receiver=''
network=${NETWORK:-none}
cleanup() {
  [ -n "$receiver" ] && kill "$receiver" 2>/dev/null
  [ "$network" = bridge ] && ./bin/tsrun.js network prune >/dev/null 2>&1
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

# In short rounds of the three (bench_rounds, common.sh). Each run of the file exporter is paired with
# the run of tracing off in the same place of its round; the figures are medians over all pairs, which a
# few disturbed runs do not move. One run on its own can be 15 % off on a busy VM: the 300 pairs of
# 100 rounds put the median within about 1 %.
commands=(
  -n 'off' "./bin/tsrun.js run --rm --network $network tsrun-demo true"
  -n 'file' "./bin/tsrun.js run --rm --network $network --trace=$work/traces tsrun-demo true"
  -n 'otlp' "env OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=$endpoint ./bin/tsrun.js run --rm --network $network tsrun-demo true"
)
bench_rounds "${ROUNDS:-100}" "${RUNS:-3}" "${commands[@]}"

node -e '
  const fs = require("fs");
  const { median } = require("./test/bench/medians.cjs");
  const quartiles = (values) => { const sorted = [...values].sort((a, b) => a - b); return [sorted[Math.floor(sorted.length / 4)], sorted[Math.floor(3 * sorted.length / 4)]]; };
  // For each round, its runs by command, in milliseconds: { off: [...], file: [...], otlp: [...] }.
  const rounds = process.argv.slice(1).map((file) => Object.fromEntries(JSON.parse(fs.readFileSync(file, "utf8")).results.map((r) => [r.command, r.times.map((t) => t * 1000)])));
  const all = (name) => rounds.flatMap((r) => r[name]);
  const pairs = (name) => rounds.flatMap((r) => r[name].map((t, i) => [t, r.off[i]]));
  const off = median(all("off"));
  console.log(`${rounds.length} rounds, ${all("off").length} runs of each: medians off ${off.toFixed(1)} ms, file ${median(all("file")).toFixed(1)} ms, otlp ${median(all("otlp")).toFixed(1)} ms`);
  for (const name of ["file", "otlp"]) {
    const ratios = pairs(name).map(([t, o]) => t / o), adds = pairs(name).map(([t, o]) => t - o);
    const [low, high] = quartiles(ratios).map((r) => (100 * (r - 1)).toFixed(1));
    console.log(`${name} / off = ${median(ratios).toFixed(3)}x (${(100 * (median(ratios) - 1)).toFixed(1)} %, half the pairs between ${low} and ${high} %), adds ${median(adds).toFixed(1)} ms; target: at most ${name === "file" ? 8 : 20} ms`);
  }
' "$work"/round-*.json
