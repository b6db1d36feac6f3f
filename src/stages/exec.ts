// Stage 6, exec: start the container's process, in three steps.
//
//   plan    the process as the kernel will start it: user, environment,
//           working directory, confinement, and the execve
//   spawn   clone the child into its namespaces; it performs the steps the
//           earlier stages planned, then these, then calls execve
//   wait    until it exits, and hand its exit code back, as `docker run` does
//
// A detached container (`run -d`) is spawned by tsrun-monitor instead, which
// stays its parent when tsrun returns; tsrun waits only until it has started.
import fs from 'node:fs';
import path from 'node:path';
import { containerDir, containerRunDir } from '../store/paths.js';
import { keptSeccompPrograms } from '../store/seccomp-programs.js';
import type { ContainerRecord, DetachedStart, ExecIO, ExitRecord, NamespacesPlan, ProcessPlan, RootfsPlan, RunObserver } from '../container.js';
import type { Runtime } from '../runtime.js';
import { ancestors, stepsAndSpans, type ChildStep } from '../kernel/steps.js';
import { forwardSignals, startChild, stepError, waitForExit } from '../kernel/child.js';
import { readInLayers } from '../image/layer-stack.js';
import { resolveUser } from '../image/passwd.js';
import { saveState } from '../store/containers.js';
import { processStartTime } from '../kernel/proc.js';
import { fail } from '../errors.js';
import { annotate, preciseNow, recordSpan, traceContextEnv } from '../trace/span.js';
import { recordChildSpans } from '../trace/child-spans.js';
import { confinement, type Confinement } from '../security/confinement.js';
import { faultPoint } from '../faults.js';

// #region exec
export async function exec(
  runtime: Runtime, container: ContainerRecord, rootfs: RootfsPlan, ns: NamespacesPlan,
  io: ExecIO = { stdin: 0, stdout: 1, stderr: 2 }, observer?: RunObserver,
): Promise<ExitRecord> {
  const proc = planProcess(runtime, container, rootfs);
  const steps = [...ns.steps, ...proc.steps];
  const { tty, interactive } = container.config;
  let pid = 0;
  const stopForwarding = forwardSignals(() => pid);
  try {
    const child = await startChild(runtime.sys, {
      cloneFlags: ns.cloneFlags,
      steps,
      // Without -i the container reads /dev/null (-1); with -t the pty replaces all three.
      stdio: tty ? [-1, -1, -1] : [interactive ? io.stdin : -1, io.stdout, io.stderr],
      tty,
    }, (spawned) => { pid = spawned; });
    // At once, before anything else: a short command may be gone a millisecond after its execve.
    if (!child.failure) observer?.processStarted?.(child.pid, proc);
    const startedAt = new Date().toISOString();
    annotate({ 'process.pid': child.pid });
    saveState(runtime.paths, container.id, { ...container.state, status: 'running', pid: child.pid, pidStartTime: processStartTime(child.pid), startedAt, error: '' });
    faultPoint('running');

    const error = child.failure && stepError(child.failure, steps, container.config.argv[0]!);
    // The trace groups the namespaces stage's steps, then the process's (counted on from them), into spans.
    const spans = [...ns.stepSpans, ...proc.stepSpans.map((s) => ({ ...s, first: s.first + ns.steps.length }))];
    recordChildSpans({ times: child.times, steps, spans, cloneFlags: ns.cloneFlags, reportedAt: child.reportedAt, failedStep: child.failure?.step }, error?.message);
    if (error) {
      await child.exited;
      throw error;
    }
    // The container's whole life, from the command's start to its exit.
    const waitStarted = preciseNow();
    const exit = await waitForExit(runtime.sys, child, interactive);
    recordSpan('tsrun.exec.wait', { 'process.pid': child.pid }, waitStarted, preciseNow());
    annotate({ 'process.exit.code': exit.code });
    return { pid: child.pid, exitCode: exit.code, signal: exit.signal, startedAt, finishedAt: new Date().toISOString() };
  } finally {
    stopForwarding();
  }
}
// #endregion

/** Docker's json-file driver has no cap by default; a classroom disk deserves one. */
const MAX_LOG_BYTES = 10 * 1024 * 1024;

// #region exec-detached
/** `run -d`, `start`: the same child, cloned by tsrun-monitor (native/src/monitor.cc) instead of by tsrun,
 *  so that it has a parent when tsrun exits. tsrun waits only until the command has started (or a step failed). */
