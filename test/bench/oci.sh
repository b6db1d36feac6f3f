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
dockerd_pid=""
cleanup() {
  if [ -n "$dockerd_pid" ]; then
    docker_cli ps -aq | xargs -r "$DOCKER" -H "unix://$work/docker.sock" rm -f >/dev/null 2>&1 || true
    kill "$dockerd_pid" 2>/dev/null || true
    while kill -0 "$dockerd_pid" 2>/dev/null; do sleep 0.2; done
  fi
  for c in /sys/fs/cgroup/*/tsrun-bench-oci; do rmdir "$c"/* "$c" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
bench_prepare hyperfine runc docker.io

# Both runtimes get the very same files: the demo image's single layer, copied, and runc's default spec.
layer=$(ls -d "$TSRUN_ROOT"/layers/sha256/* | head -n 1)
mkdir -p "$work/bundle"
cp -a "$layer" "$work/bundle/rootfs"
(cd "$work/bundle" && runc spec)
node -e '
  const fs = require("fs"); const file = process.argv[1];
  const spec = JSON.parse(fs.readFileSync(file, "utf8"));
  spec.process.terminal = false; spec.process.args = ["true"]; spec.root.readonly = false;
  spec.linux.cgroupsPath = "/tsrun-bench-oci/c";
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
' "$work/bundle/config.json"

# One container's life as a shim drives it: create, start, then delete --force (true may still be running).
cat > "$work/cycle.sh" <<'EOF'
#!/bin/sh
set -e
"$1" --root "$2" create --bundle "$3" c >/dev/null
"$1" --root "$2" start c
"$1" --root "$2" delete --force c
EOF
chmod +x "$work/cycle.sh"

DOCKER=/usr/bin/docker
docker_cli() { "$DOCKER" -H "unix://$work/docker.sock" "$@"; }
dockerd --host "unix://$work/docker.sock" --data-root "$work/docker" --exec-root "$work/docker-exec" --pidfile "$work/docker.pid" \
  --iptables=false --ip-masq=false --bridge=none --storage-driver vfs --exec-opt native.cgroupdriver=cgroupfs \
  --cgroup-parent tsrun-bench-oci --add-runtime "tsrun=$PWD/bin/tsrun-oci.js" >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 100); do docker_cli version >/dev/null 2>&1 && break; sleep 0.2; done
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
  const fs = require("fs");
  const times = {};
  for (const file of process.argv.slice(1)) {
    for (const r of JSON.parse(fs.readFileSync(file, "utf8")).results) (times[r.command] ??= []).push(...r.times.map((t) => t * 1000));
  }
  const median = (values) => { const sorted = [...values].sort((a, b) => a - b); const mid = sorted.length >> 1; return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2; };
  const m = Object.fromEntries(Object.entries(times).map(([command, runs]) => [command, median(runs)]));
  const line = (name, ours, theirs) => console.log(`${name}: tsrun-oci ${m[ours].toFixed(1)} ms, runc ${m[theirs].toFixed(1)} ms: ${(m[ours] / m[theirs]).toFixed(2)}x (target: within 2x)`);
  console.log(`${process.argv.length - 1} rounds, ${times["node -e 1"].length} runs of each; node -e 1: ${m["node -e 1"].toFixed(1)} ms`);
  line("create+start+delete", "tsrun-oci create+start+delete", "runc create+start+delete");
  line("docker run --rm true", "docker run --runtime tsrun", "docker run --runtime runc");
' "$work"/round-*.json
