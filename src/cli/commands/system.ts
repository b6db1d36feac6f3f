// tsrun system prune [-f]: remove what no container needs, as `docker system prune` does.
import type { CommandModule } from 'yargs';

interface SystemArgs { root?: string; action: string; force: boolean }

const WARNING = `WARNING! This will remove:
  - all stopped containers
  - all networks not used by at least one container
  - all dangling images
  - the default bridge tsrun0 and tsrun's firewall rules, if no container runs
`;

export const systemCommand: CommandModule<object, SystemArgs> = {
  command: 'system <action>',
  describe: 'Manage tsrun: prune removes stopped containers, unused networks, dangling images and, if idle, the default bridge',
  builder: (yargs) => yargs
    .positional('action', { choices: ['prune'] as const, describe: 'What to do' })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { networkHost } = await import('../../net/bridges.js');
    const { systemPrune } = await import('../../prune.js');
    const runtime = runtimeFor(argv);
    if (!argv.force && !(await confirmed())) return;
    const report = await systemPrune(runtime, networkHost(runtime.paths));
    const section = (title: string, lines: string[]) => {
      if (lines.length > 0) process.stdout.write(`${title}:\n${lines.join('\n')}\n\n`);
    };
    section('Deleted Containers', report.containers);
    section('Deleted Networks', report.networks);
    section('Deleted Images', report.images.flatMap((image) => [...image.untagged.map((name) => `untagged: ${name}`), ...image.deleted.map((id) => `deleted: ${id}`)]));
    if (report.bridgeRemoved) process.stdout.write('Removed the default bridge tsrun0 and tsrun\'s firewall rules\n');
  },
};

/** Docker's question, answered on stdin; anything but y or yes (or no answer at all) is no. */
async function confirmed(): Promise<boolean> {
  process.stderr.write(`${WARNING}\nAre you sure you want to continue? [y/N] `);
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(''));
  });
  lines.close();
  return /^y(es)?$/i.test(answer.trim());
}
