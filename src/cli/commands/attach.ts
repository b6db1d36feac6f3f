// tsrun attach CONTAINER: a detached container's output (and input, with -i) until it exits.
import type { CommandModule } from 'yargs';

export const attachCommand: CommandModule<object, { root?: string; container: string; 'no-stdin': boolean; 'detach-keys'?: string }> = {
  command: 'attach <container>',
  describe: 'Attach to a detached container\'s output (and input, if it was run with -i) until it exits',
  builder: (yargs) => yargs
    .option('no-stdin', { type: 'boolean', default: false, describe: 'Do not attach STDIN' })
    .option('detach-keys', { type: 'string', describe: 'The keys that detach from a container with a terminal, leaving it running (default ctrl-p,ctrl-q; "" for none)' })
    .positional('container', { type: 'string', describe: 'Container name or id' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { getContainer } = await import('../../store/containers.js');
    const { attach } = await import('../../containers/attach.js');
    const runtime = runtimeFor(argv);
    process.exitCode = await attach(runtime, getContainer(runtime.paths, argv.container), { stdin: !argv['no-stdin'], detachKeys: argv['detach-keys'] });
  },
};