export async function execDetached(runtime: Runtime, container: ContainerRecord, rootfs: RootfsPlan, ns: NamespacesPlan): Promise<DetachedStart> {
  const steps = [...ns.steps, ...planProcess(runtime, container, rootfs).steps];
  const runDir = containerRunDir(runtime.paths, container.id);
  const logPath = path.join(containerDir(runtime.paths, container.id), `${container.id}-json.log`);
  // With -i, the container reads a FIFO that `tsrun attach` (or the daemon's attach) writes into.
  const stdinFifo = container.config.interactive ? path.join(runDir, 'stdin') : null;
  if (stdinFifo && !fs.existsSync(stdinFifo)) runtime.sys.mknod(stdinFifo, fs.constants.S_IFIFO | 0o600, 0, 0);
  // With -t, the monitor holds the terminal; its size comes through this FIFO (`tsrun attach`, docker's resize).
  const consoleFifo = container.config.tty ? path.join(runDir, 'console') : null;
  if (consoleFifo && !fs.existsSync(consoleFifo)) runtime.sys.mknod(consoleFifo, fs.constants.S_IFIFO | 0o600, 0, 0);
  const monitorLog = path.join(runDir, 'monitor.log');
  const monitor = runtime.sys.spawnMonitor({
    spawn: runtime.sys.encodeSpawn({ cloneFlags: ns.cloneFlags, steps }),
    logPath,
    logMaxBytes: container.config.logMaxSize ?? MAX_LOG_BYTES,
    exitFile: path.join(runDir, 'exit'),
    stdinFifo,
    stdinOnce: container.config.stdinOnce ?? false,
    consoleFifo,
    // When the container exits, the monitor becomes this command: tsrun again, to record the exit and clean up.
    exitCommand: [process.execPath, process.argv[1]!, '--root', runtime.paths.root, 'container-exited', container.id],
    monitorLog,
    env: { ...process.env, TSRUN_RUN_ROOT: runtime.paths.runRoot },
  });
  const said = await monitor.said;
  const pid = Number(said.find((line) => line.startsWith('pid '))?.slice(4));
  const failure = said.find((line) => line.startsWith('failed '))?.split(' ').slice(1).map(Number);
  if (failure) throw stepError({ step: failure[0]!, errno: failure[1]! }, steps, container.config.argv[0]!);
  if (!pid || !said.includes('started')) {
    throw fail(`tsrun-monitor did not start the container: ${fs.readFileSync(monitorLog, 'utf8').trim() || 'it said nothing'}`, 'run `npm run build` to build native/');
  }
  const startedAt = new Date().toISOString();
  const monitorRecord = { pid: monitor.pid, startTime: processStartTime(monitor.pid) };
  saveState(runtime.paths, container.id, { ...container.state, status: 'running', pid, pidStartTime: processStartTime(pid), startedAt, error: '', monitor: monitorRecord, stoppedByUser: false, restarting: false });
  annotate({ 'process.pid': pid, 'tsrun.monitor.pid': monitor.pid });
  return { pid, startedAt, monitorPid: monitor.pid, logPath };
}
// #endregion

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

  const confined = confinement(container.config.security, user.uid, keptSeccompPrograms(runtime.sys, runtime.paths));
  const proc = { argv: container.config.argv, env, cwd, uid: user.uid, gid: user.gid, groups: user.groups, search };
  const pty = container.config.tty ? { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 } : null;
  return { ...proc, confinement: confined.plan, ...processSteps(proc, confined, pty) };
}

/** The child's last steps: a session, the terminal, the user and its confinement, then execve. An OCI bundle's
 *  process (src/oci/plan.ts) ends with the same steps. */
export function processSteps(
  proc: Pick<ProcessPlan, 'argv' | 'env' | 'cwd' | 'uid' | 'gid' | 'groups' | 'search'>, confined: Omit<Confinement, 'plan'>,
  pty: { rows: number; cols: number } | null,
): Pick<ProcessPlan, 'steps' | 'stepSpans'> {
  const [file, ...args] = proc.argv;
  const { steps, spans } = stepsAndSpans([
    { span: 'tsrun.child.process' },
    { op: 'setsid' },
    ...(pty ? [{ op: 'open_pty', ...pty } as ChildStep] : []),
    // Docker creates a missing working directory.
    ...ancestors(proc.cwd).map((dir): ChildStep => ({ op: 'mkdir', path: dir, mode: 0o755 })),
    ...confined.beforeUser, // limits, the bounding set, and seccomp: see src/security/confinement.ts
    { span: 'tsrun.child.user' },
    { op: 'setgroups', gids: proc.groups },
    { op: 'setgid', gid: proc.gid },
    { op: 'setuid', uid: proc.uid }, // last: after it, we may no longer be allowed to change the others
    { op: 'chdir', path: proc.cwd },
    ...confined.afterUser, // the container's own capabilities, no_new_privs
    { span: 'tsrun.child.execve' },
    { op: 'execve', file: file!, search: proc.search, argv: [file!, ...args], envp: proc.env },
  ]);
  return { steps, stepSpans: spans };
}
// #endregion
