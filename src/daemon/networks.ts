// The networks endpoints: `docker network create/ls/inspect/connect/disconnect/rm/prune`. Each calls what
// `tsrun network` calls (src/net/networks.ts, and src/containers/connect.ts for a container joining or leaving
// one); what is left here is the API's side: the body read, Docker's status codes and words.
import { BUILT_IN_NETWORKS, createNetwork, findNetwork, inspectNetwork, networkId, networkSummaries, pruneNetworks, removeNetwork } from '../net/networks.js';
import { networkHost } from '../net/bridges.js';
import { connectToNetwork, disconnectFromNetwork } from '../containers/connect.js';
import { labelsMatch, patternMatches } from '../docker/filters.js';
import { Fields, UNSUPPORTED, refuseIfSet } from './create-body.js';
import { lookUp } from './containers.js';
import {
  ApiError, asBadRequest, badRequest, conflict, danglingFilter, filtersIn, notFound, readJsonBody, sendEmpty, sendJson, type DaemonRequest,
} from './http.js';

const forbidden = (message: string) => new ApiError(403, message);
const isBuiltIn = (name: string) => (BUILT_IN_NETWORKS as readonly string[]).includes(name);

/** The network the path names (a name, or its id or a prefix of it), by the name tsrun's records use; 404 if none. */
function networkNamed({ runtime }: DaemonRequest, nameOrId: string): string {
  if (isBuiltIn(nameOrId)) return nameOrId;
  const network = findNetwork(runtime.paths, nameOrId);
  if (!network) throw notFound(`network ${nameOrId} not found`);
  return network.name;
}

/** GET /networks[?filters=…]: the built-in networks and the user's, each as GET /networks/{id} shows it; filtered
 *  as dockerd filters them, by what that document says. */
