// tsrun unpause CONTAINER…: let a paused container run again.
import type { CommandModule } from 'yargs';
import { eachContainer, type ContainersArgs } from '../each-container.js';

export const unpauseCommand: CommandModule<object, ContainersArgs> = {
  command: 'unpause <containers..>',
  describe: 'Let the processes of paused containers run again',
  builder: (yargs) => yargs.positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { unpauseContainer } = await import('../../containers/stop.js');
    await eachContainer(argv, unpauseContainer);
  },
};
