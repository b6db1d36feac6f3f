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
