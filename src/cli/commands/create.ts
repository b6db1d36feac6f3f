// tsrun create [OPTIONS] IMAGE [COMMAND] [ARG...]: a container, made but not started (`tsrun start` does that).
import type { CommandModule } from 'yargs';
import { containerOptions, type RunArgs } from '../run-options.js';

export const createCommand: CommandModule<object, RunArgs> = {
  command: 'create <image> [command..]',
  describe: 'Create a new container without starting it',
  builder: (yargs) => yargs
    .options(containerOptions)
    .positional('image', { type: 'string', describe: 'Image reference or id' })
    .positional('command', { type: 'string', array: true, default: [], describe: 'Command and arguments' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { createContainer } = await import('../../run.js');
    const { runRequest } = await import('../run-request.js');
    const container = await createContainer(runtimeFor(argv), await runRequest(argv));
    process.stdout.write(`${container.id}\n`);
  },
};
