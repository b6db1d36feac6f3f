// tsrun load -i FILE [--name REPO]: import images from a docker-archive or an OCI layout.
import type { CommandModule } from 'yargs';

interface LoadArgs { root?: string; input: string; name?: string }

export const loadCommand: CommandModule<object, LoadArgs> = {
  command: 'load',
  describe: 'Load images from a docker-archive tar or an OCI image layout (directory or tar)',
  builder: (yargs) => yargs.options({
    input: { alias: 'i', type: 'string', demandOption: true, describe: 'The tar archive or OCI layout directory to read' },
    name: { type: 'string', describe: 'Repository for an OCI layout whose images are tagged only ("latest")' },
  }),
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { loadImages } = await import('../../store/load.js');
    const { familiarString, parseReference } = await import('../../image/reference.js');
    const { sys, paths } = runtimeFor(argv);
    const images = await loadImages(sys, paths, argv.input, { name: argv.name });
    for (const image of images) {
      if (image.repoTags.length === 0) process.stdout.write(`Loaded image ID: ${image.id}\n`);
      for (const tag of image.repoTags) process.stdout.write(`Loaded image: ${familiarString(parseReference(tag))}\n`);
    }
  },
};
