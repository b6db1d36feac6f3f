// tsrun stats [CONTAINER…]: CPU, memory and processes of running containers, read from their cgroups.
import type { CommandModule } from 'yargs';
import type { ContainerRecord } from '../../container.js';

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
    const { reconcile } = await import('../../containers/reconcile.js');
    const { isUp } = await import('../../container.js');
    const { cgroupLayout } = await import('../../cgroups/layout.js');
    const { planCgroup, readUsage } = await import('../../cgroups/cgroup.js');
    const { formatTable, humanSize } = await import('../../docker/format.js');
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
