#!/usr/bin/env bash
# Start-up benchmark: `tsrun run --rm --network none tsrun-demo true` against
# Node's own start (`node -e 1`) and against runc running the same root
# filesystem (runc's default spec has no network either), the same run on
# the default bridge (against `--network none`: the bridge's cost, and against
# Debian's `docker run --rm` on its own default bridge, dockerd started here on a
# private socket without firewall rules or ip_forward, stopped after), and the same
# run by tsrun as it was before confinement (capabilities, seccomp, devices, the
# sealed exec helper), the six measured in short rounds. Prints medians and ratios.
# Needs root and a git checkout; installs hyperfine, runc and docker.io from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
work=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
docker0_before=$(ip -o link show docker0 2>/dev/null || true)
cleanup() {
  bench_dockerd_stop
  # dockerd leaves its bridge behind when it stops: one it made here goes.
  [ -n "$docker0_before" ] || ip link delete docker0 2>/dev/null || true
  runc delete -f tsrun-bench >/dev/null 2>&1 || true
  git worktree remove --force "$work/unconfined" >/dev/null 2>&1 || true
  ./bin/tsrun.js network prune >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
bench_prepare hyperfine runc docker.io

# runc gets the very same files: the demo image's single layer, copied.
bench_runc_bundle "$work/bundle"

# The build with confinement turned off: the commit before src/security/ came, built as `npm run build`
# builds (native module, bundles, code caches), with this checkout's node_modules.
before=$(git log --diff-filter=A --format=%H -- src/security/capabilities.ts | tail -n 1)
git worktree add --detach "$work/unconfined" "$before^" >/dev/null 2>&1
ln -s "$PWD/node_modules" "$work/unconfined/node_modules"
# It gets the one later change that is not confinement and moves the figure most: v1 cgroups joined through
# `tasks` (10-14 ms less; src/cgroups/cgroup.ts says why), so the two builds differ in confinement alone.
grep -q "procs: dirs.map((dir) => path.join(dir, 'cgroup.procs'))" "$work/unconfined/src/cgroups/cgroup.ts"
sed -i "s|procs: dirs.map((dir) => path.join(dir, 'cgroup.procs'))|procs: dirs.map((dir) => path.join(dir, 'tasks'))|" "$work/unconfined/src/cgroups/cgroup.ts"
(cd "$work/unconfined" && npx node-gyp rebuild --directory native >/dev/null 2>&1 && node scripts/bundle.mjs >/dev/null \
  && node dist/bundle/train-code-cache.cjs >/dev/null)

# Docker on its default bridge (docker0) and its default storage driver (overlay2), as a new user runs it, but
# with no firewall rules (--iptables=false) and ip_forward left as it is, so that the host is as it was after;
# the same layer imported as its image. (With vfs, oci.sh's driver, which copies the image for each container,
# docker run took 531 ms, not 280-300.)
bench_dockerd docker --iptables=false --ip-forward=false
tar -C "$work/bundle/rootfs" -c . | docker_cli import - bench >/dev/null

# In short rounds of the six (bench_rounds, common.sh), as trace.sh measures; the two builds side by side.
commands=(
  -n 'node -e 1' 'node -e 1'
  -n 'tsrun run --rm' "./bin/tsrun.js run --rm --network none tsrun-demo true"
  -n 'tsrun run --rm (unconfined build)' "$work/unconfined/bin/tsrun.js run --rm --network none tsrun-demo true"
  -n 'tsrun run --rm (bridge)' "./bin/tsrun.js run --rm tsrun-demo true"
  -n 'runc run' "runc run --bundle $work/bundle tsrun-bench"
  -n 'docker run --rm (bridge)' "$DOCKER -H unix://$work/docker.sock run --rm bench true"
)
bench_rounds "${ROUNDS:-15}" "${RUNS:-2}" "${commands[@]}"

node -e '
  const fs = require("fs");
  const { median, readRounds } = require("./test/bench/medians.cjs");
  const { times, medians: m } = readRounds(process.argv.slice(1));
  const tsrun = m["tsrun run --rm"], bridged = m["tsrun run --rm (bridge)"], node = m["node -e 1"], runc = m["runc run"];
  const unconfined = m["tsrun run --rm (unconfined build)"];
  console.log(`${process.argv.length - 1} rounds, ${times["runc run"].length} runs of each: medians node -e 1 ${node.toFixed(1)} ms, tsrun ${tsrun.toFixed(1)} ms, runc ${runc.toFixed(1)} ms`);
  console.log(`tsrun / node -e 1 = ${(tsrun / node).toFixed(2)}x (tsrun - node = ${(tsrun - node).toFixed(1)} ms; target: within 50 ms)`);
  console.log(`tsrun / runc run  = ${(tsrun / runc).toFixed(2)}x (both without a network of their own beyond loopback)`);
  const docker = m["docker run --rm (bridge)"];
  console.log(`the default bridge network (veth, address, route) adds ${(bridged - tsrun).toFixed(1)} ms to tsrun run --rm (${bridged.toFixed(1)} ms; target: 15 ms)`);
  console.log(`tsrun run --rm / docker run --rm, both on their default bridge = ${(bridged / docker).toFixed(2)}x (${bridged.toFixed(1)} ms against ${docker.toFixed(1)} ms; target: 0.35x)`);
  // Confinement is a few ms of a 60 ms run that one run on a busy VM moves by more: each confined run is paired
  // with the unconfined build'"'"'s run in the same place of its round, and the median taken over the pairs.
  const rounds = process.argv.slice(1).map((file) => Object.fromEntries(JSON.parse(fs.readFileSync(file, "utf8")).results.map((r) => [r.command, r.times.map((t) => t * 1000)])));
  const adds = rounds.flatMap((r) => r["tsrun run --rm"].map((t, i) => t - r["tsrun run --rm (unconfined build)"][i]));
  const sorted = [...adds].sort((a, b) => a - b);
  const [low, high] = [sorted[Math.floor(sorted.length / 4)], sorted[Math.floor(3 * sorted.length / 4)]];
  console.log(`confinement adds ${median(adds).toFixed(1)} ms to a run, median of ${adds.length} pairs, half of them between ${low.toFixed(1)} and ${high.toFixed(1)} (${unconfined.toFixed(1)} ms without it; target: 3 ms)`);
' "$work"/round-*.json
