// tsrun run [OPTIONS] IMAGE [COMMAND] [ARG...] — docker's flags, docker's meanings.
import type { CommandModule } from 'yargs';
import type { RunRequest } from '../../container.js';
import { fail } from '../../errors.js';
import { parseBytes, type ResourceLimits } from '../../cgroups/limits.js';

export interface RunArgs {
  root?: string;
  image: string;
  /** The words after `--` that main.ts put after the image: the container's command. */
  _: (string | number)[];
  rm: boolean;
  detach: boolean;
  interactive: boolean;
  tty: boolean;
  env: string[];
  'env-file': string[];
  workdir?: string;
  user?: string;
  name?: string;
  hostname?: string;
  entrypoint?: string;
  network: string;
  publish: string[];
  'publish-all': boolean;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  'read-only': boolean;
  restart: string;
  'log-opt': string[];
  'stop-signal'?: string;
  pull: string;
  memory?: string;
  'memory-swap'?: string;
  cpus?: string;
  'cpu-shares'?: string;
  'pids-limit'?: string;
  'cpuset-cpus'?: string;
  privileged: boolean;
  'cap-add': string[];
  'cap-drop': string[];
  'security-opt': string[];
  device: string[];
  ulimit: string[];
  explain?: string;
  step: boolean;
  'no-traceparent': boolean;
}

