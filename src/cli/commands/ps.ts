// tsrun ps [-a] [-q] [--no-trunc] [--filter KEY=VALUE]… [--format TEMPLATE]: the containers, as docker lists them.
import type { CommandModule } from 'yargs';
import type { ContainerRecord } from '../../container.js';

export interface PsArgs { root?: string; all: boolean; quiet: boolean; 'no-trunc': boolean; filter: string[]; format?: string }

/** The columns, and the names `--format` knows them by ({{.ID}}, {{.Names}}, …), as docker's. */
const COLUMNS = [
  { header: 'CONTAINER ID', field: 'ID' },
  { header: 'IMAGE', field: 'Image' },
  { header: 'COMMAND', field: 'Command' },
  { header: 'CREATED', field: 'RunningFor' },
  { header: 'STATUS', field: 'Status' },
  { header: 'PORTS', field: 'Ports' },
  { header: 'NAMES', field: 'Names' },
] as const;

const FILTER_KEYS = ['status', 'name', 'id', 'exited'];

export const psCommand: CommandModule<object, PsArgs> = {
  command: 'ps',
  describe: 'List containers',
  builder: (yargs) => yargs.options({
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Show all containers (default shows just running)' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only display container IDs' },
    'no-trunc': { type: 'boolean', default: false, describe: 'Don\'t truncate output' },
    filter: { alias: 'f', type: 'string', array: true, default: [], describe: 'Filter: status=running|paused|exited|created, name=..., id=..., exited=CODE' },
    format: { type: 'string', describe: 'Go template: {{.ID}} {{.Image}} {{.Command}} {{.RunningFor}} {{.Status}} {{.State}} {{.Ports}} {{.Names}}; "table ..." adds headers' },
  }),
  handler: async (argv) => {
    const { fail } = await import('../../errors.js');
    const { runtimeFor } = await import('../runtime.js');
    const { reconcileAll } = await import('../../containers/reconcile.js');
    const { isUp } = await import('../../container.js');
    const { containerStatus } = await import('../../docker/format.js');
    const { findLease } = await import('../../net/ipam.js');
    const { formatMapping } = await import('../../net/ports.js');
    const runtime = runtimeFor(argv);

    // Filters of one key are alternatives; filters of different keys must all hold (docker's rule).
    const filters = new Map<string, string[]>();
    for (const filter of argv.filter) {
      const eq = filter.indexOf('=');
      const key = filter.slice(0, eq);
      if (eq < 1 || !FILTER_KEYS.includes(key)) throw fail(`invalid filter "${filter}"`, `use ${FILTER_KEYS.map((k) => `${k}=…`).join(', ')}`);
      filters.set(key, [...(filters.get(key) ?? []), filter.slice(eq + 1)]);
    }
    const matches = (c: ContainerRecord) => [...filters].every(([key, values]) => values.some((value) => {
      if (key === 'status') return c.state.status === value;
      if (key === 'name') return c.name.includes(value);
      if (key === 'id') return c.id.startsWith(value);
      return c.state.status === 'exited' && String(c.state.exitCode) === value;
    }));
    // A status filter asks about stopped containers too, as -a does.
    const all = argv.all || filters.has('status') || filters.has('exited');
    const containers = (await reconcileAll(runtime)).filter((c) => (all || isUp(c.state)) && matches(c));

    const now = new Date();
    // A running container's published ports are in its lease on the bridge, as the network stage recorded them.
    const ports = (c: ContainerRecord) => (isUp(c.state) ? (findLease(c.id)?.lease.ports ?? []).map(formatMapping).join(', ') : '');
    await printContainers(argv, containers.map((c) => ({
      id: c.id, image: c.image.name, argv: c.config.argv, created: new Date(c.created),
      status: containerStatus(c.state, now), state: c.state.status, ports: ports(c), name: c.name,
    })));
  },
};

/** A row of `ps`, whether the store or a daemon (src/cli/client/) told it. */
export interface ContainerListing {
  id: string;
  image: string;
  argv: string[];
  created: Date;
  /** As docker shows it: "Up 3 seconds", "Exited (0) 2 minutes ago". */
  status: string;
  state: string;
  /** "0.0.0.0:8080->80/tcp, …" */
  ports: string;
  name: string;
}

/** The containers as `docker ps` prints them: ids alone (-q), a table, or each through --format. */
export async function printContainers(argv: Pick<PsArgs, 'quiet' | 'no-trunc' | 'format'>, containers: ContainerListing[]): Promise<void> {
  const { formatTable, timeAgo } = await import('../../docker/format.js');
  const { formatTemplate } = await import('../go-template.js');
  const id = (full: string) => (argv['no-trunc'] ? full : full.slice(0, 12));
  if (argv.quiet) {
    for (const c of containers) process.stdout.write(id(c.id) + '\n');
    return;
  }
  const now = new Date();
  const command = (words: string[]) => {
    const text = words.join(' ');
    return JSON.stringify(argv['no-trunc'] || text.length <= 20 ? text : text.slice(0, 19) + '…');
  };
  const rows = containers.map((c) => ({
    ID: id(c.id), Image: c.image, Command: command(c.argv), RunningFor: timeAgo(c.created, now),
    Status: c.status, State: c.state, Ports: c.ports, Names: c.name,
  }));

  if (argv.format === undefined) {
    process.stdout.write(formatTable(COLUMNS.map((column) => column.header), rows.map((row) => COLUMNS.map((column) => row[column.field]))));
    return;
  }
  const table = argv.format.startsWith('table ');
  const template = (table ? argv.format.slice('table '.length) : argv.format).replace(/\\t/g, '\t');
  if (table) {
    // The header row: each {{.Field}} replaced by its column's title.
    const headers = Object.fromEntries([...COLUMNS.map((column) => [column.field, column.header]), ['State', 'STATE']]);
    process.stdout.write(formatTemplate(template, headers) + '\n');
  }
  for (const row of rows) process.stdout.write(formatTemplate(template, row) + '\n');
}
