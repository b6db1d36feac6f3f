// tsrun stop CONTAINER…: the stop signal, then SIGKILL after the grace period, as docker stop.
import type { CommandModule } from 'yargs';
import { eachContainer, type ContainersArgs } from '../each-container.js';

export const stopCommand: CommandModule<object, ContainersArgs> = {
  command: 'stop <containers..>',
  describe: 'Stop running containers: SIGTERM, then SIGKILL after a grace period',
  builder: (yargs) => yargs.options({
    time: { alias: 't', type: 'number', default: 10, describe: 'Seconds to wait before killing the container' },
    signal: { alias: 's', type: 'string', describe: 'Signal to send first (default SIGTERM)' },
  }).positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { stopContainer } = await import('../../containers/stop.js');
    await eachContainer(argv, (runtime, name) => stopContainer(runtime, name, argv.time, argv.signal));
  },
};
