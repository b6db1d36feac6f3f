// tsrun commit [-c CHANGE]… [-m MSG] [-a AUTHOR] CONTAINER [REPO[:TAG]]: a new image from a container's changes.
import type { CommandModule } from 'yargs';

interface CommitArgs { root?: string; container: string; reference?: string; change: string[]; message?: string; author?: string; pause: boolean }

export const commitCommand: CommandModule<object, CommitArgs> = {
  command: 'commit <container> [reference]',
  describe: 'Create a new image from a container\'s changes',
  builder: (yargs) => yargs
    .options({
      change: { alias: 'c', type: 'string', array: true, default: [], describe: 'Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)' },
      message: { alias: 'm', type: 'string', describe: 'Commit message' },
      author: { alias: 'a', type: 'string', describe: 'Author (e.g. "Ada <ada@example.com>")' },
      pause: { alias: 'p', type: 'boolean', default: true, describe: 'Pause a running container while its changes are read (--pause=false: don\'t)' },
    })
    .positional('container', { type: 'string', describe: 'Container name or id' })
    .positional('reference', { type: 'string', describe: 'REPO[:TAG] for the new image' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { getContainer } = await import('../../store/containers.js');
    const { commitContainer } = await import('../../containers/commit.js');
    const runtime = runtimeFor(argv);
    const container = getContainer(runtime.paths, argv.container);
    const image = await commitContainer(runtime, container, { reference: argv.reference, changes: argv.change, message: argv.message, author: argv.author, pause: argv.pause });
    process.stdout.write(`${image.id}\n`);
  },
};
