// `tsrun inspect`: a container or an image as JSON shaped like docker's, so
// what students learn to read in `docker inspect` reads the same here.
import path from 'node:path';
import { isUp, isUserNetwork, type ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { findContainer } from '../store/containers.js';
import { reconcile } from './reconcile.js';
import { findImage, type ImageRecord } from '../store/images.js';
import { containerDir, containerRunDir, layerDir } from '../store/paths.js';
import { lowerDirs, upperDir } from '../stages/rwlayer.js';
import { familiarString, parseReference } from '../image/reference.js';
import { fail } from '../errors.js';
import { findLease, findLeases } from '../net/ipam.js';
import { defaultNetwork } from '../net/bridges.js';
import { findNetwork, networkId } from '../net/networks.js';
import { parseSubnet } from '../net/address.js';
import { macFor } from '../net/veth.js';
import { networksOf } from '../stages/network.js';
import { volumeDataDir } from '../volumes/store.js';
import { DEFAULT_SECURITY } from '../security/options.js';
import { MASKED_PATHS, READONLY_PATHS, systemPathsMasked } from '../security/system-paths.js';

export async function inspect(runtime: Runtime, nameOrId: string): Promise<object> {
  const found = findContainer(runtime.paths, nameOrId);
  const container = found && await reconcile(runtime, found);
  if (container) return containerDocument(runtime, container);
  const image = findImage(runtime.paths, nameOrId);
  if (image) return imageDocument(runtime, image);
  throw fail(`no such object: ${nameOrId}`, 'give a container name or id (`tsrun ps -a`) or an image (`tsrun images`)');
}

export function containerDocument(runtime: Runtime, container: ContainerRecord): object {
  const { config, state } = container;
  const onBridge = isUp(state) ? findLease(container.id) : undefined;
  const leases = isUp(state) ? findLeases(container.id) : [];
  const limits = config.resources ?? {};
  const security = config.security ?? DEFAULT_SECURITY;
  const masked = systemPathsMasked(security);
  const dir = containerDir(runtime.paths, container.id);
  return {
    Id: container.id,
    Created: container.created,
    Path: config.argv[0],
    Args: config.argv.slice(1),
    State: {
      Status: state.status,
      Running: state.status === 'running' || state.status === 'paused',
      Paused: state.status === 'paused',
      OOMKilled: state.oomKilled ?? false,
      Dead: false,
      Pid: state.pid ?? 0,
      ExitCode: state.exitCode ?? 0,
      Error: state.error,
      StartedAt: state.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: state.finishedAt ?? '0001-01-01T00:00:00Z',
    },
    Image: container.image.id,
    Name: `/${container.name}`,
    RestartCount: state.restartCount ?? 0,
    Driver: 'overlay',
    HostConfig: {
      AutoRemove: config.autoRemove,
      RestartPolicy: { Name: config.restart?.name ?? 'no', MaximumRetryCount: config.restart?.maximumRetryCount ?? 0 },
      NetworkMode: config.network ?? 'bridge',
      // tsrun-monitor writes docker's json-file logs: docker-compose reads them through the API only then.
      LogConfig: { Type: 'json-file', Config: config.logMaxSize === undefined ? {} : { 'max-size': String(config.logMaxSize) } },
      Memory: limits.memory ?? 0,
      MemorySwap: limits.memorySwap ?? 0,
      NanoCpus: Math.round((limits.cpus ?? 0) * 1e9),
      CpuShares: limits.cpuShares ?? 0,
      PidsLimit: limits.pidsLimit ?? null,
      CpusetCpus: limits.cpusetCpus ?? '',
      Privileged: security.privileged,
      CapAdd: security.capAdd.length ? security.capAdd : null,
      CapDrop: security.capDrop.length ? security.capDrop : null,
      SecurityOpt: security.securityOpt.length ? security.securityOpt : null,
      Devices: security.devices.map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.cgroupPermissions })),
      Ulimits: security.ulimits.map((u) => ({ Name: u.name, Hard: u.hard, Soft: u.soft })),
      MaskedPaths: masked ? MASKED_PATHS : null,
      ReadonlyPaths: masked ? READONLY_PATHS : null,
    },
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: lowerDirs(runtime.paths, container).join(':'),
        UpperDir: upperDir(runtime.paths, container),
        WorkDir: path.join(dir, 'work'),
        MergedDir: path.join(containerRunDir(runtime.paths, container.id), 'rootfs'),
      },
    },
    Mounts: (config.mounts ?? []).map((mount) => ({
      Type: mount.type,
      ...(mount.type === 'volume' ? { Name: mount.source, Driver: 'local' } : {}),
      Source: mount.type === 'volume' ? volumeDataDir(runtime.paths, mount.source) : mount.source,
      Destination: mount.target,
      RW: !mount.readOnly,
    })),
    NetworkSettings: {
      IPAddress: onBridge?.address ?? '',
      Gateway: onBridge?.gateway ?? '',
      // docker's shape: { "80/tcp": [{ "HostIp": "0.0.0.0", "HostPort": "8080" }] }, null for a port not published now
      Ports: Object.fromEntries((config.ports ?? []).map((wanted) => {
        const key = `${wanted.containerPort}/${wanted.protocol}`;
        const bound = (onBridge?.lease.ports ?? []).filter((port) => `${port.containerPort}/${port.protocol}` === key);
        return [key, bound.length > 0 ? bound.map((port) => ({ HostIp: port.hostIp || '0.0.0.0', HostPort: String(port.hostPort) })) : null];
      })),
      Networks: networksDocument(runtime, container, leases),
    },
    Config: {
      Hostname: config.hostname,
      User: config.user,
      Tty: config.tty,
      OpenStdin: config.interactive,
      StdinOnce: config.stdinOnce ?? false,
      Env: config.env,
      Cmd: config.cmd ?? config.argv,
      Entrypoint: config.entrypoint?.length ? config.entrypoint : null,
      Image: container.image.name,
      WorkingDir: config.workingDir,
      Labels: config.labels ?? {},
    },
  };
}

