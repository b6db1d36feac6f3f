// The pipeline of `tsrun run`: pull → create → rw layer → network →
// namespaces → exec. Each stage is one function in src/stages/, inside its own
// span; this file only puts them in order and records how the container ended.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRecord, ContainerState, ExitRecord, RestartPolicy, RunObserver, RunRequest, Runtime, StageName } from './container.js';
import { containerCgroup, oomKills, removeCgroup, type CgroupPlan } from './cgroups/cgroup.js';
import { processStartTime } from './kernel/proc.js';
import { pull } from './stages/pull.js';
import { create } from './stages/create.js';
import { rwlayer } from './stages/rwlayer.js';
import { handOverNetwork, network, releaseNetwork } from './stages/network.js';
import { namespaces } from './stages/namespaces.js';
import { exec, execDetached, type DetachedStart, type ExecIO } from './stages/exec.js';
import { deleteContainer, listContainers, saveState } from './store/containers.js';
import { reconcile } from './containers/reconcile.js';
import { containerRunDir } from './store/paths.js';
import { removeAnonymousVolumes } from './volumes/store.js';
import { TsrunError, exitCodeOf } from './errors.js';
import { inSpan } from './trace/span.js';
import { faultPoint } from './faults.js';

const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface RunOptions {
  io?: ExecIO;
  observer?: RunObserver;
}

// #region pipeline
export async function run(runtime: Runtime, request: RunRequest, options: RunOptions = {}): Promise<ExitRecord> {
  const stage = observed(options.observer);
  await freeName(runtime, request.name);
  const image = await stage('pull', () => pull(runtime, request.image, { policy: request.pull }));
  const container = await stage('create', () => create(runtime, image, request));
  faultPoint('create');
  return start(runtime, container, options);
}

/** Start a created or stopped container and wait for it: everything after `create`. */
export async function start(runtime: Runtime, starting: ContainerRecord, options: RunOptions = {}): Promise<ExitRecord> {
  const stage = observed(options.observer);
  const container = owned(runtime, starting);
  let cgroup: CgroupPlan | undefined; // removed in `finally`, once there is one
  try {
    const rootfs = await stage('rwlayer', () => rwlayer(runtime, container));
    faultPoint('rwlayer');
    const net = await stage('network', () => network(runtime, container));
    faultPoint('network');
    const ns = await stage('namespaces', () => namespaces(runtime, container, rootfs, net));
    faultPoint('namespaces');
    cgroup = ns.cgroup;
    const exit = await stage('exec', () => exec(runtime, container, rootfs, ns, options.io, options.observer));
    // Stopped, not removed: the rw layer stays for `tsrun start`, until `tsrun rm`.
    saveState(runtime.paths, container.id, {
      ...container.state, status: 'exited', pid: null, pidStartTime: null,
      exitCode: exit.exitCode, startedAt: exit.startedAt, finishedAt: exit.finishedAt, error: '', oomKilled: oomKills(ns.cgroup) > 0,
    });
    return exit;
  } catch (error) {
    recordFailedStart(runtime, container, error);
    throw error;
  } finally {
    await releaseContainer(runtime, container, cgroup);
  }
}
// #endregion

// #region detached
/** `tsrun create`: the first two stages only. */
export async function createOnly(runtime: Runtime, request: RunRequest): Promise<ContainerRecord> {
  await freeName(runtime, request.name);
  const image = await pull(runtime, request.image, { policy: request.pull });
  return create(runtime, image, request);
}

/** `tsrun run -d`: pull and create as always, then start the container in the background. */
export async function runDetached(runtime: Runtime, request: RunRequest, options: RunOptions = {}): Promise<{ container: ContainerRecord; started: DetachedStart }> {
  const stage = observed(options.observer);
  await freeName(runtime, request.name);
  const image = await stage('pull', () => pull(runtime, request.image, { policy: request.pull }));
  const container = await stage('create', () => create(runtime, image, request));
  return { container, started: await startDetached(runtime, container, options) };
}

/** `run -d`, `start`: the same stages, but tsrun-monitor becomes the container's parent and tsrun returns
 *  once the command runs. What the container holds is released by `tsrun container-exited` when it exits. */
export async function startDetached(runtime: Runtime, starting: ContainerRecord, options: RunOptions = {}): Promise<DetachedStart> {
  const stage = observed(options.observer);
  const container = owned(runtime, starting);
  let cgroup: CgroupPlan | undefined;
  try {
    const rootfs = await stage('rwlayer', () => rwlayer(runtime, container));
    const net = await stage('network', () => network(runtime, container));
    const ns = await stage('namespaces', () => namespaces(runtime, container, rootfs, net));
    cgroup = ns.cgroup;
    const started = await stage('exec', () => execDetached(runtime, container, rootfs, ns));
    // The address is the container's now, not this tsrun's: it stays while the container runs.
    await handOverNetwork(runtime, container, { pid: started.pid, startTime: processStartTime(started.pid) });
    return started;
  } catch (error) {
    recordFailedStart(runtime, container, error);
    await releaseContainer(runtime, container, cgroup);
    throw error;
  }
}

