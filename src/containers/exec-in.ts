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
//
// `tsrun exec` gives the process its own terminal or stdio; the daemon's exec (`docker exec`, src/daemon/exec.ts)
// starts the same process with pipes it relays to the client.
import type { ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import type { ChildStep } from '../kernel/steps.js';
import { forwardSignals, startChild, stepError, waitForExit, type StartedChild } from '../kernel/child.js';
import { fail } from '../errors.js';
import { reconcile } from './reconcile.js';
import { containerCgroup, type CgroupPlan } from '../cgroups/cgroup.js';
import { planProcess } from '../stages/exec.js';
import { lowerDirs, upperDir } from '../stages/rwlayer.js';

export interface ExecRequest {
  command: string[];
  env: string[];
  user?: string;
  workdir?: string;
  interactive: boolean;
  tty: boolean;
}

/** The namespaces to join, mount last (see the top of the file). */
const NAMESPACES = [
  { file: 'ipc', nstype: 'CLONE_NEWIPC' },
  { file: 'uts', nstype: 'CLONE_NEWUTS' },
  { file: 'net', nstype: 'CLONE_NEWNET' },
  { file: 'cgroup', nstype: 'CLONE_NEWCGROUP' },
  { file: 'pid', nstype: 'CLONE_NEWPID' },
  { file: 'mnt', nstype: 'CLONE_NEWNS' },
] as const;

/** The steps that take a new process into the cgroup and namespaces of the container whose process is `pid`.
 *  `tsrun-oci exec` (src/oci/lifecycle.ts) joins a container the same way. */
export function joinContainerSteps(pid: number, cgroup: CgroupPlan): ChildStep[] {
  return [
    ...cgroup.joins.map((file): ChildStep => ({ op: 'write_file', path: file, data: '0' })),
    ...NAMESPACES.map(({ file, nstype }): ChildStep => ({ op: 'setns', path: `/proc/${pid}/ns/${file}`, nstype })),
    { op: 'fork' },
  ];
}

// #region exec-in
/** `tsrun exec`: the process on tsrun's own stdio (or a terminal, with -t), signals passed on; its exit code. */
export async function execIn(runtime: Runtime, containerRecord: ContainerRecord, request: ExecRequest): Promise<number> {
  let child = 0;
  const stopForwarding = forwardSignals(() => child);
  try {
    const stdio: [number, number, number] = request.tty ? [-1, -1, -1] : [request.interactive ? 0 : -1, 1, 2];
    const started = await startExec(runtime, containerRecord, request, stdio, (pid) => { child = pid; });
    return (await waitForExit(runtime.sys, started, request.interactive)).code;
  } finally {
    stopForwarding();
  }
}

/** The process started in the container, on the descriptors `stdio` (-1: /dev/null); `spawned` is told its pid
 *  at once. A command that cannot be started (not found: 127, not executable: 126) is thrown once it is gone. */
export async function startExec(
  runtime: Runtime, containerRecord: ContainerRecord, request: ExecRequest, stdio: [number, number, number], spawned: (pid: number) => void,
): Promise<StartedChild> {
  const container = await reconcile(runtime, containerRecord);
  if (!container) throw fail(`container ${containerRecord.name} is not running`, 'it was run with --rm, and is gone with its process');
  const pid = container.state.pid;
  if (container.state.status === 'paused') throw fail(`container ${container.name} is paused`, `unpause it first: \`tsrun unpause ${container.name}\``);
  if (container.state.status !== 'running' || pid === null) {
    throw fail(`container ${container.name} is not running`, 'start it first: `tsrun start ' + container.name + '`');
  }
  const joins = joinContainerSteps(pid, containerCgroup(container.id, container.config.resources ?? {}));
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
  const layers = { upperdir: upperDir(runtime.paths, container), lowerdirs: lowerDirs(runtime.paths, container) };
  const steps = [...joins, ...planProcess(runtime, asExec, layers).steps];
  const started = await startChild(runtime.sys, { cloneFlags: [], steps, stdio, tty: request.tty }, spawned);
  if (started.failure) {
    await started.exited;
    throw stepError(started.failure, steps, request.command[0]!);
  }
  return started;
}
// #endregion
