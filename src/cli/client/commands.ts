// tsrun's commands with a daemon named: the same words, parsed by the same option tables (plain-run.ts for the
// fast paths, yargs for the rest), and printed by the same formatters (commands/ps.ts, images.ts); only what
// happens between is a request to the daemon instead of the code that would run here. A command that has no
// such request yet says so, and how to run it daemonless.
import type { CommandModule } from 'yargs';
import { fail } from '../../errors.js';
import { parsePlainExec, parsePlainPull, parsePlainRun } from '../plain-run.js';
import { parseWithYargs } from '../parse-with-yargs.js';
import type { ExecArgs } from '../commands/exec.js';
import type { PullArgs } from '../commands/pull.js';
import type { PsArgs } from '../commands/ps.js';
import type { ImagesArgs } from '../commands/images.js';
import type { ContainersArgs } from '../each-container.js';
import type { RunArgs } from '../run-options.js';
import { DaemonClient } from './api.js';
import { DAEMONLESS_HINT, parseDaemonAddress } from './host.js';
import { printOutput, sendInput } from './frames.js';
import { createViaDaemon, pullViaDaemon, runViaDaemon, startAttached, terminal } from './run.js';

type Handler = (daemon: DaemonClient, argv: any) => Promise<void>;

/** A container's path, its name or id as one part of it. */
const containerPath = (name: string) => `/containers/${encodeURIComponent(name)}`;

// #region via-daemon
/** The commands that go through a daemon, each by the requests `docker` sends for it. */
const HANDLERS: Record<string, Handler> = {
  run: runViaDaemon,
  pull: async (daemon, argv: PullArgs) => {
    process.stdout.write(await pullViaDaemon(daemon, argv.reference, { quiet: argv.quiet, platform: argv.platform, to: process.stdout }) + '\n');
  },
  create: async (daemon, argv: RunArgs) => void process.stdout.write(`${await createViaDaemon(daemon, argv)}\n`),
  start, ps, images, logs, inspect, exec, rm,
  stop: (daemon, argv: ContainersArgs) => eachContainer(argv, (name) => daemon.json('POST', `${containerPath(name)}/stop`, { query: { t: argv.time, signal: argv.signal } })),
  kill: (daemon, argv: ContainersArgs) => eachContainer(argv, (name) => daemon.json('POST', `${containerPath(name)}/kill`, { query: { signal: argv.signal } })),
  restart: (daemon, argv: ContainersArgs) => eachContainer(argv, (name) => daemon.json('POST', `${containerPath(name)}/restart`, { query: { t: argv.time } })),
  pause: (daemon, argv: ContainersArgs) => eachContainer(argv, (name) => daemon.json('POST', `${containerPath(name)}/pause`)),
  unpause: (daemon, argv: ContainersArgs) => eachContainer(argv, (name) => daemon.json('POST', `${containerPath(name)}/unpause`)),
  rename: (daemon, argv: { container: string; name: string }) => daemon.json('POST', `${containerPath(argv.container)}/rename`, { query: { name: argv.name } }),
  wait: async (daemon, argv: ContainersArgs) => {
    for (const name of argv.containers.map(String)) {
      const { StatusCode } = await daemon.json<{ StatusCode: number }>('POST', `${containerPath(name)}/wait`, { query: { condition: 'not-running' } });
      process.stdout.write(`${StatusCode}\n`);
    }
  },
};

export async function viaDaemon(host: string, args: string[]): Promise<void> {
  const address = parseDaemonAddress(host);
  let client: Promise<DaemonClient> | undefined;
  const handle = (name: string) => async (argv: any) => {
    const handler = HANDLERS[name];
    if (!handler) throw fail(`tsrun ${name} runs without a daemon only, and a daemon is named (${address.text})`, DAEMONLESS_HINT);
    if ((argv as { root?: string }).root !== undefined) throw fail(`--root names a store for tsrun to use itself; the daemon at ${address.text} has its own`, `drop --root, or ${DAEMONLESS_HINT}`);
    await handler(await (client ??= DaemonClient.connect(address)), argv); // the ping, once, when a request is to be sent
  };
  const plainRun = parsePlainRun(args);
  const plainPull = plainRun ? undefined : parsePlainPull(args);
  const plainExec = plainRun || plainPull ? undefined : parsePlainExec(args);
  if (plainRun) return handle('run')(plainRun);
  if (plainPull) return handle('pull')(plainPull);
  if (plainExec) return handle('exec')(plainExec);
  const { commands } = await import('../commands/index.js');
  const nameOf = (command: CommandModule<any, any>) => String(command.command).split(' ')[0]!;
  await parseWithYargs(args, commands.map((command) => ({ ...command, handler: handle(nameOf(command)) })));
}
// #endregion

