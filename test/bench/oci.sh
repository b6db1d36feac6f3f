#!/usr/bin/env bash
# tsrun-oci against runc, as their callers use them, in the same run:
#   1. create + start + delete of a bundle whose process is `true`: the three commands a shim runs,
#      one process each (a shell runs the three, for both runtimes alike);
#   2. `docker run --rm --network none IMAGE true` on one private dockerd (Debian's docker.io, started here
#      with no bridge and no firewall rules, stopped after), with --runtime tsrun and with runc.
# Prints medians and ratios; the target is tsrun-oci within 2x runc per container.
# Needs root and Debian's runc, docker.io and hyperfine (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
work=$(mktemp -d /tmp/tsrun-bench-oci.XXXXXX)
cleanup() {
  bench_dockerd_stop
  rm -rf "$work"
}
trap cleanup EXIT
bench_prepare hyperfine runc docker.io

# Both runtimes get the very same files: the demo image's single layer, copied, and runc's default spec.
bench_runc_bundle "$work/bundle" /tsrun-bench-oci/c

# One container's life as a shim drives it: create, start, then delete --force (true may still be running).
cat > "$work/cycle.sh" <<'EOF'
#!/bin/sh
set -e
"$1" --root "$2" create --bundle "$3" c >/dev/null
"$1" --root "$2" start c
"$1" --root "$2" delete --force c
EOF
chmod +x "$work/cycle.sh"

bench_dockerd oci --iptables=false --ip-masq=false --bridge=none --storage-driver vfs --add-runtime "tsrun=$PWD/bin/tsrun-oci.js"
tar -C "$work/bundle/rootfs" -c . | docker_cli import - bench >/dev/null

commands=(
  -n 'runc create+start+delete' "$work/cycle.sh runc $work/runc $work/bundle"
  -n 'tsrun-oci create+start+delete' "$work/cycle.sh $PWD/bin/tsrun-oci.js $work/tsrun-oci $work/bundle"
  -n 'docker run --runtime runc' "$DOCKER -H unix://$work/docker.sock run --rm --network none --runtime runc bench true"
  -n 'docker run --runtime tsrun' "$DOCKER -H unix://$work/docker.sock run --rm --network none --runtime tsrun bench true"
  -n 'node -e 1' 'node -e 1'
)
bench_rounds "${ROUNDS:-10}" "${RUNS:-2}" "${commands[@]}"

node -e '
  const { readRounds } = require("./test/bench/medians.cjs");
  const { times, medians: m } = readRounds(process.argv.slice(1));
  const line = (name, ours, theirs) => console.log(`${name}: tsrun-oci ${m[ours].toFixed(1)} ms, runc ${m[theirs].toFixed(1)} ms: ${(m[ours] / m[theirs]).toFixed(2)}x (target: within 2x)`);
  console.log(`${process.argv.length - 1} rounds, ${times["node -e 1"].length} runs of each; node -e 1: ${m["node -e 1"].toFixed(1)} ms`);
  line("create+start+delete", "tsrun-oci create+start+delete", "runc create+start+delete");
  line("docker run --rm true", "docker run --runtime tsrun", "docker run --runtime runc");
' "$work"/round-*.json