/** The exit command of a detached container's monitor: record how it ended, then release what it held. */
export async function recordDetachedExit(runtime: Runtime, container: ContainerRecord): Promise<void> {
  const exitFile = path.join(containerRunDir(runtime.paths, container.id), 'exit');
  const [code, , finishedAt] = fs.readFileSync(exitFile, 'utf8').trim().split(' ');
  const cgroup = containerCgroup(container.id, container.config.resources ?? {});
  const exited = {
    ...container.state, status: 'exited' as const, pid: null, pidStartTime: null, monitor: null,
    exitCode: Number(code), finishedAt: finishedAt ?? new Date().toISOString(), error: '', oomKilled: oomKills(cgroup) > 0,
  };
  // Released first, recorded after: whoever waits for the exit (stop, restart) finds everything free.
  await releaseContainer(runtime, container, cgroup);
  saveState(runtime.paths, container.id, exited);
  if (restartWanted(container.config.restart, exited)) {
    // Docker's back-off: 100 ms, doubling with every restart, at most a minute.
    const restarts = exited.restartCount ?? 0;
    await sleep(Math.min(100 * 2 ** restarts, 60_000));
    const again = { ...container, state: { ...exited, restartCount: restarts + 1 } };
    saveState(runtime.paths, container.id, again.state);
    await startDetached(runtime, again);
  }
}

// #region restart-policy
/** Whether the restart policy starts the container again after this exit. */
export function restartWanted(policy: RestartPolicy | undefined, state: ContainerState): boolean {
  if (!policy || policy.name === 'no' || state.stoppedByUser) return false;
  if (policy.name === 'on-failure') {
    return state.exitCode !== 0 && (policy.maximumRetryCount === 0 || (state.restartCount ?? 0) < policy.maximumRetryCount);
  }
  return true; // always, unless-stopped: tsrun has no daemon restart for them to differ on
}
// #endregion
// #endregion

/** What a container whose record is gone still held: found by its id alone (its lease, its cgroup, its run dir). */
export async function releaseRemoved(runtime: Runtime, id: string): Promise<void> {
  const cgroup = containerCgroup(id, {});
  const stub = { id, config: { network: 'bridge', autoRemove: false } } as ContainerRecord;
  await releaseContainer(runtime, stub, cgroup);
}

/** What a container holds only while it runs: its network, its cgroup, its overlay's mount point; and, with --rm,
 *  the container itself. Safe to call twice. In the trace, `tsrun.release` follows the stages. */
export async function releaseContainer(runtime: Runtime, container: ContainerRecord, cgroup: CgroupPlan | undefined): Promise<void> {
  // A late Ctrl-C, or the terminal closing, must not stop tsrun half-way through cleaning up.
  const holdOn = () => {};
  for (const signal of CLEANUP_SIGNALS) process.on(signal, holdOn);
  try {
    await inSpan('tsrun.release', { 'container.id': container.id, 'tsrun.auto_remove': container.config.autoRemove }, async () => {
      await releaseNetwork(runtime, container);
      faultPoint('release');
      if (cgroup) await inSpan('tsrun.release.cgroup', { 'tsrun.cgroup.dirs': cgroup.dirs }, () => removeCgroup(cgroup));
      fs.rmSync(containerRunDir(runtime.paths, container.id), { recursive: true, force: true });
      if (container.config.autoRemove) {
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

/** Runs a stage between the observer's two calls (a no-op without an observer). */
function observed(observer: RunObserver | undefined) {
  return async <T>(name: StageName, work: () => Promise<T>): Promise<T> => {
    await observer?.stageStarting?.(name);
    const started = performance.now();
    const result = await work();
    observer?.stageFinished?.(name, result, performance.now() - started);
    return result;
  };
}

/** A name asked for may be held by a --rm container whose tsrun was killed: reconciled, it is free again. */
async function freeName(runtime: Runtime, name: string | undefined): Promise<void> {
  const holder = name === undefined ? undefined : listContainers(runtime.paths).find((container) => container.name === name);
  if (holder) await reconcile(runtime, holder);
}

// #region owner
/** This tsrun owns the container until its start is done: killed half-way (kill -9, a closed laptop), it can't
 *  release what the stages made, so the record names it, and whoever finds it gone does (src/containers/reconcile.ts). */
function owned(runtime: Runtime, container: ContainerRecord): ContainerRecord {
  const state = { ...container.state, owner: { pid: process.pid, startTime: processStartTime(process.pid) } };
  saveState(runtime.paths, container.id, state);
  return { ...container, state };
}
// #endregion

/** A start that failed leaves the container as it was, with the reason, as `docker ps -a` shows it. */
function recordFailedStart(runtime: Runtime, container: ContainerRecord, error: unknown): void {
  saveState(runtime.paths, container.id, {
    ...container.state, pid: null, pidStartTime: null,
    exitCode: exitCodeOf(error), finishedAt: new Date().toISOString(),
    error: error instanceof TsrunError ? error.message : String(error),
  });
}
