// tsrun restart CONTAINER…: stop, then start again in the background.
import type { CommandModule } from 'yargs';
import { eachContainer, type ContainersArgs } from '../each-container.js';

export const restartCommand: CommandModule<object, ContainersArgs> = {
  command: 'restart <containers..>',
  describe: 'Stop (SIGTERM, then SIGKILL after the timeout) and start containers again, in the background',
  builder: (yargs) => yargs.options({
    time: { alias: 't', type: 'number', default: 10, describe: 'Seconds to wait before killing the container' },
  }).positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { stopToRestart } = await import('../../containers/stop.js');
    const { startDetached } = await import('../../run.js');
    await eachContainer(argv, async (runtime, name) => {
      const stopped = await stopToRestart(runtime, name, argv.time);
      await startDetached(runtime, { ...stopped, state: { ...stopped.state, restartCount: 0 } });
    });
  },
};
