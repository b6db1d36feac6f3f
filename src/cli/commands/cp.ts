// tsrun cp [-a] [-L] SRC DEST: files between a container (running or stopped) and the host, as docker cp copies them.
import type { CommandModule } from 'yargs';

interface CpArgs { root?: string; source: string; destination: string; archive: boolean; followLink: boolean }

export const cpCommand: CommandModule<object, CpArgs> = {
  command: 'cp <source> <destination>',
  describe: 'Copy files between a container and the host: CONTAINER:PATH LOCALPATH|-, or LOCALPATH|- CONTAINER:PATH',
  builder: (yargs) => yargs.options({
    archive: { alias: 'a', type: 'boolean', default: false, describe: 'Archive mode (copy all uid/gid information)' },
    'follow-link': { alias: 'L', type: 'boolean', default: false, describe: 'Always follow a symbolic link in SRC_PATH' },
  })
    .positional('source', { type: 'string', describe: 'CONTAINER:PATH, a local path, or - for a tar on stdin' })
    .positional('destination', { type: 'string', describe: 'CONTAINER:PATH, a local path, or - for a tar on stdout' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { copy } = await import('../../containers/cp.js');
    // yargs reads a lone "-" as an empty string.
    const side = (value: string) => (value === '' ? '-' : value);
    const request = { source: side(argv.source), destination: side(argv.destination), archive: argv.archive, followLink: argv.followLink };
    await copy(runtimeFor(argv), request, { stdin: process.stdin, stdout: process.stdout });
  },
};
