// tsrun save [-o FILE] IMAGE…: images as a docker-archive tarball (to stdout without -o).
import type { CommandModule } from 'yargs';

interface SaveArgs { root?: string; images: string[]; output?: string }

export const saveCommand: CommandModule<object, SaveArgs> = {
  command: 'save <images..>',
  describe: 'Save images to a tar archive (docker-archive, as docker save writes it)',
  builder: (yargs) => yargs
    .option('output', { alias: 'o', type: 'string', describe: 'Write to a file instead of standard output' })
    .positional('images', { type: 'string', array: true, describe: 'Image names or ids' }) as never,
  handler: async (argv) => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { fail } = await import('../../errors.js');
    const { storePaths } = await import('../../store/paths.js');
    const { saveImages } = await import('../../store/save.js');
    const paths = storePaths(argv.root);
    const names = argv.images.map(String);
    if (argv.output === undefined) {
      if (process.stdout.isTTY) throw fail('cowardly refusing to save to a terminal', 'use the -o flag or redirect');
      await saveImages(paths, names, process.stdout);
      return;
    }
    // Written next to the file and renamed into place: a failed save leaves no half archive.
    const partial = path.join(path.dirname(path.resolve(argv.output)), `.${path.basename(argv.output)}.partial-${process.pid}`);
    // Opened now, not by the stream a moment later: a save that fails at once must find the file there to remove.
    const file = fs.createWriteStream('', { fd: fs.openSync(partial, 'w', 0o644) });
    try {
      await saveImages(paths, names, file);
      fs.renameSync(partial, argv.output);
    } finally {
      fs.rmSync(partial, { force: true });
    }
  },
};
