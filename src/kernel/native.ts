// The real system calls: native/ loaded once, on first use, and wrapped so that
// it satisfies the `Syscalls` interface the rest of tsrun is written against.
import fs from 'node:fs';
import type * as ChildProcesses from 'node:child_process';
import type { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { SeccompFilter } from './seccomp.js';
import type { LinkInfo, MonitorRequest, RouteInfo, RtnetlinkBatch, StartedMonitor, Syscalls, SpawnRequest, SpawnedChild, WaitStatus } from './syscalls.js';

interface NativeModule {
  mount(source: string, target: string, fstype: string, flags: string[], data: string): void;
  umount2(target: string, flags: string[]): void;
  unshare_CLONE_NEWNET(file: string): void;
  socket_in_netns(file: string, type: string): number;
  bind(fd: number, address: string, port: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  openat2(dirfd: number, path: string, flags: string[], resolve: string[]): number;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  flock(fd: number, operation: string, nonBlocking: boolean): boolean;
  spawn(request: SpawnRequest & { dieWithParent: boolean; execHelper: string }): Omit<SpawnedChild, 'times'> & { times: ArrayBuffer };
  encodeSpawn(request: Pick<SpawnRequest, 'cloneFlags' | 'steps'> & { execHelper: string }): Buffer;
  waitpid(pid: number, callback: (error: Error | null, status: WaitStatus | null) => void): void;
  pipe(): [number, number];
  recvfd(socketFd: number): number;
  connect_unix(path: string): number;
  sendfd(socketFd: number, fd: number, name: string): void;
  ioctl_TIOCSWINSZ(fd: number, rows: number, cols: number): void;
  tcgetattr(fd: number): Buffer;
  tcsetattr(fd: number, settings: Buffer): void;
  cfmakeraw(settings: Buffer): Buffer;
  seccomp_export_bpf(filter: SeccompFilter): Buffer;
  rtnetlink(batch: RtnetlinkBatch): void;
  rtnetlink_getlink(): LinkInfo[];
  rtnetlink_getroute(): RouteInfo[];
  bpf_prog_load(progType: string, insns: Buffer, license: string): number;
  bpf_prog_attach(progFd: number, targetFd: number, attachType: string, flags: string[]): void;
}

let loaded: NativeModule | undefined;

/** The monitor of detached containers (native/src/monitor.cc), built next to the addon. */
export const MONITOR_PATH = fileURLToPath(new URL('../../native/build/Release/tsrun-monitor', import.meta.url));

/** What the child's execve step runs, from a sealed copy, to start the container's command (native/src/exec.c). */
export const EXEC_HELPER_PATH = fileURLToPath(new URL('../../native/build/Release/tsrun-exec', import.meta.url));

function native(): NativeModule {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    try {
      loaded = require('../../native/build/Release/tsrun_native.node') as NativeModule;
    } catch (error) {
      throw new Error('tsrun\'s native module is not built — run `npm run build` first', { cause: error });
    }
  }
  return loaded;
}

export const realSyscalls: Syscalls = {
  mount: (source, target, fstype, flags, data) => native().mount(source, target, fstype, flags, data),
  umount2: (target, flags) => native().umount2(target, flags),
  unshare_CLONE_NEWNET: (file) => native().unshare_CLONE_NEWNET(file),
  socket_in_netns: (file, type) => native().socket_in_netns(file, type),
  bind: (fd, address, port) => native().bind(fd, address, port),
  mknod: (path, mode, major, minor) => native().mknod(path, mode, major, minor),
  openat2: (dirfd, path, flags, resolve) => native().openat2(dirfd, path, flags, resolve),
  lsetxattr: (path, name, value) => native().lsetxattr(path, name, value),
  lgetxattr: (path, name) => native().lgetxattr(path, name),
  llistxattr: (path) => native().llistxattr(path),
  flock: (fd, operation, nonBlocking) => native().flock(fd, operation, nonBlocking),
  spawn: (request) => {
    const child = native().spawn({ ...request, dieWithParent: request.dieWithParent ?? true, execHelper: EXEC_HELPER_PATH });
    return { ...child, times: new BigInt64Array(child.times) };
  },
  encodeSpawn: (request) => native().encodeSpawn({ ...request, execHelper: EXEC_HELPER_PATH }),
  spawnMonitor,
  waitpid: (pid) => new Promise((resolve, reject) => {
    native().waitpid(pid, (error, status) => (error ? reject(error) : resolve(status!)));
  }),
  pipe: () => native().pipe(),
  recvfd: (socketFd) => native().recvfd(socketFd),
  connect_unix: (path) => native().connect_unix(path),
  sendfd: (socketFd, fd, name) => native().sendfd(socketFd, fd, name),
  ioctl_TIOCSWINSZ: (fd, rows, cols) => native().ioctl_TIOCSWINSZ(fd, rows, cols),
  tcgetattr: (fd) => native().tcgetattr(fd),
  tcsetattr: (fd, settings) => native().tcsetattr(fd, settings),
  cfmakeraw: (settings) => native().cfmakeraw(settings),
  seccomp_export_bpf: (filter) => native().seccomp_export_bpf(filter),
  rtnetlink: (batch) => native().rtnetlink(batch),
  rtnetlink_getlink: () => native().rtnetlink_getlink(),
  rtnetlink_getroute: () => native().rtnetlink_getroute(),
  bpf_prog_load: (progType, insns, license) => native().bpf_prog_load(progType, insns, license),
  bpf_prog_attach: (progFd, targetFd, attachType, flags) => native().bpf_prog_attach(progFd, targetFd, attachType, flags),
};

/** tsrun-monitor LOG MAX_LOG_BYTES EXIT_FILE SYNC_FD STDIN STDIN_ONCE -- EXIT_COMMAND…, its steps on stdin, fd 3 its sync pipe. */
function spawnMonitor(request: MonitorRequest): StartedMonitor {
  // node:child_process is loaded only here, for a detached start: a foreground run does not need it.
  const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof ChildProcesses;
  const log = fs.openSync(request.monitorLog, 'a');
  try {
    const monitor = spawn(MONITOR_PATH, [
      request.logPath, String(request.logMaxBytes), request.exitFile, '3', request.stdinFifo ?? '-', request.stdinOnce ? 'once' : 'kept', request.consoleFifo ?? '-', '--', ...request.exitCommand,
    ], { detached: true, stdio: ['pipe', log, log, 'pipe'], env: request.env });
    monitor.stdin!.end(request.spawn);
    const said = linesUntilClosed(monitor.stdio[3] as Readable).finally(() => monitor.unref());
    return { pid: monitor.pid!, said };
  } finally {
    fs.closeSync(log);
  }
}

function linesUntilClosed(pipe: Readable): Promise<string[]> {
  return new Promise((resolve) => {
    let text = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => { text += chunk; });
    pipe.on('close', () => resolve(text.split('\n').filter(Boolean)));
  });
}
