// What happens to a container's record around the pipeline's stages: who owns a start while it runs, how the
// exit (or a failed start) is written down, and what is released when the process is gone. src/run.ts calls
// these; so do the monitor's exit command (restart.ts) and whoever finds a container's owner gone (reconcile.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord, ContainerState, ExitRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { containerCgroup, oomKills, removeCgroup } from '../cgroups/cgroup.js';
import { processStartTime } from '../kernel/proc.js';
import { hasNetworkNamespace, releaseNetwork } from '../stages/network.js';
import { deleteContainer, saveState } from '../store/containers.js';
import { containerRunDir } from '../store/paths.js';
import { removeAnonymousVolumes } from '../volumes/store.js';
import { TsrunError, exitCodeOf } from '../errors.js';
import { inSpan } from '../trace/span.js';
import { faultPoint } from '../faults.js';

const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

// #region owner
/** This tsrun owns the container until its start is done: killed half-way (kill -9, a closed laptop), it can't
 *  release what the stages made, so the record names it, and whoever finds it gone does (src/containers/reconcile.ts). */
export function claim(runtime: Runtime, container: ContainerRecord): ContainerRecord {
  const state = { ...container.state, owner: { pid: process.pid, startTime: processStartTime(process.pid) } };
  saveState(runtime.paths, container.id, state);
  return { ...container, state };
}
// #endregion

/** A foreground container has exited: stopped, not removed, so the rw layer stays for `tsrun start`, until `tsrun rm`. */
export function recordExit(runtime: Runtime, container: ContainerRecord, exit: ExitRecord): void {
  saveState(runtime.paths, container.id, {
    ...container.state, status: 'exited', pid: null, pidStartTime: null,
    exitCode: exit.exitCode, startedAt: exit.startedAt, finishedAt: exit.finishedAt, error: '', oomKilled: oomKilled(container),
  });
}

/** A start that failed leaves the container as it was, with the reason, as `docker ps -a` shows it. */
export function recordFailedStart(runtime: Runtime, container: ContainerRecord, error: unknown): void {
  saveState(runtime.paths, container.id, {
    ...container.state, pid: null, pidStartTime: null,
    exitCode: exitCodeOf(error), finishedAt: new Date().toISOString(),
    error: error instanceof TsrunError ? error.message : String(error),
  });
}

/** A detached container has exited (its monitor wrote the code down): released first, recorded after, so that
 *  whoever waits for the exit (stop, restart) finds everything free. Returns the state recorded. */
export async function recordDetachedExit(runtime: Runtime, container: ContainerRecord): Promise<ContainerState> {
  const exitFile = path.join(containerRunDir(runtime.paths, container.id), 'exit');
  const [code, , finishedAt] = fs.readFileSync(exitFile, 'utf8').trim().split(' ');
  const exited = {
    ...container.state, status: 'exited' as const, pid: null, pidStartTime: null, monitor: null,
    exitCode: Number(code), finishedAt: finishedAt ?? new Date().toISOString(), error: '', oomKilled: oomKilled(container),
  };
  await releaseContainer(runtime, container);
  saveState(runtime.paths, container.id, exited);
  return exited;
}

function oomKilled(container: ContainerRecord): boolean {
  return oomKills(containerCgroup(container.id, container.config.resources ?? {})) > 0;
}

// #region release
/** What a container holds only while it runs: its network, its cgroup, its run dir (the overlay's mount point);
 *  and, with --rm, the container itself. Safe to call twice. In the trace, `tsrun.release` follows the stages. */
export async function releaseContainer(runtime: Runtime, container: ContainerRecord): Promise<void> {
  // A late Ctrl-C, or the terminal closing, must not stop tsrun half-way through cleaning up.
  const holdOn = () => {};
  for (const signal of CLEANUP_SIGNALS) process.on(signal, holdOn);
  try {
    await inSpan('tsrun.release', { 'container.id': container.id, 'tsrun.auto_remove': container.config.autoRemove }, async () => {
      if (hasNetworkNamespace(container)) await inSpan('tsrun.release.network', {}, () => releaseNetwork(runtime, container));
      faultPoint('release');
      const cgroup = containerCgroup(container.id, container.config.resources ?? {});
      await inSpan('tsrun.release.cgroup', { 'tsrun.cgroup.dirs': cgroup.dirs }, () => removeCgroup(cgroup));
      fs.rmSync(containerRunDir(runtime.paths, container.id), { recursive: true, force: true });
      if (container.config.autoRemove && !container.state.restarting) {
        await inSpan('tsrun.release.remove', {}, async () => {
          deleteContainer(runtime.paths, container.id);
          await removeAnonymousVolumes(runtime.sys, runtime.paths, container.config.mounts ?? []); // as docker run --rm does
        });
      }
    });
  } finally {
    for (const signal of CLEANUP_SIGNALS) process.off(signal, holdOn);
  }
}
// #endregion

/** What a container whose record is gone still held: found by its id alone (its lease, its cgroup, its run dir). */
export async function releaseRemoved(runtime: Runtime, id: string): Promise<void> {
  const stub = { id, config: { network: 'bridge', autoRemove: false } } as ContainerRecord;
  await releaseContainer(runtime, stub);
}
