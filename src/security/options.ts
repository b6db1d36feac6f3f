// The confinement flags of `run`/`create`, checked once when the container is
// created (a bad one: one line, exit 125, no container) and kept in its record
// the way Docker keeps them in HostConfig, so `inspect` shows them and every
// start and exec confines the container the same way.
import fs from 'node:fs';
import { fail } from '../errors.js';
import { normalizeCapability } from './capabilities.js';
import { parseSeccompProfile } from './seccomp.js';

export interface DeviceMapping {
  pathOnHost: string;
  pathInContainer: string;
  /** Any of r (read), w (write), m (mknod), as the devices cgroup spells them. */
  cgroupPermissions: string;
}

export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** As the container's record keeps them: Docker's HostConfig fields of the same names. */
export interface SecurityConfig {
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  /** "seccomp=unconfined", "no-new-privileges", …; a seccomp profile is kept as its JSON, as docker's CLI sends it. */
  securityOpt: string[];
  devices: DeviceMapping[];
  ulimits: Ulimit[];
}

/** What the flags ask for, as the user wrote them. */
export interface SecurityRequest {
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  devices?: string[];
  ulimits?: string[];
}

/** A record without security options is confined like a new one. */
export const DEFAULT_SECURITY: SecurityConfig = { privileged: false, capAdd: [], capDrop: [], securityOpt: [], devices: [], ulimits: [] };

export function securityConfig(request: SecurityRequest): SecurityConfig {
  const config: SecurityConfig = {
    privileged: request.privileged ?? false,
    capAdd: (request.capAdd ?? []).map((name) => normalizeCapability('--cap-add', name)),
    capDrop: (request.capDrop ?? []).map((name) => normalizeCapability('--cap-drop', name)),
    securityOpt: (request.securityOpt ?? []).map(keptSecurityOpt),
    devices: (request.devices ?? []).map(parseDevice),
    ulimits: (request.ulimits ?? []).map(parseUlimit),
  };
  securityOptions(config.securityOpt); // every option understood now, not at start
  return config;
}

// #region security-opt
/** The options in effect: Docker's defaults unless --security-opt says otherwise. */
export interface SecurityOptions {
  /** The default profile, none, or a profile's JSON text. */
  seccomp: 'default' | 'unconfined' | { json: string };
  /** prctl(PR_SET_NO_NEW_PRIVS): off by default, as in Docker. */
  noNewPrivileges: boolean;
  /** systempaths=unconfined: /proc and /sys without masked and read-only paths. */
  systemPathsUnconfined: boolean;
}

export function securityOptions(securityOpt: string[]): SecurityOptions {
  const options: SecurityOptions = { seccomp: 'default', noNewPrivileges: false, systemPathsUnconfined: false };
  for (const option of securityOpt) {
    const [key, value] = splitOption(option);
    if (key === 'seccomp') options.seccomp = value === 'unconfined' ? 'unconfined' : { json: value! };
    else if (key === 'no-new-privileges') options.noNewPrivileges = value !== 'false';
    else if (key === 'systempaths') options.systemPathsUnconfined = true;
    // apparmor=unconfined and label=disable ask for no security module: tsrun loads none.
  }
  return options;
}
// #endregion

/** "key=value", or Docker's older "key:value"; no-new-privileges may stand alone. */
function splitOption(option: string): [string, string | undefined] {
  const at = option.search(/[=:]/);
  return at < 0 ? [option, undefined] : [option.slice(0, at), option.slice(at + 1)];
}