/** POST /containers/NAME/start, as `tsrun start`; with -a, attached as `tsrun run` is (the container's own -t and
 *  --rm read from its inspect document), exiting with its code. */
async function start(daemon: DaemonClient, argv: { container: string; attach: boolean; interactive: boolean }): Promise<void> {
  const running = () => fail(`container ${argv.container} is already running`, 'wait for it to exit, or `tsrun rm -f` it');
  if (!argv.attach) {
    const res = await daemon.call('POST', `${containerPath(argv.container)}/start`, { starting: true });
    res.resume();
    if (res.statusCode === 304) throw running(); // the daemon's "started already"
    process.stdout.write(`${argv.container}\n`);
    return;
  }
  type Document = { Id: string; State: { Running: boolean }; Config: { Tty: boolean }; HostConfig: { AutoRemove: boolean } };
  const container = await daemon.json<Document>('GET', `${containerPath(argv.container)}/json`);
  if (container.State.Running) throw running();
  process.exitCode = await startAttached(daemon, container.Id, { interactive: argv.interactive, tty: container.Config.Tty, autoRemove: container.HostConfig.AutoRemove });
}

/** GET /containers/json, each container's command from its inspect document (Path, Args), as `tsrun ps` shows
 *  it: the list's Command is dockerd's text, quoted otherwise. */
async function ps(daemon: DaemonClient, argv: PsArgs): Promise<void> {
  const filters: Record<string, Record<string, boolean>> = {};
  for (const filter of argv.filter) {
    const eq = filter.indexOf('=');
    if (eq < 1) throw fail(`invalid filter "${filter}"`, 'use KEY=VALUE, as status=exited');
    (filters[filter.slice(0, eq)] ??= {})[filter.slice(eq + 1)] = true;
  }
  type Summary = { Id: string; Names: string[]; Image: string; Created: number; Status: string; State: string; Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] };
  const listed = await daemon.json<Summary[]>('GET', '/containers/json', {
    query: { all: argv.all, filters: argv.filter.length > 0 ? JSON.stringify(filters) : undefined },
  });
  const { printContainers } = await import('../commands/ps.js');
  const { formatMapping } = await import('../../net/ports.js');
  const argvOf = async (id: string) => {
    if (argv.quiet) return [];
    const document = await daemon.json<{ Path: string; Args: string[] }>('GET', `/containers/${id}/json`);
    return [document.Path, ...document.Args];
  };
  const containers = await Promise.all(listed.map(async (c) => ({
    id: c.Id, image: c.Image, argv: await argvOf(c.Id), created: new Date(c.Created * 1000), status: c.Status, state: c.State,
    ports: c.Ports.filter((p) => p.PublicPort !== undefined)
      .map((p) => formatMapping({ hostIp: p.IP ?? '', hostPort: p.PublicPort!, containerPort: p.PrivatePort, protocol: p.Type as 'tcp' | 'udp' })).join(', '),
    name: c.Names[0]?.replace(/^\//, '') ?? '',
  })));
  await printContainers(argv, containers);
}

async function images(daemon: DaemonClient, argv: ImagesArgs): Promise<void> {
  type Summary = { Id: string; RepoTags: string[] | null; RepoDigests: string[] | null; Created: number; Size: number };
  const listed = await daemon.json<Summary[]>('GET', '/images/json', { query: { all: argv.all } });
  const { printImages } = await import('../commands/images.js');
  await printImages(argv, listed.map((image) => ({
    id: image.Id, repoTags: image.RepoTags ?? [], repoDigests: image.RepoDigests ?? [],
    created: new Date(image.Created * 1000).toISOString(), size: image.Size,
  })));
}

