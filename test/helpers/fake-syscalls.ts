// A Syscalls double that records every call and performs none, so stage logic
// is tested without root. Calls that must answer something answer harmlessly.
//
// spawn and spawnMonitor answer as the native ones do, with real file descriptors and a real pid (one the
// test owns, alive: tsrun reads its /proc/PID/stat), so src/kernel/child.ts reads and closes them as it would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MonitorRequest, SpawnRequest, Syscalls, WaitStatus } from '../../src/kernel/syscalls.js';
import type { StepFailure } from '../../src/kernel/child.js';

export interface RecordedCall { name: keyof Syscalls; args: unknown[] }

/** How the fake child goes: by default its steps all succeed, execve too, and it exits 0. */
export interface FakeChild {
  /** Its pid: a live process the test owns (default: the test's own, process.pid). */
  pid?: number;
  /** The step that fails, with its errno, as the child writes them on the error pipe; default none. */
  failStep?: StepFailure;
  /** What waitpid answers for it (a promise: the test decides when it exits); default exit code 0. */
  exit?: WaitStatus | Promise<WaitStatus>;
}

/** How the fake tsrun-monitor goes: it starts the container, or says which step failed. */
export interface FakeMonitor {
  /** The monitor's pid and the container's (default: the test's own). */
  pid?: number;
  failStep?: StepFailure;
  /** Its lines on the sync pipe, instead of "pid N" and "started" (or "failed STEP ERRNO"). */
  said?: string[];
  /** Written to the request's monitorLog, as the monitor's own output. */
  log?: string;
}

export interface FakeOptions {
  child?: FakeChild;
  monitor?: FakeMonitor;
}

export function fakeSyscalls(overrides: Partial<Syscalls> = {}, fake: FakeOptions = {}): Syscalls & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const record = <K extends keyof Syscalls>(name: K, answer: (...args: any[]) => any) =>
    (...args: unknown[]) => { calls.push({ name, args }); return answer(...args); };
  const childPid = fake.child?.pid ?? process.pid;
  const sys: Syscalls = {
    mount: record('mount', () => undefined),
    umount2: record('umount2', () => undefined),
    unshare_CLONE_NEWNET: record('unshare_CLONE_NEWNET', () => undefined),
    socket_in_netns: record('socket_in_netns', () => -1),
    bind: record('bind', () => undefined),
    mknod: record('mknod', () => undefined),
    // Opens for real, through the directory's /proc/self/fd link, without the resolve rules: tests read their own files.
    openat2: record('openat2', (dirfd: number, file: string) => fs.openSync(`/proc/self/fd/${dirfd}/${file}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)),
    lsetxattr: record('lsetxattr', () => undefined),
    lgetxattr: record('lgetxattr', () => null),
    llistxattr: record('llistxattr', () => []),
    flock: record('flock', () => true),
    spawn: record('spawn', (request: SpawnRequest) => ({
      pid: childPid,
      errorFd: errorPipe(fake.child?.failStep),
      consoleFd: -1,
      times: childTimes(request.steps.length, fake.child?.failStep),
    })),
    encodeSpawn: record('encodeSpawn', () => Buffer.alloc(0)),
    spawnMonitor: record('spawnMonitor', (request: MonitorRequest) => {
      const monitor = fake.monitor ?? {};
      const pid = monitor.pid ?? process.pid;
      if (monitor.log !== undefined) fs.writeFileSync(request.monitorLog, monitor.log);
      const failed = monitor.failStep && `failed ${monitor.failStep.step} ${monitor.failStep.errno}`;
      return { pid, said: Promise.resolve(monitor.said ?? [`pid ${pid}`, failed ?? 'started']) };
    }),
    waitpid: record('waitpid', (pid: number) => Promise.resolve(pid === childPid && fake.child?.exit ? fake.child.exit : { code: 0, signal: null })),
    // Real descriptors, though not a pipe's: a test that reads or writes one needs the real module.
    pipe: record('pipe', () => [fs.openSync('/dev/null', 'r'), fs.openSync('/dev/null', 'w')]),
    recvfd: record('recvfd', () => -1),
    connect_unix: record('connect_unix', () => -1),
    sendfd: record('sendfd', () => undefined),
    ioctl_TIOCSWINSZ: record('ioctl_TIOCSWINSZ', () => undefined),
    tcgetattr: record('tcgetattr', () => Buffer.alloc(60)),
    tcsetattr: record('tcsetattr', () => undefined),
    cfmakeraw: record('cfmakeraw', (settings: Buffer) => Buffer.from(settings)),
    // One instruction, BPF_RET | BPF_K SECCOMP_RET_ALLOW: the shape of a program, not a real filter.
    seccomp_export_bpf: record('seccomp_export_bpf', () => Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f])),
    // A real fd, so the caller can close it as it would a program's.
    bpf_prog_load: record('bpf_prog_load', () => fs.openSync('/dev/null', 'r')),
    bpf_prog_attach: record('bpf_prog_attach', () => undefined),
    rtnetlink: record('rtnetlink', () => undefined),
    // A host with loopback and eth0, its default route out of eth0 (test/helpers/fake-network-host.ts keeps a model).
    rtnetlink_getlink: record('rtnetlink_getlink', () => [{ index: 1, ifname: 'lo', mtu: 65536 }, { index: 2, ifname: 'eth0', mtu: 1500 }]),
    rtnetlink_getroute: record('rtnetlink_getroute', () => [{ dst: 'default', oif: 2 }]),
    ...overrides,
  };
  return Object.assign(sys, { calls });
}

/** The read end of the child's error pipe: nothing (execve closed it), or {step, errno} as two int32LE.
 *  A file unlinked at once stands in for the pipe: the fd reads the same, and nothing is left behind. */
function errorPipe(failure: StepFailure | undefined): number {
  if (!failure) return fs.openSync('/dev/null', 'r');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-fake-pipe-'));
  const file = path.join(dir, 'error');
  const bytes = Buffer.alloc(8);
  bytes.writeInt32LE(failure.step, 0);
  bytes.writeInt32LE(failure.errno, 4);
  fs.writeFileSync(file, bytes);
  try {
    return fs.openSync(file, 'r');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** SpawnedChild.times as the native child fills them (native/src/spawn.cc): one slot for clone, one for the
 *  child's start, one per step, and one more for when a failed step ended. Increasing monotonic times up to
 *  the last step that began; 0 where nothing happened. */
function childTimes(stepCount: number, failure: StepFailure | undefined): BigInt64Array {
  const times = new BigInt64Array(2 + stepCount + 1);
  const filled = failure ? 2 + failure.step + 2 : 2 + stepCount; // a failure: up to the slot after the failed step
  const start = process.hrtime.bigint();
  for (let slot = 0; slot < filled; slot++) times[slot] = start + BigInt(slot) * 1000n;
  return times;
}
