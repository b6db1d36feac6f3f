// User networks, Docker's `docker network create`: each one a bridge of its
// own with a subnet of its own. Containers on one reach each other by name
// (the network's name server answers them, see dns.ts); containers on
// different networks cannot reach each other at all (nat.ts drops what the
// host would forward between bridges).
//
// A network is a record in the store, <root>/networks/<name>.json, so it
// outlives a reboot; its bridge and leases live under /run like the default
// bridge's, and the bridge is made again on first use after a reboot.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Syscalls } from '../kernel/syscalls.js';
import type { StorePaths } from '../store/paths.js';
import { readJson, writeJsonAtomic } from '../store/atomic.js';
import { TsrunError, fail } from '../errors.js';
import { formatAddress, nthAddress, overlaps, parseSubnet } from './address.js';
import { normaliseSubnet } from './bridge.js';
import { defaultNetwork, ensureBridge, pruneBridge, withNetworkLock, type BridgeNetwork, type NetworkHost } from './bridges.js';
import { readBridgeState } from './ipam.js';

export interface NetworkRecord {
  name: string;
  /** 64 hex digits, like docker's network ids. */
  id: string;
  bridge: string;
  subnet: string;
  gateway: string;
  created: string;
  /** `docker network create --label`: the user's notes, which `network ls --filter label=` finds. */
  labels?: Record<string, string>;
}

/** The networks every tsrun has, as `docker network ls` lists them too. */
export const BUILT_IN_NETWORKS = ['bridge', 'host', 'none'] as const;

const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Where subnets for networks created without --subnet come from: 10.89.0.0/16, 10.90.0.0/16, … */
const AUTOMATIC_SUBNETS = Array.from({ length: 40 }, (_, i) => `10.${89 + i}.0.0/16`);

const networksDir = (paths: StorePaths) => path.join(paths.root, 'networks');
const recordPath = (paths: StorePaths, name: string) => path.join(networksDir(paths), `${name}.json`);

export function listNetworks(paths: StorePaths): NetworkRecord[] {
  if (!fs.existsSync(networksDir(paths))) return [];
  return fs.readdirSync(networksDir(paths)).filter((file) => file.endsWith('.json')).sort()
    .map((file) => readJson<NetworkRecord>(path.join(networksDir(paths), file)));
}

/** A user network by name, or by (a prefix of) its id. */
export function findNetwork(paths: StorePaths, nameOrId: string): NetworkRecord | undefined {
  return listNetworks(paths).find((network) => network.name === nameOrId)
    ?? (nameOrId.length >= 3 ? listNetworks(paths).find((network) => network.id.startsWith(nameOrId)) : undefined);
}

/** The bridge network a container's --network names: the default one, or a user network. */
export function bridgeNetworkFor(paths: StorePaths, name: string): BridgeNetwork {
  if (name === 'bridge') return defaultNetwork(paths);
  const network = findNetwork(paths, name);
  if (!network) throw fail(`network ${name} not found`, `create it with \`tsrun network create ${name}\`, or use --network bridge, none or host`);
  return { name: network.name, bridge: network.bridge, subnet: network.subnet };
}

// #region network-create
/** `tsrun network create [--subnet CIDR] NAME`: the record, then the bridge (under the network lock). */
export async function createNetwork(
  sys: Syscalls, paths: StorePaths, host: NetworkHost, name: string, subnetText?: string, labels: Record<string, string> = {},
): Promise<NetworkRecord> {
  if (!VALID_NAME.test(name)) throw fail(`invalid network name "${name}"`, 'use letters, digits, "_", "." and "-", starting with a letter or digit');
  if ((BUILT_IN_NETWORKS as readonly string[]).includes(name) || findNetwork(paths, name)) {
    throw fail(`network with name ${name} already exists`, 'choose another name, or remove the old network with `tsrun network rm`');
  }
  return withNetworkLock(sys, host, async () => {
    const taken = [defaultNetwork(paths).subnet, ...listNetworks(paths).map((network) => network.subnet)];
    const subnet = subnetText === undefined ? freeSubnet(taken) : normaliseSubnet(subnetText);
    const clash = taken.find((other) => overlaps(parseSubnet(other), parseSubnet(subnet)));
    if (clash) throw fail(`the subnet ${subnet} overlaps ${clash}, which another of tsrun's networks uses`, 'give another --subnet');
    const id = crypto.randomBytes(32).toString('hex');
    const record: NetworkRecord = {
      name, id, bridge: `tsrun-${id.slice(0, 8)}`, subnet,
      gateway: formatAddress(nthAddress(parseSubnet(subnet), 1)),
      created: new Date().toISOString(),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
    };
    // The bridge first: a subnet the host already routes is refused before anything is recorded.
    await ensureBridge(sys, host, { name, bridge: record.bridge, subnet });
    writeJsonAtomic(recordPath(paths, name), record);
    return record;
  });
}
// #endregion

