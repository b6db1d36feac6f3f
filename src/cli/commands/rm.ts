// tsrun rm [-f] CONTAINER...: delete containers and their rw layers.
import type { CommandModule } from 'yargs';

interface RmArgs { root?: string; containers: string[]; force: boolean; volumes: boolean }

export const rmCommand: CommandModule<object, RmArgs> = {
  command: 'rm <containers..>',
  describe: 'Remove one or more containers',
  builder: (yargs) => yargs.options({
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Force the removal of a running container (uses SIGKILL)' },
    volumes: { alias: 'v', type: 'boolean', default: false, describe: 'Remove the anonymous volumes of the container' },
  }).positional('containers', { type: 'string', array: true, describe: 'Container names or ids' }) as never,
  handler: async (argv) => {
    const { removeContainers } = await import('../../containers/remove.js');
    const { runtimeFor } = await import('../runtime.js');
    await removeContainers(runtimeFor(argv), argv.containers.map(String), argv.force, argv.volumes);
  },
};
