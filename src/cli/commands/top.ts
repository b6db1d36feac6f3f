// tsrun top CONTAINER [ps OPTIONS]: a running container's processes, as ps(1) on the host shows them.
import type { CommandModule } from 'yargs';

export const topCommand: CommandModule<object, { root?: string; container: string; _: (string | number)[] }> = {
  command: 'top <container> [ps-options..]',
  describe: 'Show a running container\'s processes, as ps on the host shows them (ps -ef unless options are given)',
  builder: (yargs) => yargs
    .positional('container', { type: 'string', describe: 'Container name or id' })
    .positional('ps-options', { type: 'string', array: true, default: [], describe: 'ps options (aux, -o pid,comm, …)' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { getContainer } = await import('../../store/containers.js');
    const { reconcile } = await import('../../containers/reconcile.js');
    const { isUp } = await import('../../container.js');
    const { fail } = await import('../../errors.js');
    const { containerTop } = await import('../../containers/top.js');
    const { formatTable } = await import('../../docker/format.js');
    const runtime = runtimeFor(argv);
    const container = await reconcile(runtime, getContainer(runtime.paths, argv.container));
    if (!container || !isUp(container.state)) throw fail(`container ${argv.container} is not running`);
    // After `--` (put there by markCommandTail), the words are ps's, as a command's are exec's.
    const table = await containerTop(container, argv._.slice(1).map(String).join(' '));
    process.stdout.write(formatTable(table.titles, table.processes, TOP_COLUMN_WIDTH));
  },
};

/** docker top's table: its columns are at least 20 characters wide (docker/cli's tabwriter for top). */
const TOP_COLUMN_WIDTH = 20;
