// Which handler answers which request. The docker CLI puts the API version it negotiated in front of every path
// but the ping (/v1.41/containers/create); tsrun answers every version as 1.41, and paths without one too.
import type { DaemonRequest, HijackedRequest } from './http.js';
import { info, ping, version } from './system.js';
import { create, inspect, kill, pause, remove, rename, resize, restart, start, stop, unpause, wait } from './containers.js';
import { prune as pruneContainers, top } from './containers.js';
import { stats } from './stats.js';
import { createExec, inspectExec, resizeExec, startAttachedExec, startDetachedExec } from './exec.js';
import { attach } from './attach.js';
import { list } from './list-containers.js';
import { stream as events } from './event-stream.js';
import { df } from './df.js';
import { auth } from './registry-auth.js';
import { logs } from './logs.js';
import { getArchive, putArchive, statArchive } from './archive.js';
import { buildImage } from './build.js';
import * as images from './images.js';
import * as networks from './networks.js';
import * as volumes from './volumes.js';

interface Route<R> {
  method: string;
  /** `{name}` matches one part of the path. */
  path: string;
  handle: (request: R) => Promise<void> | void;
}

// #region routes
export const ROUTES: Route<DaemonRequest>[] = [
  { method: 'HEAD', path: '/_ping', handle: ping },
  { method: 'GET', path: '/_ping', handle: ping },
  { method: 'GET', path: '/version', handle: version },
  { method: 'GET', path: '/info', handle: info },
  { method: 'GET', path: '/events', handle: events },
  { method: 'GET', path: '/system/df', handle: df },
  { method: 'POST', path: '/auth', handle: auth },
  { method: 'POST', path: '/containers/create', handle: create },
  { method: 'GET', path: '/containers/json', handle: list },
  { method: 'POST', path: '/containers/prune', handle: pruneContainers },
  { method: 'GET', path: '/containers/{id}/json', handle: inspect },
  { method: 'POST', path: '/containers/{id}/start', handle: start },
  { method: 'POST', path: '/containers/{id}/wait', handle: wait },
  { method: 'POST', path: '/containers/{id}/stop', handle: stop },
  { method: 'POST', path: '/containers/{id}/kill', handle: kill },
  { method: 'POST', path: '/containers/{id}/restart', handle: restart },
  { method: 'POST', path: '/containers/{id}/rename', handle: rename },
  { method: 'POST', path: '/containers/{id}/pause', handle: pause },
  { method: 'POST', path: '/containers/{id}/unpause', handle: unpause },
  { method: 'POST', path: '/containers/{id}/resize', handle: resize },
  { method: 'GET', path: '/containers/{id}/logs', handle: logs },
  { method: 'HEAD', path: '/containers/{id}/archive', handle: statArchive },
  { method: 'GET', path: '/containers/{id}/archive', handle: getArchive },
  { method: 'PUT', path: '/containers/{id}/archive', handle: putArchive },
  { method: 'GET', path: '/containers/{id}/top', handle: top },
  { method: 'GET', path: '/containers/{id}/stats', handle: stats },
  { method: 'DELETE', path: '/containers/{id}', handle: remove },
  { method: 'POST', path: '/containers/{id}/exec', handle: createExec },
  { method: 'POST', path: '/exec/{id}/start', handle: startDetachedExec }, // -d: no upgrade
  { method: 'GET', path: '/exec/{id}/json', handle: inspectExec },
  { method: 'POST', path: '/exec/{id}/resize', handle: resizeExec },
  { method: 'POST', path: '/build', handle: buildImage },
  { method: 'POST', path: '/images/create', handle: images.pull },
  { method: 'GET', path: '/images/json', handle: images.list },
  { method: 'POST', path: '/images/prune', handle: images.prune },
  { method: 'GET', path: '/images/get', handle: images.save },
  { method: 'POST', path: '/images/load', handle: images.load },
  // An image's name goes into the path as it is: {name*} takes its slashes too.
  { method: 'GET', path: '/images/{name*}/json', handle: images.inspect },
  { method: 'GET', path: '/images/{name*}/history', handle: images.history },
  { method: 'POST', path: '/images/{name*}/tag', handle: images.tag },
  { method: 'GET', path: '/images/{name*}/get', handle: images.save },
  { method: 'POST', path: '/images/{name*}/push', handle: images.push },
  { method: 'DELETE', path: '/images/{name*}', handle: images.remove },
  { method: 'GET', path: '/networks', handle: networks.list },
  { method: 'POST', path: '/networks/create', handle: networks.create },
  { method: 'POST', path: '/networks/prune', handle: networks.prune },
  { method: 'GET', path: '/networks/{id}', handle: networks.inspect },
  { method: 'POST', path: '/networks/{id}/connect', handle: networks.connect },
  { method: 'POST', path: '/networks/{id}/disconnect', handle: networks.disconnect },
  { method: 'DELETE', path: '/networks/{id}', handle: networks.remove },
  { method: 'GET', path: '/volumes', handle: volumes.list },
  { method: 'POST', path: '/volumes/create', handle: volumes.create },
  { method: 'POST', path: '/volumes/prune', handle: volumes.prune },
  { method: 'GET', path: '/volumes/{name}', handle: volumes.inspect },
  { method: 'DELETE', path: '/volumes/{name}', handle: volumes.remove },
];

/** Answered with 101, after which the connection is the container's (attach.ts) or the exec's (exec.ts). */
export const HIJACKED_ROUTES: Route<HijackedRequest>[] = [
  { method: 'POST', path: '/containers/{id}/attach', handle: attach },
  { method: 'POST', path: '/exec/{id}/start', handle: startAttachedExec },
];
// #endregion

/** The path without its version: /v1.41/containers/json -> /containers/json. */
export function unversioned(path: string): string {
  return path.replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
}

export function match<R>(routes: Route<R>[], method: string, path: string): { route: Route<R>; params: Record<string, string> } | undefined {
  const parts = path.split('/');
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchPath(route.path.split('/'), parts);
    if (params) return { route, params };
  }
  return undefined;
}

/** The path's parts named in the pattern, or undefined. `{name*}` takes one part or more: the CLI puts an image's
 *  name in the path as it is, slashes and all (DELETE /images/127.0.0.1:5000/demo/tagged:1). */
function matchPath(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const rest = pattern.findIndex((part) => part.endsWith('*}'));
  const extra = parts.length - pattern.length; // the parts {name*} takes after its first
  if (rest < 0 ? extra !== 0 : extra < 0) return undefined;
  const params: Record<string, string> = {};
  let at = 0;
  for (const [i, part] of pattern.entries()) {
    const taken = parts.slice(at, (at += i === rest ? 1 + extra : 1));
    if (!part.startsWith('{')) {
      if (taken[0] !== part) return undefined;
      continue;
    }
    if (taken.includes('')) return undefined;
    try {
      params[part.replace(/^\{|\*?\}$/g, '')] = decodeURIComponent(taken.join('/'));
    } catch {
      return undefined; // a malformed %-escape: no container or image has that name
    }
  }
  return params;
}
