// tsrun kill CONTAINER…: one signal (SIGKILL by default), no waiting.
import type { CommandModule } from 'yargs';
import { eachContainer, type ContainersArgs } from '../each-container.js';

export const killCommand: CommandModule<object, ContainersArgs> = {
  command: 'kill <containers..>',
  describe: 'Send a signal (default SIGKILL) to running containers',
  builder: (yargs) => yargs.options({
    signal: { alias: 's', type: 'string', default: 'SIGKILL', describe: 'Signal to send' },
  }).positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { killContainer } = await import('../../containers/stop.js');
    await eachContainer(argv, (runtime, name) => killContainer(runtime, name, argv.signal!));
  },
};
