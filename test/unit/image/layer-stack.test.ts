import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { findInLayers } from '../../../src/image/layer-stack.js';
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

/** findInLayers only asks for xattrs: this double answers "opaque" for the directories given
 *  (trusted.* xattrs need root to write, and to read). */
function opaqueAt(...dirs: string[]): Syscalls {
  const lgetxattr = (at: string, name: string) => (name === OVERLAY_OPAQUE_XATTR && dirs.includes(at) ? Buffer.from('y') : null);
  return { lgetxattr } as Partial<Syscalls> as Syscalls;
}
const noOpaqueDirs = opaqueAt();

describe('findInLayers', () => {
  it('finds the topmost copy of a file', () => {
    put(upper, 'etc/passwd');
    put(lower, 'etc/passwd');
    put(lower, 'etc/group');
    expect(findInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBe(path.join(upper, 'etc/passwd'));
    expect(findInLayers([upper, lower], '/etc/group', noOpaqueDirs)).toBe(path.join(lower, 'etc/group'));
    expect(findInLayers([upper, lower], 'etc//./group', noOpaqueDirs)).toBe(path.join(lower, 'etc/group'));
  });

  it('returns null when no layer has it, including a layer directory that does not exist', () => {
    put(lower, 'etc/group');
    expect(findInLayers([path.join(tmp, 'no-such-upper'), lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
    expect(findInLayers([], '/etc/passwd', noOpaqueDirs)).toBeNull();
  });

  it('refuses paths that are not a file path inside the container', () => {
    put(tmp, 'secret');
    expect(findInLayers([lower], '/', noOpaqueDirs)).toBeNull();
    expect(findInLayers([lower], '/../secret', noOpaqueDirs)).toBeNull();
  });

  it('answers null for a directory or a symlink, and does not look further down', () => {
    put(lower, 'etc/passwd');
    fs.mkdirSync(path.join(upper, 'etc/passwd'), { recursive: true });
    expect(findInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
    fs.rmSync(upper, { recursive: true });
    put(upper, 'etc/real-passwd');
    fs.symlinkSync('real-passwd', path.join(upper, 'etc/passwd'));
    expect(findInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
  });

  it('lets a file or symlink on the way hide the lower layers\' directory', () => {
    put(lower, 'etc/passwd');
    put(upper, 'etc', 'a file, not a directory');
    expect(findInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
    fs.rmSync(upper, { recursive: true });
    fs.mkdirSync(upper);
    fs.symlinkSync('/', path.join(upper, 'etc'));
    expect(findInLayers([upper, lower], '/etc/passwd', noOpaqueDirs)).toBeNull();
  });

  it('stops at an opaque directory: the layers below add nothing under it', () => {
    put(lower, 'etc/passwd');
    put(lower, 'etc/ssl/certs');
    put(lower, 'home/keep');
    put(upper, 'etc/group');
    const sys = opaqueAt(path.join(upper, 'etc'));
    expect(findInLayers([upper, lower], '/etc/passwd', sys)).toBeNull();
    expect(findInLayers([upper, lower], '/etc/ssl/certs', sys)).toBeNull();
    expect(findInLayers([upper, lower], '/etc/group', sys)).toBe(path.join(upper, 'etc/group'));
    expect(findInLayers([upper, lower], '/home/keep', sys)).toBe(path.join(lower, 'home/keep'));
  });

  it('honours opaque directories in a middle layer only for the layers below it', () => {
    const top = path.join(tmp, 'top');
    put(top, 'etc/hosts');
    put(upper, 'etc/group');
    put(lower, 'etc/passwd');
    const sys = opaqueAt(path.join(upper, 'etc'));
    expect(findInLayers([top, upper, lower], '/etc/hosts', sys)).toBe(path.join(top, 'etc/hosts'));
    expect(findInLayers([top, upper, lower], '/etc/group', sys)).toBe(path.join(upper, 'etc/group'));
    expect(findInLayers([top, upper, lower], '/etc/passwd', sys)).toBeNull();
  });

  describe.skipIf(!IS_ROOT)('with real whiteouts (character devices 0:0)', () => {
    const whiteout = (layer: string, file: string) => {
      fs.mkdirSync(path.dirname(path.join(layer, file)), { recursive: true });
      realSyscalls.mknod(path.join(layer, file), fs.constants.S_IFCHR, 0, 0);
    };

    it('treats a whiteout of the file as deleted', () => {
      put(lower, 'etc/passwd');
      whiteout(upper, 'etc/passwd');
      expect(findInLayers([upper, lower], '/etc/passwd', realSyscalls)).toBeNull();
    });

    it('treats a whiteout of a parent directory as deleting everything under it', () => {
      put(lower, 'etc/passwd');
      whiteout(upper, 'etc');
      expect(findInLayers([upper, lower], '/etc/passwd', realSyscalls)).toBeNull();
    });

    it('reads a real trusted.overlay.opaque xattr', () => {
      put(lower, 'etc/passwd');
      fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
      realSyscalls.lsetxattr(path.join(upper, 'etc'), OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      expect(findInLayers([upper, lower], '/etc/passwd', realSyscalls)).toBeNull();
      expect(findInLayers([lower], '/etc/passwd', realSyscalls)).toBe(path.join(lower, 'etc/passwd'));
    });
  });
});
