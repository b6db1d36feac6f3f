// The OCI runtime's lifecycle (the runtime spec's runtime.md), one function per command of runc's that
// callers use: create, start, state, kill, delete, and run (all of them at once).
//
//   create   plan the bundle, make the cgroup, clone the child: it performs every step, then waits on
//            exec.fifo just before the user's program; its pid goes to --pid-file, and tsrun-oci exits.
//            Its parent is then the caller's (containerd's shim is a subreaper): the container outlives us.
//   start    open exec.fifo for reading: the child's open for writing returns and it execs the program.
//   delete   once the process is gone: the cgroup and the record go, and the poststop hooks run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Syscalls } from '../kernel/syscalls.js';
import { forwardSignals, hookOutcome, startChild, stepError, waitForExit, type StartedChild } from '../kernel/child.js';
import { processStartTime } from '../kernel/proc.js';
import { cgroupProcesses, createCgroup, hostCgroupLayout, planCgroupAt, readUsage, removeCgroup, setFrozen } from '../cgroups/cgroup.js';
import { writeFileAtomic } from '../store/atomic.js';
import { errnoName, fail, withContext } from '../errors.js';
import { checkSpec, readBundle, type HookName, type OciHook, type OciProcess, type OciResources } from './spec.js';
import { ambientCapabilities, planBundle, processPlanSteps, resourceLimits } from './plan.js';
import { joinContainerSteps } from '../containers/exec-in.js';
import { containerDir, fifoPath, loadRecord, saveRecord, stateOf, statusOf, type OciRecord, type OciState } from './state.js';

export interface OciContext {
  sys: Syscalls;
  /** --root: where the containers' records are. */
  root: string;
  /** Where warnings go (poststart and poststop hooks that fail): the --log file, in its format. */
  warn: (message: string) => void;
}

export interface CreateOptions {
  bundle: string;
  /** `run` waits for the process itself: it reaps it. `create` leaves it to its next parent. */
  reap?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  /** --no-pivot: chroot into the root instead of pivot_root (stages/namespaces.ts, moveRootSteps). */
  noPivot?: boolean;
  /** --preserve-fds N: the caller's descriptors 3 .. 3 + N - 1 are the process's too. */
  preserveFds?: number;
}

