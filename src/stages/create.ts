// Stage 2, create: turn an image and the user's flags into a container
// record — an id, a name, and the exact process to run — and store it.
// Nothing runs yet: a created container is only data on disk.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { ContainerRecord, NetworkMode, RestartPolicy, RunRequest, Runtime } from '../container.js';
import type { ImageRecord } from '../store/images.js';
import { VALID_NAME, addContainer } from '../store/containers.js';
import { fail } from '../errors.js';
import type { PortMapping } from '../net/ports.js';
import { parseBytes } from '../cgroups/limits.js';
import type { MountSpec } from '../volumes/spec.js';
import { layerDir } from '../store/paths.js';
import { inSpan } from '../trace/span.js';
import { securityConfig } from '../security/options.js';
import { parseUserSpec } from '../image/passwd.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// #region create
export async function create(runtime: Runtime, image: ImageRecord, request: RunRequest): Promise<ContainerRecord> {
  return inSpan('tsrun.create', { 'container.image.name': request.image, 'container.image.id': image.id }, async (span) => {
    const id = crypto.randomBytes(32).toString('hex'); // 64 hex digits, like docker's
    const name = request.name; // without one, addContainer picks a free one
    if (name !== undefined && !VALID_NAME.test(name)) {
      throw fail(`invalid container name "${name}"`, 'use letters, digits, "_", "." and "-", starting with a letter or digit');
    }
    const hostname = request.hostname ?? id.slice(0, 12);
    const user = request.user ?? image.config.config?.User ?? '';
    parseUserSpec(user); // a uid out of range fails here, before there is a container to clean up
    const unnamed = {
      id,
      name,
      created: new Date().toISOString(),
      image: { id: image.id, name: request.image, layers: image.layers.map((layer) => layer.diffId) },
      config: {
        ...commandLine(image, request),
        env: environment(image, request, hostname),
        workingDir: workingDirectory(image, request),
        user,
        hostname,
        tty: request.tty,
        interactive: request.interactive,
        autoRemove: request.autoRemove,
        network: await networkMode(runtime, request),
        ports: await portsToPublish(image, request),
        mounts: await volumesFor(runtime, image, request),
        readOnly: request.readOnly ?? false,
        restart: restartPolicy(request),
        logMaxSize: logMaxSize(request),
        stopSignal: request.stopSignal ?? image.config.config?.StopSignal,
        resources: request.resources ?? {},
        security: securityConfig(request.security ?? {}),
      },
      state: { status: 'created' as const, pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
    };
    const record = await addContainer(runtime.sys, runtime.paths, unnamed);
    span.setAttributes({ 'container.id': id, 'container.name': record.name, 'container.command_args': record.config.argv });
    return record;
  });
}
// #endregion

// #region command-line
/** Docker's rule: ENTRYPOINT + CMD, where arguments after the image replace CMD,
 *  and --entrypoint replaces ENTRYPOINT and drops the image's CMD. */
function commandLine(image: ImageRecord, request: RunRequest): { argv: string[]; entrypoint: string[]; cmd: string[] } {
  const imageConfig = image.config.config ?? {};
  const entrypoint = request.entrypoint !== undefined
    ? (request.entrypoint === '' ? [] : [request.entrypoint])
    : imageConfig.Entrypoint ?? [];
  const cmd = request.command.length > 0
    ? request.command
    : request.entrypoint !== undefined ? [] : imageConfig.Cmd ?? [];
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw fail('no command specified', 'give a command after the image name, or use an image with a CMD');
  return { argv, entrypoint, cmd };
}
// #endregion

// #region environment
/** The image's Env, then --env-file lines, then -e flags; later wins. HOSTNAME and a
 *  default PATH are set the way docker sets them. */
function environment(image: ImageRecord, request: RunRequest, hostname: string): string[] {
  const env = new Map<string, string>();
  const add = (entry: string) => {
    const eq = entry.indexOf('=');
    // Not repeated in the message, which a trace records: all of it is a value.
    if (eq === 0) throw fail('invalid environment variable: a value with no name before its "="', 'write it as KEY=VALUE');
    if (eq < 0) {
      // A bare KEY takes its value from tsrun's own environment, or is left out.
      const value = process.env[entry];
      if (value !== undefined) env.set(entry, value);
    } else {
      env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  };
  add(DEFAULT_PATH);
  env.set('HOSTNAME', hostname);
  for (const entry of image.config.config?.Env ?? []) add(entry);
  for (const file of request.envFiles) for (const entry of readEnvFile(file)) add(entry);
  for (const entry of request.env) add(entry);
  if (request.tty && !env.has('TERM')) env.set('TERM', 'xterm');
  return [...env].map(([key, value]) => `${key}=${value}`);
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

// #region ports
/** -p flags, and with -P every port the image EXPOSEs that no -p names. Their host ports are picked at start. */
async function portsToPublish(image: ImageRecord, request: RunRequest): Promise<PortMapping[]> {
  if (!request.publish?.length && !request.publishAll) return [];
  const { exposedPorts, parsePublish } = await import('../net/ports.js'); // loaded only when ports are published
  const explicit = (request.publish ?? []).map(parsePublish);
  const named = new Set(explicit.map((port) => `${port.containerPort}/${port.protocol}`));
  const exposed = request.publishAll ? exposedPorts(image.config.config?.ExposedPorts).filter((port) => !named.has(`${port.containerPort}/${port.protocol}`)) : [];
  const ports = [...explicit, ...exposed];
  if (ports.length > 0 && (request.network === 'none' || request.network === 'host')) {
    throw fail(`--network ${request.network} has no ports to publish`, request.network === 'host' ? 'the container uses the host\'s ports directly: drop -p' : 'drop -p, or use --network bridge');
  }
  return ports;
}
// #endregion

/** bridge, none, host, or a user network: by its name, as it is recorded even when given by id. */
// #region volumes
/** -v, --mount and --tmpfs as mounts. Volumes are made now, as docker makes them: an anonymous one gets its
 *  name, and a new one starts with what the image has at its path. */
async function volumesFor(runtime: Runtime, image: ImageRecord, request: RunRequest): Promise<MountSpec[]> {
  if (!request.volumes?.length && !request.mounts?.length && !request.tmpfs?.length) return [];
  // Loaded only when something is mounted: most runs mount nothing, and start faster without them.
  const { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } = await import('../volumes/spec.js');
  const { ensureVolume, volumeDataDir } = await import('../volumes/store.js');
  const { checkMountTarget, copyImageContent } = await import('../volumes/mounts.js');
  const specs = [
    ...(request.volumes ?? []).map(parseVolumeFlag),
    ...(request.mounts ?? []).map(parseMountFlag),
    ...(request.tmpfs ?? []).map(parseTmpfsFlag),
  ];
  const targets = specs.map((spec) => spec.target);
  const twice = targets.find((target, i) => targets.indexOf(target) !== i);
  if (twice) throw fail(`duplicate mount point: ${twice}`, 'mount one thing on each path');
  const layers = image.layers.map((layer) => layerDir(runtime.paths, layer.diffId));
  for (const spec of specs) checkMountTarget(spec.target, [...layers].reverse(), runtime.sys); // before any volume exists
  for (const spec of specs) {
    if (spec.type !== 'volume') continue;
    const { volume, created } = await ensureVolume(runtime.sys, runtime.paths, spec.source);
    spec.source = volume.Name;
    if (created) copyImageContent(layers, spec.target, volumeDataDir(runtime.paths, volume.Name), runtime.sys);
  }
  return specs;
}
// #endregion

/** --log-opt max-size=10m (json-file's only option tsrun has). */
function logMaxSize(request: RunRequest): number | undefined {
  let size: number | undefined;
  for (const option of request.logOptions ?? []) {
    const [key, value] = option.split('=');
    if (key !== 'max-size' || !value) throw fail(`invalid --log-opt "${option}"`, 'tsrun\'s json-file log takes max-size=SIZE, e.g. --log-opt max-size=1m');
    size = parseBytes('--log-opt max-size', value);
  }
  return size;
}

/** --restart as docker reads it; with --rm it makes no sense, and docker refuses the pair. */
function restartPolicy(request: RunRequest): RestartPolicy {
  const [name, count, ...extra] = (request.restart ?? 'no').split(':');
  const policies = ['no', 'on-failure', 'always', 'unless-stopped'];
  if (!policies.includes(name!) || extra.length > 0 || (count !== undefined && (name !== 'on-failure' || !/^\d+$/.test(count)))) {
    throw fail(`invalid restart policy "${request.restart}"`, 'use no, on-failure[:MAX-RETRIES], always or unless-stopped');
  }
  if (name !== 'no' && request.autoRemove) throw fail('conflicting options: --restart and --rm', 'a container that removes itself cannot be restarted: drop one');
  return { name: name as RestartPolicy['name'], maximumRetryCount: Number(count ?? 0) };
}

async function networkMode(runtime: Runtime, request: RunRequest): Promise<NetworkMode> {
  const mode = request.network ?? 'bridge';
  if (mode === 'bridge' || mode === 'none' || mode === 'host') return mode;
  const { findNetwork } = await import('../net/networks.js'); // user networks' records, only when one is named
  const network = findNetwork(runtime.paths, mode);
  if (!network) throw fail(`network ${mode} not found`, 'use --network bridge, none, host, or a network from `tsrun network ls`');
  return network.name;
}

function workingDirectory(image: ImageRecord, request: RunRequest): string {
  const dir = request.workdir ?? (image.config.config?.WorkingDir || '/');
  if (!dir.startsWith('/')) {
    throw fail(`the working directory '${dir}' is invalid, it needs to be an absolute path`, 'start it with /');
  }
  return dir;
}
