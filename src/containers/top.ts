// `tsrun top CONTAINER [ps OPTIONS]` and `docker top` (GET /containers/{id}/top): a container's processes as ps(1)
// on the host shows them. Which processes are the container's is the kernel's answer, its cgroup's cgroup.procs;
// ps runs with the user's options (-ef unless told), and only the rows of those pids are kept, as dockerd keeps them.
// The pids are the host's, not the ones the container sees in its own PID namespace.
import type { ContainerRecord } from '../container.js';
import { cgroupProcesses, containerCgroup } from '../cgroups/cgroup.js';
import { runCommand, type CommandRunner } from '../net/command.js';
import { fail } from '../errors.js';

export interface ProcessTable {
  titles: string[];
  processes: string[][];
}

// #region top
/** The container's processes, as `ps ARGS` prints them (`psArgs` split at spaces, as dockerd splits them). */
export async function containerTop(container: ContainerRecord, psArgs: string, run: CommandRunner = runCommand): Promise<ProcessTable> {
  const args = (psArgs || '-ef').split(' ');
  const pids = cgroupProcesses(containerCgroup(container.id, container.config.resources ?? {}));
  let output: string;
  try {
    output = await run(['ps', ...args, '-q', pids.join(',')]); // ps reads only these: quicker on a busy host
  } catch {
    output = await run(['ps', ...args]); // some options cannot go with -q (f, for one): every process, then
  }
  return psTable(output, pids);
}
// #endregion

/** ps's output as dockerd reads it: the first line's words are the titles, and a row is kept when its PID is one
 *  of `pids`; a thread's row (PID "-", with -m or H) goes with the process above it. The last column takes the
 *  rest of the line, spaces and all (a command's arguments). */
export function psTable(output: string, pids: number[]): ProcessTable {
  const [header = '', ...lines] = output.split('\n');
  const titles = words(header);
  const pidColumn = titles.indexOf('PID');
  if (pidColumn < 0) throw fail('ps printed no PID column', 'give ps options whose output has one (-ef, aux, -o pid,comm)');
  const processes: string[][] = [];
  let keepThreads = false;
  for (const line of lines.filter(Boolean)) {
    const fields = words(line);
    const pid = fields[pidColumn]!;
    if (pid === '-') {
      if (keepThreads) processes.push(row(fields, titles.length));
      continue;
    }
    if (!/^\d+$/.test(pid)) throw fail(`ps printed an unexpected pid '${pid}'`);
    keepThreads = pids.includes(Number(pid));
    if (keepThreads) processes.push(row(fields, titles.length));
  }
  return { titles, processes };
}

const words = (line: string) => line.split(/[ \t\n\f\r\v]+/).filter(Boolean);

function row(fields: string[], columns: number): string[] {
  return [...fields.slice(0, columns - 1), fields.slice(columns - 1).join(' ')];
}
