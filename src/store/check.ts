// `tsrun system check [--repair]`: is the store what its records say? It changes only by renames under
// a lock (atomic.ts, staging.ts), so it should always be whole; a disk that flips bits, a hand that
// deletes a directory, or a tsrun killed between two steps can still break it. The check looks at:
//
//   blobs        each hashed again: its name is the sha256 of its bytes
//   images       their config, manifest and layer blobs there, every layer unpacked
//   tags         repositories.json and the image records agree on every name
//   containers   a record each, and the image it was made from still in the store
//   leftovers    what a dead tsrun was building (staging directories in <root>/tmp, writeFileAtomic's
//                temp files) and the run directories of containers that no longer exist
//
// No lock can be stale: <root>/lock is flock()ed, and the kernel drops a flock with its holder.
//
// --repair removes what cannot be trusted (a blob whose bytes do not match its name) and what no one will
// finish (leftovers), and drops tags that name nothing. It takes the store lock, as a pull, load or commit
// does to move its work in, so it never races one. It never removes anything consistent, nor what a
// running container uses: its upper dir, its layers (a blob is only the packed copy of one), its lease.
// What only a new pull or load can mend, it says so.
import fs from 'node:fs';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';
import { errorText } from '../errors.js';
import { hashFile } from './digest.js';
import { familiarString, parseReference } from '../image/reference.js';
import { blobPath, containerDir, containerRunDir, imageRecordPath, layerDir, lockPath, repositoriesPath, seccompDir, tmpDir, type StorePaths } from './paths.js';
import { TEMP_MARK, makerIsRunning, readJson, writeJsonAtomic } from './atomic.js';
import { withLock } from './lock.js';
import { shortId, type ImageRecord } from './images.js';

export interface Problem {
  /** What is wrong, on one line. */
  text: string;
  /** What to do about it. */
  hint: string;
  /** Removes what cannot be trusted; absent when only the user can mend it (by a new pull or load, say). */
  repair?: () => void;
}

export interface CheckResult {
  /** What is wrong; after --repair, what still is. */
  problems: Problem[];
  repaired: Problem[];
  counts: { images: number; layers: number; blobs: number; containers: number };
}

const REPAIR = '`tsrun system check --repair` removes it';
const SHA256 = /^sha256:[a-f0-9]{64}$/;

// #region system-check
export async function checkStore(sys: Syscalls, paths: StorePaths, options: { repair: boolean }): Promise<CheckResult> {
  // Hashing every blob is the slow part, and a stored blob never changes: it is done before the lock
  // is taken, so no pull waits for it. Under the lock, each mismatch is hashed once more.
  const suspects: string[] = [];
  for (const digest of listBlobs(paths)) {
    const actual = await hashOrGone(blobPath(paths, digest));
    if (actual !== undefined && actual !== digest) suspects.push(digest);
  }
  return withLock(sys, lockPath(paths), async () => {
    const found = await findProblems(paths, suspects);
    if (!options.repair) return { ...found, repaired: [] };
    const repaired = found.problems.filter((problem) => problem.repair !== undefined);
    for (const problem of repaired) problem.repair!();
    return { ...(await findProblems(paths, suspects)), repaired };
  });
}

async function findProblems(paths: StorePaths, suspects: string[]): Promise<Omit<CheckResult, 'repaired'>> {
  const { images, problems: unreadable } = readImages(paths);
  const problems = [
    ...unreadable,
    ...await damagedBlobs(paths, suspects, images),
    ...imageProblems(paths, images),
    ...tagProblems(paths, images),
    ...containerProblems(paths),
    ...leftovers(paths),
    ...danglingRunDirs(paths),
  ];
  const counts = {
    images: images.length + unreadable.length,
    layers: entries(path.join(paths.root, 'layers', 'sha256')).length,
    blobs: listBlobs(paths).length,
    containers: entries(path.join(paths.root, 'containers')).filter((id) => fs.existsSync(path.join(containerDir(paths, id), 'config.json'))).length,
  };
  return { problems, counts };
}

/** A blob whose bytes do not hash to its name cannot be trusted: whoever reads it would get something else. */
async function damagedBlobs(paths: StorePaths, suspects: string[], images: ImageRecord[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const digest of suspects) {
    const file = blobPath(paths, digest);
    const actual = await hashOrGone(file);
    if (actual === undefined || actual === digest) continue; // removed (rmi, or a repair) or stored again meanwhile
    const needing = images.filter((image) => blobsOf(image).some((blob) => blob.digest === digest)).map(imageName);
    problems.push({
      text: `blob ${digest} does not match its digest: its bytes hash to ${actual}${needing.length > 0 ? `; needed by ${needing.join(', ')}` : ''}`,
      hint: REPAIR + (needing.length > 0 ? `; then pull or load ${needing.join(', ')} again` : ''),
      repair: () => fs.rmSync(file, { force: true }),
    });
  }
  return problems;
}
// #endregion

