// Where tsrun keeps things. The store (images, layers, containers) survives
// reboots; the run root holds what only matters while containers run.
//
//   <root>/blobs/sha256/<hex>          content-addressed blobs (manifests, configs, compressed layers)
//   <root>/layers/sha256/<hex>/        a layer unpacked, named by its diff id, ready to be an overlay lowerdir
//   <root>/images/<hex>.json           an image record, named by its id (the config digest)
//   <root>/repositories.json           name:tag -> image id
//   <root>/containers/<id>/            config.json, upper/, work/, hostname, hosts, resolv.conf
//   <root>/tmp/                        staging area: everything is built here, then renamed into place
//   <root>/lock                        flock()ed while the store changes
//   <runRoot>/containers/<id>/rootfs   the overlay's mount point, used inside the container's mount namespace
import path from 'node:path';

export interface StorePaths {
  root: string;
  runRoot: string;
}

export const DEFAULT_ROOT = '/var/lib/tsrun';
export const DEFAULT_RUN_ROOT = '/run/tsrun';

/** --root beats TSRUN_ROOT beats the default; the run root follows a custom root
 *  (so test stores never share /run/tsrun with the real one). */
export function storePaths(rootOption?: string, env: NodeJS.ProcessEnv = process.env): StorePaths {
  const root = path.resolve(rootOption ?? env.TSRUN_ROOT ?? DEFAULT_ROOT);
  const runRoot = env.TSRUN_RUN_ROOT
    ? path.resolve(env.TSRUN_RUN_ROOT)
    : root === DEFAULT_ROOT ? DEFAULT_RUN_ROOT : path.join(root, 'run');
  return { root, runRoot };
}

export const blobPath = (p: StorePaths, digest: string) => path.join(p.root, 'blobs', ...splitDigest(digest));
export const layerDir = (p: StorePaths, diffId: string) => path.join(p.root, 'layers', ...splitDigest(diffId));
export const imageRecordPath = (p: StorePaths, imageId: string) => path.join(p.root, 'images', `${splitDigest(imageId)[1]}.json`);
export const repositoriesPath = (p: StorePaths) => path.join(p.root, 'repositories.json');
export const containerDir = (p: StorePaths, id: string) => path.join(p.root, 'containers', id);
export const containerRunDir = (p: StorePaths, id: string) => path.join(p.runRoot, 'containers', id);
export const tmpDir = (p: StorePaths) => path.join(p.root, 'tmp');
export const lockPath = (p: StorePaths) => path.join(p.root, 'lock');

/** "sha256:ab…" -> ["sha256", "ab…"], refusing anything that is not a well-formed sha256 digest
 *  (a digest becomes a path, so it must never contain "/" or "..") */
export function splitDigest(digest: string): [string, string] {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!match) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return ['sha256', match[1]!];
}
