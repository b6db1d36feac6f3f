import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../../../src/cli/client/frames.js';
import { framed } from '../../../../src/daemon/stream.js';

const text = (frames: { stream: string; data: Buffer }[]) => frames.map(({ stream, data }) => `${stream}:${data.toString()}`);

describe('FrameReader', () => {
  it('reads what the daemon frames, stdout and stderr apart', () => {
    const wire = Buffer.concat([framed('stdout', Buffer.from('one\ntwo\n')), framed('stderr', Buffer.from('oops\n')), framed('stdout', Buffer.from(''))]);
    expect(text(new FrameReader().push(wire))).toEqual(['stdout:one\ntwo\n', 'stderr:oops\n', 'stdout:']);
  });

  it('keeps a header or a payload split across chunks until it is whole', () => {
    const wire = Buffer.concat([framed('stderr', Buffer.from('hello')), framed('stdout', Buffer.from('world'))]);
    const reader = new FrameReader();
    const frames = [];
    for (let at = 0; at < wire.length; at += 3) frames.push(...reader.push(wire.subarray(at, at + 3)));
    expect(text(frames)).toEqual(['stderr:hello', 'stdout:world']);
  });

  it('reads a size as big-endian, past 255', () => {
    const payload = Buffer.alloc(70_000, 'x');
    const [frame] = new FrameReader().push(framed('stdout', payload));
    expect(frame!.data.length).toBe(70_000);
  });
});
