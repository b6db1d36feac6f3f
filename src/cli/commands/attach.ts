// tsrun attach CONTAINER: a detached container's output (and input, with -i) until it exits.
import type { CommandModule } from 'yargs';

export const attachCommand: CommandModule<object, { root?: string; container: string; 'no-stdin': boolean }> = {
  command: 'attach <container>',
  describe: 'Attach to a detached container\'s output (and input, if it was run with -i) until it exits',
  builder: (yargs) => yargs
    .option('no-stdin', { type: 'boolean', default: false, describe: 'Do not attach STDIN' })
    .positional('container', { type: 'string', describe: 'Container name or id' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { getContainer } = await import('../../store/containers.js');
    const { attach } = await import('../../containers/attach.js');
    const runtime = runtimeFor(argv);
    process.exitCode = await attach(runtime, getContainer(runtime.paths, argv.container), { stdin: !argv['no-stdin'] });
  },
};
