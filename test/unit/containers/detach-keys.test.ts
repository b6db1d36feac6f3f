import { describe, expect, it } from 'vitest';
import { DetachWatcher, parseDetachKeys } from '../../../src/containers/detach-keys.js';

describe('detach keys', () => {
  it('reads Docker\'s notation, and refuses what is not a key', () => {
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toEqual([16, 17]);
    expect(parseDetachKeys('e,x,i,t,ctrl-@,ctrl-\\,ctrl-_')).toEqual([101, 120, 105, 116, 0, 28, 31]);
    expect(parseDetachKeys('')).toEqual([]);
    expect(() => parseDetachKeys('ctrl-1')).toThrow('invalid detach keys "ctrl-1": "ctrl-1" is not a key');
    expect(() => parseDetachKeys('ctrl-p,,')).toThrow('"" is not a key');
  });

  it('passes everything on but the sequence, across chunks, and a sequence broken off as typed', () => {
    const watcher = new DetachWatcher([16, 17]);
    expect(watcher.take(Buffer.from('ls\r'))).toEqual({ forward: Buffer.from('ls\r'), detach: false });
    expect(watcher.take(Buffer.from([0x61, 16]))).toEqual({ forward: Buffer.from([0x61]), detach: false }); // ctrl-p held back
    expect(watcher.take(Buffer.from([16]))).toEqual({ forward: Buffer.from([16]), detach: false }); // a second ctrl-p: the first goes on
    expect(watcher.take(Buffer.from([0x62]))).toEqual({ forward: Buffer.from([16, 0x62]), detach: false });
    expect(watcher.take(Buffer.from([0x63, 16, 17, 0x64]))).toEqual({ forward: Buffer.from([0x63]), detach: true });
    const off = new DetachWatcher([]);
    expect(off.take(Buffer.from([16, 17]))).toEqual({ forward: Buffer.from([16, 17]), detach: false });
  });
});