// #region create
export async function create(ctx: OciContext, id: string, options: CreateOptions): Promise<{ record: OciRecord; child: StartedChild }> {
  const bundle = path.resolve(options.bundle);
  const spec = readBundle(bundle);
  const terminal = spec.process!.terminal ?? false;
  if (terminal && !options.consoleSocket && !options.reap) throw fail('config.json: process.terminal: create needs --console-socket to hand the terminal to');
  if (options.consoleSocket && !terminal) throw fail('--console-socket is only for a process with a terminal (process.terminal)');
  const preserveFds = checkPreservedFds(options.preserveFds ?? 0);
  const dir = containerDir(ctx.root, id);
  fs.mkdirSync(ctx.root, { recursive: true, mode: 0o711 });
  try {
    fs.mkdirSync(dir, { mode: 0o711 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw fail(`container with id ${id} already exists`);
    throw error;
  }
  const plan = planBundleOrClean(() => planBundle(spec, bundle, id, hostCgroupLayout(), ctx.sys, { noPivot: options.noPivot }), dir);
  warnAboutProcess(ctx, spec.process!);
  const creating: OciRecord = {
    id, bundle, rootfs: plan.root, pid: 0, pidStartTime: null, created: new Date().toISOString(), cgroup: plan.cgroup, cgroupPath: plan.cgroupPath,
    hooks: spec.hooks ?? {}, annotations: spec.annotations ?? {}, creator: { pid: process.pid, startTime: processStartTime(process.pid) },
  };
  let pid = 0;
  try {
    saveRecord(dir, creating); // `state` says creating until the process waits
    createCgroup(plan.cgroup, ctx.sys);
    // Anyone may write the FIFO (the container's user need not be root); only its open matters, not its data.
    ctx.sys.mknod(fifoPath(dir), fs.constants.S_IFIFO | 0o622, 0, 0);
    fs.chmodSync(fifoPath(dir), 0o622);
    const fifo = openPath(ctx.sys, dir, 'exec.fifo');
    let child;
    try {
      const stdio: [number, number, number] = terminal ? [-1, -1, -1] : [0, 1, 2];
      child = await startChild(ctx.sys, { cloneFlags: plan.cloneFlags, steps: plan.steps, stdio, dieWithParent: false, awaitStart: fifo, preserveFds, tty: terminal }, (spawned) => { pid = spawned; }, options.reap ?? false);
    } finally {
      fs.closeSync(fifo);
    }
    // errno 0: not a failure but tsrun-exec saying it waits for start (native/src/exec.c).
    if (!child.failure || child.failure.errno !== 0) {
      await child.exited;
      throw child.failure ? stepError(child.failure, plan.steps, spec.process!.args[0]!) : fail('the container\'s process did not wait for start');
    }
    const record: OciRecord = { ...creating, pid, pidStartTime: processStartTime(pid) };
    saveRecord(dir, record);
    // The network of a pod, say, is set up by these: after the namespaces exist, before the program runs.
    runHooks(record, 'prestart', 'created');
    runHooks(record, 'createRuntime', 'created');
    if (options.consoleSocket) handOverTerminal(ctx.sys, options.consoleSocket, child.ptyFd);
    if (options.pidFile) writeFileAtomic(path.resolve(options.pidFile), String(pid));
    return { record, child };
  } catch (error) {
    if (pid > 0) killQuietly(pid, 'SIGKILL');
    await removeCgroup(plan.cgroup).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
// #endregion

// #region console-socket
/** The terminal's master goes to the caller over its console socket, as runc sends it (SCM_RIGHTS, with the name
 *  of the multiplexer it came from): the caller relays it to the user, and tsrun-oci keeps no copy. */
function handOverTerminal(sys: Syscalls, consoleSocket: string, ptyFd: number): void {
  const socket = sys.connect_unix(consoleSocket);
  try {
    sys.sendfd(socket, ptyFd, '/dev/ptmx');
  } finally {
    fs.closeSync(socket);
    fs.closeSync(ptyFd);
  }
}
// #endregion

// #region preserve-fds
/** --preserve-fds N: the caller's 3, 4, ... up to 3 + N - 1, as a socket-activated service expects its sockets
 *  (systemd's LISTEN_FDS counts them from 3). tsrun-oci inherited them at those numbers; each must be open. */
function checkPreservedFds(count: number): number {
  for (let fd = 3; fd < 3 + count; fd++) {
    try {
      fs.fstatSync(fd);
    } catch (error) {
      throw fail(`--preserve-fds ${count}: descriptor ${fd} is not open (${(error as NodeJS.ErrnoException).code})`, `open descriptors 3 to ${2 + count} before calling tsrun-oci`);
    }
  }
  return count;
}
// #endregion

/** What the process asks for and tsrun goes on without, said rather than ignored (the spec allows either). */
function warnAboutProcess(ctx: OciContext, proc: OciProcess): void {
  const { skipped } = ambientCapabilities(proc.capabilities ?? {});
  if (skipped.length) ctx.warn(`process.capabilities.ambient: ${skipped.join(', ')} not raised: an ambient capability must be permitted and inheritable`);
  // Docker asks for its AppArmor profile only where the kernel has AppArmor; seccomp and the capabilities still confine.
  if (proc.apparmorProfile) ctx.warn(`process.apparmorProfile ${proc.apparmorProfile} not applied: tsrun has no AppArmor support`);
}

function planBundleOrClean<T>(plan: () => T, dir: string): T {
  try {
    return plan();
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A file of `dir` opened O_PATH (no read, no write: the FIFO's open must not count as its reader). */
function openPath(sys: Syscalls, dir: string, name: string): number {
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return sys.openat2(dirFd, name, ['O_PATH', 'O_NOFOLLOW'], ['RESOLVE_BENEATH']);
  } finally {
    fs.closeSync(dirFd);
  }
}

// #region start
export async function start(ctx: OciContext, id: string): Promise<void> {
  const record = loadRecord(ctx.root, id);
  const dir = containerDir(ctx.root, id);
  const status = statusOf(record, dir);
  if (status === 'stopped') throw fail(`cannot start a container that has stopped`);
  if (status !== 'created') throw fail(`cannot start an already running container`);
  const told = await releaseFromFifo(record, dir);
  fs.rmSync(fifoPath(dir), { force: true });
  if (told.length >= 8) throw startFailure(record, told.readInt32LE(0), told.readInt32LE(4));
  runHooks(record, 'poststart', 'running', ctx.warn);
}

/** What tsrun-exec wrote into the FIFO when the process could not go on after start (native/src/exec.c, Tell): the
 *  startContainer hook that failed, or -1 and why the program could not be executed. The process has ended. */
function startFailure(record: OciRecord, hook: number, outcome: number): Error {
  const failed = record.hooks.startContainer?.[hook];
  if (failed) return fail(`startContainer hook ${failed.path}: ${hookOutcome(outcome, failed.timeout ?? 0)}`);
  return fail(`the container's program could not be executed: ${errnoName(outcome)}`);
}
// #endregion

/** Open exec.fifo for reading, which lets the waiting child go on, and read until it execs (its end closes): a "0",
 *  the wait is over (native/src/exec.c), then a failure told, or nothing. A child that died while waiting never opens
 *  its end, and the open would wait for ever: once it is seen gone, tsrun-oci opens that end itself, and the read
 *  comes back empty. Its death alone tells nothing: a program that ran and ended at once is gone too. */
async function releaseFromFifo(record: OciRecord, dir: string): Promise<Buffer> {
  const done = new AbortController();
  const opening = fs.promises.open(fifoPath(dir), 'r');
  const watch = (async () => {
    while (statusOf(record, dir) === 'created') await sleep(20, undefined, { signal: done.signal });
    // ENXIO until the open above is waiting: only then is there a reader to open against.
    for (;;) {
      try {
        fs.closeSync(fs.openSync(fifoPath(dir), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
        return;
      } catch {
        await sleep(20, undefined, { signal: done.signal });
      }
    }
  })();
  watch.catch(() => undefined); // aborted once the FIFO is read
  try {
    const fifo = await opening;
    try {
      const told = await fifo.readFile();
      if (told[0] !== '0'.charCodeAt(0)) throw fail(`container ${record.id}'s process ended before it started`);
      return told.subarray(1);
    } finally {
      await fifo.close();
    }
  } finally {
    done.abort();
  }
}

export function state(ctx: OciContext, id: string): OciState {
  return stateOf(loadRecord(ctx.root, id), containerDir(ctx.root, id));
}

// #region kill
/** SIGTERM by default; a name (KILL, SIGKILL) or a number, as runc takes it. --all: every process of its cgroup. */
export function kill(ctx: OciContext, id: string, signal = 'SIGTERM', all = false): void {
  const record = loadRecord(ctx.root, id);
  const status = statusOf(record, containerDir(ctx.root, id));
  if (status === 'creating') throw fail('container is still being created');
  if (status === 'stopped' && !all) throw fail('container not running');
  const sig = signalOf(signal);
  for (const pid of all ? cgroupProcesses(record.cgroup) : [record.pid]) killQuietly(pid, sig);
}
// #endregion

export function signalOf(text: string): NodeJS.Signals | number {
  if (/^\d+$/.test(text)) return Number(text);
  const name = (text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in os.constants.signals)) throw fail(`unknown signal ${JSON.stringify(text)}`);
  return name;
}

function killQuietly(pid: number, signal: NodeJS.Signals | number): void {
  if (pid <= 0) return; // kill(0) or kill(-1) would signal tsrun-oci's own group, or every process
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function ps(ctx: OciContext, id: string): number[] {
  return cgroupProcesses(loadRecord(ctx.root, id).cgroup);
}

export async function pause(ctx: OciContext, id: string, frozen: boolean): Promise<void> {
  const record = loadRecord(ctx.root, id);
  const status = statusOf(record, containerDir(ctx.root, id));
  if (frozen && status !== 'running') throw fail(`container not running`);
  if (!frozen && status !== 'paused') throw fail(`container not paused`);
  await setFrozen(record.cgroup, frozen);
}

// #region update
/** `update --resources FILE`: new limits written into the container's cgroup (docker update). The device list stays as
 *  create made it: an allow-list taken back while processes hold devices open would not close them anyway. */
export function update(ctx: OciContext, id: string, resources: OciResources): void {
  const record = loadRecord(ctx.root, id);
  if (statusOf(record, containerDir(ctx.root, id)) === 'stopped') throw fail(`container ${id} is stopped`);
  checkSpec({ ociVersion: '1.0.2', root: { path: '.' }, process: { args: ['-'], cwd: '/', user: { uid: 0, gid: 0 } }, linux: { resources } });
  if (resources.devices?.length) throw fail('update: linux.resources.devices cannot be changed after create');
  const plan = planCgroupAt(hostCgroupLayout(), record.cgroupPath, resourceLimits(resources));
  for (const { file, value } of plan.writes) fs.writeFileSync(file, value);
}
// #endregion

/** `events --stats`: the cgroup's counters, once, in runc's shape (the parts tsrun reads). */
export function stats(ctx: OciContext, id: string): object {
  const record = loadRecord(ctx.root, id);
  const usage = readUsage(record.cgroup);
  return {
    type: 'stats', id,
    data: {
      cpu: { usage: { total: usage.cpuNanoseconds } },
      memory: { usage: { usage: usage.memoryBytes, limit: usage.memoryLimit ?? 0 } },
      pids: { current: usage.pids },
    },
  };
}

// #region delete
/** A created container may go at once, as with runc (nothing of it ran yet); a running one only with --force. */
export async function remove(ctx: OciContext, id: string, force = false): Promise<void> {
  let record: OciRecord;
  try {
    record = loadRecord(ctx.root, id);
  } catch (error) {
    if (force && !fs.existsSync(path.join(ctx.root, id))) return;
    throw error;
  }
  const dir = containerDir(ctx.root, id);
  const status = statusOf(record, dir);
  if (status === 'creating') throw fail(`cannot delete container ${id} while it is being created`, 'wait for its create to end');
  if (status !== 'stopped') {
    if (!force && status !== 'created') throw fail(`cannot delete container ${id} that is not stopped: ${status}`, 'stop it first, or use delete --force');
    for (const pid of [record.pid, ...cgroupProcesses(record.cgroup)]) killQuietly(pid, 'SIGKILL');
    // A frozen process cannot die: thaw it once the signal is queued.
    if (status === 'paused') await setFrozen(record.cgroup, false);
    for (let i = 0; i < 500 && statusOf(record, dir) !== 'stopped'; i++) await sleep(10);
  }
  await removeCgroup(record.cgroup).catch((error: unknown) => { throw withContext(`remove the cgroup of ${id}`, error); });
  runHooks(record, 'poststop', 'stopped', ctx.warn);
  fs.rmSync(dir, { recursive: true, force: true });
}
// #endregion

// #region hooks
/** Each hook of a kind, in order, with the container's state on its standard input. One that fails stops a create (the
 *  spec's rule for prestart and createRuntime); for poststart and poststop it is a warning (`warn`) and the rest go on. */
export function runHooks(record: OciRecord, kind: HookName, status: OciState['status'], warn?: (message: string) => void): void {
  const input = JSON.stringify({ ociVersion: '1.0.2', id: record.id, status, pid: record.pid, bundle: record.bundle, annotations: record.annotations });
  for (const hook of record.hooks[kind] ?? []) {
    const error = runHook(hook, input);
    if (!error) continue;
    const message = `${kind} hook ${hook.path}: ${error}`;
    if (!warn) throw fail(message);
    warn(message);
  }
}

function runHook(hook: OciHook, input: string): string | null {
  const [argv0, ...args] = hook.args?.length ? hook.args : [hook.path];
  const result = spawnSync(hook.path, args, {
    argv0, input, env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    timeout: hook.timeout ? hook.timeout * 1000 : undefined, encoding: 'utf8',
  });
  // A hook need not read the state: one that leaves before it is written (EPIPE) has still run.
  const unread = (result.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' && (result.status !== null || result.signal !== null);
  if (result.error && !unread) return (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${hook.timeout} s` : result.error.message;
  if (result.status !== 0) return `exit status ${result.status ?? result.signal}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''}`;
  return null;
}
// #endregion

// #region exec
export interface ExecOptions {
  /** process.json: the process as config.json's `process` says it; without it, `args` and the flags below. */
  processFile?: string;
  args: string[];
  detach?: boolean;
  pidFile?: string;
  cwd?: string;
  env?: string[];
  /** uid[:gid] */
  user?: string;
  tty?: boolean;
  consoleSocket?: string;
  preserveFds?: number;
}

/** One more process in a running container: it joins the container's cgroup and namespaces as `tsrun exec`'s does
 *  (containers/exec-in.ts), and gets the container's seccomp filter, as runc gives it. */
export async function exec(ctx: OciContext, id: string, options: ExecOptions): Promise<number> {
  const record = loadRecord(ctx.root, id);
  const status = statusOf(record, containerDir(ctx.root, id));
  if (status !== 'running') throw fail(`cannot exec in a ${status} container`);
  const spec = readBundle(record.bundle);
  const proc = options.processFile ? JSON.parse(fs.readFileSync(options.processFile === '-' ? 0 : options.processFile, 'utf8')) as OciProcess : processFromFlags(spec.process!, options);
  checkSpec({ ...spec, process: proc });
  warnAboutProcess(ctx, proc);
  const terminal = proc.terminal ?? false;
  if (terminal && options.detach && !options.consoleSocket) throw fail('exec --detach with a terminal needs --console-socket to hand the terminal to');
  const steps = [...joinContainerSteps(record.pid, record.cgroup), ...processPlanSteps(proc, spec.linux ?? {}, ctx.sys)];
  const preserveFds = checkPreservedFds(options.preserveFds ?? 0);
  let pid = 0;
  const stopForwarding = options.detach ? () => undefined : forwardSignals(() => pid);
  try {
    const stdio: [number, number, number] = terminal ? [-1, -1, -1] : [0, 1, 2];
    const child = await startChild(ctx.sys, { cloneFlags: [], steps, stdio, dieWithParent: !options.detach, preserveFds, tty: terminal }, (spawned) => { pid = spawned; }, !options.detach);
    if (child.failure) {
      await child.exited;
      throw stepError(child.failure, steps, proc.args[0]!);
    }
    if (options.consoleSocket) handOverTerminal(ctx.sys, options.consoleSocket, child.ptyFd);
    if (options.pidFile) writeFileAtomic(path.resolve(options.pidFile), String(child.pid));
    if (options.detach) return 0;
    return (await waitForExit(ctx.sys, options.consoleSocket ? { ...child, ptyFd: -1 } : child, true)).code;
  } finally {
    stopForwarding();
  }
}
// #endregion

function processFromFlags(base: OciProcess, options: ExecOptions): OciProcess {
  if (options.args.length === 0) throw fail('exec needs a command, or --process FILE');
  const [uid, gid] = (options.user ?? `${base.user.uid}:${base.user.gid}`).split(':').map(Number);
  if (!Number.isInteger(uid) || (gid !== undefined && !Number.isInteger(gid))) throw fail(`--user ${options.user}: write UID[:GID] in numbers`);
  return {
    ...base, args: options.args, cwd: options.cwd ?? base.cwd, env: [...(base.env ?? []), ...(options.env ?? [])],
    user: { ...base.user, uid: uid!, gid: gid ?? base.user.gid }, terminal: options.tty ?? false,
  };
}

/** `tsrun-oci run`: create and start, then wait in the foreground for the process, and delete it; its exit code. */
export async function run(ctx: OciContext, id: string, options: CreateOptions): Promise<number> {
  const { child } = await create(ctx, id, { ...options, reap: true });
  try {
    await start(ctx, id);
    // With a terminal and no console socket, this terminal is the container's: waitForExit relays it.
    return (await waitForExit(ctx.sys, options.consoleSocket ? { ...child, ptyFd: -1 } : child, true)).code;
  } finally {
    await remove(ctx, id, true);
  }
}