/** `tsrun network rm NAME`: refused while containers are on it; else the bridge and the record go. */
export async function removeNetwork(sys: Syscalls, paths: StorePaths, host: NetworkHost, nameOrId: string): Promise<NetworkRecord> {
  if ((BUILT_IN_NETWORKS as readonly string[]).includes(nameOrId)) {
    throw fail(`${nameOrId} is a pre-defined network and cannot be removed`, 'remove the networks you created');
  }
  const network = findNetwork(paths, nameOrId);
  if (!network) throw fail(`network ${nameOrId} not found`, 'see `tsrun network ls`');
  if (!(await pruneBridge(sys, host, network.bridge))) {
    throw new TsrunError(`error while removing network: network ${network.name} id ${network.id} has active endpoints`, { hint: 'stop or remove the containers on it first', code: 'IN_USE' });
  }
  fs.rmSync(recordPath(paths, network.name), { force: true });
  return network;
}

/** `tsrun network prune`: every user network no container is on. */
export async function pruneNetworks(sys: Syscalls, paths: StorePaths, host: NetworkHost): Promise<NetworkRecord[]> {
  const removed: NetworkRecord[] = [];
  for (const network of listNetworks(paths)) {
    if (!(await pruneBridge(sys, host, network.bridge))) continue;
    fs.rmSync(recordPath(paths, network.name), { force: true });
    removed.push(network);
  }
  return removed;
}

/** The rows of `tsrun network ls`: the built-in networks, then the user's. */
export function networkSummaries(paths: StorePaths): Array<{ id: string; name: string; driver: string }> {
  return [
    ...BUILT_IN_NETWORKS.map((name) => ({ id: builtInId(name), name, driver: name === 'bridge' ? 'bridge' : name === 'host' ? 'host' : 'null' })),
    ...listNetworks(paths).map((network) => ({ id: network.id, name: network.name, driver: 'bridge' })),
  ];
}

/** `tsrun network inspect`, and the daemon's GET /networks/{id}: docker's shape, with the containers on it now.
 *  host and none have no bridge, no subnet and no container tsrun keeps a lease for. */
export function inspectNetwork(paths: StorePaths, host: NetworkHost, nameOrId: string): object {
  if (nameOrId === 'host' || nameOrId === 'none') {
    return networkDocument({ name: nameOrId, id: builtInId(nameOrId), created: BUILT_IN_CREATED }, nameOrId === 'host' ? 'host' : 'null', [], {}, {});
  }
  const defaults = defaultNetwork(paths);
  const network = nameOrId === 'bridge'
    ? { ...defaults, id: builtInId('bridge'), created: BUILT_IN_CREATED, gateway: formatAddress(nthAddress(parseSubnet(defaults.subnet), 1)) }
    : findNetwork(paths, nameOrId);
  if (!network) throw fail(`network ${nameOrId} not found`, 'see `tsrun network ls`');
  const prefix = parseSubnet(network.subnet).prefix;
  const leases = readBridgeState(host.stateDir, network.bridge)?.leases ?? {};
  const containers = Object.fromEntries(Object.entries(leases).map(([address, lease]) => [lease.container, { Name: lease.name ?? '', IPv4Address: `${address}/${prefix}` }]));
  // Options are what the network was created with, as dockerd keeps them: the default bridge names its Linux bridge,
  // as docker0's does; a user network was given none (docker-compose would see any other as a change, and recreate it).
  const options = nameOrId === 'bridge' ? { 'com.docker.network.bridge.name': network.bridge } : {};
  return networkDocument(network, 'bridge', [{ Subnet: network.subnet, Gateway: network.gateway }], containers, options);
}

/** Every field the docker CLI reads: it decodes Created as a time, so it must be one. */
function networkDocument(
  network: { name: string; id: string; created: string; labels?: Record<string, string> }, driver: string, config: object[], containers: object, options: object,
): object {
  return {
    Name: network.name,
    Id: network.id,
    Created: network.created,
    Scope: 'local',
    Driver: driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: config },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: options,
    Labels: network.labels ?? {},
  };
}

/** The built-in networks were made with tsrun, not at a time: Go's zero time, which docker shows as such. */
const BUILT_IN_CREATED = '0001-01-01T00:00:00Z';

/** What `docker inspect` shows as a container's NetworkID: a user network's id, or a built-in one's. */
export function networkId(paths: StorePaths, name: string): string {
  return findNetwork(paths, name)?.id ?? builtInId(name);
}

/** Built-in networks have no record; their ids are made from their names, so they stay the same. */
function builtInId(name: string): string {
  return crypto.createHash('sha256').update(`tsrun network ${name}`).digest('hex');
}

function freeSubnet(taken: string[]): string {
  const free = AUTOMATIC_SUBNETS.find((candidate) => !taken.some((other) => overlaps(parseSubnet(other), parseSubnet(candidate))));
  if (!free) throw fail('no free subnet left for a new network', 'remove networks you no longer use, or give --subnet');
  return free;
}
