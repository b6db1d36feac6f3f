#!/usr/bin/env bash
# Pull benchmark, from a docker-registry on loopback, all in the same hyperfine run:
#   `tsrun pull` into an empty store  against  `skopeo copy docker://… dir:…` of the same image
#   (skopeo only downloads and checks the blobs; tsrun also unpacks every layer and checks its diff id),
#   and against `skopeo copy` to an OCI layout followed by `umoci unpack`, which does the same work as tsrun;
#   `tsrun pull` again, every layer present  against  Node's own start (`node -e 1`).
# The image is Debian bookworm (debootstrap --variant=minbase, about 125 MB unpacked) in three
# layers. The root filesystem and the image are built once and kept in test/.tmp/bench-pull/.
# The stores and skopeo's copy go to a tmpfs, so the figures measure the programs rather than
# the disk: on a slow one, creating the image's 6,700 files takes many times skopeo's whole copy
# (which writes four files). STORES_ON_DISK=1 puts them under /tmp instead.
# Needs root; installs hyperfine, debootstrap, umoci, skopeo and docker-registry from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
cache=test/.tmp/bench-pull
work=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
registry=
cleanup() {
  if [ -n "$registry" ]; then kill "$registry" 2>/dev/null || true; wait "$registry" 2>/dev/null || true; fi
  if mountpoint -q "$work/stores"; then umount "$work/stores"; fi
  rm -rf "$work"
}
trap cleanup EXIT
bench_tools hyperfine debootstrap umoci skopeo docker-registry
npm run build --silent

# The root filesystem, without apt's downloaded packages and lists (as Debian's own images are).
mkdir -p "$cache"
if [ ! -d "$cache/rootfs" ]; then
  rm -rf "$cache/rootfs.partial"
  debootstrap --variant=minbase bookworm "$cache/rootfs.partial" http://deb.debian.org/debian >"$cache/debootstrap.log"
  rm -rf "$cache"/rootfs.partial/var/cache/apt/archives/*.deb "$cache"/rootfs.partial/var/lib/apt/lists/*
  mv "$cache/rootfs.partial" "$cache/rootfs"
fi

# Three layers, as an OCI layout: everything but /usr/share and /usr/bin, then each of those.
if [ ! -d "$cache/layout" ]; then
  rm -rf "$cache/layout.partial"
  umoci init --layout "$cache/layout.partial"
  umoci new --image "$cache/layout.partial:bookworm"
  tar -C "$cache/rootfs" --exclude=./usr/share --exclude=./usr/bin -cf "$work/base.tar" .
  tar -C "$cache/rootfs" -cf "$work/share.tar" ./usr/share
  tar -C "$cache/rootfs" -cf "$work/bin.tar" ./usr/bin
  for layer in base share bin; do
    umoci raw add-layer --image "$cache/layout.partial:bookworm" "$work/$layer.tar"
  done
  umoci config --image "$cache/layout.partial:bookworm" --config.cmd /bin/bash
  mv "$cache/layout.partial" "$cache/layout"
fi

# A registry of its own on a free loopback port, holding the image.
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
host="127.0.0.1:$port"
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $host
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry=$!
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
for _ in $(seq 100); do listening && break; sleep 0.1; done
listening || { echo "docker-registry did not start: $(cat "$work/registry.log")" >&2; exit 1; }
skopeo copy --quiet --dest-tls-verify=false "oci:$cache/layout:bookworm" "docker://$host/bookworm:latest"

mkdir "$work/stores"
if [ -z "${STORES_ON_DISK:-}" ]; then mount -t tmpfs -o size=2g tsrun-bench "$work/stores"; fi
stores=$work/stores

# The second pull finds every layer in this store already.
./bin/tsrun.js --root "$stores/present" pull -q "$host/bookworm" >/dev/null

# One --prepare per command: the first pull and skopeo each start from nothing, every run.
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-json "$work/results.json" \
  --prepare "rm -rf $stores/empty" --prepare "rm -rf $stores/skopeo" --prepare "rm -rf $stores/oci $stores/bundle" \
  --prepare 'true' --prepare 'true' \
  -n 'tsrun pull (empty store)' "./bin/tsrun.js --root $stores/empty pull -q $host/bookworm" \
  -n 'skopeo copy' "skopeo copy --quiet --src-tls-verify=false docker://$host/bookworm:latest dir:$stores/skopeo" \
  -n 'skopeo copy + umoci unpack' "skopeo copy --quiet --src-tls-verify=false docker://$host/bookworm:latest oci:$stores/oci:latest && umoci unpack --image $stores/oci:latest $stores/bundle >/dev/null" \
  -n 'node -e 1' 'node -e 1' \
  -n 'tsrun pull (layers present)' "./bin/tsrun.js --root $stores/present pull -q $host/bookworm"

node -e '
  const { results } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const median = Object.fromEntries(results.map((r) => [r.command, r.median * 1000]));
  const first = median["tsrun pull (empty store)"], skopeo = median["skopeo copy"], unpacking = median["skopeo copy + umoci unpack"];
  const node = median["node -e 1"], again = median["tsrun pull (layers present)"];
  console.log(`\nmedians: tsrun pull ${first.toFixed(0)} ms, skopeo copy ${skopeo.toFixed(0)} ms; node -e 1 ${node.toFixed(1)} ms, tsrun pull again ${again.toFixed(1)} ms`);
  console.log(`tsrun pull / skopeo copy = ${(first / skopeo).toFixed(2)}x (target: at most 1.00x)`);
  console.log(`tsrun pull / (skopeo copy + umoci unpack), which also unpacks = ${(first / unpacking).toFixed(2)}x (skopeo + umoci: ${unpacking.toFixed(0)} ms)`);
  console.log(`tsrun pull again - node -e 1 = ${(again - node).toFixed(1)} ms (target: within 100 ms)`);
' "$work/results.json"
