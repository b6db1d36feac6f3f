// `tsrun exec CONTAINER CMD`: one more process in a running container. Nothing
// is created: the new process joins what the container already has, the way
// `nsenter` would, as steps of a child that tsrun clones with no new namespaces:
//
//   its cgroup        write "0" to the cgroup's tasks (v1) or cgroup.procs (v2), so limits and accounting cover it
//   its namespaces    setns(2) on each /proc/PID/ns/* of the container's first process;
//                     the mount namespace last, since it also moves the process's root
//                     into the container (and its /proc is the container's from then on)
//   its PID namespace a process that joins one stays outside; only its children are in,
//                     so the child forks, and the new process goes on: tsrun's own child
//                     (CLONE_PARENT), the one spawn returns, while the first one exits
//
// then the same user, directory and execve steps as `run` (the exec stage's).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContainerRecord, Runtime } from '../container.js';
import type { ChildStep } from '../kernel/steps.js';
import { relayConsole } from '../kernel/console.js';
import { fail } from '../errors.js';
import { containerDir, layerDir } from '../store/paths.js';
import { reconcile } from './reconcile.js';
import { containerCgroup } from '../cgroups/cgroup.js';
import { planProcess, readStepFailure, stepError } from '../stages/exec.js';

export interface ExecRequest {
  command: string[];
  env: string[];
  user?: string;
  workdir?: string;
  interactive: boolean;
  tty: boolean;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** The namespaces to join, mount last (see the top of the file). */
const NAMESPACES = [
  { file: 'ipc', nstype: 'CLONE_NEWIPC' },
  { file: 'uts', nstype: 'CLONE_NEWUTS' },
  { file: 'net', nstype: 'CLONE_NEWNET' },
  { file: 'cgroup', nstype: 'CLONE_NEWCGROUP' },
  { file: 'pid', nstype: 'CLONE_NEWPID' },
  { file: 'mnt', nstype: 'CLONE_NEWNS' },
] as const;

// #region exec-in
export async function execIn(runtime: Runtime, containerRecord: ContainerRecord, request: ExecRequest): Promise<number> {
  const container = await reconcile(runtime, containerRecord);
  if (!container) throw fail(`container ${containerRecord.name} is not running`, 'it was run with --rm, and is gone with its process');
  const pid = container.state.pid;
  if (container.state.status === 'paused') throw fail(`container ${container.name} is paused`, `unpause it first: \`tsrun unpause ${container.name}\``);
  if (container.state.status !== 'running' || pid === null) {
    throw fail(`container ${container.name} is not running`, 'start it first: `tsrun start ' + container.name + '`');
  }
  const cgroup = containerCgroup(container.id, container.config.resources ?? {});
  const joins: ChildStep[] = [
    ...cgroup.joins.map((file): ChildStep => ({ op: 'write_file', path: file, data: '0' })),
    ...NAMESPACES.map(({ file, nstype }): ChildStep => ({ op: 'setns', path: `/proc/${pid}/ns/${file}`, nstype })),
    { op: 'fork' },
  ];
  // The process as `run` would start it, with exec's own command and flags.
  const asExec: ContainerRecord = {
    ...container,
    config: {
      ...container.config,
      argv: request.command,
      env: [...container.config.env, ...request.env],
      user: request.user ?? container.config.user,
      workingDir: request.workdir ?? container.config.workingDir,
      tty: request.tty,
    },
  };
  const layers = { upperdir: path.join(containerDir(runtime.paths, container.id), 'upper'), lowerdirs: [...container.image.layers].reverse().map((id) => layerDir(runtime.paths, id)) };
  const steps = [...joins, ...planProcess(runtime, asExec, layers).steps];

  let child = 0;
  const forward = (signal: NodeJS.Signals) => { try { if (child) process.kill(child, signal); } catch { /* already gone */ } };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  const openFds: number[] = [];
  try {
    const spawned = runtime.sys.spawn({ cloneFlags: [], steps, stdio: request.tty ? [-1, -1, -1] : [request.interactive ? 0 : -1, 1, 2] });
    child = spawned.pid;
    openFds.push(spawned.errorFd, spawned.consoleFd);
    const exited = runtime.sys.waitpid(spawned.pid);
    const failure = await readStepFailure(spawned.errorFd);
    if (failure) {
      await exited;
      throw stepError(failure, steps, request.command[0]!);
    }
    const console = request.tty ? relayConsole(runtime.sys, runtime.sys.recvfd(spawned.consoleFd), request.interactive) : undefined;
    const status = await exited;
    await console?.closed;
    return status.code ?? 128 + os.constants.signals[status.signal!];
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    for (const fd of openFds) if (fd >= 0) fs.closeSync(fd);
  }
}
// #endregion
