// tsrun volume create|ls|inspect|rm|prune: named volumes, as `docker volume` manages them.
import type { CommandModule } from 'yargs';

interface VolumeArgs { root?: string; action: string; names: string[]; quiet: boolean }

export const volumeCommand: CommandModule<object, VolumeArgs> = {
  command: 'volume <action> [names..]',
  describe: 'Manage volumes: create [NAME], ls, inspect NAME..., rm NAME..., prune',
  builder: (yargs) => yargs
    .positional('action', { choices: ['create', 'ls', 'inspect', 'rm', 'prune'] as const, describe: 'What to do' })
    .positional('names', { type: 'string', array: true, default: [], describe: 'Volume names' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'ls: only the names' }) as never,
  handler: async (argv) => {
    const { fail } = await import('../../errors.js');
    const { runtimeFor } = await import('../runtime.js');
    const volumes = await import('../../volumes/store.js');
    const { sys, paths } = runtimeFor(argv);
    const write = (line: string) => void process.stdout.write(line + '\n');
    const names = argv.names.map(String);
    if ((argv.action === 'inspect' || argv.action === 'rm') && names.length === 0) throw fail(`tsrun volume ${argv.action} needs a volume`, 'see `tsrun volume ls`');

    if (argv.action === 'create') {
      if (names.length > 1) throw fail('tsrun volume create takes one name', 'create volumes one at a time');
      write((await volumes.ensureVolume(sys, paths, names[0] ?? '')).volume.Name);
    } else if (argv.action === 'ls') {
      const { formatTable } = await import('../../docker/format.js');
      const all = volumes.listVolumes(paths);
      if (argv.quiet) for (const volume of all) write(volume.Name);
      else process.stdout.write(formatTable(['DRIVER', 'VOLUME NAME'], all.map((volume) => ['local', volume.Name])));
    } else if (argv.action === 'inspect') {
      write(JSON.stringify(names.map((name) => {
        const volume = volumes.findVolume(paths, name);
        if (!volume) throw fail(`no such volume: ${name}`, 'see `tsrun volume ls`');
        return volumes.volumeDocument(paths, volume);
      }), null, 4));
    } else if (argv.action === 'rm') {
      for (const name of names) {
        await volumes.removeVolume(sys, paths, name);
        write(name);
      }
    } else {
      const removed = await volumes.pruneVolumes(sys, paths);
      if (removed.length > 0) write(`Deleted Volumes:\n${removed.join('\n')}\n`);
      write(`Total reclaimed: ${removed.length} volume${removed.length === 1 ? '' : 's'}`);
    }
  },
};
