// The command line's front door: `run` and `create` flags, parsed and checked into one RunRequest
// (src/container.ts), so that no stage ever reads a flag. Docker's flags, Docker's meanings.
import fs from 'node:fs';
import { checkRunRequest, type MountSpec, type PortMapping, type RunRequest } from '../container.js';
import { fail } from '../errors.js';
import { logMaxSize, resourceLimits, restartPolicy } from '../docker/settings.js';
import { securityConfig } from '../security/options.js';
import type { RunArgs } from './run-options.js';

export async function runRequest(argv: RunArgs): Promise<RunRequest> {
  // Docker's rule: only a run that attaches here needs this terminal (-d -t gives the container one of its own).
  if (!argv.detach && argv.interactive && argv.tty && !process.stdin.isTTY) {
    throw fail('the input device is not a TTY', 'drop -t, or run tsrun from a terminal');
  }
  const request: RunRequest = {
    image: argv.image,
    pull: pullPolicy(argv.pull),
    name: argv.name,
    command: argv._.slice(1).map(String),
    entrypoint: argv.entrypoint === undefined ? undefined : argv.entrypoint === '' ? [] : [argv.entrypoint],
    env: environment(argv['env-file'], argv.env),
    workdir: argv.workdir,
    user: argv.user,
    hostname: argv.hostname,
    interactive: argv.interactive,
    stdinOnce: argv.interactive && !argv.detach, // as docker's: attached, the input is the caller's alone
    tty: argv.tty,
    autoRemove: argv.rm,
    network: argv.network,
    aliases: argv['network-alias'],
    labels: labels(argv.label),
    ports: await ports(argv.publish),
    publishAll: argv['publish-all'],
    mounts: await mounts(argv),
    readOnly: argv['read-only'],
    restart: restartPolicy(argv.restart),
    logMaxSize: logMaxSize(argv['log-opt']),
    stopSignal: argv['stop-signal'],
    resources: resourceLimits(argv),
    security: securityConfig({
      privileged: argv.privileged,
      capAdd: argv['cap-add'],
      capDrop: argv['cap-drop'],
      securityOpt: argv['security-opt'],
      devices: argv.device,
      ulimits: argv.ulimit,
    }),
  };
  checkRunRequest(request);
  return request;
}

/** docker's --label: KEY=VALUE, or a bare KEY with an empty value. */
export function labels(flags: string[]): Record<string, string> {
  return Object.fromEntries(flags.map((flag): [string, string] => {
    const eq = flag.indexOf('=');
    if (eq === 0) throw fail(`invalid label "${flag}"`, 'write it as KEY=VALUE');
    return eq < 0 ? [flag, ''] : [flag.slice(0, eq), flag.slice(eq + 1)];
  }));
}

// #region environment
/** --env-file lines, then -e flags, in order (later wins when the create stage merges them over the image's Env).
 *  A bare KEY takes its value from tsrun's own environment, or is left out, as docker's CLI does before it
 *  sends the request. */
export function environment(envFiles: string[], flags: string[]): string[] {
  const entries = [...envFiles.flatMap(readEnvFile), ...flags];
  return entries.flatMap((entry) => {
    // Not repeated in the message, which a trace records: all of it is a value.
    if (entry.startsWith('=')) throw fail('invalid environment variable: a value with no name before its "="', 'write it as KEY=VALUE');
    if (entry.includes('=')) return [entry];
    const value = process.env[entry];
    return value === undefined ? [] : [`${entry}=${value}`];
  });
}
// #endregion

function readEnvFile(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw fail(`cannot read env file ${file}: ${(error as NodeJS.ErrnoException).code}`, 'check the path given to --env-file', error);
  }
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

/** -p flags; their parser is loaded only when ports are published. */
async function ports(publish: string[]): Promise<PortMapping[]> {
  if (publish.length === 0) return [];
  const { parsePublish } = await import('../net/ports.js');
  return publish.map(parsePublish);
}

/** -v, --mount and --tmpfs; their parsers are loaded only when something is mounted. */
async function mounts(argv: RunArgs): Promise<MountSpec[]> {
  if (argv.volume.length === 0 && argv.mount.length === 0 && argv.tmpfs.length === 0) return [];
  const { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } = await import('../volumes/spec.js');
  return [...argv.volume.map(parseVolumeFlag), ...argv.mount.map(parseMountFlag), ...argv.tmpfs.map(parseTmpfsFlag)];
}

function pullPolicy(text: string): RunRequest['pull'] {
  if (text === 'missing' || text === 'always' || text === 'never') return text;
  throw fail(`invalid --pull "${text}"`, 'use --pull missing, --pull always or --pull never');
}