/** Flags shared by `run` and (later) `create`. */
export const containerOptions = {
  rm: { type: 'boolean', default: false, describe: 'Remove the container when it exits' },
  detach: { alias: 'd', type: 'boolean', default: false, describe: 'Run the container in the background and print its id' },
  interactive: { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open and forward it to the container' },
  tty: { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' },
  env: { alias: 'e', type: 'string', array: true, default: [], describe: 'Set environment variables (KEY=VALUE, or KEY to copy it)' },
  'env-file': { type: 'string', array: true, default: [], describe: 'Read environment variables from a file' },
  workdir: { alias: 'w', type: 'string', describe: 'Working directory inside the container' },
  user: { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  name: { type: 'string', describe: 'Assign a name to the container' },
  hostname: { alias: 'h', type: 'string', describe: 'Container host name' },
  entrypoint: { type: 'string', describe: 'Overwrite the default ENTRYPOINT of the image' },
  network: { type: 'string', default: 'bridge', describe: 'Connect the container to a network: bridge, none or host' },
  publish: { alias: 'p', type: 'string', array: true, default: [], describe: 'Publish a container\'s port on the host ([HOST_IP:][HOST_PORT:]CONTAINER_PORT[/udp])' },
  'publish-all': { alias: 'P', type: 'boolean', default: false, describe: 'Publish every port the image exposes, each on a free host port' },
  volume: { alias: 'v', type: 'string', array: true, default: [], describe: 'Bind mount a host path or a named volume (SOURCE:TARGET[:ro], or TARGET for an anonymous volume)' },
  mount: { type: 'string', array: true, default: [], describe: 'Attach a mount (type=bind|volume|tmpfs,source=...,target=...[,readonly])' },
  tmpfs: { type: 'string', array: true, default: [], describe: 'Mount a tmpfs, noexec,nosuid,nodev unless told (TARGET[:size=...,mode=...,ro,exec,suid,dev])' },
  'read-only': { type: 'boolean', default: false, describe: 'Mount the container\'s root filesystem as read only' },
  restart: { type: 'string', default: 'no', describe: 'Restart policy of a detached container: no, on-failure[:N], always, unless-stopped' },
  'log-opt': { type: 'string', array: true, default: [], describe: 'Log driver option: max-size=SIZE (json-file, rotated past it; default 10m)' },
  'stop-signal': { type: 'string', describe: 'Signal `tsrun stop` sends first (default: the image\'s STOPSIGNAL, else SIGTERM)' },
  pull: { type: 'string', default: 'missing', describe: 'Pull the image before running: missing, always or never' },
  memory: { alias: 'm', type: 'string', describe: 'Memory limit (e.g. 64m, 1g)' },
  'memory-swap': { type: 'string', describe: 'Memory plus swap limit; -1 for unlimited swap' },
  cpus: { type: 'string', describe: 'Number of CPUs (e.g. 1.5)' },
  'cpu-shares': { alias: 'c', type: 'string', describe: 'CPU shares (relative weight; default 1024)' },
  'pids-limit': { type: 'string', describe: 'Most processes the container may have (-1 for unlimited)' },
  'cpuset-cpus': { type: 'string', describe: 'CPUs in which to allow execution (0-3, 0,1)' },
  privileged: { type: 'boolean', default: false, describe: 'Give the container every capability and device, no seccomp filter, writable /sys and /proc/sys' },
  'cap-add': { type: 'string', array: true, default: [], describe: 'Add a Linux capability (NET_ADMIN, SYS_TIME, …, or ALL)' },
  'cap-drop': { type: 'string', array: true, default: [], describe: 'Drop a Linux capability (or ALL)' },
  'security-opt': { type: 'string', array: true, default: [], describe: 'seccomp=unconfined|PROFILE.json, no-new-privileges, systempaths=unconfined' },
  device: { type: 'string', array: true, default: [], describe: 'Add a host device (HOST[:CONTAINER][:rwm])' },
  ulimit: { type: 'string', array: true, default: [], describe: 'Set a resource limit (NAME=SOFT[:HARD], e.g. nofile=1024:2048)' },
  explain: { type: 'string', describe: 'Say what each stage does and show its real values on stderr (--explain=json: JSON lines)' },
  step: { type: 'boolean', default: false, describe: 'Pause before each stage until Enter is pressed' },
  'no-traceparent': { type: 'boolean', default: false, describe: 'When tracing, don\'t give the container TRACEPARENT (as TSRUN_NO_TRACEPARENT=1)' },
} as const;

export function runRequest(argv: RunArgs): RunRequest {
  if (argv.detach && argv.tty) throw fail('tsrun cannot give a detached container a terminal yet', 'drop -t, or run it without -d');
  if (argv.interactive && argv.tty && !process.stdin.isTTY) {
    throw fail('the input device is not a TTY', 'drop -t, or run tsrun from a terminal');
  }
  return {
    image: argv.image,
    command: argv._.slice(1).map(String),
    name: argv.name,
    entrypoint: argv.entrypoint,
    env: argv.env,
    envFiles: argv['env-file'],
    workdir: argv.workdir,
    user: argv.user,
    hostname: argv.hostname,
    interactive: argv.interactive,
    tty: argv.tty,
    autoRemove: argv.rm,
    network: argv.network,
    publish: argv.publish,
    publishAll: argv['publish-all'],
    volumes: argv.volume,
    mounts: argv.mount,
    tmpfs: argv.tmpfs,
    readOnly: argv['read-only'],
    restart: argv.restart,
    logOptions: argv['log-opt'],
    stopSignal: argv['stop-signal'],
    pull: pullPolicy(argv.pull),
    resources: resourceLimits(argv),
    security: {
      privileged: argv.privileged,
      capAdd: argv['cap-add'],
      capDrop: argv['cap-drop'],
      securityOpt: argv['security-opt'],
      devices: argv.device,
      ulimits: argv.ulimit,
    },
  };
}

/** --memory, --cpus, … as numbers, each checked the way docker checks it. */
function resourceLimits(argv: RunArgs): ResourceLimits {
  const number = (flag: string, text: string, valid: (n: number) => boolean, what: string) => {
    const value = Number(text);
    if (text.trim() === '' || !valid(value)) throw fail(`invalid value "${text}" for --${flag}`, `give ${what}`);
    return value;
  };
  const limits: ResourceLimits = {};
  if (argv.memory !== undefined) limits.memory = parseBytes('--memory', argv.memory);
  if (argv['memory-swap'] !== undefined) limits.memorySwap = argv['memory-swap'] === '-1' ? -1 : parseBytes('--memory-swap', argv['memory-swap']);
  if (limits.memorySwap !== undefined && limits.memory === undefined) throw fail('--memory-swap needs --memory', 'give --memory as well');
  if (argv.cpus !== undefined) limits.cpus = number('cpus', argv.cpus, (n) => n > 0, 'a positive number of CPUs, like 0.5 or 2');
  if (argv['cpu-shares'] !== undefined) limits.cpuShares = number('cpu-shares', argv['cpu-shares'], (n) => Number.isInteger(n) && n >= 2, 'a whole number of at least 2');
  if (argv['pids-limit'] !== undefined) limits.pidsLimit = number('pids-limit', argv['pids-limit'], Number.isInteger, 'a whole number, or -1 for no limit');
  if (argv['cpuset-cpus'] !== undefined) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(argv['cpuset-cpus'])) throw fail(`invalid value "${argv['cpuset-cpus']}" for --cpuset-cpus`, 'give CPUs like 0-3 or 0,1');
    limits.cpusetCpus = argv['cpuset-cpus'];
  }
  return limits;
}

function pullPolicy(text: string): RunRequest['pull'] {
  if (text === 'missing' || text === 'always' || text === 'never') return text;
  throw fail(`invalid --pull "${text}"`, 'use --pull missing, --pull always or --pull never');
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <image> [command..]',
  describe: 'Create and run a new container from an image',
  builder: (yargs) => yargs
    .options(containerOptions)
    .positional('image', { type: 'string', describe: 'Image reference or id' })
    .positional('command', { type: 'string', array: true, default: [], describe: 'Command and arguments' }) as never,
  handler: (argv) => runHandler(argv),
};

export async function runHandler(argv: RunArgs): Promise<void> {
  const { runtimeFor, run } = await loadRun();
  // The flag asks for one run what the variable asks for a whole session; traceContextEnv reads the variable.
  if (argv['no-traceparent']) process.env.TSRUN_NO_TRACEPARENT = '1';
  const runtime = runtimeFor(argv);
  const request = runRequest(argv);
  if (argv.detach) {
    const { runDetached } = await import('../../run.js');
    const { container } = await runDetached(runtime, request, { observer: await teachingObserver(argv) });
    process.stdout.write(`${container.id}\n`);
    return;
  }
  const exit = await run(runtime, request, { observer: await teachingObserver(argv) });
  process.exitCode = exit.exitCode;
}

/** The code behind `tsrun run`, loaded on first use. */
export async function loadRun() {
  const [{ runtimeFor }, { run }] = await Promise.all([import('../runtime.js'), import('../../run.js')]);
  return { runtimeFor, run };
}

/** --explain and --step watch the run; without them, nothing of src/teach/ is loaded. */
async function teachingObserver(argv: { explain?: string; step: boolean }) {
  if (argv.explain === undefined && !argv.step) return undefined;
  if (argv.explain !== undefined && argv.explain !== 'text' && argv.explain !== 'json') {
    throw fail(`--explain=${argv.explain} is not a format tsrun knows`, 'use --explain or --explain=json');
  }
  const { explainObserver } = await import('../../teach/explain.js');
  const explaining = explainObserver((argv.explain ?? 'text') as 'text' | 'json');
  if (!argv.step) return explaining;
  const { stepObserver } = await import('../../teach/step.js');
  return stepObserver(explaining);
}
