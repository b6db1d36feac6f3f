#!/usr/bin/env bash
# tsrun's daemon against dockerd, both driven by the same docker CLI, in the same run:
#   1. `docker run --rm --network none IMAGE true`: the CLI's ping, create, attach, wait and start, the container's
#      start and removal, on each daemon (the demo image's single layer, imported into dockerd);
#   2. the memory of each daemon while idle, as PSS (each shared page counted in shares): tsrun's daemon alone,
#      and dockerd with the containerd it starts.
# Prints medians, ratios and memory; the targets are docker run at most 0.5x dockerd's and the memory compared.
# Needs root, Debian's docker.io and hyperfine (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
work=$(mktemp -d /tmp/tsrun-bench-daemon.XXXXXX)
cleanup() {
  [ -n "${tsrund_pid:-}" ] && kill "$tsrund_pid" 2>/dev/null && wait "$tsrund_pid" 2>/dev/null
  bench_dockerd_stop
  rm -rf "$work"
}
trap cleanup EXIT
bench_prepare hyperfine docker.io

./bin/tsrun.js daemon --host "unix://$work/tsrun.sock" 2>"$work/tsrund.log" &
tsrund_pid=$!
for _ in $(seq 100); do [ -S "$work/tsrun.sock" ] && break; sleep 0.1; done
[ -S "$work/tsrun.sock" ] || { cat "$work/tsrund.log" >&2; exit 1; }

bench_dockerd daemon --iptables=false --ip-masq=false --bridge=none --storage-driver overlay2
layer=$(ls -d "$TSRUN_ROOT"/layers/sha256/* | head -n 1)
tar -C "$layer" -c . | docker_cli import - tsrun-demo >/dev/null

commands=(
  -n 'docker run, tsrun daemon' "$DOCKER -H unix://$work/tsrun.sock run --rm --network none tsrun-demo true"
  -n 'docker run, dockerd' "$DOCKER -H unix://$work/docker.sock run --rm --network none tsrun-demo true"
  -n 'docker version, tsrun daemon' "$DOCKER -H unix://$work/tsrun.sock version"
)
bench_rounds "${ROUNDS:-10}" "${RUNS:-2}" "${commands[@]}"

# Idle again: what each daemon keeps once its containers are gone. PSS from smaps_rollup, in MiB.
sleep 2
pss() { awk '/^Pss:/ { kb += $2 } END { printf "%.1f", kb / 1024 }' "/proc/$1/smaps_rollup"; }
containerd_pid=$(pgrep -P "$dockerd_pid" -x containerd | head -n 1)
[ -n "$containerd_pid" ] || { echo "dockerd started no containerd of its own" >&2; exit 1; }
echo "PSS idle: tsrun daemon $(pss "$tsrund_pid") MiB; dockerd $(pss "$dockerd_pid") MiB + its containerd $(pss "$containerd_pid") MiB"

node -e '
  const { readRounds } = require("./test/bench/medians.cjs");
  const { times, medians: m } = readRounds(process.argv.slice(1));
  const ours = m["docker run, tsrun daemon"], theirs = m["docker run, dockerd"];
  console.log(`${process.argv.length - 1} rounds, ${times["docker run, dockerd"].length} runs of each`);
  console.log(`docker run --rm true: tsrun daemon ${ours.toFixed(1)} ms, dockerd ${theirs.toFixed(1)} ms: ${(ours / theirs).toFixed(2)}x (target: at most 0.5x)`);
  console.log(`docker version (the CLI alone, and one request): ${m["docker version, tsrun daemon"].toFixed(1)} ms`);
' "$work"/round-*.json
