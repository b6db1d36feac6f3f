// tsrun logs, wait, stop, kill, and the monitor's exit command: a container's life after `run -d`.
import type { CommandModule } from 'yargs';
import type { ContainerRecord } from '../../container.js';
import type { Runtime } from '../../container.js';

interface LogsArgs { root?: string; container: string; follow: boolean; tail?: string; timestamps: boolean; since?: string }
interface ContainersArgs { root?: string; containers: string[]; time: number; signal?: string }

export const logsCommand: CommandModule<object, LogsArgs> = {
  command: 'logs <container>',
  describe: 'Fetch the logs of a container',
  builder: (yargs) => yargs.options({
    follow: { alias: 'f', type: 'boolean', default: false, describe: 'Follow log output until the container exits' },
    tail: { alias: 'n', type: 'string', describe: 'Number of lines to show from the end of the logs ("all" for every line)' },
    timestamps: { alias: 't', type: 'boolean', default: false, describe: 'Show timestamps' },
    since: { type: 'string', describe: 'Show logs since a time (2026-11-23T12:00:00Z) or a duration ago (10m, 2h)' },
  }).positional('container', { type: 'string', describe: 'Container name or id' }) as never,
  handler: async (argv) => {
    const { setTimeout: sleep } = await import('node:timers/promises');
    const { fail } = await import('../../errors.js');
    const { storePaths } = await import('../../store/paths.js');
    const { getContainer } = await import('../../store/containers.js');
    const { reconcile } = await import('../../reconcile.js');
    const { realSyscalls } = await import('../../kernel/native.js');
    const { formatEntry, readLogs } = await import('../../logs.js');
    const { isUp } = await import('../../container.js');
    const paths = storePaths(argv.root);
    const container = getContainer(paths, argv.container);
    const since = argv.since === undefined ? undefined : sinceTime(argv.since, fail);
    const tail = argv.tail === undefined || argv.tail === 'all' ? Infinity : Number(argv.tail);
    if (Number.isNaN(tail) || tail < 0) throw fail(`invalid --tail "${argv.tail}"`, 'give a number of lines, or all');
    const print = (entries: ReturnType<typeof readLogs>) => {
      for (const entry of entries) (entry.stream === 'stderr' ? process.stderr : process.stdout).write(formatEntry(entry, argv.timestamps));
    };
    const first = readLogs(paths, container, since);
    print(tail === Infinity ? first : first.slice(Math.max(0, first.length - tail)));
    if (!argv.follow) return;
    // Follow until the container has exited: new entries are those past the count already printed.
    let shown = first.length;
    for (;;) {
      const now = await reconcile({ sys: realSyscalls, paths }, getContainer(paths, container.id));
      const running = now !== null && isUp(now.state);
      const entries = readLogs(paths, container, since);
      print(entries.slice(shown));
      shown = entries.length;
      if (!running) return;
      await sleep(100);
    }
  },
};

export const waitCommand: CommandModule<object, ContainersArgs> = {
  command: 'wait <containers..>',
  describe: 'Block until containers stop, then print their exit codes',
  builder: (yargs) => yargs.positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { waitForExit } = await import('../../lifecycle.js');
    const runtime = runtimeFor(argv);
    for (const name of argv.containers.map(String)) process.stdout.write(`${(await waitForExit(runtime, name)).state.exitCode}\n`);
  },
};

export const stopCommand: CommandModule<object, ContainersArgs> = {
  command: 'stop <containers..>',
  describe: 'Stop running containers: SIGTERM, then SIGKILL after a grace period',
  builder: (yargs) => yargs.options({
    time: { alias: 't', type: 'number', default: 10, describe: 'Seconds to wait before killing the container' },
    signal: { alias: 's', type: 'string', describe: 'Signal to send first (default SIGTERM)' },
  }).positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { stopContainer } = await import('../../lifecycle.js');
    await eachContainer(argv, (runtime, name) => stopContainer(runtime, name, argv.time, argv.signal));
  },
};

