// `tsrun run` through a daemon, by the requests `docker run` sends (the captures' 08-, 12-, 15-, 18-):
//
//   POST /containers/create          the flags as Docker's create body; a 404 (no such image) pulls it and asks again
//   POST /containers/ID/attach       hijacked, before the start, so that no output is lost
//   POST /containers/ID/wait         its headers come at once; its body, the exit code, when the container ends
//   POST /containers/ID/start        a command that cannot be started fails here: 127 or 126 told by its words
//
// then the output, demultiplexed, until the daemon closes the attach, and the exit code the wait gives.
// The flags are checked here by tsrun's own parsers first, so a mistake reads as it does without a daemon.
import { fail } from '../../errors.js';
import { labels, environment } from '../run-request.js';
import type { RunArgs } from '../run-options.js';
import { parsePublish } from '../../net/ports.js';
import { parseTmpfsFlag, parseVolumeFlag } from '../../volumes/spec.js';
import { logMaxSize, resourceLimits, restartPolicy } from '../../docker/settings.js';
import { parseReference } from '../../image/reference.js';
import { pullEventLines } from '../../registry/progress.js';
import { DaemonClient, readText } from './api.js';
import { printOutput, sendInput } from './frames.js';
import { DAEMONLESS_HINT } from './host.js';

/** Flags whose meaning the create body does not carry from here yet: refused when given, not dropped. */
const NOT_SENT_YET = ['mount', 'security-opt', 'device', 'ulimit'] as const;

// #region run-via-daemon
export async function runViaDaemon(daemon: DaemonClient, argv: RunArgs): Promise<void> {
  if (argv.explain !== undefined || argv.step) {
    throw fail('--explain and --step watch the stages in the process that runs them; through a daemon they cannot yet', DAEMONLESS_HINT);
  }
  if (!argv.detach && argv.interactive && argv.tty && !process.stdin.isTTY) throw fail('the input device is not a TTY', 'drop -t, or run tsrun from a terminal');
  const id = await createViaDaemon(daemon, argv);
  if (argv.detach) {
    await daemon.call('POST', `/containers/${id}/start`, { starting: true });
    process.stdout.write(`${id}\n`);
    return;
  }
  process.exitCode = await startAttached(daemon, id, { interactive: argv.interactive, tty: argv.tty, autoRemove: argv.rm });
}

/** Attach, wait, start, then the output until the daemon closes the attach: the container's exit code. */
export async function startAttached(daemon: DaemonClient, id: string, options: { interactive: boolean; tty: boolean; autoRemove: boolean }): Promise<number> {
  const stream = await daemon.hijack(`/containers/${id}/attach`, { query: { stream: true, stdout: true, stderr: true, stdin: options.interactive } });
  const wait = await waitFor(daemon, id, options.autoRemove ? 'removed' : 'next-exit');
  sendInput(stream, options.interactive);
  try {
    await daemon.call('POST', `/containers/${id}/start`, { starting: true });
  } catch (error) {
    stream.destroy();
    wait.cancel();
    throw error;
  }
  const forwarded = forwardSignals(daemon, id, options.tty);
  const restoreTerminal = options.tty ? await terminal(daemon, `/containers/${id}/resize`) : () => {};
  try {
    const [exitCode] = await Promise.all([wait.exited, printOutput(stream, options.tty)]);
    return exitCode;
  } finally {
    forwarded();
    restoreTerminal();
    if (options.interactive) process.stdin.destroy(); // what was not read is not the container's any more
  }
}
// #endregion

/** POST /containers/create?name=N, the image pulled first with --pull always; an image not there yet is a 404,
 *  then pulled (--pull missing) and asked for again. Returns the container's id. */
