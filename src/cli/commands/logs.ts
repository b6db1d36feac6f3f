// tsrun logs CONTAINER: what a detached container wrote, as its json-file log holds it.
import type { CommandModule } from 'yargs';

interface LogsArgs { root?: string; container: string; follow: boolean; tail?: string; timestamps: boolean; since?: string }

export const logsCommand: CommandModule<object, LogsArgs> = {
  command: 'logs <container>',
  describe: 'Fetch the logs of a container',
  builder: (yargs) => yargs.options({
    follow: { alias: 'f', type: 'boolean', default: false, describe: 'Follow log output until the container exits' },
    tail: { alias: 'n', type: 'string', describe: 'Number of lines to show from the end of the logs ("all" for every line)' },
    timestamps: { alias: 't', type: 'boolean', default: false, describe: 'Show timestamps' },
    since: { type: 'string', describe: 'Show logs since a time (2026-11-23T12:00:00Z) or a duration ago (10m, 2h)' },
  }).positional('container', { type: 'string', describe: 'Container name or id' }) as never,
  handler: async (argv) => {
    const { setTimeout: sleep } = await import('node:timers/promises');
    const { fail } = await import('../../errors.js');
    const { storePaths } = await import('../../store/paths.js');
    const { getContainer } = await import('../../store/containers.js');
    const { reconcile } = await import('../../containers/reconcile.js');
    const { realSyscalls } = await import('../../kernel/native.js');
    const { formatEntry, readLogs } = await import('../../containers/logs.js');
    const { isUp } = await import('../../container.js');
    const paths = storePaths(argv.root);
    const container = getContainer(paths, argv.container);
    const since = argv.since === undefined ? undefined : sinceTime(argv.since, fail);
    const tail = argv.tail === undefined || argv.tail === 'all' ? Infinity : Number(argv.tail);
    if (Number.isNaN(tail) || tail < 0) throw fail(`invalid --tail "${argv.tail}"`, 'give a number of lines, or all');
    const print = (entries: ReturnType<typeof readLogs>) => {
      for (const entry of entries) (entry.stream === 'stderr' ? process.stderr : process.stdout).write(formatEntry(entry, argv.timestamps));
    };
    const first = readLogs(paths, container, since);
    print(tail === Infinity ? first : first.slice(Math.max(0, first.length - tail)));
    if (!argv.follow) return;
    // Follow until the container has exited: new entries are those past the count already printed.
    let shown = first.length;
    for (;;) {
      const now = await reconcile({ sys: realSyscalls, paths }, getContainer(paths, container.id));
      const running = now !== null && isUp(now.state);
      const entries = readLogs(paths, container, since);
      print(entries.slice(shown));
      shown = entries.length;
      if (!running) return;
      await sleep(100);
    }
  },
};

/** "2026-11-23T12:00:00Z" as it is; "10m", "2h", "30s" as that long ago. */
export function sinceTime(text: string, fail: (message: string, hint?: string) => Error): string {
  const ago = /^(\d+)(s|m|h)$/.exec(text);
  if (ago) return new Date(Date.now() - Number(ago[1]) * { s: 1e3, m: 60e3, h: 3600e3 }[ago[2] as 's' | 'm' | 'h']).toISOString();
  if (Number.isNaN(Date.parse(text))) throw fail(`invalid --since "${text}"`, 'give a time like 2026-11-23T12:00:00Z or a duration like 10m');
  return new Date(text).toISOString();
}
