// Docker's spellings of a container's settings, read the same way by every front door: the command line's
// flags (src/cli/run-request.ts) and the Docker API's create body (src/daemon/create-body.ts).
import type { RestartPolicy } from '../container.js';
import { fail } from '../errors.js';
import { parseBytes, type ResourceLimits } from '../cgroups/limits.js';

/** --log-opt max-size=10m (json-file's only option tsrun has). */
export function logMaxSize(options: string[]): number | undefined {
  let size: number | undefined;
  for (const option of options) {
    const [key, value] = option.split('=');
    if (key !== 'max-size' || !value) throw fail(`invalid --log-opt "${option}"`, 'tsrun\'s json-file log takes max-size=SIZE, e.g. --log-opt max-size=1m');
    size = parseBytes('--log-opt max-size', value);
  }
  return size;
}

/** --restart as docker reads it. */
export function restartPolicy(text: string): RestartPolicy {
  const [name, count, ...extra] = text.split(':');
  const policies = ['no', 'on-failure', 'always', 'unless-stopped'];
  if (!policies.includes(name!) || extra.length > 0 || (count !== undefined && (name !== 'on-failure' || !/^\d+$/.test(count)))) {
    throw fail(`invalid restart policy "${text}"`, 'use no, on-failure[:MAX-RETRIES], always or unless-stopped');
  }
  return { name: name as RestartPolicy['name'], maximumRetryCount: Number(count ?? 0) };
}

/** The resource flags, as typed. */
export interface ResourceFlags {
  memory?: string;
  'memory-swap'?: string;
  cpus?: string;
  'cpu-shares'?: string;
  'pids-limit'?: string;
  'cpuset-cpus'?: string;
}

/** --memory, --cpus, … as numbers, each checked the way docker checks it. */
export function resourceLimits(argv: ResourceFlags): ResourceLimits {
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
