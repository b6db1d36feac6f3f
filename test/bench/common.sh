# Shared by the benchmarks (sourced, from the repository's root): the Debian tools
# they need, a fresh build, and a store in "$work" holding the demo image.
# The caller makes "$work" and removes it.

# Node 20 with OpenSSL 3 reads NODE_EXTRA_CA_CERTS, and with it all of its own root certificates, at
# every start, before any of tsrun runs (nodejs/node#40524): on this VM, whose environment names the
# system's bundle there, `node -e 0` takes 75 ms instead of 24. The benchmarks measure tsrun as it
# starts on a machine that does not set it, like the fresh Debian of the README. The peers (runc,
# crun, skopeo) are not Node, and never paid it.
unset NODE_EXTRA_CA_CERTS
bench_tools() {
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
      break
    fi
  done
}

bench_prepare() {
  bench_tools "$@"
  npm run build --silent
  export TSRUN_ROOT="$work/store"
  ./bin/tsrun.js make-demo-image "$work/image" >/dev/null
  ./bin/tsrun.js load -i "$work/image" >/dev/null
}

# Runs the commands (hyperfine's `-n NAME COMMAND`, three words each) in short rounds, every other
# round in the reverse order, each round's runs into "$work"/round-N.json. hyperfine alone measures one
# command's runs, then the next's, so a load that comes and goes (other work on the machine, a
# neighbour on the VM's host) would land on one of them; in a round of a second or two all see it.
bench_rounds() {
  local rounds=$1 runs=$2
  shift 2
  local commands=("$@") reversed=() order=() i round
  for ((i = ${#commands[@]} - 3; i >= 0; i -= 3)); do reversed+=("${commands[@]:i:3}"); done
  hyperfine -N --style none --warmup 3 --runs 1 "${commands[@]}" >/dev/null # the page cache, the code caches
  for round in $(seq "$rounds"); do
    if ((round % 2)); then order=("${commands[@]}"); else order=("${reversed[@]}"); fi
    # hyperfine warns of outliers in nearly every short round; its words are shown only if it fails.
    hyperfine -N --style none --runs "$runs" --export-json "$work/round-$round.json" "${order[@]}" >/dev/null 2>"$work/hyperfine.err" \
      || { cat "$work/hyperfine.err" >&2; exit 1; }
  done
}

# runc's default spec over the demo image's files (its single layer, copied), changed to run `true` without a
# terminal on a writable root: what run.sh gives runc, and oci.sh runc and tsrun-oci. $2: a cgroupsPath, if any.
bench_runc_bundle() {
  local dir=$1 layer
  layer=$(ls -d "$TSRUN_ROOT"/layers/sha256/* | head -n 1)
  mkdir -p "$dir"
  cp -a "$layer" "$dir/rootfs"
  (cd "$dir" && runc spec)
  node -e '
    const fs = require("fs"); const [file, cgroupsPath] = process.argv.slice(1);
    const spec = JSON.parse(fs.readFileSync(file, "utf8"));
    spec.process.terminal = false; spec.process.args = ["true"]; spec.root.readonly = false;
    if (cgroupsPath) spec.linux.cgroupsPath = cgroupsPath;
    fs.writeFileSync(file, JSON.stringify(spec, null, 2));
  ' "$dir/config.json" "${2:-}"
}

# Debian's dockerd, the benchmark's own: its socket, data root, exec root and pidfile in "$work", the cgroup parent
# tsrun-bench-NAME, and the flags the script adds; `docker_cli` talks to it. bench_dockerd_stop removes its
# containers, stops it, and removes the cgroup parent, which dockerd leaves behind.
DOCKER=/usr/bin/docker
docker_cli() { "$DOCKER" -H "unix://$work/docker.sock" "$@"; }
bench_dockerd() {
  bench_dockerd_name=$1
  shift
  dockerd --host "unix://$work/docker.sock" --data-root "$work/docker" --exec-root "$work/docker-exec" --pidfile "$work/docker.pid" \
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "tsrun-bench-$bench_dockerd_name" "$@" >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 100); do docker_cli version >/dev/null 2>&1 && break; sleep 0.2; done
  docker_cli version >/dev/null || { cat "$work/dockerd.log" >&2; exit 1; }
}
bench_dockerd_stop() {
  [ -n "${dockerd_pid:-}" ] || return 0
  docker_cli ps -aq | xargs -r "$DOCKER" -H "unix://$work/docker.sock" rm -f >/dev/null 2>&1 || true
  kill "$dockerd_pid" 2>/dev/null || true
  while kill -0 "$dockerd_pid" 2>/dev/null; do sleep 0.2; done
  for c in /sys/fs/cgroup/*/"tsrun-bench-$bench_dockerd_name"; do rmdir "$c"/* "$c" 2>/dev/null || true; done
}
