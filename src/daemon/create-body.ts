// The daemon's front door: the body of POST /containers/create (and its ?name=) becomes the RunRequest that
// `tsrun run` makes from the same command line (src/cli/run-request.ts), read by the same parsers. The docker
// CLI has already turned the flags into fields: `-v SRC:DST` is a string in HostConfig.Binds, which
// parseVolumeFlag reads as it reads `tsrun run -v`; `-p 8080:80` is {"80/tcp": [{"HostIp": "", "HostPort":
// "8080"}]} in HostConfig.PortBindings, turned back into the "8080:80" parsePublish reads; `--memory 64m` is
// already the number 67108864. What the stages need is then the same whichever door it came in by.
//
// The CLI sends every field, mostly empty (45-create.txt in the API captures). A field tsrun cannot honour yet is
// refused when it is set, rather than dropped: the container would not be what was asked for.
import { checkRunRequest, VALID_NAME, type MountSpec, type PortMapping, type RunRequest } from '../container.js';
import { TsrunError, fail } from '../errors.js';
import { logMaxSize, resourceLimits, restartPolicy } from '../docker/settings.js';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from '../volumes/spec.js';
import { parsePublish } from '../net/ports.js';
import { securityConfig } from '../security/options.js';
import { badRequest, messageOf, ApiError } from './http.js';

/** Set in a body, these ask for what tsrun does not do yet. */
export const UNSUPPORTED = {
  config: ['Domainname', 'Healthcheck', 'StopTimeout', 'Shell', 'MacAddress', 'NetworkDisabled', 'OnBuild'],
  hostConfig: [
    'VolumesFrom', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'Cgroup', 'Links', 'OomScoreAdj', 'PidMode',
    'UTSMode', 'UsernsMode', 'ShmSize', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps',
    'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod',
    'CpuRealtimeRuntime', 'CpusetMems', 'DeviceCgroupRules', 'DeviceRequests', 'MemoryReservation', 'OomKillDisable',
    'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth', 'Init', 'StorageOpt', 'Sysctls', 'KernelMemory',
    'KernelMemoryTCP', 'Runtime',
  ],
  endpoint: ['IPAMConfig', 'Links', 'MacAddress', 'DriverOpts'],
};

