// The pipeline of `tsrun run`: pull → create → rw layer → network →
// namespaces → exec. Each stage is one function in src/stages/, inside its own
// span; this file only puts them in order and records how the container ended.
import fs from 'node:fs';
import type { ContainerRecord, ExitRecord, RunRequest, Runtime } from './container.js';
import { pull } from './stages/pull.js';
import { create } from './stages/create.js';
import { rwlayer } from './stages/rwlayer.js';
import { network } from './stages/network.js';
import { namespaces } from './stages/namespaces.js';
import { exec, type ExecIO } from './stages/exec.js';
import { deleteContainer, saveState } from './store/containers.js';
import { containerRunDir } from './store/paths.js';
import { TsrunError, exitCodeOf } from './errors.js';

// #region pipeline
export async function run(runtime: Runtime, request: RunRequest, io?: ExecIO): Promise<ExitRecord> {
  const image = await pull(runtime, request.image);
  const container = await create(runtime, image, request);
  return start(runtime, container, io);
}

/** Start a created or stopped container: everything after `create`. */
export async function start(runtime: Runtime, container: ContainerRecord, io?: ExecIO): Promise<ExitRecord> {
  try {
    const rootfs = await rwlayer(runtime, container);
    const net = await network(runtime, container);
    const ns = await namespaces(runtime, container, rootfs, net);
    const exit = await exec(runtime, container, rootfs, ns, io);
    // Stopped, not removed: the rw layer stays for `tsrun start`, until `tsrun rm`.
    saveState(runtime.paths, container.id, {
      ...container.state, status: 'exited', pid: null, pidStartTime: null,
      exitCode: exit.exitCode, startedAt: exit.startedAt, finishedAt: exit.finishedAt, error: '',
    });
    return exit;
  } catch (error) {
    recordFailedStart(runtime, container, error);
    throw error;
  } finally {
    // The overlay's mount point is only needed while the container runs.
    fs.rmSync(containerRunDir(runtime.paths, container.id), { recursive: true, force: true });
    if (container.config.autoRemove) deleteContainer(runtime.paths, container.id);
  }
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
