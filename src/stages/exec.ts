// Stage 6, exec: start the container's process. The child is cloned into its
// new namespaces, performs the steps planned by the earlier stages, takes on
// the container's user, and calls execve. tsrun then waits for it to exit
// and hands its exit code back, as `docker run` does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn as spawnProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { MONITOR_PATH } from '../kernel/native.js';
import { containerDir, containerRunDir, seccompDir } from '../store/paths.js';
import type { ContainerRecord, ExitRecord, NamespacesPlan, ProcessPlan, RootfsPlan, RunObserver, Runtime } from '../container.js';
import type { ChildStep } from '../kernel/steps.js';
import { describeStep, stepsAndSpans } from '../kernel/steps.js';
import { relayConsole } from '../kernel/console.js';
import { readInLayers } from '../image/layer-stack.js';
import { resolveUser } from '../image/passwd.js';
import { saveState } from '../store/containers.js';
import { processStartTime } from '../kernel/proc.js';
import { TsrunError, errnoName, fail } from '../errors.js';
import { inSpan, monotonicToWallClock, recordSpan, traceContextEnv } from '../trace/span.js';
import { childSpans } from '../trace/child-spans.js';
import { createCgroup } from '../cgroups/cgroup.js';
import { confinement } from '../security/confinement.js';
import { faultPoint } from '../faults.js';