// #region create-body
export async function createRequest(body: unknown, name: string | null): Promise<RunRequest> {
  // Docker's words: the docker CLI prints them as they are.
  const wanted = name?.replace(/^\//, '') || undefined;
  if (wanted !== undefined && !VALID_NAME.test(wanted)) throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const config = new Fields(body, '');
  const host = config.object('HostConfig');
  refuseIfSet(config, UNSUPPORTED.config);
  refuseIfSet(host, UNSUPPORTED.hostConfig);
  try {
    const network = networkMode(host);
    const request: RunRequest = {
      image: config.requiredText('Image'),
      // Not fetched here: a missing image is a 404, after which the CLI pulls it (POST /images/create) and asks again.
      pull: 'never',
      name: wanted,
      command: config.words('Cmd') ?? [],
      entrypoint: entrypoint(config.words('Entrypoint')),
      env: environment(config.texts('Env')),
      workdir: config.text('WorkingDir') || undefined,
      user: config.text('User') || undefined,
      hostname: config.text('Hostname') || undefined,
      interactive: config.flag('OpenStdin'),
      stdinOnce: config.flag('OpenStdin') && config.flag('StdinOnce'),
      tty: config.flag('Tty'),
      autoRemove: host.flag('AutoRemove'),
      network,
      aliases: checkEndpoints(config.object('NetworkingConfig'), network),
      labels: config.textMap('Labels'),
      ports: ports(config, host),
      publishAll: host.flag('PublishAllPorts'),
      mounts: mounts(config, host),
      readOnly: host.flag('ReadonlyRootfs'),
      restart: restart(host.object('RestartPolicy')),
      logMaxSize: logOptions(host.object('LogConfig')),
      stopSignal: config.text('StopSignal') || undefined,
      resources: resourceLimits({
        memory: positive(host.integer('Memory')),
        'memory-swap': nonZero(host.integer('MemorySwap')),
        cpus: positive(host.integer('NanoCpus'), (nano) => nano / 1e9),
        'cpu-shares': positive(host.integer('CpuShares')),
        'pids-limit': nonZero(host.integer('PidsLimit')),
        'cpuset-cpus': host.text('CpusetCpus') || undefined,
      }),
      security: securityConfig({
        privileged: host.flag('Privileged'),
        capAdd: host.texts('CapAdd'),
        capDrop: host.texts('CapDrop'),
        securityOpt: [...host.texts('SecurityOpt'), ...systemPaths(host)],
        devices: host.objects('Devices').map((d) => `${d.requiredText('PathOnHost')}:${d.text('PathInContainer') || d.requiredText('PathOnHost')}:${d.text('CgroupPermissions') || 'rwm'}`),
        ulimits: host.objects('Ulimits').map((u) => `${u.requiredText('Name')}=${u.integer('Soft') ?? 0}:${u.integer('Hard') ?? 0}`),
      }),
    };
    checkRunRequest(request);
    return request;
  } catch (error) {
    // The parsers' errors are the request's fault: a bad Binds entry, an unknown capability, …
    if (error instanceof TsrunError) throw badRequest(messageOf(error));
    throw error;
  }
}
// #endregion

/** --entrypoint "" is sent as [""]: no entrypoint at all; none given is null. */
function entrypoint(words: string[] | undefined): string[] | undefined {
  if (words === undefined || words.length === 0) return undefined;
  return words.length === 1 && words[0] === '' ? [] : words;
}

/** KEY=VALUE entries; the client has given a bare KEY its value already (or left it out). */
function environment(entries: string[]): string[] {
  // The value is not repeated in the message, which a trace records.
  if (entries.some((entry) => entry.startsWith('='))) throw fail('invalid environment variable: a value with no name before its "="', 'write it as KEY=VALUE');
  return entries;
}

/** "default" is the daemon's default network: tsrun's bridge. */
function networkMode(host: Fields): string {
  const mode = host.text('NetworkMode') ?? '';
  if (mode === '' || mode === 'default') return 'bridge';
  if (mode.startsWith('container:')) throw badRequest('tsrun cannot give a container another container\'s network yet');
  return mode;
}

/** One network, the one NetworkMode names: tsrun connects a container to no other at create (`docker network
 *  connect` does later). Returns its Aliases, what `--network-alias` sent. */
function checkEndpoints(networking: Fields, network: string): string[] {
  const endpoints = networking.object('EndpointsConfig');
  for (const key of endpoints.keys()) {
    if (key !== 'default' && key !== network) throw badRequest(`tsrun connects a container to one network, ${network}, not also to ${key}`);
    refuseIfSet(endpoints.object(key), UNSUPPORTED.endpoint);
  }
  return endpoints.keys().flatMap((key) => endpoints.object(key).texts('Aliases'));
}

/** PortBindings as the -p flags they came from; with PublishAllPorts, the ExposedPorts none of them names too. */
function ports(config: Fields, host: Fields): PortMapping[] {
  const bindings = host.object('PortBindings');
  const mappings = bindings.keys().flatMap((port) => bindings.objects(port).map((binding) => {
    const ip = binding.text('HostIp') ?? '';
    // parsePublish refuses an IPv6 address in brackets, with its reason.
    return parsePublish(`${ip.includes(':') ? `[${ip}]` : ip}:${binding.text('HostPort') ?? ''}:${port}`);
  }));
  if (!host.flag('PublishAllPorts')) return mappings;
  const bound = new Set(bindings.keys().map((port) => parsePublish(port)).map((p) => `${p.containerPort}/${p.protocol}`));
  const exposed = config.object('ExposedPorts').keys().map((port) => parsePublish(port));
  return [...mappings, ...exposed.filter((p) => !bound.has(`${p.containerPort}/${p.protocol}`))];
}

/** In the order `tsrun run` takes -v, --mount and --tmpfs. The CLI sends `-v /data` (an anonymous volume) in
 *  Volumes, `--mount` in Mounts, `--tmpfs /x:size=1m` as {"/x": "size=1m"} in Tmpfs. */
function mounts(config: Fields, host: Fields): MountSpec[] {
  const binds = host.texts('Binds').map(parseVolumeFlag);
  const anonymous = config.object('Volumes').keys().map(parseVolumeFlag);
  const mounted = host.objects('Mounts').map((mount) => parseMountFlag(mountFlag(mount)));
  const tmpfs = host.object('Tmpfs');
  const tmpfses = tmpfs.keys().map((target) => parseTmpfsFlag(tmpfs.text(target) ? `${target}:${tmpfs.text(target)}` : target));
  return [...binds, ...anonymous, ...mounted, ...tmpfses];
}

/** A Mounts entry as the --mount flag it came from. */
function mountFlag(mount: Fields): string {
  refuseIfSet(mount, ['BindOptions', 'VolumeOptions', 'Consistency']);
  const tmpfs = mount.object('TmpfsOptions');
  const fields = [
    `type=${mount.text('Type') ?? 'volume'}`,
    `source=${mount.text('Source') ?? ''}`,
    `target=${mount.requiredText('Target')}`,
    ...(mount.flag('ReadOnly') ? ['readonly'] : []),
    ...(positive(tmpfs.integer('SizeBytes')) ? [`tmpfs-size=${tmpfs.integer('SizeBytes')}`] : []),
    ...(positive(tmpfs.integer('Mode')) ? [`tmpfs-mode=${tmpfs.integer('Mode')!.toString(8)}`] : []),
  ];
  if (fields.some((field) => field.includes(','))) throw badRequest(`a mount's fields cannot hold a comma: ${fields.join(' ')}`);
  return fields.join(',');
}

function restart(policy: Fields): RunRequest['restart'] {
  const name = policy.text('Name') || 'no';
  const count = policy.integer('MaximumRetryCount') ?? 0;
  return restartPolicy(count > 0 ? `${name}:${count}` : name);
}

function logOptions(log: Fields): number | undefined {
  const type = log.text('Type') ?? '';
  if (type !== '' && type !== 'json-file') throw badRequest(`tsrun logs with json-file only, not ${type}`);
  const options = log.object('Config');
  return logMaxSize(options.keys().map((key) => `${key}=${options.text(key) ?? ''}`));
}

/** The docker CLI turns --security-opt systempaths=unconfined into empty lists of masked and read-only paths. */
function systemPaths(host: Fields): string[] {
  const masked = host.texts('MaskedPaths', null);
  const readOnly = host.texts('ReadonlyPaths', null);
  if (masked === null && readOnly === null) return [];
  if (masked?.length === 0 && readOnly?.length === 0) return ['systempaths=unconfined'];
  throw badRequest('tsrun masks Docker\'s default paths of /proc and /sys, or none (--security-opt systempaths=unconfined): not a list of its own');
}

const positive = (n: number | undefined, as: (n: number) => number = (x) => x) => (n !== undefined && n > 0 ? String(as(n)) : undefined);
const nonZero = (n: number | undefined) => (n !== undefined && n !== 0 ? String(n) : undefined);

/** Fields the CLI always sends, with values meaning "nothing": a body may say so in any of these ways. */
function isSet(value: unknown): boolean {
  if (value === null || value === undefined || value === '' || value === 0 || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(value).some(isSet);
  return true;
}

export function refuseIfSet(fields: Fields, keys: string[]): void {
  const set = keys.filter((key) => isSet(fields.raw(key)));
  if (set.length > 0) throw badRequest(`tsrun does not support ${set.map((key) => fields.path(key)).join(', ')} yet`);
}

/** A JSON object's fields, each read as the type the API gives it; a wrong type is a 400 that names the field. */
export class Fields {
  private readonly values: Record<string, unknown>;

  constructor(value: unknown, private readonly where: string) {
    if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) throw badRequest(`${where || 'the body'} must be a JSON object`);
    this.values = (value ?? {}) as Record<string, unknown>;
  }

  keys(): string[] {
    return Object.keys(this.values);
  }

  raw(key: string): unknown {
    return this.values[key];
  }

  path(key: string): string {
    return this.where ? `${this.where}.${key}` : key;
  }

  text(key: string): string | undefined {
    const value = this.values[key];
    if (value === null || value === undefined) return undefined;
    if (typeof value !== 'string') throw this.wrong(key, 'a string');
    return value;
  }

  requiredText(key: string): string {
    const value = this.text(key);
    if (!value) throw badRequest(`${this.path(key)} is missing`);
    return value;
  }

  flag(key: string): boolean {
    const value = this.values[key];
    if (value === null || value === undefined) return false;
    if (typeof value !== 'boolean') throw this.wrong(key, 'true or false');
    return value;
  }

  integer(key: string): number | undefined {
    const value = this.values[key];
    if (value === null || value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw this.wrong(key, 'a whole number');
    return value;
  }

  /** A list of strings; null and absent are none (or `absent`). */
  texts(key: string): string[];
  texts(key: string, absent: null): string[] | null;
  texts(key: string, absent: string[] | null = []): string[] | null {
    const value = this.values[key];
    if (value === null || value === undefined) return absent;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw this.wrong(key, 'a list of strings');
    return value as string[];
  }

  /** A command: a list of strings, or one string (as older clients send it); undefined when absent. */
  words(key: string): string[] | undefined {
    const value = this.values[key];
    if (typeof value === 'string') return [value];
    return this.texts(key, null) ?? undefined;
  }

  /** An object of strings (Labels): {"team": "cap"}; null and absent are {}. */
  textMap(key: string): Record<string, string> {
    const map = this.object(key);
    return Object.fromEntries(map.keys().map((name) => [name, map.text(name) ?? '']));
  }

  object(key: string): Fields {
    return new Fields(this.values[key], this.path(key));
  }

  objects(key: string): Fields[] {
    const value = this.values[key];
    if (value === null || value === undefined) return [];
    if (!Array.isArray(value)) throw this.wrong(key, 'a list of objects');
    return value.map((item, i) => new Fields(item, `${this.path(key)}[${i}]`));
  }

  /** Names the type it got, not the value: a value may be a secret (Env), and the message goes into the trace. */
  private wrong(key: string, what: string): ApiError {
    const value = this.values[key];
    const got = Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
    return badRequest(`${this.path(key)} must be ${what}, not ${got}`);
  }
}
