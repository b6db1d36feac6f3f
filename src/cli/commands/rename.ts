// tsrun rename CONTAINER NAME.
import type { CommandModule } from 'yargs';

export const renameCommand: CommandModule<object, { root?: string; container: string; name: string }> = {
  command: 'rename <container> <name>',
  describe: 'Rename a container',
  builder: (yargs) => yargs
    .positional('container', { type: 'string', describe: 'Container name or id' })
    .positional('name', { type: 'string', describe: 'The new name' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { renameContainer } = await import('../../store/containers.js');
    const runtime = runtimeFor(argv);
    await renameContainer(runtime.sys, runtime.paths, argv.container, argv.name);
  },
};