/** The file descriptors the container's stdio comes from (tsrun's own by default). */
export interface ExecIO {
  stdin: number;
  stdout: number;
  stderr: number;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

// #region exec
export async function exec(
  runtime: Runtime, container: ContainerRecord, rootfs: RootfsPlan, ns: NamespacesPlan,
  io: ExecIO = { stdin: 0, stdout: 1, stderr: 2 }, observer?: RunObserver,
): Promise<ExitRecord> {
  return inSpan('tsrun.exec', { 'container.id': container.id, 'process.command_args': container.config.argv }, async (span) => {
    const proc = planProcess(runtime, container, rootfs);
    const steps = [...ns.steps, ...proc.steps];
    const stepSpans = [...ns.stepSpans, ...proc.stepSpans.map((s) => ({ ...s, first: s.first + ns.steps.length }))];
    const { tty, interactive } = container.config;

    // Signals sent to tsrun are meant for the container. The handlers are in place before
    // the child exists: a signal handled by Node can only arrive once spawn has returned.
    let pid = 0;
    const forward = (signal: NodeJS.Signals) => { try { if (pid) process.kill(pid, signal); } catch { /* already gone */ } };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const openFds: number[] = [];
    try {
      createCgroup(ns.cgroup, runtime.sys); // before the child exists: its first steps join it
      const child = runtime.sys.spawn({
        cloneFlags: ns.cloneFlags,
        steps,
        // Without -i the container reads /dev/null (-1); with -t the pty replaces all three.
        stdio: tty ? [-1, -1, -1] : [interactive ? io.stdin : -1, io.stdout, io.stderr],
      });
      pid = child.pid;
      openFds.push(child.errorFd, child.consoleFd);
      const exited = runtime.sys.waitpid(child.pid); // watch from now on, so no exit is missed
      const failure = await readStepFailure(child.errorFd); // returns once execve succeeded or a step failed
      const reportedAt = process.hrtime.bigint();
      // At once, before anything else: a short command may be gone a millisecond after its execve.
      if (!failure) observer?.processStarted?.(child.pid, proc);
      const startedAt = new Date().toISOString();
      span.setAttribute('process.pid', child.pid);
      saveState(runtime.paths, container.id, { ...container.state, status: 'running', pid: child.pid, pidStartTime: processStartTime(child.pid), startedAt, error: '' });
      faultPoint('running');

      const timeline = { times: child.times, steps, spans: stepSpans, cloneFlags: ns.cloneFlags, reportedAt };
      if (failure) {
        await exited;
        const error = stepError(failure, steps, container.config.argv[0]!);
        if (span.isRecording()) recordChildSpans(childSpans({ ...timeline, failedStep: failure.step }), error.message);
        throw error;
      }
      if (span.isRecording()) recordChildSpans(childSpans(timeline));
      const console = tty ? relayConsole(runtime.sys, runtime.sys.recvfd(child.consoleFd), interactive) : undefined;
      // The container's whole life, from the command's start to its exit.
      const status = await inSpan('tsrun.exec.wait', { 'process.pid': child.pid }, async () => {
        const exit = await exited;
        await console?.closed;
        return exit;
      });
      const exitCode = status.code ?? 128 + os.constants.signals[status.signal!];
      span.setAttribute('process.exit.code', exitCode);
      return { pid: child.pid, exitCode, signal: status.signal, startedAt, finishedAt: new Date().toISOString() };
    } finally {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      for (const fd of openFds) if (fd >= 0) fs.closeSync(fd);
    }
  });
}
// #endregion

/** A detached container's start: who runs it and where its output goes. */
export interface DetachedStart {
  pid: number;
  startedAt: string;
  /** The monitor that is the container's parent, logs its output, and records its exit. */
  monitorPid: number;
  logPath: string;
}

/** Docker's json-file driver has no cap by default; a classroom disk deserves one. */
const MAX_LOG_BYTES = 10 * 1024 * 1024;

// #region exec-detached
/** `run -d`, `start`: the same child, cloned by tsrun-monitor (native/src/monitor.cc) instead of by tsrun,
 *  so that it has a parent when tsrun exits. tsrun waits only until the command has started (or a step failed). */
export async function execDetached(runtime: Runtime, container: ContainerRecord, rootfs: RootfsPlan, ns: NamespacesPlan): Promise<DetachedStart> {
  return inSpan('tsrun.exec', { 'container.id': container.id, 'process.command_args': container.config.argv, 'tsrun.detached': true }, async (span) => {
    if (container.config.tty) throw fail('tsrun cannot give a detached container a terminal yet', 'drop -t, or run it in the foreground');
    const proc = planProcess(runtime, container, rootfs);
    const steps = [...ns.steps, ...proc.steps];
    const runDir = containerRunDir(runtime.paths, container.id);
    const logPath = path.join(containerDir(runtime.paths, container.id), `${container.id}-json.log`);
    createCgroup(ns.cgroup, runtime.sys);
    // When the container exits, the monitor becomes this command: tsrun again, to record the exit and clean up.
    const exitCommand = [process.execPath, process.argv[1]!, '--root', runtime.paths.root, 'container-exited', container.id];
    const monitorLog = fs.openSync(path.join(runDir, 'monitor.log'), 'a');
    // With -i, the container reads a FIFO that `tsrun attach` writes into.
    const stdinFifo = path.join(runDir, 'stdin');
    if (container.config.interactive && !fs.existsSync(stdinFifo)) runtime.sys.mknod(stdinFifo, fs.constants.S_IFIFO | 0o600, 0, 0);
    const monitor = spawnProcess(MONITOR_PATH, [logPath, String(container.config.logMaxSize ?? MAX_LOG_BYTES), path.join(runDir, 'exit'), '3', container.config.interactive ? stdinFifo : '-', '--', ...exitCommand], {
      detached: true,
      stdio: ['pipe', monitorLog, monitorLog, 'pipe'],
      env: { ...process.env, TSRUN_RUN_ROOT: runtime.paths.runRoot },
    });
    fs.closeSync(monitorLog);
    monitor.stdin!.end(runtime.sys.encodeSpawn({ cloneFlags: ns.cloneFlags, steps }));
    const said = await linesUntilStarted(monitor.stdio[3] as Readable);
    monitor.unref();
    const pid = Number(said.find((line) => line.startsWith('pid '))?.slice(4));
    const failure = said.find((line) => line.startsWith('failed '))?.split(' ').slice(1).map(Number);
    if (failure) throw stepError({ step: failure[0]!, errno: failure[1]! }, steps, container.config.argv[0]!);
    if (!pid || !said.includes('started')) {
      throw fail(`tsrun-monitor did not start the container: ${fs.readFileSync(path.join(runDir, 'monitor.log'), 'utf8').trim() || 'it said nothing'}`, 'run `npm run build` to build native/');
    }
    const startedAt = new Date().toISOString();
    const monitorRecord = { pid: monitor.pid!, startTime: processStartTime(monitor.pid!) };
    saveState(runtime.paths, container.id, { ...container.state, status: 'running', pid, pidStartTime: processStartTime(pid), startedAt, error: '', monitor: monitorRecord, stoppedByUser: false });
    span.setAttributes({ 'process.pid': pid, 'tsrun.monitor.pid': monitor.pid! });
    return { pid, startedAt, monitorPid: monitor.pid!, logPath };
  });
}
// #endregion

/** The monitor's lines on its sync pipe, until it has said whether the command started; the pipe closes then. */
function linesUntilStarted(sync: Readable): Promise<string[]> {
  return new Promise((resolve) => {
    let text = '';
    sync.setEncoding('utf8');
    sync.on('data', (chunk: string) => { text += chunk; });
    sync.on('close', () => resolve(text.split('\n').filter(Boolean)));
  });
}

/** The child's steps as spans under tsrun.exec, with the times the child noted (src/trace/child-spans.ts). */
function recordChildSpans(spans: ReturnType<typeof childSpans>, error?: string): void {
  const wallClock = monotonicToWallClock();
  for (const s of spans) recordSpan(s.name, s.attributes, wallClock(s.start), wallClock(s.end), s.failed ? error : undefined);
}

// #region process
/** The process as the kernel will start it: whose it is, where, with what. */
export function planProcess(runtime: Runtime, container: ContainerRecord, rootfs: Pick<RootfsPlan, 'upperdir' | 'lowerdirs'>): ProcessPlan {
  // The container's own /etc/passwd, as its overlay will show it: upper dir first, then the layers.
  const layers = [rootfs.upperdir, ...rootfs.lowerdirs];
  const readEtc = (file: string) => readInLayers(layers, file, runtime.sys) ?? '';
  const user = resolveUser(container.config.user, readEtc('/etc/passwd'), readEtc('/etc/group'));

  const env = [...container.config.env];
  if (!env.some((entry) => entry.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  // Tracing: TRACEPARENT names the tsrun.exec span, so a traced program continues the run's trace.
  env.push(...traceContextEnv(env));
  const pathVar = env.find((entry) => entry.startsWith('PATH='))?.slice('PATH='.length) ?? '';
  const search = pathVar.split(':').filter(Boolean);
  const cwd = container.config.workingDir;
  const [file, ...args] = container.config.argv;

  const confined = confinement(runtime.sys, seccompDir(runtime.paths), container.config.security, user.uid);
  const { steps, spans } = stepsAndSpans([
    { span: 'tsrun.child.process' },
    { op: 'setsid' },
    ...(container.config.tty ? [{ op: 'open_pty', rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 } as ChildStep] : []),
    // Docker creates a missing working directory.
    ...ancestors(cwd).map((dir): ChildStep => ({ op: 'mkdir', path: dir, mode: 0o755 })),
    ...confined.beforeUser, // limits, the bounding set, and seccomp: see src/security/confinement.ts
    { span: 'tsrun.child.user' },
    { op: 'setgroups', gids: user.groups },
    { op: 'setgid', gid: user.gid },
    { op: 'setuid', uid: user.uid }, // last: after it, we may no longer be allowed to change the others
    { op: 'chdir', path: cwd },
    ...confined.afterUser, // the container's own capabilities, no_new_privs
    { span: 'tsrun.child.execve' },
    { op: 'execve', file: file!, search, argv: [file!, ...args], envp: env },
  ]);
  return {
    argv: container.config.argv, env, cwd, uid: user.uid, gid: user.gid, groups: user.groups, search,
    confinement: confined.plan, steps, stepSpans: spans,
  };
}
// #endregion

/** "/a/b/c" -> ["/a", "/a/b", "/a/b/c"] */
function ancestors(dir: string): string[] {
  const parts = dir.split('/').filter(Boolean);
  return parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}

export interface StepFailure { step: number; errno: number }

/** The child writes {step, errno} to the pipe when a step fails; execve closes the pipe when it succeeds. */
export function readStepFailure(fd: number): Promise<StepFailure | null> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.alloc(8);
    fs.read(fd, buffer, 0, 8, null, (error, bytesRead) => {
      if (error) reject(error);
      else resolve(bytesRead === 8 ? { step: buffer.readInt32LE(0), errno: buffer.readInt32LE(4) } : null);
    });
  });
}

// #region exit-codes
/** A failed execve is the user's command's problem (126/127, as docker); any other step is tsrun's (125). */
export function stepError(failure: StepFailure, steps: ChildStep[], command: string): TsrunError {
  const code = errnoName(failure.errno);
  const step = steps[failure.step];
  if (step?.op === 'execve') {
    if (code === 'ENOENT') {
      const where = command.includes('/') ? 'no such file or directory' : 'executable file not found in $PATH';
      return new TsrunError(`exec: "${command}": ${where}`, { kind: 'not-found', hint: 'check the command and the image\'s PATH' });
    }
    const why = code === 'EACCES' ? 'permission denied' : code === 'ENOEXEC' ? 'exec format error' : code;
    return new TsrunError(`exec: "${command}": ${why}`, { kind: 'cannot-exec', hint: 'the file must be an executable for this machine, with x permission' });
  }
  const what = step ? `step ${failure.step + 1} of ${steps.length} (${describeStep(step)})` : 'preparing the child';
  return fail(`start container: ${what}: ${code}`, 'run with --explain to see every step');
}
// #endregion