/** An image needs its config and manifest blobs (inspect, save and push read them), its layer blobs and its layers unpacked. */
function imageProblems(paths: StorePaths, images: ImageRecord[]): Problem[] {
  const problems: Problem[] = [];
  for (const image of images) {
    const name = imageName(image);
    const hint = image.repoTags.length > 0
      ? `pull or load ${name} again`
      : `pull or load it again under its name, or remove it (tsrun rmi ${shortId(image.id)})`;
    for (const { kind, digest } of blobsOf(image)) {
      if (!fs.existsSync(blobPath(paths, digest))) problems.push({ text: `image ${name}: its ${kind} blob ${digest} is missing`, hint });
    }
    for (const { diffId } of image.layers) {
      if (!fs.existsSync(layerDir(paths, diffId))) problems.push({ text: `image ${name}: its layer ${diffId} is missing (${layerDir(paths, diffId)})`, hint });
    }
  }
  return problems;
}

/** repositories.json says which image each tag names; each image's record lists its tags. Both must agree. */
function tagProblems(paths: StorePaths, images: ImageRecord[]): Problem[] {
  const file = repositoriesPath(paths);
  let repositories: Record<string, string> = {};
  try {
    if (fs.existsSync(file)) repositories = readJson<Record<string, string>>(file);
  } catch (error) {
    return [{ text: `${file} cannot be read: ${errorText(error)}`, hint: 'mend or remove it by hand, then tag the images again (tsrun tag)' }];
  }
  const problems: Problem[] = [];
  for (const [tag, id] of Object.entries(repositories)) {
    const image = images.find((candidate) => candidate.id === id);
    if (!image && !(SHA256.test(id) && fs.existsSync(imageRecordPath(paths, id)))) {
      problems.push({
        text: `tag ${familiar(tag)} names image ${shortId(id)}, which is not in the store`,
        hint: '`tsrun system check --repair` drops the tag',
        repair: () => {
          const { [tag]: _dropped, ...others } = readJson<Record<string, string>>(file);
          writeJsonAtomic(file, others);
        },
      });
    } else if (image && !image.repoTags.includes(tag)) {
      problems.push({ text: `tag ${familiar(tag)} names image ${shortId(id)}, whose record does not list it`, hint: `tsrun tag ${shortId(id)} ${familiar(tag)} names it again` });
    }
  }
  for (const image of images) {
    for (const tag of image.repoTags.filter((name) => repositories[name] !== image.id)) {
      const holder = repositories[tag];
      problems.push({
        text: `image ${shortId(image.id)} is recorded as ${familiar(tag)}, but that tag names ${holder ? `image ${shortId(holder)}` : 'nothing'}`,
        hint: `tsrun tag ${shortId(image.id)} ${familiar(tag)} gives the tag to it`,
      });
    }
  }
  return problems;
}

/** Every container directory has a record, and its image is in the store. A container's own files are never repaired:
 *  its upper dir holds its user's work. A directory without a record is a creation or a removal that was interrupted. */
function containerProblems(paths: StorePaths): Problem[] {
  const problems: Problem[] = [];
  for (const id of entries(path.join(paths.root, 'containers'))) {
    const dir = containerDir(paths, id);
    if (!fs.existsSync(path.join(dir, 'config.json'))) {
      problems.push({ text: `${dir} has no record: a container whose creation or removal was interrupted`, hint: REPAIR, repair: () => fs.rmSync(dir, { recursive: true, force: true }) });
      continue;
    }
    let config: { name: string; image: { id: string; name: string } };
    try {
      config = readJson(path.join(dir, 'config.json'));
      readJson(path.join(dir, 'state.json'));
    } catch (error) {
      problems.push({ text: `container ${id.slice(0, 12)}: its record cannot be read: ${errorText(error)}`, hint: `mend it by hand, or remove ${dir} once nothing runs in it` });
      continue;
    }
    if (!SHA256.test(config.image.id) || !fs.existsSync(imageRecordPath(paths, config.image.id))) {
      problems.push({
        text: `container ${config.name}: its image ${config.image.name} (${shortId(config.image.id)}) is not in the store`,
        hint: `pull or load ${config.image.name} again (the same image, ${shortId(config.image.id)}), or remove the container (tsrun rm ${config.name})`,
      });
    }
  }
  return problems;
}

