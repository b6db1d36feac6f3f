// docker cp's rules, which need no container: which side is the container's, where a copy lands and under which
// name, how a container path is split for resolving it, and the mode Docker's stat carries.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { copyPlan, splitCpArg } from '../../../src/containers/cp.js';
import { archiveName, goFileMode, isDirectoryMode, isSymlinkMode } from '../../../src/containers/archive.js';
import { splitPath } from '../../../src/containers/root-tree.js';

describe('splitCpArg', () => {
  it('reads CONTAINER:PATH, and takes an absolute path, a path without ":" or one starting with "." as local', () => {
    expect(splitCpArg('web:/etc/hosts')).toEqual({ container: 'web', path: '/etc/hosts' });
    expect(splitCpArg('web:etc')).toEqual({ container: 'web', path: 'etc' });
    expect(splitCpArg('/tmp/a:b')).toEqual({ path: '/tmp/a:b' });
    expect(splitCpArg('./a:b')).toEqual({ path: './a:b' });
    expect(splitCpArg('notes.txt')).toEqual({ path: 'notes.txt' });
    expect(splitCpArg('-')).toEqual({ path: '-' });
  });
});

describe('copyPlan', () => {
  const dir = { name: 'etc', isDir: true };
  const file = { name: 'hosts', isDir: false };
  const content = { name: '.', isDir: true };

  it('puts the source into an existing directory under its own name, or only its content for "dir/."', () => {
    expect(copyPlan(dir, { path: '/tmp/x', exists: true, isDir: true })).toEqual({ dir: '/tmp/x', name: 'etc' });
    expect(copyPlan(file, { path: '/tmp/x/', exists: true, isDir: true })).toEqual({ dir: '/tmp/x/', name: 'hosts' });
    expect(copyPlan(content, { path: '/tmp/x', exists: true, isDir: true })).toEqual({ dir: '/tmp/x', name: '.' });
  });

  it('makes the source the destination when that is absent, or a file', () => {
    expect(copyPlan(dir, { path: '/tmp/x', exists: false, isDir: false })).toEqual({ dir: '/tmp', name: 'x' });
    expect(copyPlan(dir, { path: '/tmp/x/', exists: false, isDir: false })).toEqual({ dir: '/tmp', name: 'x' });
    expect(copyPlan(content, { path: '/tmp/x', exists: false, isDir: false })).toEqual({ dir: '/tmp', name: 'x' });
    expect(copyPlan(file, { path: '/tmp/x', exists: true, isDir: false })).toEqual({ dir: '/tmp', name: 'x' });
    expect(copyPlan(file, { path: '/x', exists: false, isDir: false })).toEqual({ dir: '/', name: 'x' });
  });

  it('refuses a directory over a file, and a file into a directory that is not there, in Docker\'s words', () => {
    expect(() => copyPlan(dir, { path: '/tmp/x', exists: true, isDir: false })).toThrow('cannot copy directory');
    expect(() => copyPlan(file, { path: '/tmp/x/', exists: false, isDir: false })).toThrow('no such directory');
  });
});

describe('a container path', () => {
  it('is resolved up to its last name, which is kept, unless it ends in "/" or "/."', () => {
    expect(splitPath('/etc/hosts')).toEqual({ dir: '/etc', base: 'hosts' });
    expect(splitPath('etc/hosts')).toEqual({ dir: '/etc', base: 'hosts' });
    expect(splitPath('/etc/')).toEqual({ dir: '/etc', base: '.' });
    expect(splitPath('/etc/.')).toEqual({ dir: '/etc', base: '.' });
    expect(splitPath('/')).toEqual({ dir: '/', base: '.' });
    expect(splitPath('/a/../../b')).toEqual({ dir: '/', base: 'b' }); // ".." stops at the root
  });

  it('names its archive by its last name, or "." for its content', () => {
    expect(archiveName('/etc/hosts')).toBe('hosts');
    expect(archiveName('/etc/')).toBe('etc');
    expect(archiveName('/etc/.')).toBe('.');
    expect(archiveName('/')).toBe('.');
  });
});

describe('goFileMode', () => {
  it('gives Go\'s os.FileMode: the type as high bits, set-uid, set-gid and sticky moved', () => {
    const { S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR, S_IFIFO } = fs.constants;
    expect(goFileMode(S_IFREG | 0o644)).toBe(0o644);
    expect(goFileMode(S_IFDIR | 0o755)).toBe(2 ** 31 + 0o755);
    expect(goFileMode(S_IFDIR | 0o1777)).toBe(2 ** 31 + 2 ** 20 + 0o777);
    expect(goFileMode(S_IFLNK | 0o777)).toBe(2 ** 27 + 0o777);
    expect(goFileMode(S_IFCHR | 0o666)).toBe(2 ** 26 + 2 ** 21 + 0o666);
    expect(goFileMode(S_IFIFO | 0o600)).toBe(2 ** 25 + 0o600);
    expect(goFileMode(S_IFREG | 0o4755)).toBe(2 ** 23 + 0o755);
    expect(isDirectoryMode(goFileMode(S_IFDIR | 0o755))).toBe(true);
    expect(isSymlinkMode(goFileMode(S_IFLNK | 0o777))).toBe(true);
    expect(isSymlinkMode(goFileMode(S_IFDIR | 0o755))).toBe(false);
  });
});
