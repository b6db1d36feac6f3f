// Stage 2, create: turn an image and the request into a container record — an
// id, a name, and the exact process to run — and store it, with the volumes it
// names. Nothing runs yet: a created container is data on disk.
//
// The request comes parsed and checked (src/cli/run-request.ts): what is left
// is what only the image can settle, Docker's way.
import crypto from 'node:crypto';
import type { ContainerRecord, MountSpec, NetworkEndpoint, NetworkMode, PortMapping, RunRequest } from '../container.js';
import type { Runtime } from '../runtime.js';
import type { ImageRecord } from '../store/images.js';
import { addContainer } from '../store/containers.js';
import { fail } from '../errors.js';
import { layerDir } from '../store/paths.js';
import { annotate } from '../trace/span.js';
import { parseUserSpec } from '../image/passwd.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// #region create
export async function create(runtime: Runtime, image: ImageRecord, request: RunRequest): Promise<ContainerRecord> {
  annotate({ 'container.image.name': request.image, 'container.image.id': image.id });
  const id = crypto.randomBytes(32).toString('hex'); // 64 hex digits, like docker's
  const hostname = request.hostname ?? id.slice(0, 12);
  const user = request.user ?? image.config.config?.User ?? '';
  parseUserSpec(user); // a uid out of range fails here, before there is a container to clean up
  const record = await addContainer(runtime.sys, runtime.paths, {
    id,
    name: request.name, // without one, addContainer picks a free one
    created: new Date().toISOString(),
    image: { id: image.id, name: request.image, layers: image.layers.map((layer) => layer.diffId) },
    config: {
      ...commandLine(image, request),
      env: environment(image, request, hostname),
      workingDir: request.workdir ?? (image.config.config?.WorkingDir || '/'),
      user,
      hostname,
      tty: request.tty,
      interactive: request.interactive,
      stdinOnce: request.stdinOnce,
      autoRemove: request.autoRemove,
      ...await networks(runtime, request),
      ports: await portsToPublish(image, request),
      mounts: await volumesFor(runtime, image, request.mounts),
      readOnly: request.readOnly,
      restart: request.restart,
      logMaxSize: request.logMaxSize,
      stopSignal: request.stopSignal ?? image.config.config?.StopSignal,
      labels: { ...image.config.config?.Labels, ...request.labels }, // docker's merge: the request's win
      resources: request.resources,
      security: request.security,
    },
    state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
  });
  annotate({ 'container.id': id, 'container.name': record.name, 'container.command_args': record.config.argv });
  return record;
}
// #endregion

// #region command-line
/** Docker's rule: ENTRYPOINT + CMD, where arguments after the image replace CMD,
 *  and --entrypoint replaces ENTRYPOINT and drops the image's CMD. */
function commandLine(image: ImageRecord, request: RunRequest): { argv: string[]; entrypoint: string[]; cmd: string[] } {
  const imageConfig = image.config.config ?? {};
  const entrypoint = request.entrypoint ?? imageConfig.Entrypoint ?? [];
  const cmd = request.command.length > 0
    ? request.command
    : request.entrypoint !== undefined ? [] : imageConfig.Cmd ?? [];
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw fail('no command specified', 'give a command after the image name, or use an image with a CMD');
  return { argv, entrypoint, cmd };
}
// #endregion

// #region environment
/** A default PATH and HOSTNAME, the image's Env, then the request's; later wins, as in docker. */
function environment(image: ImageRecord, request: RunRequest, hostname: string): string[] {
  const env = new Map<string, string>();
  const add = (entry: string) => {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  };
  add(DEFAULT_PATH);
  add(`HOSTNAME=${hostname}`);
  for (const entry of image.config.config?.Env ?? []) add(entry);
  for (const entry of request.env) add(entry);
  if (request.tty && !env.has('TERM')) env.set('TERM', 'xterm');
  return [...env].map(([key, value]) => `${key}=${value}`);
}
// #endregion

// #region ports
/** The request's ports, and with -P every port the image EXPOSEs that none of them names. Host ports are picked at start. */
async function portsToPublish(image: ImageRecord, request: RunRequest): Promise<PortMapping[]> {
  if (!request.publishAll) return request.ports;
  const { exposedPorts } = await import('../net/ports.js'); // loaded only when ports are published
  const named = new Set(request.ports.map((port) => `${port.containerPort}/${port.protocol}`));
  const exposed = exposedPorts(image.config.config?.ExposedPorts).filter((port) => !named.has(`${port.containerPort}/${port.protocol}`));
  return [...request.ports, ...exposed];
}
// #endregion

// #region volumes
/** Volumes are made now, as docker makes them: an anonymous one gets its name, and a new one starts with
 *  what the image has at its path. */
async function volumesFor(runtime: Runtime, image: ImageRecord, requested: MountSpec[]): Promise<MountSpec[]> {
  if (requested.length === 0) return [];
  // Loaded only when something is mounted: most runs mount nothing, and start faster without them.
  const { ensureVolume, volumeDataDir } = await import('../volumes/store.js');
  const { checkMountTarget, copyImageContent } = await import('../volumes/mounts.js');
  const layers = image.layers.map((layer) => layerDir(runtime.paths, layer.diffId));
  for (const spec of requested) checkMountTarget(spec.target, [...layers].reverse(), runtime.sys); // before any volume exists
  const mounts = requested.map((spec) => ({ ...spec }));
  for (const spec of mounts) {
    if (spec.type !== 'volume') continue;
    const { volume, created } = await ensureVolume(runtime.sys, runtime.paths, spec.source);
    spec.source = volume.Name;
    if (created) copyImageContent(layers, spec.target, volumeDataDir(runtime.paths, volume.Name), runtime.sys);
  }
  return mounts;
}
// #endregion

/** The network mode (bridge, none, host, or a user network: by its name, as it is recorded even when given by
 *  id), and the network the container is on first, with its aliases there; none with none or host. */
async function networks(runtime: Runtime, request: RunRequest): Promise<{ network: NetworkMode; networks?: NetworkEndpoint[] }> {
  const mode = request.network;
  if (mode === 'none' || mode === 'host') return { network: mode };
  if (mode === 'bridge') return { network: mode, networks: [{ network: mode, aliases: [] }] };
  const { findNetwork } = await import('../net/networks.js'); // user networks' records, only when one is named
  const network = findNetwork(runtime.paths, mode);
  if (!network) throw fail(`network ${mode} not found`, 'use --network bridge, none, host, or a network from `tsrun network ls`');
  return { network: network.name, networks: [{ network: network.name, aliases: request.aliases }] };
}
