// tsrun network create|ls|inspect|rm|prune|connect|disconnect: user networks, as `docker network` manages them.
import type { CommandModule } from 'yargs';

interface NetworkArgs { root?: string; action: string; names: string[]; subnet?: string; quiet: boolean; alias: string[]; force: boolean }

export const networkCommand: CommandModule<object, NetworkArgs> = {
  command: 'network <action> [names..]',
  describe: 'Manage networks: create [--subnet CIDR] NAME, ls, inspect NAME..., rm NAME..., prune, connect [--alias A]... NETWORK CONTAINER, disconnect [-f] NETWORK CONTAINER',
  builder: (yargs) => yargs
    .positional('action', { choices: ['create', 'ls', 'inspect', 'rm', 'prune', 'connect', 'disconnect'] as const, describe: 'What to do' })
    .positional('names', { type: 'string', array: true, default: [], describe: 'Network names (or ids); with connect and disconnect, NETWORK CONTAINER' })
    .option('subnet', { type: 'string', describe: 'create: the network\'s subnet in CIDR form (default: a free 10.x.0.0/16)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'ls: only the ids' })
    .option('alias', { type: 'string', array: true, default: [], describe: 'connect: another name the container answers to on that network' })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'disconnect: also from a network removed meanwhile' }) as never,
  handler: async (argv) => {
    if (argv.action === 'connect' || argv.action === 'disconnect') return connectOrDisconnect(argv);
    const { fail } = await import('../../errors.js');
    const { runtimeFor } = await import('../runtime.js');
    const { networkHost } = await import('../../net/bridges.js');
    const networks = await import('../../net/networks.js');
    const { sys, paths } = runtimeFor(argv);
    const host = networkHost(paths);
    const write = (line: string) => void process.stdout.write(line + '\n');
    const needsNames = (what: string) => {
      if (argv.names.length === 0) throw fail(`tsrun network ${argv.action} needs ${what}`, `e.g. tsrun network ${argv.action} lab-net`);
    };

    if (argv.action === 'create') {
      needsNames('a name');
      if (argv.names.length > 1) throw fail('tsrun network create takes one name', 'create networks one at a time');
      write((await networks.createNetwork(sys, paths, host, argv.names[0]!, argv.subnet)).id);
    } else if (argv.action === 'ls') {
      const { formatTable } = await import('../../docker/format.js');
      const rows = networks.networkSummaries(paths);
      if (argv.quiet) for (const row of rows) write(row.id.slice(0, 12));
      else process.stdout.write(formatTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], rows.map((row) => [row.id.slice(0, 12), row.name, row.driver, 'local'])));
    } else if (argv.action === 'inspect') {
      needsNames('a network');
      write(JSON.stringify(argv.names.map((name) => networks.inspectNetwork(paths, host, name)), null, 4));
    } else if (argv.action === 'rm') {
      needsNames('a network');
      for (const name of argv.names) write((await networks.removeNetwork(sys, paths, host, name)).name);
    } else {
      const { pruneDefaultBridge } = await import('../../net/bridges.js');
      const removed = await networks.pruneNetworks(sys, paths, host);
      if (removed.length > 0) write(`Deleted Networks:\n${removed.map((network) => network.name).join('\n')}\n`);
      write(await pruneDefaultBridge(sys, host) ? 'Removed the default bridge tsrun0' : 'tsrun0 stays: containers still use it');
    }
  },
};

/** Docker's `network connect` and `disconnect`: nothing printed on success; a refusal is the daemon's error, exit 1. */
async function connectOrDisconnect(argv: NetworkArgs): Promise<void> {
  const { fail, formatError } = await import('../../errors.js');
  const { runtimeFor } = await import('../runtime.js');
  const { connectToNetwork, disconnectFromNetwork } = await import('../../containers/connect.js');
  try {
    if (argv.names.length !== 2) throw fail(`"tsrun network ${argv.action}" requires exactly 2 arguments`, `tsrun network ${argv.action} NETWORK CONTAINER`);
    const [network, container] = argv.names as [string, string];
    const runtime = runtimeFor(argv);
    if (argv.action === 'connect') await connectToNetwork(runtime, network, container, argv.alias);
    else await disconnectFromNetwork(runtime, network, container, argv.force);
  } catch (error) {
    process.stderr.write(formatError(error) + '\n');
    process.exitCode = 1;
  }
}