/** One --security-opt as the record keeps it: checked, with a seccomp profile's file read into it. */
function keptSecurityOpt(option: string): string {
  const [key, value] = splitOption(option);
  const invalid = (why: string) => fail(`invalid --security-opt ${JSON.stringify(option)}: ${why}`,
    'tsrun knows seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], systempaths=unconfined, apparmor=unconfined, label=disable');
  switch (key) {
    case 'seccomp': {
      if (!value) throw invalid('name a profile file, or unconfined');
      if (value === 'unconfined') return 'seccomp=unconfined';
      // The docker CLI reads the file itself and sends the profile: tsrun's daemon is given JSON, not a path.
      if (value.trimStart().startsWith('{')) {
        parseSeccompProfile(value, 'the seccomp profile');
        return `seccomp=${JSON.stringify(JSON.parse(value))}`;
      }
      let text: string;
      try {
        text = fs.readFileSync(value, 'utf8');
      } catch (error) {
        throw fail(`cannot read seccomp profile ${JSON.stringify(value)}: ${(error as NodeJS.ErrnoException).code}`, 'check the path given to --security-opt seccomp=', error);
      }
      parseSeccompProfile(text, value); // a malformed profile is refused now, with what is wrong in it
      return `seccomp=${JSON.stringify(JSON.parse(text))}`;
    }
    case 'no-new-privileges':
      if (value !== undefined && value !== 'true' && value !== 'false') throw invalid('the value is true or false');
      return value === undefined ? 'no-new-privileges' : `no-new-privileges=${value}`;
    case 'systempaths':
      if (value !== 'unconfined') throw invalid('the only value is unconfined');
      return 'systempaths=unconfined';
    case 'apparmor':
      if (value !== 'unconfined') throw invalid('tsrun loads no AppArmor profiles');
      return option;
    case 'label':
      if (value !== 'disable') throw invalid('tsrun sets no SELinux labels');
      return option;
    default:
      throw invalid(`${JSON.stringify(key)} is not an option tsrun knows`);
  }
}

// #region device-flag
/** --device HOST[:CONTAINER][:PERMISSIONS], as docker reads it; the host's node must exist now. */
export function parseDevice(flag: string): DeviceMapping {
  const parts = flag.split(':');
  const isPermissions = (text: string | undefined) => text !== undefined && /^[rwm]{1,3}$/.test(text);
  const pathOnHost = parts[0]!;
  let pathInContainer = pathOnHost;
  let cgroupPermissions = 'rwm';
  if (parts.length === 2) {
    if (isPermissions(parts[1])) cgroupPermissions = parts[1]!;
    else pathInContainer = parts[1]!;
  } else if (parts.length === 3 && isPermissions(parts[2])) {
    pathInContainer = parts[1]!;
    cgroupPermissions = parts[2]!;
  } else if (parts.length !== 1) {
    throw fail(`invalid --device ${JSON.stringify(flag)}`, 'write HOST_PATH[:CONTAINER_PATH][:PERMISSIONS], permissions from r, w and m');
  }
  if (!pathOnHost.startsWith('/') || !pathInContainer.startsWith('/')) throw fail(`invalid --device ${JSON.stringify(flag)}: paths must be absolute`, 'start both paths with /');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(pathOnHost);
  } catch (error) {
    throw fail(`cannot add device ${JSON.stringify(pathOnHost)}: ${(error as NodeJS.ErrnoException).code}`, 'give the path of a device node on this machine, e.g. /dev/fuse', error);
  }
  if (!stat.isCharacterDevice() && !stat.isBlockDevice()) throw fail(`cannot add device ${JSON.stringify(pathOnHost)}: not a device node`, 'give the path of a character or block device, e.g. /dev/fuse');
  return { pathOnHost, pathInContainer, cgroupPermissions };
}
// #endregion

/** The resources --ulimit may limit, by Docker's names. */
export const ULIMIT_RESOURCES: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

/** --ulimit NAME=SOFT[:HARD]; -1 is unlimited. */
export function parseUlimit(flag: string): Ulimit {
  const match = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(flag);
  const invalid = (why: string) => fail(`invalid --ulimit ${JSON.stringify(flag)}: ${why}`, `write NAME=SOFT[:HARD], NAME one of ${Object.keys(ULIMIT_RESOURCES).join(', ')}`);
  if (!match) throw invalid('not NAME=SOFT[:HARD]');
  const [, name, softText, hardText] = match;
  // Own keys only: "constructor" is on every object's prototype, and no resource.
  if (!Object.hasOwn(ULIMIT_RESOURCES, name!)) throw invalid(`unknown resource ${JSON.stringify(name)}`);
  const soft = Number(softText);
  const hard = hardText === undefined ? soft : Number(hardText);
  const unlimited = (n: number) => n === -1;
  if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard) || soft < -1 || hard < -1) throw invalid('limits are whole numbers, or -1 for unlimited');
  if (!unlimited(hard) && (unlimited(soft) || soft > hard)) throw invalid('the soft limit must not be above the hard limit');
  return { name: name!, soft, hard };
}
