# Shared by the benchmarks (sourced, from the repository's root): the Debian tools
# they need, a fresh build, and a store in "$work" holding the demo image.
# The caller makes "$work" and removes it.
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