export const killCommand: CommandModule<object, ContainersArgs> = {
  command: 'kill <containers..>',
  describe: 'Send a signal (default SIGKILL) to running containers',
  builder: (yargs) => yargs.options({
    signal: { alias: 's', type: 'string', default: 'SIGKILL', describe: 'Signal to send' },
  }).positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { killContainer } = await import('../../lifecycle.js');
    await eachContainer(argv, (runtime, name) => killContainer(runtime, name, argv.signal!));
  },
};

/** Not for people: what tsrun-monitor becomes when its container exits (see native/src/monitor.cc). */
export const containerExitedCommand: CommandModule<object, { root?: string; id: string }> = {
  command: 'container-exited <id>',
  describe: false,
  builder: (yargs) => yargs.positional('id', { type: 'string' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { findContainer } = await import('../../store/containers.js');
    const { recordDetachedExit, releaseRemoved } = await import('../../run.js');
    const runtime = runtimeFor(argv);
    const container = findContainer(runtime.paths, argv.id);
    // Removed meanwhile (rm -f of a monitor that was late): what it held must be freed all the same.
    await (container ? recordDetachedExit(runtime, container) : releaseRemoved(runtime, argv.id));
  },
};

/** Docker's way with several containers: one after the other, each name printed once it is done. */
async function eachContainer(argv: ContainersArgs, act: (runtime: Runtime, name: string) => Promise<unknown>): Promise<void> {
  const { runtimeFor } = await import('../runtime.js');
  const runtime = runtimeFor(argv);
  for (const name of argv.containers.map(String)) {
    await act(runtime, name);
    process.stdout.write(`${name}\n`);
  }
}

/** "2026-11-23T12:00:00Z" as it is; "10m", "2h", "30s" as that long ago. */
function sinceTime(text: string, fail: (message: string, hint?: string) => Error): string {
  const ago = /^(\d+)(s|m|h)$/.exec(text);
  if (ago) return new Date(Date.now() - Number(ago[1]) * { s: 1e3, m: 60e3, h: 3600e3 }[ago[2] as 's' | 'm' | 'h']).toISOString();
  if (Number.isNaN(Date.parse(text))) throw fail(`invalid --since "${text}"`, 'give a time like 2026-11-23T12:00:00Z or a duration like 10m');
  return new Date(text).toISOString();
}

export const restartCommand: CommandModule<object, ContainersArgs> = {
  command: 'restart <containers..>',
  describe: 'Stop (SIGTERM, then SIGKILL after the timeout) and start containers again, in the background',
  builder: (yargs) => yargs.options({
    time: { alias: 't', type: 'number', default: 10, describe: 'Seconds to wait before killing the container' },
  }).positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { stopContainer } = await import('../../lifecycle.js');
    const { startDetached } = await import('../../run.js');
    await eachContainer(argv, async (runtime, name) => {
      const stopped = await stopContainer(runtime, name, argv.time);
      await startDetached(runtime, { ...stopped, state: { ...stopped.state, restartCount: 0 } });
    });
  },
};

export const renameCommand: CommandModule<object, { root?: string; container: string; name: string }> = {
  command: 'rename <container> <name>',
  describe: 'Rename a container',
  builder: (yargs) => yargs
    .positional('container', { type: 'string', describe: 'Container name or id' })
    .positional('name', { type: 'string', describe: 'The new name' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { renameContainer } = await import('../../store/containers.js');
    const runtime = runtimeFor(argv);
    await renameContainer(runtime.sys, runtime.paths, argv.container, argv.name);
  },
};

export const pauseCommand: CommandModule<object, ContainersArgs> = {
  command: 'pause <containers..>',
  describe: 'Freeze every process of containers (cgroup freezer)',
  builder: (yargs) => yargs.positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { pauseContainer } = await import('../../lifecycle.js');
    await eachContainer(argv, pauseContainer);
  },
};

