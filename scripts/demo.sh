#!/usr/bin/env bash
# The demo: install, build a tiny busybox image with tsrun's own code, load it,
# and run it. Uses a store of its own under /tmp unless TSRUN_ROOT is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

export TSRUN_ROOT="${TSRUN_ROOT:-/var/lib/tsrun}"
image_dir=$(mktemp -d /tmp/tsrun-demo-image.XXXXXX)
trap 'rm -rf "$image_dir"' EXIT

./bin/tsrun.js make-demo-image "$image_dir"
./bin/tsrun.js load -i "$image_dir"
./bin/tsrun.js run --rm --explain tsrun-demo sh -c 'echo "Hello from a tsrun container: I am PID $$ on host $(hostname)"; ls /'
