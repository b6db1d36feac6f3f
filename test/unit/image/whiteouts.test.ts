import { describe, expect, it } from 'vitest';
import { classifyEntryName, OPAQUE_MARKER, OVERLAY_OPAQUE_XATTR, WHITEOUT_PREFIX } from '../../../src/image/whiteouts.js';

describe('classifyEntryName', () => {
  it('sees ordinary names as normal', () => {
    for (const name of ['etc/passwd', './etc/passwd', 'etc/', 'a.wh.b', 'dir/.whiteout', '.wh', 'x/.wh.d/y', '.']) {
      expect(classifyEntryName(name), name).toEqual({ kind: 'normal' });
    }
  });

  it('turns .wh.NAME into a whiteout of NAME beside it', () => {
    expect(classifyEntryName('etc/.wh.motd')).toEqual({ kind: 'whiteout', target: 'etc/motd' });
    expect(classifyEntryName('./etc/.wh.motd')).toEqual({ kind: 'whiteout', target: './etc/motd' });
    expect(classifyEntryName('.wh.gone')).toEqual({ kind: 'whiteout', target: 'gone' });
    expect(classifyEntryName('a/b/.wh..hidden')).toEqual({ kind: 'whiteout', target: 'a/b/.hidden' });
    expect(classifyEntryName('a/.wh.dir/')).toEqual({ kind: 'whiteout', target: 'a/dir' });
  });

  it('keeps the path as written, so the safety check still sees an escape', () => {
    expect(classifyEntryName('../.wh.x')).toEqual({ kind: 'whiteout', target: '../x' });
    expect(classifyEntryName('/etc/.wh.passwd')).toEqual({ kind: 'whiteout', target: '/etc/passwd' });
    expect(classifyEntryName('/.wh..wh..opq')).toEqual({ kind: 'opaque', dir: '/' });
  });

  it('recognises the opaque marker, including at the layer root', () => {
    expect(classifyEntryName('var/cache/.wh..wh..opq')).toEqual({ kind: 'opaque', dir: 'var/cache/' });
    expect(classifyEntryName('.wh..wh..opq')).toEqual({ kind: 'opaque', dir: '.' });
    expect(classifyEntryName('./.wh..wh..opq')).toEqual({ kind: 'opaque', dir: './' });
  });

  it('ignores AUFS bookkeeping and whiteouts that name no file', () => {
    for (const name of ['.wh..wh.plnk', '.wh..wh.plnk/123.456', '.wh..wh.aufs', 'x/.wh..wh.orph/y', 'dir/.wh.', 'dir/.wh..', '.wh...']) {
      expect(classifyEntryName(name), name).toEqual({ kind: 'ignored' });
    }
  });

  it('exports the names overlayfs and the OCI spec use', () => {
    expect(WHITEOUT_PREFIX).toBe('.wh.');
    expect(OPAQUE_MARKER).toBe('.wh..wh..opq');
    expect(OVERLAY_OPAQUE_XATTR).toBe('trusted.overlay.opaque');
  });
});
