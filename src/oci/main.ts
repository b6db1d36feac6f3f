// tsrun-oci: runc's command line, so that containerd's shim, dockerd (--add-runtime) and podman (--runtime) can
// start containers with tsrun. Global flags come before the command, as those callers pass them:
//
//   tsrun-oci --root /run/containerd/runc/moby --log DIR/log.json --log-format json create --bundle DIR --pid-file F ID
//
// An error goes to stderr and, with --log, into that file in the format asked: the shim reads the last one back
// from there and shows it to the user (dockerd turns "executable file not found" into exit code 127).
//
// A shim runs three of these commands for every container, so each starts as fast as it can: the flags are read by
// Node's own util.parseArgs, one table per command, not by yargs (a dozen milliseconds of every command).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { errorText, TsrunError } from '../errors.js';
import { tsrunVersion } from '../version.js';
import { realSyscalls } from '../kernel/native.js';
import { OCI_VERSION } from './state.js';
import type { OciContext } from './lifecycle.js';
import type { OciResources } from './spec.js';

const DEFAULT_ROOT = '/run/tsrun-oci';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** The flags before the command. --criu and --rootless are accepted as runc's callers may pass them; --debug too. */
const GLOBAL: Options = {
  root: { type: 'string', default: DEFAULT_ROOT },
  log: { type: 'string' },
  'log-format': { type: 'string', default: 'text' },
  debug: { type: 'boolean' },
  'systemd-cgroup': { type: 'boolean' },
  criu: { type: 'string' },
  rootless: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
};

const CREATE: Options = {
  bundle: { type: 'string', short: 'b', default: '.' },
  'pid-file': { type: 'string' },
  'console-socket': { type: 'string' },
  'no-pivot': { type: 'boolean' },
  'no-new-keyring': { type: 'boolean' },
  'preserve-fds': { type: 'string', default: '0' },
};

/** Each command: what it does (for --help), its flags, and how many ids or other operands it takes. */
const COMMANDS: Record<string, { summary: string; options: Options; operands: string }> = {
  create: { summary: 'create a container from a bundle; its process waits for start', options: CREATE, operands: '<id>' },
  start: { summary: 'start the process of a created container', options: {}, operands: '<id>' },
  run: { summary: 'create and start a container, and wait for it', options: CREATE, operands: '<id>' },
  exec: {
    summary: 'run one more process in a running container',
    options: {
      process: { type: 'string', short: 'p' }, detach: { type: 'boolean', short: 'd' }, 'pid-file': { type: 'string' },
      'console-socket': { type: 'string' }, tty: { type: 'boolean', short: 't' }, cwd: { type: 'string' },
      env: { type: 'string', short: 'e', multiple: true, default: [] }, user: { type: 'string', short: 'u' },
      'preserve-fds': { type: 'string', default: '0' },
    },
    operands: '<id> [command...]',
  },
  state: { summary: 'the container\'s state, as the runtime spec\'s JSON', options: {}, operands: '<id>' },
  kill: { summary: 'send a signal (default SIGTERM) to the container\'s process', options: { all: { type: 'boolean', short: 'a' } }, operands: '<id> [signal]' },
  delete: { summary: 'remove a stopped container (--force: kill it first)', options: { force: { type: 'boolean', short: 'f' } }, operands: '<id>' },
  ps: { summary: 'the processes of the container', options: { format: { type: 'string', short: 'f', default: 'table' } }, operands: '<id>' },
  update: { summary: 'change the container\'s limits', options: { resources: { type: 'string', short: 'r' } }, operands: '<id>' },
  events: { summary: 'the container\'s counters, once (--stats)', options: { stats: { type: 'boolean' } }, operands: '<id>' },
  pause: { summary: 'freeze every process of the container', options: {}, operands: '<id>' },
  resume: { summary: 'thaw a paused container', options: {}, operands: '<id>' },
  spec: { summary: 'write a default config.json', options: { bundle: { type: 'string', short: 'b', default: '.' } }, operands: '' },
  features: { summary: 'what this runtime supports, as the runtime spec\'s features JSON', options: {}, operands: '' },
};

/** Runs the command in `argv`; what tsrun-oci exits with is left in process.exitCode. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const log = logger(argv);
  try {
    process.exitCode = await command(argv, log);
  } catch (error) {
    const message = error instanceof TsrunError ? error.message + (error.hint ? ` — ${error.hint}` : '') : errorText(error);
    log('error', message);
    process.stderr.write(`tsrun-oci: ${message}\n`);
    process.exitCode = 1;
  }
}

type Log = (level: 'error' | 'warning', message: string) => void;

/** --log FILE --log-format text|json, read before the rest so that a mistake in the other flags is logged too. */
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

/** util.parseArgs, with its errors in tsrun's words. */
function parse(args: string[], options: Options, strict = true) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict, tokens: true });
  } catch (error) {
    throw new TsrunError((error as Error).message, { hint: 'see tsrun-oci --help' });
  }
}

