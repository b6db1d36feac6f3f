// GET /containers/json: `docker ps`, with dockerd's filters. `docker ps -f label=team=cap -f status=exited`
// sends {"label":{"team=cap":true},"status":{"exited":true}}: values of one key are alternatives (any may
// match; label's must all), different keys must all match.
import { isUp, type ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { findContainer } from '../store/containers.js';
import { findImage, type ImageRecord } from '../store/images.js';
import { reconcileAll } from '../containers/reconcile.js';
import { findLease } from '../net/ipam.js';
import { networkId } from '../net/networks.js';
import { networksOf } from '../stages/network.js';
import { upperDir } from '../stages/rwlayer.js';
import { directorySize } from '../store/disk-usage.js';
import { containerStatus } from '../docker/format.js';
import { labelsMatch, patternMatches, type Filters } from '../docker/filters.js';
import { filtersIn, invalidFilter, notFound, queryFlag, sendJson, type DaemonRequest } from './http.js';

/** The filters dockerd 20.10 takes on a container list, and those tsrun filters by. */
const DOCKER_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'];
const SERVED_FILTERS = ['ancestor', 'before', 'exited', 'id', 'label', 'name', 'network', 'since', 'status', 'volume'];

/** The states a status filter may name, as dockerd lists them (tsrun's containers are never in the others). */
const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

// #region list
/** GET /containers/json[?all=1][&limit=N][&size=1][&filters=…]: `docker ps` prints these fields as they are
 *  (Status too: "Up 3 seconds"), newest first. A status filter, a limit, before and since list stopped
 *  containers too, as dockerd does: `docker ps -f status=exited` needs no -a. */
export async function list({ runtime, res, query }: DaemonRequest): Promise<void> {
  const filters = filtersIn(query, 'containers', SERVED_FILTERS, DOCKER_FILTERS);
  const limit = Number(query.get('limit') || 0);
  if (!Number.isInteger(limit)) throw invalidFilter('limit', query.get('limit')!);
  const all = queryFlag(query, 'all') || limit > 0 || ['status', 'before', 'since'].some((key) => filters[key]);
  const matches = await matcher(runtime, filters);
  let containers = (await reconcileAll(runtime)).filter((container) => (all || isUp(container.state)) && matches(container));
  if (limit > 0) containers = containers.slice(0, limit);
  const now = new Date();
  sendJson(res, 200, containers.map((container) => containerSummary(runtime, container, now, queryFlag(query, 'size'))));
}

/** A container as /containers/json lists it (and /system/df, with its sizes). */
export function containerSummary(runtime: Runtime, container: ContainerRecord, now: Date, withSizes: boolean): object {
  // A running container's published ports are in its lease on its bridge, with the host ports it got.
  const published = isUp(container.state) ? findLease(container.id)?.lease.ports ?? [] : [];
  return {
    Id: container.id,
    Names: [`/${container.name}`],
    Image: container.image.name,
    ImageID: container.image.id,
    Command: command(container.config.argv),
    Created: Math.floor(Date.parse(container.created) / 1000),
    Ports: published.map((port) => ({ IP: port.hostIp || '0.0.0.0', PrivatePort: port.containerPort, PublicPort: port.hostPort, Type: port.protocol })),
    ...(withSizes ? sizes(runtime, container) : {}),
    Labels: container.config.labels ?? {},
    State: container.state.status,
    Status: containerStatus(container.state, now),
    HostConfig: { NetworkMode: container.config.network ?? 'bridge' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}
// #endregion

/** One test for all the filters, each value checked before any container is. */
async function matcher(runtime: Runtime, filters: Filters): Promise<(container: ContainerRecord) => boolean> {
  const { paths } = runtime;
  const statuses = filters.status ?? [];
  const bad = statuses.find((status) => !STATES.includes(status));
  if (bad !== undefined) throw invalidFilter('status', bad);
  const exitCodes = (filters.exited ?? []).map((code) => {
    if (!/^-?\d+$/.test(code)) throw invalidFilter('exited', code);
    return Number(code);
  });
  const created = (key: string) => (filters[key] ?? []).map((nameOrId) => {
    const other = findContainer(paths, nameOrId);
    if (!other) throw notFound(`No such container: ${nameOrId}`);
    return other.created;
  });
  const [before, since] = [created('before'), created('since')];
  // An image that is not here has no containers: no error, as dockerd has it.
  const ancestors = (filters.ancestor ?? []).flatMap((name) => findImage(paths, name) ?? []);
  const any = (key: string, test: (value: string) => boolean) => !filters[key] || filters[key]!.some(test);
  return (container) => {
    const { state, config } = container;
    const names = [container.name, `/${container.name}`];
    const networks = networksOf(container).map(({ network }) => network);
    return (!filters.name || names.some((name) => patternMatches(filters.name!, name)))
      && (!filters.id || patternMatches(filters.id, container.id))
      && labelsMatch(filters.label ?? [], config.labels ?? {})
      && (statuses.length === 0 || statuses.includes(state.status))
      // A container that has run and is not running now, with one of those codes.
      && (exitCodes.length === 0 || (!isUp(state) && state.startedAt !== null && exitCodes.includes(state.exitCode ?? 0)))
      && before.every((time) => container.created < time)
      && since.every((time) => container.created > time)
      && (!filters.ancestor || ancestors.some((ancestor) => descendsFrom(runtime, container.image.id, ancestor)))
      && any('network', (value) => networks.some((network) => network === value || networkId(paths, network) === value))
      && any('volume', (value) => (config.mounts ?? []).some((mount) => (mount.type === 'volume' && mount.source === value) || mount.target === value));
  };
}

/** The image, or one built on it (its parent, or its parent's …): dockerd's ancestor. */
function descendsFrom(runtime: Runtime, imageId: string, ancestor: ImageRecord): boolean {
  for (let id: string | undefined = imageId, hops = 0; id !== undefined && hops < 1000; hops++) {
    if (id === ancestor.id) return true;
    id = findImage(runtime.paths, id)?.parent;
  }
  return false;
}

/** ?size=1: what the container wrote (its upper directory), and that with its image's layers. */
function sizes(runtime: Runtime, container: ContainerRecord): { SizeRw: number; SizeRootFs: number } {
  const written = directorySize(upperDir(runtime.paths, container));
  return { SizeRw: written, SizeRootFs: written + (findImage(runtime.paths, container.image.id)?.size ?? 0) };
}

/** dockerd's way: each argument with a space in single quotes, so that `docker ps` shows "sh -c 'echo hi'". */
function command(argv: string[]): string {
  return argv.map((arg, i) => (i > 0 && arg.includes(' ') ? `'${arg}'` : arg)).join(' ');
}