export function list(request: DaemonRequest): void {
  const filters = filtersIn(request.query, 'networks', ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
  const types = filters.type ?? [];
  const bad = types.find((type) => type !== 'builtin' && type !== 'custom');
  if (bad !== undefined) throw badRequest(`Invalid filter: 'type'='${bad}'`); // dockerd's words for this one
  const dangling = danglingFilter(filters);
  const { paths } = request.runtime;
  const networks = networkSummaries(paths).map((network) => inspectNetwork(paths, networkHost(paths), network.name) as NetworkDocument);
  sendJson(request.res, 200, networks.filter((network) => {
    const custom = !isBuiltIn(network.Name);
    const any = (key: string, test: (value: string) => boolean) => !filters[key] || filters[key]!.some(test);
    return any('name', (value) => patternMatches([value], network.Name))
      && any('id', (value) => patternMatches([value], network.Id))
      && any('driver', (value) => value === network.Driver)
      && any('scope', (value) => value === network.Scope)
      && any('type', (value) => (value === 'custom') === custom)
      && labelsMatch(filters.label ?? [], network.Labels)
      // dockerd's dangling: a network of the user's that no container is on.
      && (dangling === undefined || dangling === (custom && Object.keys(network.Containers).length === 0));
  }));
}

/** What a filter reads of a network's document. */
interface NetworkDocument { Name: string; Id: string; Driver: string; Scope: string; Labels: Record<string, string>; Containers: object }

/** GET /networks/{id}: also asked by `docker network rm` first, and by an untyped `docker inspect` (a 404 moves it on). */
export function inspect(request: DaemonRequest): void {
  const { paths } = request.runtime;
  sendJson(request.res, 200, inspectNetwork(paths, networkHost(paths), networkNamed(request, request.params.id!)));
}

/** POST /networks/create: a bridge with a subnet of its own, as `tsrun network create [--subnet]` makes it, with
 *  its labels. What tsrun's networks cannot be (internal, IPv6, another driver) is refused, not dropped. */
export async function create(request: DaemonRequest): Promise<void> {
  const { runtime, req, res } = request;
  const body = new Fields(await readJsonBody(req), '');
  const name = body.requiredText('Name');
  const driver = body.text('Driver') || 'bridge';
  if (driver !== 'bridge') throw badRequest(`tsrun's networks are bridges: the driver ${driver} is not supported`);
  // Attachable is for swarm's overlay networks: any container may join a local bridge (docker-compose sets it).
  refuseIfSet(body, ['Internal', 'EnableIPv6', 'Ingress', 'ConfigOnly', 'ConfigFrom', 'Options']);
  const ipam = body.object('IPAM');
  refuseIfSet(ipam, ['Options']);
  if (!['', 'default'].includes(ipam.text('Driver') ?? '')) throw badRequest(`tsrun has the default IPAM driver only, not ${ipam.text('Driver')}`);
  const configs = ipam.objects('Config');
  if (configs.length > 1) throw badRequest('tsrun gives a network one subnet');
  for (const config of configs) refuseIfSet(config, ['IPRange', 'Gateway', 'AuxiliaryAddresses']); // the gateway is the subnet's first address
  if (isBuiltIn(name) || findNetwork(runtime.paths, name)?.name === name) {
    throw conflict(`network with name ${name} already exists`);
  }
  const network = await asBadRequest(() => createNetwork(runtime.sys, runtime.paths, networkHost(runtime.paths), name, configs[0]?.text('Subnet') || undefined, body.textMap('Labels')));
  request.events.emit('network', 'create', network.id, { name, type: 'bridge' });
  sendJson(res, 201, { Id: network.id, Warning: '' });
}

// #region network-connect
/** POST /networks/{id}/connect {"Container": …, "EndpointConfig": {"Aliases": […]}}: a running container gets its
 *  interface there at once (`tsrun network connect`'s code), any other at its next start. */
export async function connect(request: DaemonRequest): Promise<void> {
  const body = new Fields(await readJsonBody(request.req), '');
  const endpoint = body.object('EndpointConfig');
  refuseIfSet(endpoint, UNSUPPORTED.endpoint);
  const network = networkNamed(request, request.params.id!);
  const container = await lookUp({ runtime: request.runtime, params: { id: body.requiredText('Container') } });
  await asBadRequest(() => connectToNetwork(request.runtime, network, container.id, endpoint.texts('Aliases')));
  tellEndpoint(request, 'connect', network, container.id);
  sendEmpty(request.res, 200);
}
// #endregion

/** POST /networks/{id}/disconnect {"Container": …, "Force": bool}: with Force, from a network removed meanwhile too. */
export async function disconnect(request: DaemonRequest): Promise<void> {
  const body = new Fields(await readJsonBody(request.req), '');
  const force = body.flag('Force');
  const network = force ? request.params.id! : networkNamed(request, request.params.id!);
  const container = await lookUp({ runtime: request.runtime, params: { id: body.requiredText('Container') } });
  await asBadRequest(() => disconnectFromNetwork(request.runtime, network, container.id, force));
  tellEndpoint(request, 'disconnect', network, container.id);
  sendEmpty(request.res, 200);
}

/** A container joining or leaving a network, as dockerd tells it: the network the actor, the container an attribute. */
function tellEndpoint({ events, runtime }: DaemonRequest, action: 'connect' | 'disconnect', network: string, container: string): void {
  events.emit('network', action, networkId(runtime.paths, network), { container, name: network, type: 'bridge' });
}

/** DELETE /networks/{id}: 204; dockerd's 403 for a built-in network and for one a running container is on. */
export async function remove(request: DaemonRequest): Promise<void> {
  const { runtime, params } = request;
  if (isBuiltIn(params.id!)) throw forbidden(`${params.id} is a pre-defined network and cannot be removed`);
  const name = networkNamed(request, params.id!);
  const removed = await asBadRequest(() => removeNetwork(runtime.sys, runtime.paths, networkHost(runtime.paths), name), 403);
  request.events.emit('network', 'destroy', removed.id, { name, type: 'bridge' });
  sendEmpty(request.res, 204);
}

/** POST /networks/prune: every user network no running container is on, as `tsrun network prune` finds them. */
export async function prune(request: DaemonRequest): Promise<void> {
  filtersIn(request.query, 'networks', [], ['label', 'label!', 'until']);
  const { sys, paths } = request.runtime;
  const removed = await pruneNetworks(sys, paths, networkHost(paths));
  for (const network of removed) request.events.emit('network', 'destroy', network.id, { name: network.name, type: 'bridge' });
  sendJson(request.res, 200, { NetworksDeleted: removed.map((network) => network.name) });
}