async function command(argv: string[], log: Log): Promise<number> {
  // The global flags end at the first word that is no flag: the command.
  const globals = parse(argv, GLOBAL, false);
  const at = globals.tokens!.find((token) => token.kind === 'positional');
  const name = at && 'value' in at ? at.value : undefined;
  const global = parse(argv.slice(0, at ? at.index : argv.length), GLOBAL).values as Record<string, string | boolean | undefined>;
  if (global.version) {
    process.stdout.write(`tsrun-oci version ${tsrunVersion()}\nspec: ${OCI_VERSION}\n`);
    return 0;
  }
  if (global.help || !name) {
    process.stdout.write(usage());
    return name || global.help ? 0 : 1;
  }
  if (global['systemd-cgroup']) {
    throw new TsrunError('--systemd-cgroup: tsrun-oci manages cgroups through cgroupfs only', {
      hint: 'configure the caller for cgroupfs (containerd: SystemdCgroup = false; dockerd: native.cgroupdriver=cgroupfs)',
    });
  }
  if (global['log-format'] !== 'text' && global['log-format'] !== 'json') throw new TsrunError(`--log-format ${String(global['log-format'])}: text or json`);
  const spec = COMMANDS[name];
  if (!spec) throw new TsrunError(`unknown command ${JSON.stringify(name)}`, { hint: 'see tsrun-oci --help' });
  // exec's command is the container's: its flags are not ours. They begin at the first word after the id.
  const rest = argv.slice(at!.index + 1);
  const { values, positionals } = name === 'exec' ? parseExec(rest, spec.options) : parse(rest, spec.options);
  const flag = values as Record<string, string | boolean | string[] | undefined>;
  const [id, ...more] = positionals;
  const required = spec.operands.split(' ').filter((operand) => operand.startsWith('<')).length;
  if (positionals.length < required) throw new TsrunError(`${name} needs ${spec.operands}`, { hint: `tsrun-oci ${name} ${spec.operands}` });
  if (!spec.operands.includes('...') && !spec.operands.includes('[') && positionals.length > required) {
    throw new TsrunError(`${name}: unexpected ${JSON.stringify(positionals[required])}`, { hint: `tsrun-oci ${name} ${spec.operands}` });
  }

  const lifecycle = await import('./lifecycle.js');
  const context: OciContext = {
    sys: realSyscalls, root: String(global.root),
    warn: (message) => { log('warning', message); process.stderr.write(`tsrun-oci: warning: ${message}\n`); },
  };
  const createOptions = () => ({
    bundle: String(flag.bundle), pidFile: flag['pid-file'] as string | undefined, consoleSocket: flag['console-socket'] as string | undefined,
    noPivot: !!flag['no-pivot'], preserveFds: count('--preserve-fds', flag['preserve-fds'] as string),
  });
  switch (name) {
    case 'create': await lifecycle.create(context, id!, createOptions()); return 0;
    case 'start': await lifecycle.start(context, id!); return 0;
    case 'run': return lifecycle.run(context, id!, createOptions());
    case 'exec':
      return lifecycle.exec(context, id!, {
        processFile: flag.process as string | undefined, args: more, detach: !!flag.detach, pidFile: flag['pid-file'] as string | undefined,
        cwd: flag.cwd as string | undefined, env: flag.env as string[], user: flag.user as string | undefined, tty: !!flag.tty,
        consoleSocket: flag['console-socket'] as string | undefined, preserveFds: count('--preserve-fds', flag['preserve-fds'] as string),
      });
    case 'state': print(lifecycle.state(context, id!), 2); return 0;
    case 'kill': lifecycle.kill(context, id!, more[0] ?? 'SIGTERM', !!flag.all); return 0;
    case 'delete': await lifecycle.remove(context, id!, !!flag.force); return 0;
    case 'ps': {
      const pids = lifecycle.ps(context, id!);
      if (flag.format === 'json') print(pids);
      else process.stdout.write(['PID', ...pids].join('\n') + '\n');
      return 0;
    }
    case 'update': {
      if (typeof flag.resources !== 'string') throw new TsrunError('update needs --resources FILE (or - for standard input)');
      lifecycle.update(context, id!, JSON.parse(fs.readFileSync(flag.resources === '-' ? 0 : flag.resources, 'utf8')) as OciResources);
      return 0;
    }
    case 'events':
      if (!flag.stats) throw new TsrunError('events: only --stats is supported (one report of the counters)');
      print(lifecycle.stats(context, id!));
      return 0;
    case 'pause': await lifecycle.pause(context, id!, true); return 0;
    case 'resume': await lifecycle.pause(context, id!, false); return 0;
    case 'spec': {
      const { defaultSpec } = await import('./defaults.js');
      const file = `${String(flag.bundle)}/config.json`;
      if (fs.existsSync(file)) throw new TsrunError(`File ${file} exists. Remove it first`);
      fs.writeFileSync(file, JSON.stringify(defaultSpec(), null, 2) + '\n');
      return 0;
    }
    default: { // features
      const { features } = await import('./defaults.js');
      print(features(), 2);
      return 0;
    }
  }
}

/** exec ID [COMMAND...]: flags up to the id are exec's; from the command on, every word is the command's. */
function parseExec(args: string[], options: Options) {
  const ours = parse(args, options, false);
  const first = ours.tokens!.find((token) => token.kind === 'positional');
  const upToId = first ? args.slice(0, first.index + 1) : args;
  const parsed = parse(upToId, options);
  return { values: parsed.values, positionals: [...parsed.positionals, ...(first ? args.slice(first.index + 1) : [])] };
}

/** A flag's whole number, 0 or more. */
function count(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new TsrunError(`${name} ${text}: a whole number, 0 or more`);
  return Number(text);
}

function print(value: unknown, indent?: number): void {
  process.stdout.write(JSON.stringify(value, null, indent) + '\n');
}

function usage(): string {
  const width = Math.max(...Object.entries(COMMANDS).map(([name, c]) => `${name} ${c.operands}`.length));
  return [
    'Usage: tsrun-oci [--root DIR] [--log FILE] [--log-format text|json] <command> [options] <id>',
    '',
    'Commands (runc\'s, as containerd, dockerd and podman call them):',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${`${name} ${c.operands}`.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}
