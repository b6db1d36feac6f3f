// tsrun-oci: runc's command line, so that containerd's shim, dockerd (--add-runtime) and podman (--runtime) can
// start containers with tsrun. Global flags come before the command, as those callers pass them:
//
//   tsrun-oci --root /run/containerd/runc/moby --log DIR/log.json --log-format json create --bundle DIR --pid-file F ID
//
// An error goes to stderr and, with --log, into that file in the format asked: the shim reads the last one back
// from there and shows it to the user (dockerd turns "executable file not found" into exit code 127).
import fs from 'node:fs';
import { errorText, TsrunError } from '../errors.js';
import { tsrunVersion } from '../version.js';
import { realSyscalls } from '../kernel/native.js';
import { OCI_VERSION } from './state.js';
import type { OciContext } from './lifecycle.js';
import type { OciResources } from './spec.js';

const DEFAULT_ROOT = '/run/tsrun-oci';

export async function main(argv = process.argv.slice(2)): Promise<void> {
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`tsrun-oci version ${tsrunVersion()}\nspec: ${OCI_VERSION}\n`);
    return;
  }
  const log = logger(argv);
  try {
    process.exitCode = await command(argv, log);
  } catch (error) {
    const message = error instanceof TsrunError ? error.message + (error.hint ? ` — ${error.hint}` : '') : errorText(error);
    log('error', message);
    process.stderr.write(`tsrun-oci: ${message}\n`);
    process.exitCode = 1;
  }
  // After create, a thread still waits for the container's exit and would keep Node running as long as the
  // container lives: the command is done, and the container is its caller's now.
  process.exit();
}

type Log = (level: 'error' | 'warning', message: string) => void;

