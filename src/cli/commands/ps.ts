// tsrun ps [-a] [-q] [--no-trunc]: the containers, as docker lists them.
import type { CommandModule } from 'yargs';

interface PsArgs { root?: string; all: boolean; quiet: boolean; 'no-trunc': boolean }

export const psCommand: CommandModule<object, PsArgs> = {
  command: 'ps',
  describe: 'List containers',
  builder: (yargs) => yargs.options({
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Show all containers (default shows just running)' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only display container IDs' },
    'no-trunc': { type: 'boolean', default: false, describe: 'Don\'t truncate output' },
  }),
  handler: async (argv) => {
    const { storePaths } = await import('../../store/paths.js');
    const { listContainers } = await import('../../store/containers.js');
    const { reconcile } = await import('../../store/reconcile.js');
    const { formatTable, timeAgo, humanDuration } = await import('../format.js');
    const { findLease } = await import('../../net/ipam.js');
    const { formatMapping } = await import('../../net/ports.js');
    const paths = storePaths(argv.root);
    const containers = listContainers(paths).map((c) => reconcile(paths, c))
      .filter((c) => argv.all || c.state.status === 'running' || c.state.status === 'paused');
    const id = (full: string) => (argv['no-trunc'] ? full : full.slice(0, 12));
    if (argv.quiet) {
      for (const c of containers) process.stdout.write(id(c.id) + '\n');
      return;
    }
    const now = new Date();
    const status = (c: (typeof containers)[number]) => {
      const { state } = c;
      if (state.status === 'running') return `Up ${humanDuration(now.getTime() - Date.parse(state.startedAt!))}`;
      if (state.status === 'paused') return `Up ${humanDuration(now.getTime() - Date.parse(state.startedAt!))} (Paused)`;
      if (state.status === 'exited') return `Exited (${state.exitCode}) ${timeAgo(new Date(state.finishedAt!), now)}`;
      return 'Created';
    };
    // A running container's published ports are in its lease on the bridge, as the network stage recorded them.
    const ports = (c: (typeof containers)[number]) => (c.state.status === 'running' || c.state.status === 'paused'
      ? (findLease(c.id)?.lease.ports ?? []).map(formatMapping).join(', ')
      : '');
    const command = (argvOf: string[]) => {
      const text = argvOf.join(' ');
      return JSON.stringify(argv['no-trunc'] || text.length <= 20 ? text : text.slice(0, 19) + '…');
    };
    process.stdout.write(formatTable(
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
      containers.map((c) => [id(c.id), c.image.name, command(c.config.argv), timeAgo(new Date(c.created), now), status(c), ports(c), c.name]),
    ));
  },
};
