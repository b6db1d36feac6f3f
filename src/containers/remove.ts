// `tsrun rm`: delete containers. A running one is refused unless forced, and
// then killed first, so its rw layer is never pulled from under it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Runtime } from '../runtime.js';
import { deleteContainer, getContainer } from '../store/containers.js';
import { reconcile } from './reconcile.js';
import { isRunningProcess, isSameProcess } from '../kernel/proc.js';
import { fail, formatError } from '../errors.js';
import { thaw } from './stop.js';
import { removeAnonymousVolumes } from '../volumes/store.js';

const KILL_WAIT_MS = 10_000;

export async function removeContainers(runtime: Runtime, names: string[], force: boolean, volumes = false): Promise<void> {
  let failures = 0;
  for (const name of names) {
    try {
      await removeContainer(runtime, name, force, volumes);
      process.stdout.write(`${name}\n`);
    } catch (error) {
      failures++;
      process.stderr.write(formatError(error) + '\n');
    }
  }
  if (failures > 0) process.exitCode = 1;
}

export async function removeContainer(runtime: Runtime, name: string, force: boolean, volumes: boolean): Promise<void> {
  const container = await reconcile(runtime, getContainer(runtime.paths, name));
  if (!container) return; // run with --rm: gone with its process
  const { pid, pidStartTime, status } = container.state;
  if ((status === 'running' || status === 'paused') && pid !== null) {
    if (!force) {
      throw fail(`cannot remove container ${container.name}: it is running`, 'stop it first, or use `tsrun rm -f`');
    }
    // SIGKILL to the container's PID 1 ends its whole PID namespace.
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
    if (status === 'paused') await thaw(container); // a frozen process dies only once it runs again
    // A detached container's monitor then becomes `tsrun container-exited`, which reads the record to free
    // the cgroup: deleting the record before it is done would leave the cgroup behind.
    const { monitor } = container.state;
    const deadline = Date.now() + KILL_WAIT_MS;
    while (isSameProcess(pid, pidStartTime) || (monitor && isRunningProcess(monitor.pid, monitor.startTime))) {
      if (Date.now() > deadline) throw fail(`container ${container.name} did not die within ${KILL_WAIT_MS / 1000}s of SIGKILL`, 'check `ps` for a stuck process (state D)');
      await sleep(20);
    }
  }
  deleteContainer(runtime.paths, container.id);
  if (volumes) await removeAnonymousVolumes(runtime.sys, runtime.paths, container.config.mounts ?? []);
}
