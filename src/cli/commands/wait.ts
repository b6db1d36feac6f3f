// tsrun wait CONTAINER…: block until each has stopped, print its exit code.
import type { CommandModule } from 'yargs';
import { type ContainersArgs } from '../each-container.js';

export const waitCommand: CommandModule<object, ContainersArgs> = {
  command: 'wait <containers..>',
  describe: 'Block until containers stop, then print their exit codes',
  builder: (yargs) => yargs.positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { gone, waitForExit } = await import('../../containers/stop.js');
    const runtime = runtimeFor(argv);
    for (const name of argv.containers.map(String)) process.stdout.write(`${(await waitForExit(runtime, name) ?? gone(name)).state.exitCode}\n`);
  },
};