export const unpauseCommand: CommandModule<object, ContainersArgs> = {
  command: 'unpause <containers..>',
  describe: 'Let the processes of paused containers run again',
  builder: (yargs) => yargs.positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { unpauseContainer } = await import('../../lifecycle.js');
    await eachContainer(argv, unpauseContainer);
  },
};

export const statsCommand: CommandModule<object, { root?: string; containers: string[]; 'no-stream': boolean }> = {
  command: 'stats [containers..]',
  describe: 'Show running containers\' CPU, memory and process counts, read from their cgroups',
  builder: (yargs) => yargs
    .option('no-stream', { type: 'boolean', default: false, describe: 'Print one sample and exit' })
    .positional('containers', { type: 'string', array: true, default: [], describe: 'Container names or ids (default: all running)' }) as never,
  handler: async (argv) => {
    const fs = await import('node:fs');
    const { totalmem } = await import('node:os');
    const { setTimeout: sleep } = await import('node:timers/promises');
    const { runtimeFor } = await import('../runtime.js');
    const { getContainer, listContainers } = await import('../../store/containers.js');
    const { reconcile } = await import('../../reconcile.js');
    const { isUp } = await import('../../container.js');
    const { cgroupLayout } = await import('../../cgroups/layout.js');
    const { planCgroup, readUsage } = await import('../../cgroups/cgroup.js');
    const { formatTable, humanSize } = await import('../format.js');
    const runtime = runtimeFor(argv);
    const layout = cgroupLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    const asked = argv.containers.length > 0 ? argv.containers.map((name) => getContainer(runtime.paths, String(name))) : listContainers(runtime.paths);
    const chosen = (await Promise.all(asked.map((container) => reconcile(runtime, container))))
      .filter((container) => container !== null && isUp(container.state)) as ContainerRecord[];
    const plans = chosen.map((container) => ({ container, plan: planCgroup(layout, container.id, container.config.resources ?? {}) }));
    const sample = () => ({ at: process.hrtime.bigint(), usage: plans.map(({ plan }) => readUsage(plan)) });
    let before = sample();
    for (;;) {
      await sleep(1000);
      const now = sample();
      const rows = plans.map(({ container }, i) => {
        const usage = now.usage[i]!;
        // CPU time used over wall time passed: 100% is one CPU kept busy, as docker counts it.
        const cpu = (usage.cpuNanoseconds - before.usage[i]!.cpuNanoseconds) / Number(now.at - before.at) * 100;
        const limit = usage.memoryLimit ?? totalmem();
        return [container.id.slice(0, 12), container.name, `${cpu.toFixed(2)}%`, `${humanSize(usage.memoryBytes)} / ${humanSize(limit)}`,
          `${(usage.memoryBytes / limit * 100).toFixed(2)}%`, String(usage.pids)];
      });
      const table = formatTable(['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS'], rows);
      if (argv['no-stream']) {
        process.stdout.write(table);
        return;
      }
      process.stdout.write((process.stdout.isTTY ? '\x1b[2J\x1b[H' : '') + table);
      before = now;
    }
  },
};

export const attachCommand: CommandModule<object, { root?: string; container: string; 'no-stdin': boolean }> = {
  command: 'attach <container>',
  describe: 'Attach to a detached container\'s output (and input, if it was run with -i) until it exits',
  builder: (yargs) => yargs
    .option('no-stdin', { type: 'boolean', default: false, describe: 'Do not attach STDIN' })
    .positional('container', { type: 'string', describe: 'Container name or id' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { getContainer } = await import('../../store/containers.js');
    const { attach } = await import('../../attach.js');
    const runtime = runtimeFor(argv);
    process.exitCode = await attach(runtime, getContainer(runtime.paths, argv.container), { stdin: !argv['no-stdin'] });
  },
};