/** Docker's NetworkSettings.Networks: each network the container is on, with its aliases there, and while it
 *  runs its address on it. DNSNames are what the network's name server answers for it (none on the default bridge). */
function networksDocument(runtime: Runtime, container: ContainerRecord, leases: ReturnType<typeof findLeases>): object {
  return Object.fromEntries(networksOf(container).map(({ network, aliases }) => {
    const bridge = network === 'bridge' ? defaultNetwork(runtime.paths).bridge : findNetwork(runtime.paths, network)?.bridge;
    const held = leases.find((lease) => lease.bridge === bridge);
    const prefix = held ? parseSubnet(held.state.subnet).prefix : 0;
    return [network, {
      Aliases: aliases.length > 0 ? aliases : null,
      NetworkID: networkId(runtime.paths, network),
      Gateway: held?.state.gateway ?? '',
      IPAddress: held?.address ?? '',
      IPPrefixLen: prefix,
      MacAddress: held ? macFor(held.address) : '',
      DNSNames: isUserNetwork(network) ? [container.name, container.id.slice(0, 12), ...aliases] : null,
    }];
  }));
}

export function imageDocument(runtime: Runtime, image: ImageRecord): object {
  const familiar = (canonical: string) => familiarString(parseReference(canonical));
  return {
    Id: image.id,
    RepoTags: image.repoTags.map(familiar),
    RepoDigests: image.repoDigests.map(familiar),
    Created: image.created,
    Architecture: image.config.architecture,
    Os: image.config.os,
    Size: image.size,
    Config: image.config.config ?? {},
    RootFS: { Type: 'layers', Layers: image.layers.map((layer) => layer.diffId) },
    GraphDriver: { Name: 'overlay', Data: { LowerDir: [...image.layers].reverse().map((l) => layerDir(runtime.paths, l.diffId)).join(':') } },
  };
}
