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
    const { loadImages, loadedLines } = await import('../../store/load.js');
    const { sys, paths } = runtimeFor(argv);
    const images = await loadImages(sys, paths, argv.input, { name: argv.name });
    for (const line of loadedLines(images)) process.stdout.write(`${line}\n`);
  },
};
