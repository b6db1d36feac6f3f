// A running container's life from outside: `tsrun stop`, `kill` and `wait`.
// The container's process is signalled directly (its pid is in the record);
// its parent, tsrun in the foreground or tsrun-monitor in the background,
// sees it exit and records the exit, so these commands only wait for that.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isUp, type ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { containerCgroup, setFrozen } from '../cgroups/cgroup.js';
import { findContainer, getContainer, saveState } from '../store/containers.js';
import { reconcile } from './reconcile.js';
import { isSameProcess } from '../kernel/proc.js';
import { fail } from '../errors.js';

const POLL_MS = 50;
/** After the process is gone, how long its parent may take to write the exit down. */
const RECORD_WAIT_MS = 10_000;

// #region stop
/** SIGTERM (or the signal asked for), then SIGKILL after `timeoutSeconds`, as `docker stop` does. Its record
 *  then; null if it was run with --rm, and is gone with its process. */
export async function stopContainer(runtime: Runtime, nameOrId: string, timeoutSeconds: number, asked?: string): Promise<ContainerRecord | null> {
  const container = await current(runtime, nameOrId);
  // The flag, else what the container was made with (--stop-signal, or the image's STOPSIGNAL), else SIGTERM.
  const signal = signalName(asked ?? container.config.stopSignal ?? 'SIGTERM');
  if (!isUp(container.state)) return container; // stopping a stopped container is not an error
  const { pid, pidStartTime } = container.state;
  saveState(runtime.paths, container.id, { ...container.state, stoppedByUser: true }); // no restart policy applies now
  sendSignal(pid!, signal);
  if (container.state.status === 'paused') await thaw(container); // so that it can act on the signal
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (isSameProcess(pid!, pidStartTime) && Date.now() < deadline) await sleep(POLL_MS);
  // PID 1 of a PID namespace ignores signals it has no handler for: SIGKILL it is.
  if (isSameProcess(pid!, pidStartTime)) sendSignal(pid!, 'SIGKILL');
  return waitForExit(runtime, container.id);
}
// #endregion

/** `restart`'s first half: stopped as by stopContainer, marked so that its exit does not remove it (with --rm,
 *  as Docker's restart keeps it too); the caller starts it again, which clears the mark. */
export async function stopToRestart(runtime: Runtime, nameOrId: string, timeoutSeconds: number): Promise<ContainerRecord> {
  const container = await current(runtime, nameOrId);
  if (isUp(container.state)) saveState(runtime.paths, container.id, { ...container.state, restarting: true });
  return await stopContainer(runtime, container.id, timeoutSeconds) ?? gone(nameOrId);
}

/** `docker kill`: one signal, no waiting. */
export async function killContainer(runtime: Runtime, nameOrId: string, signal: string): Promise<ContainerRecord> {
  const container = await current(runtime, nameOrId);
  if (!isUp(container.state)) throw fail(`cannot kill container ${container.name}: it is not running`, 'see `tsrun ps`');
  const number = /^\d+$/.test(signal) ? Number(signal) : os.constants.signals[signalName(signal)];
  // Killed for good by hand: the restart policy leaves it stopped (other signals may be meant to be survived).
  if (number === os.constants.signals.SIGKILL) saveState(runtime.paths, container.id, { ...container.state, stoppedByUser: true });
  sendSignal(container.state.pid!, number);
  if (container.state.status === 'paused') await thaw(container);
  return container;
}

// #region pause
/** `tsrun pause`: every process of the container frozen by its cgroup (they do not even notice). */
export async function pauseContainer(runtime: Runtime, nameOrId: string): Promise<void> {
  const container = await current(runtime, nameOrId);
  if (container.state.status === 'paused') throw fail(`container ${container.name} is already paused`, `\`tsrun unpause ${container.name}\``);
  if (container.state.status !== 'running') throw fail(`container ${container.name} is not running`, 'see `tsrun ps`');
  await setFrozen(containerCgroup(container.id, container.config.resources ?? {}), true);
  saveState(runtime.paths, container.id, { ...container.state, status: 'paused' });
}

export async function unpauseContainer(runtime: Runtime, nameOrId: string): Promise<void> {
  const container = await current(runtime, nameOrId);
  if (container.state.status !== 'paused') throw fail(`container ${container.name} is not paused`, 'see `tsrun ps`');
  await thaw(container);
  saveState(runtime.paths, container.id, { ...container.state, status: 'running' });
}
// #endregion

export async function thaw(container: ContainerRecord): Promise<void> {
  await setFrozen(containerCgroup(container.id, container.config.resources ?? {}), false);
}


/** Until the container has exited and its exit is recorded; its record then, or null if it was run with --rm
 *  and is gone with its process (its exit command removed it). */
export async function waitForExit(runtime: Runtime, nameOrId: string): Promise<ContainerRecord | null> {
  const { id } = await current(runtime, nameOrId);
  const now = async () => {
    const found = findContainer(runtime.paths, id);
    return found ? reconcile(runtime, found) : null;
  };
  let container = await now();
  while (container && isUp(container.state)) {
    await sleep(POLL_MS);
    container = await now();
  }
  // Gone from the process table, but its parent may still be writing the exit code down.
  const deadline = Date.now() + RECORD_WAIT_MS;
  while (container && container.state.finishedAt === null && Date.now() < deadline) {
    await sleep(POLL_MS);
    container = await now();
  }
  return container;
}

/** "TERM", "SIGTERM" or "15" as Node's name for it. */
function signalName(text: string): NodeJS.Signals {
  if (/^\d+$/.test(text)) {
    const name = Object.entries(os.constants.signals).find(([, number]) => number === Number(text))?.[0];
    if (name) return name as NodeJS.Signals;
  }
  const name = (text.startsWith('SIG') ? text : `SIG${text}`).toUpperCase();
  if (!(name in os.constants.signals)) throw fail(`invalid signal: ${text}`, 'give a name like SIGTERM, TERM or a number like 15');
  return name as NodeJS.Signals;
}

async function current(runtime: Runtime, nameOrId: string): Promise<ContainerRecord> {
  return await reconcile(runtime, getContainer(runtime.paths, nameOrId)) ?? gone(nameOrId);
}

/** The error for a container that is not there: one run with --rm is removed with its process. */
export function gone(nameOrId: string): never {
  throw fail(`no such container: ${nameOrId}`, 'it was run with --rm, and is gone with its process');
}

function sendSignal(pid: number, signal: NodeJS.Signals | number): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // it exited meanwhile
  }
}
