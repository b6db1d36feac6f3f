// tsrun create [OPTIONS] IMAGE [COMMAND] [ARG...]: a container, made but not started (`tsrun start` does that).
import type { CommandModule } from 'yargs';
import { containerOptions, runRequest, type RunArgs } from './run.js';

export const createCommand: CommandModule<object, RunArgs> = {
  command: 'create <image> [command..]',
  describe: 'Create a new container without starting it',
  builder: (yargs) => yargs
    .options(containerOptions)
    .positional('image', { type: 'string', describe: 'Image reference or id' })
    .positional('command', { type: 'string', array: true, default: [], describe: 'Command and arguments' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { createOnly } = await import('../../run.js');
    const container = await createOnly(runtimeFor(argv), runRequest(argv));
    process.stdout.write(`${container.id}\n`);
  },
};
