// The volumes endpoints: `docker volume create/ls/inspect/rm/prune`, by what `tsrun volume` calls
// (src/volumes/store.ts). tsrun's volumes are Docker's "local" driver's: a directory in the store.
import { directorySize } from '../store/disk-usage.js';
import { containersUsingVolume, ensureVolume, findVolume, listVolumes, pruneVolumes, removeVolume, volumeDataDir, volumeDocument } from '../volumes/store.js';
import { labelsMatch, patternMatches } from '../docker/filters.js';
import { Fields, refuseIfSet } from './create-body.js';
import {
  asBadRequest, badRequest, danglingFilter, filtersIn, notFound, queryFlag, readJsonBody, sendEmpty, sendJson, type DaemonRequest,
} from './http.js';

/** Docker's words for a volume that is not there. */
const noSuchVolume = (name: string) => notFound(`get ${name}: no such volume`);

/** POST /volumes/create {"Name": …}: made, or the one of that name if it is there already (201 both ways, as
 *  dockerd answers); no name makes one with a random name. */
export async function create({ runtime, req, res, events }: DaemonRequest): Promise<void> {
  const body = new Fields(await readJsonBody(req), '');
  const driver = body.text('Driver') || 'local';
  if (driver !== 'local') throw badRequest(`tsrun has the local volume driver only, not ${driver}`);
  refuseIfSet(body, ['DriverOpts', 'ClusterVolumeSpec']);
  const { volume, created } = await asBadRequest(() => ensureVolume(runtime.sys, runtime.paths, body.text('Name') ?? '', body.textMap('Labels')));
  if (created) events.emit('volume', 'create', volume.Name, { driver: 'local' });
  sendJson(res, 201, volumeDocument(runtime.paths, volume));
}

/** GET /volumes[?filters=…]: {"Volumes": […], "Warnings": null}, each volume as GET /volumes/{name} shows it;
 *  dangling=true: those no container names. */
export function list({ runtime, query, res }: DaemonRequest): void {
  const filters = filtersIn(query, 'volumes', ['dangling', 'driver', 'label', 'name']);
  const dangling = danglingFilter(filters);
  const volumes = listVolumes(runtime.paths).filter((volume) => (!filters.name || patternMatches(filters.name, volume.Name))
    && (!filters.driver || filters.driver.includes('local'))
    && labelsMatch(filters.label ?? [], volume.Labels ?? {})
    && (dangling === undefined || dangling === (containersUsingVolume(runtime.paths, volume.Name).length === 0)));
  sendJson(res, 200, { Volumes: volumes.map((volume) => volumeDocument(runtime.paths, volume)), Warnings: null });
}

export function inspect({ runtime, params, res }: DaemonRequest): void {
  const volume = findVolume(runtime.paths, params.name!);
  if (!volume) throw noSuchVolume(params.name!);
  sendJson(res, 200, volumeDocument(runtime.paths, volume));
}

/** DELETE /volumes/{name}[?force=1]: 409 while a container (running or not) names it; with force, a volume that
 *  is not there is no error, as `docker volume rm -f` has it. */
export async function remove({ runtime, params, query, res, events }: DaemonRequest): Promise<void> {
  if (!findVolume(runtime.paths, params.name!)) {
    if (queryFlag(query, 'force')) return sendEmpty(res, 204);
    throw noSuchVolume(params.name!);
  }
  await asBadRequest(() => removeVolume(runtime.sys, runtime.paths, params.name!), 409);
  events.emit('volume', 'destroy', params.name!, { driver: 'local' });
  sendEmpty(res, 204);
}

/** POST /volumes/prune: every volume no container names, and the bytes their data took. */
export async function prune({ runtime, query, res, events }: DaemonRequest): Promise<void> {
  filtersIn(query, 'volumes', [], ['label', 'label!']);
  const { sys, paths } = runtime;
  // Measured before: once pruned there is nothing to measure. A volume a container takes meanwhile is not pruned.
  const sizes = new Map(listVolumes(paths).filter((volume) => containersUsingVolume(paths, volume.Name).length === 0)
    .map((volume) => [volume.Name, directorySize(volumeDataDir(paths, volume.Name))]));
  const removed = await pruneVolumes(sys, paths);
  for (const name of removed) events.emit('volume', 'destroy', name, { driver: 'local' });
  sendJson(res, 200, { VolumesDeleted: removed, SpaceReclaimed: removed.reduce((total, name) => total + (sizes.get(name) ?? 0), 0) });
}
