// tsrun tag SOURCE TARGET: give an image another name, as `docker tag` does.
import type { CommandModule } from 'yargs';

interface TagArgs { root?: string; source: string; target: string }

export const tagCommand: CommandModule<object, TagArgs> = {
  command: 'tag <source> <target>',
  describe: 'Create a tag TARGET that refers to the image SOURCE (a name or an id)',
  builder: (yargs) => yargs
    .positional('source', { type: 'string', describe: 'NAME[:TAG], NAME@DIGEST or image id' })
    .positional('target', { type: 'string', describe: 'NAME[:TAG]' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { tagImage } = await import('../../store/images.js');
    const { sys, paths } = runtimeFor(argv);
    await tagImage(sys, paths, argv.source, argv.target);
  },
};
