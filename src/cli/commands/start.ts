// tsrun start [-a [-i]] CONTAINER: run a stopped container again, with its rw layer: in the background
// (its monitor the parent, as `run -d`), or attached with -a.
import type { CommandModule } from 'yargs';
import { fail } from '../../errors.js';

interface StartArgs { root?: string; container: string; attach: boolean; interactive: boolean }

export const startCommand: CommandModule<object, StartArgs> = {
  command: 'start <container>',
  describe: 'Start a stopped container',
  builder: (yargs) => yargs.options({
    attach: { alias: 'a', type: 'boolean', default: false, describe: 'Attach STDOUT/STDERR and wait for the container' },
    interactive: { alias: 'i', type: 'boolean', default: false, describe: 'Attach the container\'s STDIN' },
  }).positional('container', { type: 'string', describe: 'Container name or id' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { getContainer } = await import('../../store/containers.js');
    const { reconcile } = await import('../../containers/reconcile.js');
    const { start, startDetached } = await import('../../run.js');
    const runtime = runtimeFor(argv);
    const container = await reconcile(runtime, getContainer(runtime.paths, argv.container));
    if (!container) throw fail(`no such container: ${argv.container}`, 'it was run with --rm, and is gone with its process');
    if (container.state.status === 'running' || container.state.status === 'paused') {
      throw fail(`container ${container.name} is already running`, 'wait for it to exit, or `tsrun rm -f` it');
    }
    if (!argv.attach) {
      await startDetached(runtime, { ...container, state: { ...container.state, restartCount: 0 } }); // started by hand: the count begins anew
      process.stdout.write(`${argv.container}\n`);
      return;
    }
    const exit = await start(runtime, { ...container, config: { ...container.config, interactive: argv.interactive } });
    process.exitCode = exit.exitCode;
  },
};