/** What a tsrun that died was building: a staging directory (pull, load, commit, save; rmi's discards) or a temp file.
 *  Both names carry their maker: one still running is at work, and its files are left alone. */
function leftovers(paths: StorePaths): Problem[] {
  const problems: Problem[] = [];
  const remove = (file: string) => () => fs.rmSync(file, { recursive: true, force: true });
  for (const name of entries(tmpDir(paths))) {
    if (makerIsRunning(name)) continue;
    const dir = path.join(tmpDir(paths), name);
    problems.push({ text: `${dir} was left by an interrupted pull, load, commit or save`, hint: REPAIR, repair: remove(dir) });
  }
  // The directories writeFileAtomic writes records in: never a container's files or a volume's data.
  const recordDirs = [
    paths.root,
    ...['images', 'networks'].map((dir) => path.join(paths.root, dir)), seccompDir(paths),
    ...['containers', 'volumes'].flatMap((dir) => entries(path.join(paths.root, dir)).map((entry) => path.join(paths.root, dir, entry))),
  ];
  for (const dir of recordDirs) {
    for (const name of entries(dir).filter((entry) => entry.includes(TEMP_MARK) && !makerIsRunning(entry))) {
      problems.push({ text: `${path.join(dir, name)} is a temporary file an interrupted write left`, hint: REPAIR, repair: remove(path.join(dir, name)) });
    }
  }
  return problems;
}

/** The run directory of a container that no longer exists. Its overlay is mounted in the container's own mount
 *  namespace, so on the host it is empty; if something is mounted there all the same, it is left alone. */
function danglingRunDirs(paths: StorePaths): Problem[] {
  const mounted = mountPoints();
  const problems: Problem[] = [];
  for (const id of entries(path.join(paths.runRoot, 'containers'))) {
    if (fs.existsSync(path.join(containerDir(paths, id), 'config.json'))) continue;
    const dir = containerRunDir(paths, id);
    const mount = mounted.find((point) => point === dir || point.startsWith(`${dir}/`));
    problems.push(mount
      ? { text: `${dir} belongs to no container, but ${mount} is mounted`, hint: `unmount it (umount ${mount}), then check again` }
      : { text: `${dir} is the run directory of container ${id.slice(0, 12)}, which no longer exists`, hint: REPAIR, repair: () => fs.rmSync(dir, { recursive: true, force: true }) });
  }
  return problems;
}

/** Every image record that can be read; one problem for each that cannot (it is left as it is: a hand may mend it). */
function readImages(paths: StorePaths): { images: ImageRecord[]; problems: Problem[] } {
  const images: ImageRecord[] = [];
  const problems: Problem[] = [];
  const dir = path.join(paths.root, 'images');
  for (const name of entries(dir).filter((entry) => /^[a-f0-9]{64}\.json$/.test(entry))) {
    try {
      images.push(readJson<ImageRecord>(path.join(dir, name)));
    } catch (error) {
      problems.push({ text: `image record ${path.join(dir, name)} cannot be read: ${errorText(error)}`, hint: 'mend it by hand, or remove it and pull or load the image again' });
    }
  }
  return { images, problems };
}

function blobsOf(image: ImageRecord): { kind: string; digest: string }[] {
  return [
    { kind: 'config', digest: image.id },
    ...(image.manifestDigest ? [{ kind: 'manifest', digest: image.manifestDigest }] : []),
    ...image.layers.map((layer) => ({ kind: 'layer', digest: layer.digest })),
  ];
}

/** The digests of the blobs on disk. */
function listBlobs(paths: StorePaths): string[] {
  return entries(path.join(paths.root, 'blobs', 'sha256')).filter((name) => /^[a-f0-9]{64}$/.test(name)).map((hex) => `sha256:${hex}`);
}

/** The sha256 of a file's bytes, streamed; undefined if it is gone. */
async function hashOrGone(file: string): Promise<string | undefined> {
  try {
    return (await hashFile(file)).digest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function imageName(image: ImageRecord): string {
  return image.repoTags[0] ? familiar(image.repoTags[0]) : shortId(image.id);
}

/** "docker.io/library/busybox:latest" -> "busybox:latest", as the user typed it. */
function familiar(tag: string): string {
  try {
    return familiarString(parseReference(tag));
  } catch {
    return tag; // a damaged repositories.json may hold anything
  }
}

function entries(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/** Every mount point of this mount namespace, as /proc/self/mountinfo writes them (octal escapes undone). */
function mountPoints(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
    .map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}
