// The file trees a build reads: the build context (a directory, less what .dockerignore leaves out), and an
// image (its layers as overlayfs would stack them), which COPY --from reads and COPY writes into. Both are
// read through one interface, so that one function resolves a path in either the way the kernel would
// inside a container: a symlink's target taken from the tree's own root, never the host's.
import fs from 'node:fs';
import path from 'node:path';
import ignoreRules from '@balena/dockerignore';
import picomatch from 'picomatch';
import type { Syscalls } from '../kernel/syscalls.js';
import { fail } from '../errors.js';
import { statInLayers } from '../image/layer-stack.js';
import { lstatOrNull } from '../image/lstat.js';

export interface SourceEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname?: string;
  /** Where its bytes are on the host. */
  hostPath: string;
}

/** Paths in a tree are relative to its root, clean, without a leading "/": '' is the root. */
export interface SourceTree {
  /** How messages name it: "the build context", "stage builder". */
  label: string;
  /** The entry at `relative`, its last component not followed; null when absent (or left out). */
  entry(relative: string): SourceEntry | null;
  /** The names in the directory `relative`, sorted, those left out left out. */
  list(relative: string): string[];
}

/** "/a/../b/" and "a/./b" alike become "b" ("" for the root): a path cannot climb above its tree's root. */
export function cleanPath(text: string): string {
  return path.posix.normalize(`/${text}`).replace(/^\/+|\/+$/g, '');
}

// #region resolve
/** `relative` with every symlink on its way replaced by its target, read inside `tree`: an absolute target
 *  starts again from the tree's root, and ".." stops at it, so no path leads out. The last component is
 *  followed too when `followLast`. Missing components are kept as they are: a COPY creates them. */
export function resolveIn(tree: SourceTree, relative: string, followLast: boolean): string {
  const pending = cleanPath(relative).split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const at = [...resolved, part].join('/');
    const entry = tree.entry(at);
    if (entry?.type === 'symlink' && (pending.length > 0 || followLast)) {
      if (++links > 40) throw fail(`too many levels of symbolic links in ${tree.label} at /${at}`);
      const target = entry.linkname ?? '';
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    if (entry && entry.type !== 'directory' && pending.length > 0) throw fail(`/${at} in ${tree.label} is not a directory`);
    resolved.push(part);
  }
  return resolved.join('/');
}
// #endregion

/** Every entry of `tree` whose path matches `pattern` (Go's filepath.Match, as Docker's COPY: `*` and `?` stay
 *  within a directory, `[a-z]` is a class; `**` any depth), those inside a match left to the match. */
export function glob(tree: SourceTree, pattern: string): string[] {
  const clean = cleanPath(pattern);
  const isMatch = picomatch(clean, { dot: true, nobrace: true, noextglob: true });
  // Only below the part of the pattern that has no wildcard: `src/*.js` reads src/ alone.
  const parts = clean.split('/');
  const fixed = parts.slice(0, parts.findIndex(hasWildcard)).join('/');
  const matches: string[] = [];
  const walk = (dir: string) => {
    for (const name of tree.list(dir)) {
      const at = dir === '' ? name : `${dir}/${name}`;
      if (isMatch(at)) matches.push(at);
      else if (tree.entry(at)?.type === 'directory') walk(at);
    }
  };
  if (tree.entry(fixed)?.type === 'directory') walk(fixed);
  return matches;
}

export function hasWildcard(text: string): boolean {
  return /[*?[]/.test(text);
}

function entryOf(hostPath: string, stat: fs.Stats): SourceEntry | null {
  const type = stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : stat.isSymbolicLink() ? 'symlink' : undefined;
  // Devices, FIFOs and sockets are not copied: they mean something only on the machine that has them.
  if (!type) return null;
  return {
    type, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, size: stat.size, mtime: stat.mtime, hostPath,
    ...(type === 'symlink' ? { linkname: fs.readlinkSync(hostPath) } : {}),
  };
}

// #region context
/** The build context: `dir` as the Dockerfile sees it. `.dockerignore` uses Docker's rules (moby's
 *  patternmatcher, which @balena/dockerignore ports): `*` within a directory, `**` any depth, a pattern that
 *  matches a directory leaves out all in it, and a later `!pattern` takes back what earlier lines left out. */
export function contextTree(dir: string, dockerignore: string): SourceTree {
  const root = fs.realpathSync(dir);
  const patterns = dockerignore.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  // A CommonJS module whose types declare an ES default: as Node imports it, that is `.default`.
  const rules = ignoreRules.default({ ignorecase: false }).add(patterns);
  const exceptions = patterns.some((line) => line.startsWith('!'));
  const kept = new Map<string, boolean>();
  // A directory left out stays if something in it is taken back by an exception ("!docs/keep.md").
  const isKept = (relative: string, entry: SourceEntry): boolean => {
    if (relative === '') return true;
    let answer = kept.get(relative);
    if (answer === undefined) {
      answer = !rules.ignores(relative) || (exceptions && entry.type === 'directory' && tree.list(relative).length > 0);
      kept.set(relative, answer);
    }
    return answer;
  };
  const stat = (relative: string): SourceEntry | null => {
    const hostPath = relative === '' ? root : path.join(root, relative);
    const found = lstatOrNull(hostPath);
    return found && entryOf(hostPath, found);
  };
  const tree: SourceTree = {
    label: 'the build context',
    entry: (relative) => {
      const found = stat(relative);
      return found && isKept(relative, found) ? found : null;
    },
    list: (relative) => fs.readdirSync(path.join(root, relative)).sort().filter((name) => {
      const at = relative === '' ? name : `${relative}/${name}`;
      const found = stat(at);
      return found !== null && isKept(at, found);
    }),
  };
  return tree;
}
// #endregion

// #region image-tree
/** An image's files as its container would see them: the layers' directories, topmost first, read as
 *  overlayfs stacks them (a whiteout hides, an opaque directory hides what is below it). */
export function imageTree(sys: Syscalls, layerDirsTopFirst: string[], label: string): SourceTree {
  const entry = (relative: string): SourceEntry | null => {
    if (relative === '') return { type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: new Date(0), hostPath: '' };
    const found = statInLayers(layerDirsTopFirst, `/${relative}`, sys);
    return found && entryOf(found.hostPath, found.stat);
  };
  return {
    label,
    entry,
    list: (relative) => {
      // Every name any layer has there; those a higher layer hides are not in the stack's view.
      const names = new Set<string>();
      for (const layer of layerDirsTopFirst) {
        const dir = directoryIn(layer, relative);
        if (dir) for (const name of fs.readdirSync(dir)) names.add(name);
      }
      return [...names].sort().filter((name) => entry(relative === '' ? name : `${relative}/${name}`) !== null);
    },
  };
}
// #endregion

/** `relative` inside one layer's directory if every component of it is a directory there: a layer's symlink
 *  is never followed, on the host it would lead out of the layer. */
function directoryIn(layer: string, relative: string): string | null {
  let at = layer;
  for (const part of relative.split('/').filter(Boolean)) {
    at = path.join(at, part);
    if (!lstatOrNull(at)?.isDirectory()) return null;
  }
  return at;
}
