// A child made by spawn (native/src/spawn.cc) performs its steps, then execve. Until then tsrun learns one
// thing, over a close-on-exec pipe: nothing at all (execve succeeded and closed it), or which step failed and
// its errno. `run` (src/stages/exec.ts) and `exec` (src/containers/exec-in.ts) share what follows: starting
// such a child and hearing how its steps went, telling a failure the way Docker does (125, 126, 127),
// passing signals on, and waiting for the exit.
import fs from 'node:fs';
import os from 'node:os';
import type { ChildStep } from './steps.js';
import { describeStep } from './steps.js';
import { isRunningProcess } from './proc.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpawnRequest, Syscalls, WaitStatus } from './syscalls.js';
import { TsrunError, errnoName, fail } from '../errors.js';

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Signals sent to tsrun are meant for the child. Put in place before the child exists: Node delivers a signal
 *  only once spawn has returned, so none is lost. Returns what takes them away again. */
export function forwardSignals(childPid: () => number): () => void {
  const forward = (signal: NodeJS.Signals) => { try { if (childPid()) process.kill(childPid(), signal); } catch { /* already gone */ } };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return () => { for (const signal of FORWARDED_SIGNALS) process.off(signal, forward); };
}

export interface StartedChild {
  pid: number;
  /** The step that failed, or null: the command runs. */
  failure: StepFailure | null;
  /** Resolves when the child has exited (it is watched from the moment it exists, so no exit is missed). */
  exited: Promise<WaitStatus>;
  /** The pty master, with -t (its `open_pty` step sent it over); -1 otherwise. */
  ptyFd: number;
  /** SpawnedChild.times: when the child began each step (src/trace/child-spans.ts). */
  times: BigInt64Array;
  /** CLOCK_MONOTONIC when tsrun heard how the steps went: the end of the last step that began. */
  reportedAt: bigint;
}

// #region start-child
/** Clones the child and returns once it has called execve, or a step has failed. `spawned` learns its pid at
 *  once, so that a signal for it during its steps is passed on, not lost. `reap` false: the child is left for
 *  whoever will be its parent once tsrun has gone (containerd's shim, for tsrun-oci), which must see its
 *  exit status; `exited` then only watches it go, and tells no status. */
export async function startChild(sys: Syscalls, request: SpawnRequest & { tty: boolean }, spawned: (pid: number) => void, reap = true): Promise<StartedChild> {
  const child = sys.spawn(request);
  spawned(child.pid);
  try {
    const exited = reap ? sys.waitpid(child.pid) : gone(child.pid);
    const failure = await readStepFailure(child.errorFd);
    const reportedAt = process.hrtime.bigint();
    // A child that waits for start (errno 0, tsrun-oci's) has taken every step: its terminal is open too.
    const ptyFd = request.tty && (!failure || failure.errno === 0) ? sys.recvfd(child.consoleFd) : -1;
    return { pid: child.pid, failure, exited, ptyFd, times: child.times, reportedAt };
  } finally {
    for (const fd of [child.errorFd, child.consoleFd]) if (fd >= 0) fs.closeSync(fd);
  }
}
// #endregion

async function gone(pid: number): Promise<WaitStatus> {
  while (isRunningProcess(pid, null)) await sleep(10);
  return { code: null, signal: null };
}

/** Its exit code once it has exited and, with -t, all its output is relayed: 128 + N for a death by signal N. */
export async function waitForExit(sys: Syscalls, child: StartedChild, forwardInput: boolean): Promise<{ code: number; signal: NodeJS.Signals | null }> {
  // The terminal's modules (tty, net) are loaded only with -t.
  const console = child.ptyFd >= 0 ? (await import('./console.js')).relayConsole(sys, child.ptyFd, forwardInput) : undefined;
  const status = await child.exited;
  await console?.closed;
  return { code: statusCode(status), signal: status.signal };
}

/** The exit code a shell would show: the process's own, or 128 + N for a death by signal N. */
export function statusCode(status: WaitStatus): number {
  return status.code ?? 128 + os.constants.signals[status.signal!];
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
  if (step?.op === 'run_hook') return fail(`${step.name} hook ${step.path}: ${hookOutcome(failure.errno, step.timeout)}`);
  const what = step ? `step ${failure.step + 1} of ${steps.length} (${describeStep(step)})` : 'preparing the child';
  return fail(`start container: ${what}: ${code}`, 'run with --explain to see every step');
}
// #endregion

/** What a hook that failed came to (native/src/hook.h): an errno, or minus the wait status of a hook that ran. */
export function hookOutcome(outcome: number, timeout: number): string {
  if (outcome === os.constants.errno.ETIMEDOUT) return `timed out after ${timeout} s`;
  if (outcome > 0) return errnoName(outcome);
  const signal = -outcome & 0x7f;
  if (signal === 0) return `exit status ${(-outcome >> 8) & 0xff}`;
  return `killed by ${Object.entries(os.constants.signals).find(([, n]) => n === signal)?.[0] ?? `signal ${signal}`}`;
}
