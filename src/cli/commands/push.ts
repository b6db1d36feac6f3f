// tsrun push [-q] NAME[:TAG]: upload an image from the store to its registry.
import type { CommandModule } from 'yargs';
import type { PushEvent } from '../../registry/push.js';

interface PushArgs { root?: string; reference: string; quiet: boolean }

export const pushCommand: CommandModule<object, PushArgs> = {
  command: 'push <reference>',
  describe: 'Upload an image to a registry',
  builder: (yargs) => yargs
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Suppress progress output' })
    .positional('reference', { type: 'string', describe: 'NAME[:TAG] of an image in the store' }) as never,
  handler: async (argv) => {
    const { parseReference } = await import('../../image/reference.js');
    const reference = parseReference(argv.reference); // refused before anything else happens
    const { runtimeFor } = await import('../runtime.js');
    const { pushEventLine, pushImage } = await import('../../registry/push.js');
    const { sys, paths } = runtimeFor(argv);
    const write = (line: string) => void process.stdout.write(line + '\n');
    const progress = (event: PushEvent) => {
      const line = pushEventLine(event);
      if (line !== undefined) write(line);
    };
    await pushImage(sys, paths, reference, { progress: argv.quiet ? undefined : progress });
    if (argv.quiet) write(reference.canonical); // as docker push -q: just the name
  },
};
