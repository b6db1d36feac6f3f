// tsrun rmi [-f] IMAGE...: untag images, and delete those left without a name.
import type { CommandModule } from 'yargs';

interface RmiArgs { root?: string; images: string[]; force: boolean }

export const rmiCommand: CommandModule<object, RmiArgs> = {
  command: 'rmi <images..>',
  describe: 'Remove one or more images',
  builder: (yargs) => yargs.options({
    force: { alias: 'f', type: 'boolean', default: false, describe: 'Untag an image even if a container uses it, or several repositories name it' },
  }).positional('images', { type: 'string', array: true, describe: 'Image names or ids' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { removeImage } = await import('../../store/images.js');
    const { familiarString, parseReference } = await import('../../image/reference.js');
    const { sys, paths } = runtimeFor(argv);
    for (const image of argv.images.map(String)) {
      const removed = await removeImage(sys, paths, image, { force: argv.force });
      for (const name of removed.untagged) process.stdout.write(`Untagged: ${familiarString(parseReference(name))}\n`);
      for (const id of removed.deleted) process.stdout.write(`Deleted: ${id}\n`);
    }
  },
};
