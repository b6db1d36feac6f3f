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
    const { fail } = await import('../../errors.js');
    const { parseReference } = await import('../../image/reference.js');
    const target = parseReference(argv.target);
    if (target.digest !== undefined) throw fail(`refusing to create a tag with a digest reference: ${argv.target}`, 'give the new name as NAME[:TAG]');
    const { runtimeFor } = await import('../runtime.js');
    const { lockPath } = await import('../../store/paths.js');
    const { withLock } = await import('../../store/lock.js');
    const { findImage, saveImageLocked } = await import('../../store/images.js');
    const { sys, paths } = runtimeFor(argv);
    // Looked up under the lock: the image cannot be removed between finding and tagging it.
    await withLock(sys, lockPath(paths), () => {
      const image = findImage(paths, argv.source);
      if (!image) throw fail(`no such image: ${argv.source}`, 'see `tsrun images` for the images there are');
      saveImageLocked(paths, { ...image, repoTags: [target.canonical], repoDigests: [] });
    });
  },
};
