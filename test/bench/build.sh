#!/usr/bin/env bash
# Build benchmark (issue 21): a six-step Dockerfile (the busybox demo image, COPY, RUN, COPY, RUN, CMD)
# built by `tsrun build` cold (--no-cache: every step runs) and fully cached, against `docker build` with
# the classic builder (DOCKER_BUILDKIT=0) from Debian's docker.io, on the same base image, in short
# rounds. Prints medians and ratios; the targets: cached ≤ 0.3× docker's, cold ≤ 0.8×.
# Needs root and a checkout; installs hyperfine, and docker.io unless NO_DOCKER=1 (then tsrun alone).
# dockerd gets a socket and data root of its own under the work directory, no bridge and no iptables rules,
# and is stopped at the end: the host's own docker, if any, is not touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
work=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
cleanup() {
  bench_dockerd_stop
  rm -rf "$work"
}
trap cleanup EXIT
if [[ ${NO_DOCKER:-} == 1 ]]; then bench_prepare hyperfine; else bench_prepare hyperfine docker.io; fi

# The context: each build of "cold" changes nothing, so only --no-cache makes it run every step.
mkdir -p "$work/context"
printf 'dependency %s\n' 1 2 3 > "$work/context/deps.txt"
printf 'the application\n' > "$work/context/app.txt"
cat > "$work/context/Dockerfile" <<'EOF'
FROM tsrun-demo
COPY deps.txt /opt/deps.txt
RUN sort /opt/deps.txt > /opt/installed
COPY app.txt /opt/app.txt
RUN wc -l /opt/installed /opt/app.txt > /opt/summary
CMD ["cat", "/opt/summary"]
EOF
./bin/tsrun.js build -q --network none -t bench:build "$work/context" >/dev/null # the cache, for the cached runs

commands=(
  -n 'tsrun build (cold)' "./bin/tsrun.js build -q --no-cache --network none $work/context"
  -n 'tsrun build (cached)' "./bin/tsrun.js build -q --network none $work/context"
)
if [[ ${NO_DOCKER:-} != 1 ]]; then
  export DOCKER_HOST="unix://$work/docker.sock" DOCKER_BUILDKIT=0
  bench_dockerd build --bridge none --iptables=false --ip6tables=false
  ./bin/tsrun.js save tsrun-demo | docker load >/dev/null # the same base image, as docker save would write it
  docker build -q --network none -t bench:build "$work/context" >/dev/null
  commands+=(
    -n 'docker build (cold)' "docker build -q --no-cache --network none $work/context"
    -n 'docker build (cached)' "docker build -q --network none $work/context"
  )
fi
bench_rounds "${ROUNDS:-5}" "${RUNS:-3}" "${commands[@]}"

node -e '
  const { readRounds } = require("./test/bench/medians.cjs");
  const { times, medians: m } = readRounds(process.argv.slice(1));
  console.log(`${process.argv.length - 1} rounds, ${times["tsrun build (cold)"].length} runs of each; medians:`);
  for (const [command, ms] of Object.entries(m)) console.log(`  ${command.padEnd(22)} ${ms.toFixed(0)} ms`);
  if (m["docker build (cold)"] !== undefined) {
    console.log(`cached: tsrun / docker = ${(m["tsrun build (cached)"] / m["docker build (cached)"]).toFixed(2)}x (target: 0.3x or less)`);
    console.log(`cold:   tsrun / docker = ${(m["tsrun build (cold)"] / m["docker build (cold)"]).toFixed(2)}x (target: 0.8x or less)`);
  }
' "$work"/round-*.json
