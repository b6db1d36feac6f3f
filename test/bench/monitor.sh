#!/usr/bin/env bash
# Memory of idle detached containers: 50 `tsrun run -d --network none tsrun-demo sleep 600`
# against 50 `podman run -d --network none` of the same image, both in the same run. What is
# measured is the process each runtime leaves as the container's parent: tsrun-monitor (C++)
# for tsrun, conmon (C) for podman. The figure is PSS (proportional set size, from
# /proc/PID/smaps_rollup): a process's private pages plus its share of the pages it shares,
# so the 50 monitors' PSS add up to what they cost the machine together.
# podman keeps everything it makes in this run's directory (--root, --runroot, --tmpdir,
# --network-config-dir); the containers have no network, so netavark is never called.
# Needs root; installs podman (with conmon) and runc from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/bench/common.sh
count=${CONTAINERS:-50}
work=$(mktemp -d /tmp/tsrun-bench-monitor.XXXXXX)
tsrun=(./bin/tsrun.js --root "$work/store")
podman=(podman --root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/podman/tmp" --network-config-dir "$work/podman/networks")
# What podman makes outside its own directories, left as they were found: /run/containers
# (netavark's run directory, made even with --network-config-dir) and, with cgroupfs, the
# libpod_parent cgroup (libpod_parent/conmon holds the conmons) in every hierarchy.
had_run_containers=$([ -e /run/containers ] && echo yes || true)
had_libpod_parent=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null || true)

# Until no process of this run is left: a monitor that became its exit command (tsrun
# container-exited, podman container cleanup) still reads and writes the stores in "$work".
wait_for_exit_commands() {
  for _ in $(seq 100); do pgrep -f -- "$work/" >/dev/null || return 0; sleep 0.1; done
  echo "still running after 10 s: $(pgrep -af -- "$work/")" >&2
}
cleanup() {
  local ids
  ids=$("${tsrun[@]}" ps -aq 2>/dev/null || true)
  # Each step says what failed on its own, and the next ones still run.
  if [ -n "$ids" ]; then "${tsrun[@]}" rm -f $ids >/dev/null || true; fi
  if [ -d "$work/podman" ]; then
    "${podman[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true
    "${podman[@]}" rmi -a >/dev/null 2>&1 || true
  fi
  wait_for_exit_commands
  if mountpoint -q "$work/podman/root/overlay" 2>/dev/null; then umount "$work/podman/root/overlay" || true; fi
  if [ -z "$had_libpod_parent" ]; then
    for group in /sys/fs/cgroup/*/libpod_parent; do
      if [ -d "$group/conmon" ]; then rmdir "$group/conmon" || true; fi
      if [ -d "$group" ]; then rmdir "$group" || true; fi
    done
  fi
  if [ -z "$had_run_containers" ]; then rm -rf /run/containers; fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
bench_prepare podman runc

# The sum of the Pss lines (kB) of the parents of the given container processes,
# after checking that each parent is the expected monitor.
monitors_pss_kb() {
  local name=$1 total=0 pid parent
  shift
  for pid in "$@"; do
    parent=$(ps -o ppid= -p "$pid" | tr -d ' ')
    if [ "$(cat "/proc/$parent/comm")" != "$name" ]; then
      echo "the parent of container process $pid is $(cat "/proc/$parent/comm"), not $name" >&2
      exit 1
    fi
    total=$((total + $(awk '/^Pss:/ { print $2 }' "/proc/$parent/smaps_rollup")))
  done
  echo "$total"
}

ids=()
for _ in $(seq "$count"); do ids+=("$("${tsrun[@]}" run -d --network none tsrun-demo sleep 600)"); done
tsrun_kb=$(monitors_pss_kb tsrun-monitor $("${tsrun[@]}" inspect --format '{{.State.Pid}}' "${ids[@]}"))
"${tsrun[@]}" rm -f "${ids[@]}" >/dev/null

# The same image for podman, as `docker save` would write it.
"${tsrun[@]}" save -o "$work/demo.tar" tsrun-demo
"${podman[@]}" load -q -i "$work/demo.tar" >/dev/null
# podman's default open-file and process limits for a container are above the hard limits runc
# inherits from it, and root without CAP_SYS_RESOURCE (as in some sandboxes) cannot raise them:
# small limits, which need no raising.
ids=()
for _ in $(seq "$count"); do
  ids+=("$("${podman[@]}" run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/tsrun-demo sleep 600)")
done
conmon_kb=$(monitors_pss_kb conmon $("${podman[@]}" inspect --format '{{.State.Pid}}' "${ids[@]}"))
"${podman[@]}" rm -f -t 0 "${ids[@]}" >/dev/null

node -e '
  const [count, tsrun, conmon] = process.argv.slice(1).map(Number);
  const each = (kb) => `${(kb / 1024).toFixed(1)} MiB, ${(kb / count).toFixed(0)} kB each`;
  console.log(`\nPSS of the monitors of ${count} idle detached containers (sleep 600, no network):`);
  console.log(`  tsrun-monitor ${each(tsrun)}`);
  console.log(`  conmon        ${each(conmon)}`);
  console.log(`tsrun-monitor / conmon = ${(tsrun / conmon).toFixed(2)}x (target: below 1.00x)`);
' "$count" "$tsrun_kb" "$conmon_kb"