export async function createViaDaemon(daemon: DaemonClient, argv: RunArgs): Promise<string> {
  const body = createBody(argv);
  if (argv.pull === 'always') await pullViaDaemon(daemon, argv.image, { to: process.stderr });
  const ask = () => daemon.json<{ Id: string; Warnings?: string[] }>('POST', '/containers/create', { query: { name: argv.name }, body });
  let created;
  try {
    created = await ask();
  } catch (error) {
    if ((error as { code?: string }).code !== 'NOT_FOUND' || argv.pull !== 'missing' || !/no such image/i.test((error as Error).message)) throw error;
    process.stderr.write(pullEventLines({ type: 'missing', reference: argv.image })[0] + '\n');
    await pullViaDaemon(daemon, argv.image, { to: process.stderr });
    created = await ask();
  }
  for (const warning of created.Warnings ?? []) process.stderr.write(`WARNING: ${warning}\n`);
  return created.Id;
}

// #region create-body
/** The flags as the docker CLI sends them (the captures' 5.6), read by the same parsers `tsrun run` uses. */
export function createBody(argv: RunArgs): object {
  const given = NOT_SENT_YET.find((flag) => isGiven(argv[flag]));
  if (given) throw fail(`tsrun run --${given} does not go through a daemon yet`, DAEMONLESS_HINT);
  const command = argv._.slice(1).map(String);
  const ports = argv.publish.map(parsePublish);
  const volumes = argv.volume.map((flag) => ({ flag, mount: parseVolumeFlag(flag) }));
  const restart = restartPolicy(argv.restart);
  const limits = resourceLimits(argv);
  logMaxSize(argv['log-opt']); // checked here, sent as typed
  const attached = !argv.detach;
  return {
    Image: argv.image,
    Cmd: command.length > 0 ? command : null,
    Entrypoint: argv.entrypoint === undefined ? null : [argv.entrypoint],
    Env: environment(argv['env-file'], argv.env),
    WorkingDir: argv.workdir ?? '',
    User: argv.user ?? '',
    Hostname: argv.hostname ?? '',
    Labels: labels(argv.label),
    Tty: argv.tty,
    OpenStdin: argv.interactive,
    StdinOnce: argv.interactive && attached,
    AttachStdin: argv.interactive && attached,
    AttachStdout: attached,
    AttachStderr: attached,
    StopSignal: argv['stop-signal'] ?? '',
    ExposedPorts: Object.fromEntries(ports.map((p) => [`${p.containerPort}/${p.protocol}`, {}])),
    // `-v /data` names no source: an anonymous volume, which the CLI sends apart from the binds.
    Volumes: Object.fromEntries(volumes.filter(({ flag }) => !flag.includes(':')).map(({ mount }) => [mount.target, {}])),
    HostConfig: {
      AutoRemove: argv.rm,
      NetworkMode: argv.network,
      Binds: volumes.filter(({ flag }) => flag.includes(':')).map(({ flag }) => flag),
      PortBindings: portBindings(ports),
      PublishAllPorts: argv['publish-all'],
      Tmpfs: Object.fromEntries(argv.tmpfs.map((flag) => [parseTmpfsFlag(flag).target, flag.includes(':') ? flag.slice(flag.indexOf(':') + 1) : ''])),
      ReadonlyRootfs: argv['read-only'],
      RestartPolicy: { Name: restart.name, MaximumRetryCount: restart.maximumRetryCount },
      LogConfig: { Type: 'json-file', Config: Object.fromEntries(argv['log-opt'].map((option) => [option.slice(0, option.indexOf('=')), option.slice(option.indexOf('=') + 1)])) },
      // Docker's units: bytes, and billionths of a CPU; 0 for no limit.
      Memory: limits.memory ?? 0,
      MemorySwap: limits.memorySwap ?? 0,
      NanoCpus: Math.round((limits.cpus ?? 0) * 1e9),
      CpuShares: limits.cpuShares ?? 0,
      PidsLimit: limits.pidsLimit ?? 0,
      CpusetCpus: limits.cpusetCpus ?? '',
      Privileged: argv.privileged,
      CapAdd: argv['cap-add'],
      CapDrop: argv['cap-drop'],
    },
    NetworkingConfig: { EndpointsConfig: argv['network-alias'].length > 0 ? { [argv.network]: { Aliases: argv['network-alias'] } } : {} },
  };
}
// #endregion

