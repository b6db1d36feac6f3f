#!/usr/bin/env bash
# Installs everything tsrun and its tests need on a Debian machine, as root:
# Debian packages, npm dependencies, the native module and the compiled CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run me as root (tsrun mounts filesystems and creates namespaces)" >&2
  exit 1
fi

# Debian packages: a compiler for the native module, tools that make test images, a registry for
# the pull tests (docker-registry, and apache2-utils for htpasswd), and the system's own.
# chromium: the lessons site is checked in a real browser; tmux: --step in a real terminal;
# hyperfine and debootstrap: the benchmarks in test/bench/ (the pull benchmark builds a Debian image).
# libseccomp-dev: the native module links libseccomp, which compiles seccomp profiles to BPF
# (python3 also loads such a program in test/integration/seccomp-bpf.test.ts). musl-tools: tsrun-exec,
# copied into memory and started for every container, is linked with musl: 17 kB instead of glibc's 680 kB.
# docker.io, containerd, podman and docker-compose: real callers of tsrun-oci and of tsrun's daemon (test/integration/
# oci-*.test.ts start a private dockerd with --add-runtime, a private containerd, and podman --runtime; daemon.test.ts
# drives tsrun daemon with docker-compose); never a dependency of tsrun itself.
packages=(g++ make python3 libseccomp-dev musl-tools attr tmux busybox-static umoci skopeo zstd docker-registry apache2-utils iproute2 util-linux procps nftables iptables chromium hyperfine debootstrap docker.io containerd podman docker-compose)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # On a machine without systemd, a package's init script would start its service at once (docker.io's dockerd,
  # with its bridge and firewall rules): policy-rc.d says no to every start during the install.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  # tsrun's tests start their own registries and dockerd on private sockets; the packages' system services are not wanted.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry docker.socket docker containerd >/dev/null 2>&1 || true
  fi
fi

if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "install.sh: tsrun needs Node.js 20.19 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
