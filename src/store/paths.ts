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
import fs from 'node:fs';
import path from 'node:path';
import { fail, hasErrorCode } from '../errors.js';

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

// #region store-root
/** Make the store's root, or tighten one that is looser: mode 0700, root's alone.
 *  Unpacked layers keep their images' setuid binaries and device nodes; behind a 0755
 *  root any local user could run or open them (Docker's CVE-2021-41091). Nothing but
 *  root ever needs a path through it: overlayfs reaches its layers with the credentials
 *  of the mount's maker, and volumes are bind-mounted before the container's user takes
 *  over. So the directories inside may keep ordinary modes: this one closes them all. */
export function makeStoreRoot(paths: StorePaths): void {
  fs.mkdirSync(path.dirname(paths.root), { recursive: true });
  try {
    fs.mkdirSync(paths.root, 0o700);
    return;
  } catch (error) {
    if (!hasErrorCode(error, 'EEXIST')) throw error;
  }
  const stat = fs.statSync(paths.root);
  if (!stat.isDirectory()) throw fail(`the store ${paths.root} is not a directory`, 'give --root a directory');
  // A directory every user writes in (/tmp, say) is not tsrun's to close; an empty one (a fresh tmpfs) is.
  if (stat.mode & 0o002 && fs.readdirSync(paths.root).length > 0) {
    throw fail(`the store ${paths.root} is writable by every user, and holds files already`, 'give --root a directory of its own, such as /var/lib/tsrun');
  }
  // Made looser by hand or by another program: closed again, as dockerd re-sets its root's mode at each start.
  if (stat.mode & 0o077) fs.chmodSync(paths.root, 0o700);
}
// #endregion

export const blobPath = (p: StorePaths, digest: string) => path.join(p.root, 'blobs', ...splitDigest(digest));
export const layerDir = (p: StorePaths, diffId: string) => path.join(p.root, 'layers', ...splitDigest(diffId));
export const imageRecordPath = (p: StorePaths, imageId: string) => path.join(p.root, 'images', `${splitDigest(imageId)[1]}.json`);
export const repositoriesPath = (p: StorePaths) => path.join(p.root, 'repositories.json');
export const containerDir = (p: StorePaths, id: string) => path.join(p.root, 'containers', id);
export const containerRunDir = (p: StorePaths, id: string) => path.join(p.runRoot, 'containers', id);
export const tmpDir = (p: StorePaths) => path.join(p.root, 'tmp');
export const lockPath = (p: StorePaths) => path.join(p.root, 'lock');
/** Compiled seccomp filters, kept between runs. */
export const seccompDir = (p: StorePaths) => path.join(p.root, 'seccomp');

/** "sha256:ab…" -> ["sha256", "ab…"], refusing anything that is not a well-formed sha256 digest
 *  (a digest becomes a path, so it must never contain "/" or "..") */
export function splitDigest(digest: string): [string, string] {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!match) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return ['sha256', match[1]!];
}