/** -p 127.0.0.1:8080:80 as {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}. */
function portBindings(ports: ReturnType<typeof parsePublish>[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) (bindings[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort === 0 ? '' : String(p.hostPort) });
  return bindings;
}

/** A flag given a value other than its default (an array flag: given at all). */
function isGiven(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined;
}

/** POST /containers/ID/wait, once its headers have come (then the start may be sent): `exited` is the exit code
 *  its body brings when the container ends; `cancel` hangs up on it, after a start that failed. */
async function waitFor(daemon: DaemonClient, id: string, condition: 'next-exit' | 'removed'): Promise<{ exited: Promise<number>; cancel(): void }> {
  const res = await daemon.call('POST', `/containers/${id}/wait`, { query: { condition } });
  const exited = readText(res).then((text) => {
    const { StatusCode, Error } = JSON.parse(text) as { StatusCode: number; Error?: { Message: string } | null };
    if (Error?.Message) throw fail(`waiting for the container: ${Error.Message}`);
    return StatusCode;
  });
  exited.catch(() => {}); // read only when the start succeeded
  return { exited, cancel: () => res.destroy() };
}

/** Without a terminal, SIGINT and SIGTERM go to the container, as docker run's signal proxy sends them (POST
 *  /containers/ID/kill?signal=INT); with one, Ctrl-C is a byte on the stream. Returns what undoes it. */
function forwardSignals(daemon: DaemonClient, id: string, tty: boolean): () => void {
  if (tty) return () => {};
  const forward = (signal: NodeJS.Signals) => void daemon.call('POST', `/containers/${id}/kill`, { query: { signal: signal.replace(/^SIG/, '') } }).catch(() => {});
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, forward);
  return () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, forward);
  };
}

/** -t: this terminal raw (its keys, Ctrl-C too, go to the container as they are typed), and its size given to the
 *  container's (or the exec's: `resizePath`), now and when it changes. Returns what puts the terminal back. */
export async function terminal(daemon: DaemonClient, resizePath: string): Promise<() => void> {
  const resize = () => void daemon.call('POST', resizePath, { query: { h: process.stdout.rows, w: process.stdout.columns } }).catch(() => {});
  if (process.stdout.isTTY) {
    if (process.stdout.rows > 0) resize(); // a terminal of no size yet has none to give
    process.stdout.on('resize', resize);
  }
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  return () => {
    process.stdout.off('resize', resize);
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
  };
}

/** POST /images/create?fromImage=…&tag=…: the daemon's progress, one JSON object a line, written as `tsrun pull`
 *  writes it when not on a terminal. Returns the image's full reference. */
export async function pullViaDaemon(daemon: DaemonClient, image: string, options: { quiet?: boolean; platform?: string; to: NodeJS.WritableStream }): Promise<string> {
  const reference = parseReference(image); // refused before anything is sent
  const tag = reference.digest ?? reference.tag;
  const res = await daemon.call('POST', '/images/create', { query: { fromImage: reference.name, tag, platform: options.platform } });
  let line = '';
  for await (const chunk of res.setEncoding('utf8')) {
    const lines = (line + chunk).split('\n');
    line = lines.pop()!;
    for (const text of lines.filter((l) => l.trim() !== '')) {
      const message = JSON.parse(text) as { status?: string; id?: string; error?: string; progressDetail?: { current?: number } };
      if (message.error) throw fail(message.error);
      // The byte counts draw a bar on a terminal; a line for each would be noise.
      if (options.quiet || message.progressDetail?.current !== undefined) continue;
      options.to.write(`${message.id ? `${message.id}: ` : ''}${message.status}\n`);
    }
  }
  return reference.canonical;
}
