#!/usr/bin/env bash
# The demo: install, start the classroom registry on loopback (tsrun builds a
# tiny busybox image with its own code and pushes it there), then run a
# container from it with --explain: the pull stage fetches it for real.
# Uses /var/lib/tsrun unless TSRUN_ROOT is set; the registry listens on
# 127.0.0.1:5000 unless TSRUN_DEMO_PORT says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

port="${TSRUN_DEMO_PORT:-5000}"
./bin/tsrun.js lab registry start --port "$port"
./bin/tsrun.js run --rm --pull always --explain "127.0.0.1:$port/tsrun-demo" \
  sh -c 'echo "Hello from a tsrun container: I am PID $$ on host $(hostname)"; ls /'
# A short local name for the README's other examples.
./bin/tsrun.js tag "127.0.0.1:$port/tsrun-demo" tsrun-demo
echo
echo "The classroom registry keeps running for more: tsrun lab registry status; stop it with: tsrun lab registry stop"