/** Docker's order: GET /containers/NAME/json (its id, and whether it has a terminal), then its logs. */
async function logs(daemon: DaemonClient, argv: { container: string; follow: boolean; tail?: string; timestamps: boolean; since?: string }): Promise<void> {
  const { sinceTime } = await import('../commands/logs.js');
  const container = await daemon.json<{ Id: string; Config: { Tty: boolean } }>('GET', `${containerPath(argv.container)}/json`);
  if (argv.tail !== undefined && argv.tail !== 'all' && !/^\d+$/.test(argv.tail)) throw fail(`invalid --tail "${argv.tail}"`, 'give a number of lines, or all');
  const res = await daemon.call('GET', `/containers/${container.Id}/logs`, {
    query: { stdout: true, stderr: true, follow: argv.follow, tail: argv.tail ?? 'all', timestamps: argv.timestamps, since: argv.since && String(Date.parse(sinceTime(argv.since, fail)) / 1000) },
  });
  await printOutput(res, container.Config.Tty);
}

/** A container first, then an image, as `tsrun inspect` looks: the daemon's 404 for one sends it to the other. */
async function inspect(daemon: DaemonClient, argv: { objects: string[]; format?: string }): Promise<void> {
  const documents: object[] = [];
  for (const name of argv.objects.map(String)) {
    documents.push(await daemon.json<object>('GET', `${containerPath(name)}/json`)
      .catch(ifNotFound(() => daemon.json<object>('GET', `/images/${name}/json`)))
      .catch(ifNotFound(() => {
        throw fail(`no such object: ${name}`, 'give a container name or id (`tsrun ps -a`) or an image (`tsrun images`)');
      })));
  }
  if (argv.format === undefined) {
    process.stdout.write(JSON.stringify(documents, null, 4) + '\n');
    return;
  }
  const { formatTemplate } = await import('../go-template.js');
  for (const document of documents) process.stdout.write(formatTemplate(argv.format, document) + '\n');
}

/** `docker exec`'s requests: create the exec, start it on a hijacked connection, read its exit code once it ends. */
async function exec(daemon: DaemonClient, argv: ExecArgs): Promise<void> {
  const command = argv._.slice(1).map(String);
  if (command.length === 0) throw fail('tsrun exec needs a command', 'e.g. tsrun exec CONTAINER sh');
  if (argv.tty && argv.interactive && !process.stdin.isTTY) throw fail('the input device is not a TTY', 'drop -t, or run tsrun from a terminal');
  const { Id } = await daemon.json<{ Id: string }>('POST', `${containerPath(argv.container)}/exec`, {
    body: { Cmd: command, Env: argv.env, WorkingDir: argv.workdir ?? '', User: argv.user ?? '', Tty: argv.tty, AttachStdin: argv.interactive, AttachStdout: true, AttachStderr: true },
  });
  const stream = await daemon.hijack(`/exec/${Id}/start`, { body: { Detach: false, Tty: argv.tty } });
  const restoreTerminal = argv.tty ? await terminal(daemon, `/exec/${Id}/resize`) : () => {};
  sendInput(stream, argv.interactive);
  try {
    await printOutput(stream, argv.tty);
  } finally {
    restoreTerminal();
    if (argv.interactive) process.stdin.destroy();
  }
  const { ExitCode } = await daemon.json<{ ExitCode: number }>('GET', `/exec/${Id}/json`);
  process.exitCode = ExitCode;
}

/** DELETE each container, as `tsrun rm`: its name printed when it is gone, an error said and the next one tried. */
async function rm(daemon: DaemonClient, argv: { containers: string[]; force: boolean; volumes: boolean }): Promise<void> {
  const { formatError } = await import('../../errors.js');
  for (const name of argv.containers.map(String)) {
    try {
      await daemon.json('DELETE', containerPath(name), { query: { force: argv.force, v: argv.volumes } });
      process.stdout.write(`${name}\n`);
    } catch (error) {
      process.stderr.write(formatError(error) + '\n');
      process.exitCode = 1;
    }
  }
}

/** As tsrun's own stop and kill: one container after the other, each name printed once it is done. */
async function eachContainer(argv: ContainersArgs, act: (name: string) => Promise<unknown>): Promise<void> {
  for (const name of argv.containers.map(String)) {
    await act(name);
    process.stdout.write(`${name}\n`);
  }
}

/** A 404 answered by `next()`; any other error stays what it was. */
function ifNotFound<T>(next: () => Promise<T> | T): (error: unknown) => Promise<T> {
  return async (error) => {
    if ((error as { code?: string }).code !== 'NOT_FOUND') throw error;
    return next();
  };
}
