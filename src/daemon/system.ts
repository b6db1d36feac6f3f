// The endpoints about the daemon itself: /_ping (the first call of every docker command), /version, /info.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { API_VERSION, sendJson, type DaemonRequest } from './http.js';
import { isUp } from '../container.js';
import { listContainers } from '../store/containers.js';
import { listImages } from '../store/images.js';
import { hostCgroupLayout } from '../cgroups/cgroup.js';
import { tsrunVersion } from '../version.js';

// #region ping
/** HEAD (or, if that fails, GET) /_ping: the CLI reads Api-Version from its headers to choose the version of every
 *  path it sends after it (/v1.41/containers/create …); without it, it falls back to 1.24 and older ways. */
export function ping({ req, res }: DaemonRequest): void {
  res.writeHead(200, {
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    'Pragma': 'no-cache',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': req.method === 'HEAD' ? 0 : 2,
  });
  res.end(req.method === 'HEAD' ? undefined : 'OK');
}
// #endregion

/** `docker version` prints the Engine component; what it lacks prints as an empty line. */
export function version({ res }: DaemonRequest): void {
  const engine = { Version: tsrunVersion(), ApiVersion: API_VERSION, MinAPIVersion: API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: os.release() };
  sendJson(res, 200, {
    Platform: { Name: 'tsrun' },
    // Details are strings; the top level's Experimental is a boolean.
    Components: [{ Name: 'Engine', Version: engine.Version, Details: { ...engine, Experimental: 'false' } }],
    ...engine,
    Experimental: false,
  });
}

/** `docker info`, and an untyped `docker inspect`, which asks it whether swarm mode is on before it gives up. */
export function info({ runtime, res }: DaemonRequest): void {
  const containers = listContainers(runtime.paths);
  const count = (status: string) => containers.filter((c) => c.state.status === status).length;
  sendJson(res, 200, {
    // Docker keeps a random id in its data root; one derived from the host and the store is as stable.
    ID: crypto.createHash('sha256').update(`${os.hostname()}:${runtime.paths.root}`).digest('hex').slice(0, 32),
    Containers: containers.length,
    ContainersRunning: containers.filter((c) => isUp(c.state) && c.state.status !== 'paused').length,
    ContainersPaused: count('paused'),
    ContainersStopped: containers.length - containers.filter((c) => isUp(c.state)).length,
    Images: listImages(runtime.paths).length,
    Driver: 'overlay',
    DriverStatus: [],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Log: ['json-file'] },
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: String(hostCgroupLayout().version),
    KernelVersion: os.release(),
    OperatingSystem: operatingSystem(),
    OSType: 'linux',
    Architecture: os.machine(),
    NCPU: os.availableParallelism(),
    MemTotal: os.totalmem(),
    Name: os.hostname(),
    ServerVersion: tsrunVersion(),
    DockerRootDir: runtime.paths.root,
    SecurityOptions: ['name=seccomp,profile=default'],
    // Docker's name for containers that outlive their daemon, which tsrun's always do (their monitors).
    LiveRestoreEnabled: true,
    // Without it the CLI prints a swarm node's lines, empty.
    Swarm: { LocalNodeState: 'inactive', ControlAvailable: false },
    Warnings: [],
  });
}

/** Go's name for the machine, as dockerd reports it: amd64, arm64. */
function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

/** PRETTY_NAME from /etc/os-release: "Debian GNU/Linux 12 (bookworm)". */
function operatingSystem(): string {
  try {
    const line = fs.readFileSync('/etc/os-release', 'utf8').split('\n').find((l) => l.startsWith('PRETTY_NAME='));
    return line ? line.slice('PRETTY_NAME='.length).replace(/^"|"$/g, '') : 'Linux';
  } catch {
    return 'Linux';
  }
}
