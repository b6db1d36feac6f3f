// tsrun pause CONTAINER…: freeze every process of the container (the cgroup freezer).
import type { CommandModule } from 'yargs';
import { eachContainer, type ContainersArgs } from '../each-container.js';

export const pauseCommand: CommandModule<object, ContainersArgs> = {
  command: 'pause <containers..>',
  describe: 'Freeze every process of containers (cgroup freezer)',
  builder: (yargs) => yargs.positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { pauseContainer } = await import('../../containers/stop.js');
    await eachContainer(argv, pauseContainer);
  },
};
