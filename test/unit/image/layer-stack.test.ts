import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readInLayers } from '../../../src/image/layer-stack.js';
import { OVERLAY_OPAQUE_XATTR } from '../../../src/image/whiteouts.js';
import { realSyscalls } from '../../../src/kernel/native.js';
import type { Syscalls } from '../../../src/kernel/syscalls.js';
import { IS_ROOT, makeTempDir } from './tar-fixtures.js';

let tmp: string;
let upper: string;
let lower: string;

beforeEach(() => {
  tmp = makeTempDir('layers');
  upper = path.join(tmp, 'upper');
  lower = path.join(tmp, 'lower');
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function put(layer: string, file: string, content = `${file} in ${path.basename(layer)}`): void {
  fs.mkdirSync(path.dirname(path.join(layer, file)), { recursive: true });
  fs.writeFileSync(path.join(layer, file), content);
}

/** This double answers "opaque" for the directories given (trusted.* xattrs need root to write, and to
 *  read), and opens files with the real openat2. */
function opaqueAt(...dirs: string[]): Syscalls {
  const lgetxattr = (at: string, name: string) => (name === OVERLAY_OPAQUE_XATTR && dirs.includes(at) ? Buffer.from('y') : null);
  return { lgetxattr, openat2: realSyscalls.openat2 } as Partial<Syscalls> as Syscalls;
}
const noOpaqueDirs = opaqueAt();

describe('readInLayers', () => {
  it('finds the topmost copy of a file', () => {
    put(upper, 'etc/passwd');
    put(lower, 'etc/passwd');
    put(lower, 'etc/group');
    expect(readInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBe('etc/passwd in upper');
    expect(readInLayers([upper, lower], '/etc/group', noOpaqueDirs)).toBe('etc/group in lower');
    expect(readInLayers([upper, lower], 'etc//./group', noOpaqueDirs)).toBe('etc/group in lower');
  });

  it('returns null when no layer has it, including a layer directory that does not exist', () => {
    put(lower, 'etc/group');
    expect(readInLayers([path.join(tmp, 'no-such-upper'), lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
    expect(readInLayers([], '/etc/passwd', noOpaqueDirs)).toBeNull();
  });

  it('refuses paths that are not a file path inside the container', () => {
    put(tmp, 'secret');
    expect(readInLayers([lower], '/', noOpaqueDirs)).toBeNull();
    expect(readInLayers([lower], '/../secret', noOpaqueDirs)).toBeNull();
  });

  it('answers null for a directory or a symlink, and does not look further down', () => {
    put(lower, 'etc/passwd');
    fs.mkdirSync(path.join(upper, 'etc/passwd'), { recursive: true });
    expect(readInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
    fs.rmSync(upper, { recursive: true });
    put(upper, 'etc/real-passwd');
    fs.symlinkSync('real-passwd', path.join(upper, 'etc/passwd'));
    expect(readInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
  });

  it('lets a file or symlink on the way hide the lower layers\' directory', () => {
    put(lower, 'etc/passwd');
    put(upper, 'etc', 'a file, not a directory');
    expect(readInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
    fs.rmSync(upper, { recursive: true });
    fs.mkdirSync(upper);
    fs.symlinkSync('/', path.join(upper, 'etc'));
    expect(readInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
  });

  it('stops at an opaque directory: the layers below add nothing under it', () => {
    put(lower, 'etc/passwd');
    put(lower, 'etc/ssl/certs');
    put(lower, 'home/keep');
    put(upper, 'etc/group');
    const sys = opaqueAt(path.join(upper, 'etc'));
    expect(readInLayers([upper, lower], '/etc/passwd', sys)).toBeNull();
    expect(readInLayers([upper, lower], '/etc/ssl/certs', sys)).toBeNull();
    expect(readInLayers([upper, lower], '/etc/group', sys)).toBe('etc/group in upper');
    expect(readInLayers([upper, lower], '/home/keep', sys)).toBe('home/keep in lower');
  });

  it('honours opaque directories in a middle layer only for the layers below it', () => {
    const top = path.join(tmp, 'top');
    put(top, 'etc/hosts');
    put(upper, 'etc/group');
    put(lower, 'etc/passwd');
    const sys = opaqueAt(path.join(upper, 'etc'));
    expect(readInLayers([top, upper, lower], '/etc/hosts', sys)).toBe('etc/hosts in top');
    expect(readInLayers([top, upper, lower], '/etc/group', sys)).toBe('etc/group in upper');
    expect(readInLayers([top, upper, lower], '/etc/passwd', sys)).toBeNull();
  });

  it('reads neither through a directory swapped for a symlink, nor from a FIFO, after the lookup', () => {
    put(lower, 'etc/passwd');
    fs.mkdirSync(path.join(tmp, 'host'));
    put(path.join(tmp, 'host'), 'passwd', 'the host\'s secrets');
    // What a running container can do to its upper directory between tsrun's lookup and its read.
    const swapping: Syscalls = { ...noOpaqueDirs, openat2: (dirfd, file, flags, resolve) => {
      fs.rmSync(path.join(lower, 'etc'), { recursive: true });
      fs.symlinkSync(path.join(tmp, 'host'), path.join(lower, 'etc'));
      return realSyscalls.openat2(dirfd, file, flags, resolve);
    } };
    expect(readInLayers([lower], '/etc/passwd', swapping)).toBeNull();
    fs.rmSync(path.join(lower, 'etc'));
    put(lower, 'etc/group');
    const fifo: Syscalls = { ...noOpaqueDirs, openat2: (dirfd, file, flags, resolve) => {
      fs.rmSync(path.join(lower, 'etc/group'));
      spawnSync('mkfifo', [path.join(lower, 'etc/group')]);
      return realSyscalls.openat2(dirfd, file, flags, resolve);
    } };
    expect(readInLayers([lower], '/etc/group', fifo)).toBeNull(); // at once: a FIFO would have waited for a writer
  });

  describe.skipIf(!IS_ROOT)('with real whiteouts (character devices 0:0)', () => {
    const whiteout = (layer: string, file: string) => {
      fs.mkdirSync(path.dirname(path.join(layer, file)), { recursive: true });
      realSyscalls.mknod(path.join(layer, file), fs.constants.S_IFCHR, 0, 0);
    };

    it('treats a whiteout of the file as deleted', () => {
      put(lower, 'etc/passwd');
      whiteout(upper, 'etc/passwd');
      expect(readInLayers([upper, lower], '/etc/passwd', realSyscalls)).toBeNull();
    });

    it('treats a whiteout of a parent directory as deleting everything under it', () => {
      put(lower, 'etc/passwd');
      whiteout(upper, 'etc');
      expect(readInLayers([upper, lower], '/etc/passwd', realSyscalls)).toBeNull();
    });

    it('reads a real trusted.overlay.opaque xattr', () => {
      put(lower, 'etc/passwd');
      fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
      realSyscalls.lsetxattr(path.join(upper, 'etc'), OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      expect(readInLayers([upper, lower], '/etc/passwd', realSyscalls)).toBeNull();
      expect(readInLayers([lower], '/etc/passwd', realSyscalls)).toBe('etc/passwd in lower');
    });
  });
});
