// tsrun make-demo-image DIR [--tag T]: build a small busybox image, without docker.
import type { CommandModule } from 'yargs';

interface MakeDemoImageArgs { root?: string; dir: string; tag: string }

export const makeDemoImageCommand: CommandModule<object, MakeDemoImageArgs> = {
  command: 'make-demo-image <dir>',
  describe: 'Write a tiny busybox image (tsrun-demo) as an OCI layout, for `tsrun load -i DIR`',
  builder: (yargs) => yargs.options({
    tag: { type: 'string', default: 'latest', describe: 'The tag to give the image' },
  }).positional('dir', { type: 'string', describe: 'A new directory for the OCI image layout' }) as never,
  handler: async (argv) => {
    const { buildDemoImage, DEMO_REPOSITORY } = await import('../../image/demo.js');
    await buildDemoImage(argv.dir, { tag: argv.tag });
    process.stdout.write(`Wrote ${DEMO_REPOSITORY}:${argv.tag} to ${argv.dir} — load it with: tsrun load -i ${argv.dir}\n`);
  },
};