/** --log FILE --log-format text|json, read before yargs so that a mistake in the other flags is logged too. */
function logger(argv: string[]): Log {
  const value = (flag: string) => {
    const at = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    return at < 0 ? undefined : argv[at]!.includes('=') ? argv[at]!.slice(flag.length + 1) : argv[at + 1];
  };
  const file = value('--log');
  const json = value('--log-format') === 'json';
  return (level, msg) => {
    if (!file) return;
    const time = new Date().toISOString();
    fs.appendFileSync(file, json ? JSON.stringify({ level, msg, time }) + '\n' : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`);
  };
}

/** Options whose value may be "-", standard input (containerd's shim passes `update --resources -`): yargs would read a
 *  lone "-" as a positional argument, so it is joined to its option first. */
const STDIN_OPTIONS = new Set(['--resources', '-r', '--process', '-p']);

async function command(typed: string[], log: Log): Promise<number> {
  const argv = typed.flatMap((arg, i) => (arg === '-' && STDIN_OPTIONS.has(typed[i - 1]!) ? [] : STDIN_OPTIONS.has(arg) && typed[i + 1] === '-' ? [`${arg}=-`] : [arg]));
  const { default: yargs } = await import('yargs');
  const lifecycle = await import('./lifecycle.js');
  let exitCode = 0;
  // Every command's arguments hold the global --root; the commands' own builders do not type it.
  const context = (args: object): OciContext => ({
    sys: realSyscalls, root: (args as { root: string }).root, warn: (message) => { log('warning', message); process.stderr.write(`tsrun-oci: warning: ${message}\n`); },
  });
  const id = (y: ReturnType<typeof yargs>) => y.positional('id', { type: 'string', demandOption: true, describe: 'the container\'s id' });
  const createOptions = (y: ReturnType<typeof yargs>) => id(y)
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'the bundle: config.json and the root filesystem' })
    .option('pid-file', { type: 'string', describe: 'write the process\'s pid here' })
    .option('console-socket', { type: 'string', describe: 'where to send a terminal\'s master (a process with a terminal)' })
    .option('no-pivot', { type: 'boolean', describe: 'refused: tsrun always uses pivot_root' })
    .option('no-new-keyring', { type: 'boolean', describe: 'accepted: tsrun makes no session keyring' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'refused unless 0' });
  const checkCreate = (args: { noPivot?: boolean; preserveFds: number }) => {
    if (args.noPivot) throw new TsrunError('--no-pivot: tsrun always uses pivot_root (a chroot would leave the host\'s root reachable)');
    if (args.preserveFds) throw new TsrunError('--preserve-fds: passing extra descriptors is not supported yet');
  };
  await yargs(argv)
    .scriptName('tsrun-oci')
    .usage('$0 [global options] <command> [options] <id>')
    .option('root', { type: 'string', default: DEFAULT_ROOT, describe: 'where the containers\' state is kept' })
    .option('log', { type: 'string', describe: 'write errors and warnings to this file' })
    .option('log-format', { choices: ['text', 'json'], default: 'text' })
    .option('debug', { type: 'boolean', describe: 'accepted; tsrun-oci logs errors and warnings only' })
    .option('systemd-cgroup', { type: 'boolean', describe: 'refused: tsrun-oci manages cgroupfs paths' })
    .middleware((args) => {
      if (args.systemdCgroup) throw new TsrunError('--systemd-cgroup: tsrun-oci manages cgroups through cgroupfs only', { hint: 'configure the caller for cgroupfs (containerd: SystemdCgroup = false; dockerd: native.cgroupdriver=cgroupfs)' });
    })
    .command('create <id>', 'create a container from a bundle; its process waits for start', createOptions, async (args) => {
      checkCreate(args);
      await lifecycle.create(context(args), args.id, { bundle: args.bundle, pidFile: args.pidFile, consoleSocket: args.consoleSocket });
    })
    .command('start <id>', 'start the process of a created container', id, async (args) => { await lifecycle.start(context(args), args.id); })
    .command('run <id>', 'create and start a container, and wait for it', createOptions, async (args) => {
      checkCreate(args);
      exitCode = await lifecycle.run(context(args), args.id, { bundle: args.bundle, pidFile: args.pidFile, consoleSocket: args.consoleSocket });
    })
    .command('exec <id> [command..]', 'run one more process in a running container', (y) => id(y)
      .positional('command', { type: 'string', array: true, default: [] })
      .option('process', { alias: 'p', type: 'string', describe: 'the process, as process.json (config.json\'s process)' })
      .option('detach', { alias: 'd', type: 'boolean' })
      .option('pid-file', { type: 'string' })
      .option('console-socket', { type: 'string' })
      .option('tty', { alias: 't', type: 'boolean' })
      .option('cwd', { type: 'string' })
      .option('env', { alias: 'e', type: 'string', array: true, default: [] })
      .option('user', { alias: 'u', type: 'string', describe: 'UID[:GID]' }), async (args) => {
      exitCode = await lifecycle.exec(context(args), args.id, {
        processFile: args.process, args: args.command, detach: args.detach, pidFile: args.pidFile, cwd: args.cwd, env: args.env, user: args.user,
        tty: args.tty, consoleSocket: args.consoleSocket,
      });
    })
    .command('state <id>', 'the container\'s state, as the runtime spec\'s JSON', id, (args) => {
      process.stdout.write(JSON.stringify(lifecycle.state(context(args), args.id), null, 2) + '\n');
    })
    .command('kill <id> [signal]', 'send a signal to the container\'s process', (y) => id(y)
      .positional('signal', { type: 'string', default: 'SIGTERM' })
      .option('all', { alias: 'a', type: 'boolean', describe: 'to every process of the container' }), (args) => {
      lifecycle.kill(context(args), args.id, args.signal, args.all);
    })
    .command('delete <id>', 'remove a stopped container', (y) => id(y).option('force', { alias: 'f', type: 'boolean', describe: 'kill it first if it runs' }), async (args) => {
      await lifecycle.remove(context(args), args.id, args.force);
    })
    .command('ps <id>', 'the processes of the container', (y) => id(y).option('format', { alias: 'f', choices: ['table', 'json'], default: 'table' }), (args) => {
      const pids = lifecycle.ps(context(args), args.id);
      process.stdout.write(args.format === 'json' ? JSON.stringify(pids) + '\n' : ['PID', ...pids].join('\n') + '\n');
    })
    .command('update <id>', 'change the container\'s limits', (y) => id(y)
      .option('resources', { alias: 'r', type: 'string', demandOption: true, describe: 'linux.resources as JSON, in a file or - for stdin' }), (args) => {
      const text = fs.readFileSync(args.resources === '-' ? 0 : args.resources, 'utf8');
      lifecycle.update(context(args), args.id, JSON.parse(text) as OciResources);
    })
    .command('events <id>', 'the container\'s counters (with --stats, once)', (y) => id(y)
      .option('stats', { type: 'boolean', describe: 'print the counters once and leave' }), (args) => {
      if (!args.stats) throw new TsrunError('events: only --stats is supported (one report of the counters)');
      process.stdout.write(JSON.stringify(lifecycle.stats(context(args), args.id)) + '\n');
    })
    .command('pause <id>', 'freeze every process of the container', id, async (args) => { await lifecycle.pause(context(args), args.id, true); })
    .command('resume <id>', 'thaw a paused container', id, async (args) => { await lifecycle.pause(context(args), args.id, false); })
    .command('spec', 'write a default config.json in the current directory', (y) => y.option('bundle', { alias: 'b', type: 'string', default: '.' }), async (args) => {
      const { defaultSpec } = await import('./defaults.js');
      const file = `${args.bundle}/config.json`;
      if (fs.existsSync(file)) throw new TsrunError(`File ${file} exists. Remove it first`);
      fs.writeFileSync(file, JSON.stringify(defaultSpec(), null, 2) + '\n');
    })
    .command('features', 'what this runtime supports, as the runtime spec\'s features JSON', {}, async () => {
      const { features } = await import('./defaults.js');
      process.stdout.write(JSON.stringify(features(), null, 2) + '\n');
    })
    .demandCommand(1, 'name a command: create, start, exec, state, kill, delete, run, ps, update, events, pause, resume, spec, features')
    .version(false)
    .strict()
    .fail((message, error) => { throw error ?? new TsrunError(message); })
    .parseAsync();
  return exitCode;
}
